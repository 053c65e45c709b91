"""The side-by-side services: transitions, refusals, notes stored once, the 4-hour close, and
the calendar invitation sent once per version."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from feedback.models import Session, SessionNote
from feedback.services.sessions import (
    INVITATION_PURPOSE,
    session_cancel,
    session_end,
    session_note_add,
    session_reschedule,
    session_schedule,
    session_start,
    sessions_close_overdue,
)
from feedback.tasks import close_overdue_sessions
from tests.factories import UserFactory
from voc.core.models import AuditEntry, JobRun, SendOnce
from voc.core.sendonce import send_once_deliver
from voc.people.roles import Role

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # a Monday
START = NOW + timedelta(days=1)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def schedule(cast, **kwargs) -> Session:
    return session_schedule(
        other=cast.rep, scheduled_start=START, planned_minutes=120, by=cast.executive, **kwargs
    )


def started(cast) -> Session:
    session = schedule(cast)
    return session_start(session=session, by=cast.rep)


def actions(session) -> list[str]:
    return list(
        AuditEntry.objects.filter(target_id=session.id, target_type="feedback.session")
        .order_by("id")
        .values_list("action", flat=True)
    )


def test_an_executive_schedules_with_a_rep_and_a_rep_invites_an_executive(cast):
    session = schedule(cast, topic="Billing calls")
    assert (session.executive, session.rep, session.scheduled_by) == (
        cast.executive, cast.rep, cast.executive,
    )  # fmt: skip
    assert session.status == Session.Status.SCHEDULED and session.sequence == 0
    invited = session_schedule(other=cast.executive, scheduled_start=START, by=cast.rep)
    assert (invited.executive, invited.rep, invited.scheduled_by) == (
        cast.executive, cast.rep, cast.rep,
    )  # fmt: skip
    assert actions(session) == ["session.schedule"]


@pytest.mark.parametrize("role", ["manager", "admin", "teammate"])
def test_only_executives_and_reps_schedule_and_with_the_other_role(cast, role):
    who = getattr(cast, role)
    if role == "teammate":  # a rep inviting a rep
        with pytest.raises(ValidationError, match="Choose an executive"):
            session_schedule(other=cast.rep, scheduled_start=START, by=who)
    else:
        with pytest.raises(PermissionDenied, match="Only executives and reps"):
            session_schedule(other=cast.rep, scheduled_start=START, by=who)
    with pytest.raises(ValidationError, match="Choose a rep"):
        session_schedule(other=cast.manager, scheduled_start=START, by=cast.executive)
    with pytest.raises(ValidationError, match="Choose a rep"):
        session_schedule(other=cast.inactive, scheduled_start=START, by=cast.executive)
    assert not Session.objects.exists()


def test_it_refuses_a_time_in_the_past_and_odd_lengths(cast):
    with pytest.raises(ValidationError, match="not passed"):
        session_schedule(
            other=cast.rep, scheduled_start=NOW - timedelta(hours=1), by=cast.executive
        )
    for minutes in (14, 481):
        with pytest.raises(ValidationError, match="between 15 and 480"):
            session_schedule(
                other=cast.rep, scheduled_start=START, planned_minutes=minutes, by=cast.executive
            )


def test_start_then_end_records_the_real_duration(cast, frozen):
    session = started(cast)
    assert session.status == Session.Status.RUNNING and session.started_at == NOW
    frozen.shift(timedelta(minutes=97, seconds=30))
    session = session_end(session=session, by=cast.executive)
    assert session.status == Session.Status.ENDED
    assert session.duration_seconds == 97 * 60 + 30
    assert not session.closed_automatically
    assert actions(session) == ["session.schedule", "session.start", "session.end"]


def test_refusals_say_what_state_the_session_is_in(cast):
    session = schedule(cast)
    with pytest.raises(ValidationError, match="scheduled: it can't be ended"):
        session_end(session=session, by=cast.executive)
    session_start(session=session, by=cast.executive)
    with pytest.raises(ValidationError, match="running: it can't be started"):
        session_start(session=session, by=cast.executive)
    with pytest.raises(ValidationError, match="running: it can't be cancelled"):
        session_cancel(session=session, by=cast.executive)
    with pytest.raises(ValidationError, match="running: it can't be rescheduled"):
        session_reschedule(session=session, scheduled_start=START, planned_minutes=60, by=cast.rep)
    session_end(session=session, by=cast.rep)
    with pytest.raises(ValidationError, match="ended: it can't be ended"):
        session_end(session=session, by=cast.rep)


@pytest.mark.parametrize("role", ["manager", "teammate", "admin", "outsider"])
def test_only_the_participants_change_a_session(cast, role):
    session = schedule(cast)
    other = getattr(cast, role)
    for action in (session_start, session_cancel):
        with pytest.raises(PermissionDenied, match="Only the executive and the rep"):
            action(session=session, by=other)
    with pytest.raises(PermissionDenied):
        session_reschedule(session=session, scheduled_start=START, by=other)
    another_executive = UserFactory(role=Role.EXECUTIVE)
    with pytest.raises(PermissionDenied):
        session_start(session=session, by=another_executive)
    session.refresh_from_db()
    assert session.status == Session.Status.SCHEDULED


# --- notes ------------------------------------------------------------------------------------


def add(session, by, client_id=None, **kwargs):
    values = {"kind": "observation", "text": "Customer waited 40 minutes.", "noted_at": NOW}
    return session_note_add(
        session=session, client_id=client_id or uuid.uuid4(), by=by, **(values | kwargs)
    )


def test_a_note_sent_twice_is_stored_once(cast):
    session = started(cast)
    client_id = uuid.uuid4()
    first = add(session, cast.executive, client_id)
    again = add(session, cast.executive, client_id, text="A different text, sent again")
    assert first.created and not again.created
    assert again.note.pk == first.note.pk
    assert SessionNote.objects.get().text == "Customer waited 40 minutes."
    assert actions(session).count("session.note") == 1


def test_a_note_id_of_another_session_or_author_is_refused(cast):
    session = started(cast)
    client_id = uuid.uuid4()
    add(session, cast.executive, client_id)
    with pytest.raises(ValidationError, match="belongs to another note"):
        add(session, cast.rep, client_id)
    other = session_schedule(other=cast.teammate, scheduled_start=START, by=cast.executive)
    session_start(session=other, by=cast.executive)
    with pytest.raises(ValidationError, match="belongs to another note"):
        add(other, cast.executive, client_id)
    assert SessionNote.objects.count() == 1


def test_notes_are_redacted_typed_linked_and_timestamped_twice(cast, frozen):
    from contacts.models import Contact
    from contacts.services.contacts import contact_log

    contact = contact_log(
        by=cast.rep, team=cast.team_a, customer=None, customer_name="Pat", customer_email="",
        customer_phone="", channel="phone", direction="inbound", occurred_at=NOW, reason=None,
        tags=[], subject="Card", notes="", customer_words="", reply="", handle_seconds=None,
        outcome="", first_contact_resolution=None, road=None,
    )  # fmt: skip
    session = started(cast)
    frozen.shift(timedelta(minutes=3))
    typed = NOW + timedelta(minutes=1)
    saved = add(
        session, cast.rep, kind="quote", text="My card 4111 1111 1111 1111 was charged twice",
        noted_at=typed, contact_ids=[contact.id],
    )  # fmt: skip
    note = SessionNote.objects.get(pk=saved.note.pk)
    assert "4111" not in note.text and "charged twice" in note.text
    assert note.kind == "quote" and note.author == cast.rep
    assert note.noted_at == typed and note.received_at == NOW + timedelta(minutes=3)
    assert list(note.contacts.all()) == [Contact.objects.get(id=contact.id)]


def test_note_refusals(cast):
    session = schedule(cast)
    with pytest.raises(ValidationError, match="Start the session"):
        add(session, cast.executive)
    with pytest.raises(PermissionDenied):
        add(session, cast.manager)
    session_start(session=session, by=cast.executive)
    with pytest.raises(ValidationError, match="Choose observation"):
        add(session, cast.executive, kind="rant")
    with pytest.raises(ValidationError, match="Write something"):
        add(session, cast.executive, text="   ")
    with pytest.raises(ValidationError, match="No contact has the id 999999"):
        add(session, cast.executive, contact_ids=[999999])
    assert not SessionNote.objects.exists()
    cancelled = schedule(cast)
    session_cancel(session=cancelled, by=cast.rep)
    with pytest.raises(ValidationError, match="cancelled"):
        add(cancelled, cast.executive)


def test_a_note_from_a_clock_far_off_is_kept_and_timed_on_arrival(cast):
    session = started(cast)
    ahead = add(session, cast.executive, noted_at=NOW + timedelta(minutes=11))
    behind = add(session, cast.executive, noted_at=NOW - timedelta(days=7, seconds=1))
    within = add(session, cast.executive, noted_at=NOW + timedelta(minutes=10))
    assert (ahead.note.noted_at, behind.note.noted_at) == (NOW, NOW)
    assert within.note.noted_at == NOW + timedelta(minutes=10)


def test_a_note_typed_offline_arrives_after_the_session_ended(cast, frozen):
    session = started(cast)
    frozen.shift(timedelta(hours=1))
    session_end(session=session, by=cast.executive)
    frozen.shift(timedelta(hours=2))
    assert add(session, cast.executive, noted_at=NOW + timedelta(minutes=50)).created


# --- the 4-hour close -------------------------------------------------------------------------


def test_a_session_running_exactly_4_hours_stays_open_one_minute_more_closes_it(cast, frozen):
    session = started(cast)
    frozen.shift(timedelta(hours=4))
    assert sessions_close_overdue() == 0
    session.refresh_from_db()
    assert session.status == Session.Status.RUNNING
    frozen.shift(timedelta(minutes=1))
    assert close_overdue_sessions() == 1  # the periodic job, recorded
    session.refresh_from_db()
    assert session.status == Session.Status.ENDED and session.closed_automatically
    assert session.ended_at == NOW + timedelta(hours=4)
    assert session.duration_seconds == 4 * 3600
    assert JobRun.objects.get(job="feedback.close_overdue_sessions").rows_touched == 1
    entry = AuditEntry.objects.get(action="session.close")
    assert entry.actor_name == "feedback:session-sweep"
    assert sessions_close_overdue() == 0


def test_the_close_job_is_on_the_beat_schedule(db):
    from django_celery_beat.models import PeriodicTask

    from voc.core.jobs import periodic_jobs_sync

    periodic_jobs_sync()
    task = PeriodicTask.objects.get(name="feedback.close_overdue_sessions")
    assert task.interval.every == 300


# --- the calendar invitation ------------------------------------------------------------------


def sent_ics(email_row) -> str:
    mail.outbox.clear()
    assert send_once_deliver(email_id=email_row.id) == "sent"
    assert send_once_deliver(email_id=email_row.id) == "not pending"  # a redelivered task
    (message,) = mail.outbox
    ((filename, content, mimetype),) = message.attachments
    assert filename.endswith(".ics") and mimetype.startswith("text/calendar")
    text = content if isinstance(content, str) else content.decode()
    return text.replace("\r\n ", "")  # unfolded (RFC 5545 3.1)


def test_each_version_of_the_invitation_goes_out_once_to_both(
    cast, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as queued:
        session = schedule(cast, topic="Billing; refunds, mostly")
    assert len(queued) == 1
    first = SendOnce.objects.get(purpose=INVITATION_PURPOSE)
    assert first.key == f"session:{session.id}:v0"
    assert first.to == [cast.executive.email, cast.rep.email]
    ics = sent_ics(first)
    assert "METHOD:REQUEST\r\n" in ics and "SEQUENCE:0\r\n" in ics
    uid = next(line for line in ics.split("\r\n") if line.startswith("UID:"))
    assert uid == f"UID:session-{session.id}@" + uid.rpartition("@")[2]
    assert "DTSTART:20261117T090000Z\r\n" in ics and "DTEND:20261117T110000Z\r\n" in ics
    assert "Topic: Billing\\; refunds\\, mostly" in ics
    assert f"mailto:{cast.rep.email}" in ics and f"mailto:{cast.executive.email}" in ics
    assert mail.outbox[0].subject.startswith("Side-by-side listening") or "side-by-side" in (
        mail.outbox[0].subject
    )

    moved = session_reschedule(
        session=session, scheduled_start=START + timedelta(hours=2), by=cast.rep
    )
    # the same time again: no new version, no new email
    session_reschedule(session=moved, scheduled_start=START + timedelta(hours=2), by=cast.rep)
    second = SendOnce.objects.get(key=f"session:{session.id}:v1")
    ics = sent_ics(second)
    assert "SEQUENCE:1\r\n" in ics and uid + "\r\n" in ics and "METHOD:REQUEST" in ics
    assert "DTSTART:20261117T110000Z" in ics
    assert mail.outbox[0].subject.startswith("New time")

    session_cancel(session=moved, by=cast.executive)
    third = SendOnce.objects.get(key=f"session:{session.id}:v2")
    ics = sent_ics(third)
    assert "METHOD:CANCEL\r\n" in ics and "SEQUENCE:2\r\n" in ics and "STATUS:CANCELLED" in ics
    assert uid + "\r\n" in ics
    assert mail.outbox[0].subject.startswith("Cancelled")
    assert SendOnce.objects.filter(purpose=INVITATION_PURPOSE).count() == 3


def test_an_invitation_asked_for_again_is_not_sent_again(cast):
    from feedback.services.sessions import _send_invitation

    session = schedule(cast)
    _send_invitation(session, by=cast.executive)  # a retry of the same version
    assert SendOnce.objects.filter(purpose=INVITATION_PURPOSE).count() == 1
    row = SendOnce.objects.get()
    mail.outbox.clear()
    send_once_deliver(email_id=row.id)
    send_once_deliver(email_id=row.id)
    assert len(mail.outbox) == 1


def test_long_lines_are_folded_and_text_escaped():
    from feedback.ics import escape_text, fold

    assert escape_text("a;b,c\\d\ne") == "a\\;b\\,c\\\\d\\ne"
    line = "DESCRIPTION:" + "é" * 80
    folded = fold(line)
    assert all(len(part.encode()) <= 75 for part in folded.split("\r\n"))
    assert folded.replace("\r\n ", "") == line


def test_erasing_a_customer_erases_the_notes_linked_to_their_contacts(cast):
    from contacts.erasure.services import customer_erase
    from contacts.services.contacts import contact_log
    from tests.factories import CustomerFactory

    customer = CustomerFactory(name="Pat Doe")
    contact = contact_log(
        by=cast.rep, team=cast.team_a, customer=customer, customer_name="", customer_email="",
        customer_phone="", channel="phone", direction="inbound", occurred_at=NOW, reason=None,
        tags=[], subject="Card", notes="", customer_words="", reply="", handle_seconds=None,
        outcome="", first_contact_resolution=None, road=None,
    )  # fmt: skip
    session = started(cast)
    linked = add(session, cast.executive, text="Pat Doe was furious", contact_ids=[contact.id])
    other = add(session, cast.executive, text="Hold music is too loud")
    erasure = customer_erase(customer=customer, by=cast.admin)
    assert erasure.counts["feedback.session_notes.side-by-side notes"] == 1
    linked.note.refresh_from_db()
    other.note.refresh_from_db()
    assert linked.note.text == "[erased]" and linked.note.kind == "observation"
    assert other.note.text == "Hold music is too loud"
