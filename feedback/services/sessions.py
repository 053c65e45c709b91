"""Side-by-side sessions: schedule, reschedule, cancel, start, end, take notes, and the sweep
that closes a session nobody ended.

Every write takes ``by=`` and records an audit entry in its transaction. Refusals raise
``PermissionDenied`` (not a participant, the wrong role), ``ValidationError`` (bad input) or
``Conflict`` (not now: the session's state does not allow it, a contact that does not exist),
each with a message a person can act on.

Both participants get a calendar invitation by email (feedback/ics.py) through the send-once
helper, keyed by the session and its version (``sequence``), so each version goes out once
whatever retries or double clicks happen: the first when it is scheduled, a new version with
the same UID on each reschedule, and a cancellation.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone

from contacts.models import Contact
from contacts.redaction_rules import redactor
from feedback.ics import CANCEL, REQUEST, Invitation, ics_text
from feedback.models import Session, SessionNote
from voc.core.audit import Actor, SystemActor, audit_record
from voc.core.capabilities import effective_role
from voc.core.errors import Conflict
from voc.core.sendonce import send_once
from voc.people.models import User
from voc.people.roles import Role

# A session left running this long is closed by the sweep, at this length.
MAX_RUNNING = timedelta(hours=4)
SESSION_SWEEP = SystemActor("feedback:session-sweep")
INVITATION_PURPOSE = "feedback.session_invitation"
MAX_NOTE = 4000
# A note's own timestamp comes from the browser. Notes typed offline arrive late, so the past
# is open for a week; the future only as far as a clock may be wrong.
NOTE_PAST = timedelta(days=7)
NOTE_FUTURE = timedelta(minutes=10)
MIN_MINUTES, MAX_MINUTES = 15, 480
ERASED_NOTE = "[erased]"

AUDIT_LABELS = {
    "session.schedule": "scheduled the side-by-side session",
    "session.reschedule": "rescheduled the side-by-side session",
    "session.cancel": "cancelled the side-by-side session",
    "session.start": "started the side-by-side session",
    "session.end": "ended the side-by-side session",
    "session.close": "closed the side-by-side session after 4 hours",
    "session.note": "added a note to the side-by-side session",
}

Status = Session.Status


@dataclass(frozen=True)
class NoteSaved:
    note: SessionNote
    created: bool
    # The ids of the contacts linked to a note just stored (None for a stored one: read them).
    contact_ids: list[int] | None = None


def _role(user: User) -> str | None:
    return effective_role(user)


def _check_when(*, start: datetime, minutes: int, now: datetime) -> None:
    if timezone.is_naive(start):
        raise ValidationError({"scheduled_start": "Give the time with its time zone."})
    if start < now - timedelta(minutes=5):
        raise ValidationError({"scheduled_start": "Choose a time that has not passed."})
    if not MIN_MINUTES <= minutes <= MAX_MINUTES:
        raise ValidationError(
            {"planned_minutes": f"Plan between {MIN_MINUTES} and {MAX_MINUTES} minutes."}
        )


def session_schedule(
    *,
    other: User,
    scheduled_start: datetime,
    planned_minutes: int = 120,
    topic: str = "",
    by: User,
) -> Session:
    """An executive schedules a session with a rep, or a rep invites an executive: ``other``
    is the second participant."""
    role = _role(by)
    if role == Role.EXECUTIVE:
        executive, rep = by, other
    elif role == Role.REP:
        executive, rep = other, by
    else:
        raise PermissionDenied("Only executives and reps take part in side-by-side sessions.")
    if not executive.is_active or executive.role != Role.EXECUTIVE:
        raise ValidationError({"other": "Choose an executive to sit beside you."})
    if not rep.is_active or rep.role != Role.REP:
        raise ValidationError({"other": "Choose a rep to sit beside."})
    _check_when(start=scheduled_start, minutes=planned_minutes, now=timezone.now())
    topic = redactor().text(topic.strip())[:200]
    with transaction.atomic():
        session = Session.objects.create(
            executive=executive,
            rep=rep,
            scheduled_by=by,
            topic=topic,
            scheduled_start=scheduled_start,
            planned_minutes=planned_minutes,
        )
        audit_record(
            by=by,
            action="session.schedule",
            target=session,
            changes={
                "executive": [None, executive.pk],
                "rep": [None, rep.pk],
                "scheduled_start": [None, scheduled_start],
                "planned_minutes": [None, planned_minutes],
            },
        )
        _send_invitation(session, by=by)
    return session


def _check_participant(session: Session, by: User, doing: str) -> None:
    if not session.is_participant(by):
        raise PermissionDenied(f"Only the executive and the rep of this session may {doing} it.")


def _locked(session: Session) -> Session:
    return Session.objects.select_for_update().select_related("executive", "rep").get(pk=session.pk)


def _refuse_unless(session: Session, *allowed: str, doing: str) -> None:
    if session.status not in allowed:
        raise Conflict(
            f"This session is {session.get_status_display().lower()}: it can't be {doing}."
        )


def session_reschedule(
    *,
    session: Session,
    scheduled_start: datetime,
    planned_minutes: int | None = None,
    by: User,
) -> Session:
    _check_participant(session, by, "reschedule")
    minutes = session.planned_minutes if planned_minutes is None else planned_minutes
    _check_when(start=scheduled_start, minutes=minutes, now=timezone.now())
    with transaction.atomic():
        session = _locked(session)
        _refuse_unless(session, Status.SCHEDULED, doing="rescheduled")
        before = (session.scheduled_start, session.planned_minutes)
        if before == (scheduled_start, minutes):
            return session  # nothing changed: no new version, no new invitation
        session.scheduled_start = scheduled_start
        session.planned_minutes = minutes
        session.sequence += 1
        session.save(update_fields=["scheduled_start", "planned_minutes", "sequence"])
        audit_record(
            by=by,
            action="session.reschedule",
            target=session,
            changes={
                "scheduled_start": [before[0], scheduled_start],
                "planned_minutes": [before[1], minutes],
            },
        )
        _send_invitation(session, by=by)
    return session


def session_cancel(*, session: Session, by: User, why: str = "") -> Session:
    _check_participant(session, by, "cancel")
    with transaction.atomic():
        session = _locked(session)
        _refuse_unless(session, Status.SCHEDULED, doing="cancelled")
        session.status = Status.CANCELLED
        session.sequence += 1
        session.save(update_fields=["status", "sequence"])
        audit_record(
            by=by,
            action="session.cancel",
            target=session,
            changes={"status": [Status.SCHEDULED, Status.CANCELLED]},
            why=redactor().text(why),
        )
        _send_invitation(session, by=by)
    return session


def session_start(*, session: Session, by: User) -> Session:
    _check_participant(session, by, "start")
    with transaction.atomic():
        session = _locked(session)
        _refuse_unless(session, Status.SCHEDULED, doing="started")
        session.status = Status.RUNNING
        session.started_at = timezone.now()
        session.save(update_fields=["status", "started_at"])
        audit_record(
            by=by,
            action="session.start",
            target=session,
            changes={"status": [Status.SCHEDULED, Status.RUNNING]},
        )
    return session


def session_end(*, session: Session, by: User) -> Session:
    """End a running session now: its real duration is what the 5% tracker counts."""
    _check_participant(session, by, "end")
    with transaction.atomic():
        session = _locked(session)
        _refuse_unless(session, Status.RUNNING, doing="ended")
        assert session.started_at is not None  # a running session has started
        _close(session, at=timezone.now())
        audit_record(
            by=by,
            action="session.end",
            target=session,
            changes={
                "status": [Status.RUNNING, Status.ENDED],
                "duration_seconds": [None, session.duration_seconds],
            },
        )
    return session


def _close(session: Session, *, at: datetime, automatically: bool = False) -> None:
    assert session.started_at is not None
    session.status = Status.ENDED
    session.ended_at = at
    session.duration_seconds = max(0, int((at - session.started_at).total_seconds()))
    session.closed_automatically = automatically
    session.save(update_fields=["status", "ended_at", "duration_seconds", "closed_automatically"])


def sessions_close_overdue(*, now: datetime | None = None) -> int:
    """Close sessions running for more than MAX_RUNNING, at exactly MAX_RUNNING after their
    start (someone forgot to press End; the tracker counts the cap, not the days since).
    Returns how many it closed."""
    now = now or timezone.now()
    closed = 0
    due = Session.objects.filter(status=Status.RUNNING, started_at__lt=now - MAX_RUNNING)
    for session_id in due.values_list("id", flat=True):
        with transaction.atomic():
            session = (
                Session.objects.select_for_update(skip_locked=True)
                .filter(id=session_id, status=Status.RUNNING, started_at__lt=now - MAX_RUNNING)
                .first()
            )
            if session is None:  # ended meanwhile, or another sweep has it
                continue
            assert session.started_at is not None
            _close(session, at=session.started_at + MAX_RUNNING, automatically=True)
            audit_record(
                by=SESSION_SWEEP,
                action="session.close",
                target=session,
                changes={
                    "status": [Status.RUNNING, Status.ENDED],
                    "duration_seconds": [None, session.duration_seconds],
                },
            )
            closed += 1
    return closed


def session_note_add(
    *,
    session: Session,
    client_id: uuid.UUID,
    kind: str,
    text: str,
    noted_at: datetime,
    contact_ids: Iterable[int] = (),
    by: User,
    locked: bool = False,
) -> NoteSaved:
    """Store a note once: sending the same ``client_id`` again returns the stored note and
    changes nothing, so a browser may retry until it hears back.

    ``locked``: the caller read ``session`` with ``select_for_update`` in the transaction it
    holds open around this call (the notes API does, in the read that checks the viewer's
    scope), so it is not read again. A first save takes the lock, one INSERT that does nothing
    when the client_id is stored, the audit entry and the contacts' links when there are
    some; the stored note is only looked for when the note cannot be stored as new (a retry,
    or a refusal that a retry of a stored note does not get)."""

    def stored_or(refusal: Exception) -> NoteSaved:
        stored = SessionNote.objects.filter(client_id=client_id).first()
        if stored is None:
            raise refusal
        if stored.session_id != session.pk or stored.author_id != by.pk:
            raise Conflict({"client_id": "This note id belongs to another note."})
        return NoteSaved(stored, created=False, contact_ids=None)

    try:
        _check_participant(session, by, "take notes in")
    except PermissionDenied as refusal:
        return stored_or(refusal)
    if kind not in SessionNote.Kind.values:
        return stored_or(ValidationError({"kind": "Choose observation, quote, question or idea."}))
    if not text.strip():
        return stored_or(ValidationError({"text": "Write something in the note."}))
    if len(text) > MAX_NOTE:
        return stored_or(ValidationError({"text": f"Keep a note to {MAX_NOTE} characters."}))
    now = timezone.now()
    if timezone.is_naive(noted_at) or not now - NOTE_PAST <= noted_at <= now + NOTE_FUTURE:
        # A browser's clock far off: keep the note (never lose words for a wrong clock), timed
        # when it arrived.
        noted_at = now
    ids = sorted(set(contact_ids))
    # Inside the caller's transaction no savepoint of its own: a refusal ends the request.
    with transaction.atomic(savepoint=not locked):
        if not locked:
            session = Session.objects.select_for_update().get(pk=session.pk)
        if session.status == Status.SCHEDULED:
            return stored_or(Conflict("Start the session before taking notes."))
        if session.status == Status.CANCELLED:
            return stored_or(Conflict("This session was cancelled: it takes no notes."))
        if ids:
            found = set(Contact.objects.filter(id__in=ids).values_list("id", flat=True))
            if len(found) != len(ids):
                missing = sorted(set(ids) - found)
                return stored_or(Conflict({"contact_ids": f"No contact has the id {missing[0]}."}))
        note = SessionNote(
            session=session,
            author=by,
            kind=kind,
            text=redactor().text(text.strip()),
            client_id=client_id,
            noted_at=noted_at,
            received_at=now,
        )
        if not _insert_unless_stored(note):  # stored before, or by a concurrent copy just now
            return stored_or(Conflict({"client_id": "This note id belongs to another note."}))
        if ids:
            SessionNote.contacts.through.objects.bulk_create(
                [SessionNote.contacts.through(sessionnote_id=note.pk, contact_id=pk) for pk in ids]
            )
        audit_record(
            by=by,
            action="session.note",
            target=session,
            changes={"note": [None, note.pk], "kind": [None, kind]},
        )
    return NoteSaved(note, created=True, contact_ids=ids)


def _insert_unless_stored(note: SessionNote) -> bool:
    """INSERT the note unless a note with its client_id is stored (``ON CONFLICT DO NOTHING``:
    one statement, where get_or_create takes a SELECT, a savepoint and the INSERT); sets its
    id and returns True when it was inserted."""
    # (field, column): every column but the id, each value prepared by its field.
    fields = {
        "session": "session_id", "author": "author_id", "kind": "kind", "text": "text",
        "client_id": "client_id", "noted_at": "noted_at", "received_at": "received_at",
    }  # fmt: skip
    params = []
    for name, column in fields.items():
        field = SessionNote._meta.get_field(name)
        assert isinstance(field, Field)
        params.append(field.get_db_prep_save(getattr(note, column), connection))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {SessionNote._meta.db_table} ({', '.join(fields.values())}) "  # noqa: S608
            f"VALUES ({', '.join(['%s'] * len(fields))}) "
            "ON CONFLICT (client_id) DO NOTHING RETURNING id",
            params,
        )
        row = cursor.fetchone()
    if row is None:
        return False
    note.pk = row[0]
    note._state.adding = False
    note._state.db = connection.alias
    return True


def session_notes_erase(*, customer_ids: Iterable[int], erasure: object = None) -> dict[str, int]:
    """The erasure handler (contacts.registry): a note linked to a contact of an erased
    customer may name them, so its text goes; who wrote it, when and its kind stay."""
    notes = SessionNote.objects.filter(contacts__customer_id__in=list(customer_ids)).distinct()
    erased = SessionNote.objects.filter(id__in=list(notes.values_list("id", flat=True))).update(
        text=ERASED_NOTE
    )
    return {"side-by-side notes": erased} if erased else {}


# --- the calendar invitation ----------------------------------------------------------------


def invitation_for(session: Session, *, stamp: datetime) -> Invitation:
    cancelled = session.status == Status.CANCELLED
    people = (session.executive, session.rep)
    return Invitation(
        uid=f"session-{session.pk}@{_domain()}",
        sequence=session.sequence,
        method=CANCEL if cancelled else REQUEST,
        start=session.scheduled_start,
        end=session.planned_end,
        summary=f"Side-by-side listening: {session.executive} with {session.rep}",
        description=(
            (f"Topic: {session.topic}\n" if session.topic else "")
            + "Listen to customers together. This is not a performance review."
        ),
        organizer=settings.DEFAULT_FROM_EMAIL.rpartition("<")[2].rstrip(">"),
        attendees=tuple((str(person), person.email) for person in people if person.email),
        stamp=stamp,
    )


def _domain() -> str:
    address = settings.DEFAULT_FROM_EMAIL.rpartition("<")[2].rstrip(">")
    return address.rpartition("@")[2] or "voc.invalid"


def _send_invitation(session: Session, *, by: Actor) -> None:
    """Ask for this version's invitation; a second ask for the same version sends nothing."""
    recipients = [person.email for person in (session.executive, session.rep) if person.email]
    if not recipients:
        return
    invitation = invitation_for(session, stamp=timezone.now())
    send_once(
        purpose=INVITATION_PURPOSE,
        key=f"session:{session.pk}:v{session.sequence}",
        to=recipients,
        template="session-invitation",
        context={
            "session_id": session.pk,
            "cancelled": invitation.method == CANCEL,
            "rescheduled": session.sequence > 0 and invitation.method != CANCEL,
            "executive": str(session.executive),
            "rep": str(session.rep),
            "start": f"{timezone.localtime(session.scheduled_start):%a %d %b %Y, %H:%M %Z}",
            "minutes": session.planned_minutes,
            "topic": session.topic,
            "attachments": [
                {
                    "filename": "cancel.ics" if invitation.method == CANCEL else "invite.ics",
                    "content": ics_text(invitation),
                    "mimetype": f"text/calendar; method={invitation.method}",
                }
            ],
        },
        by=by,
    )
