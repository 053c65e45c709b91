"""Fix notices: who hears, who is left out and why, once per customer and issue, through the
budget and send-once; reconciling the window; tracking; erasure; the audit trail."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts.budget.services import budget_opt_out
from contacts.erasure.services import customer_erase
from contacts.models import BudgetRefusal, BudgetTouch, Customer
from feedback.items.services import feedback_item_record
from loops.models import FixNotice, Flag, NoticeRecipient
from loops.notices import services as notice_services
from loops.notices.selectors import notice_audience, notice_counts, reporter_ids
from loops.notices.services import (
    SEND_ONCE_PURPOSE,
    NoticeRefused,
    notice_approve,
    notice_draft,
    notice_edit,
    notice_plan,
    notice_recipient_resolve,
    notice_render,
    notice_send_chunk,
    notices_erase,
    notices_reconcile,
)
from loops.notices.tracking import notice_tracking_event
from loops.services.issues import issue_open, issue_transition
from tests.factories import CustomerFactory
from tests.loops.notices_world import (
    approved,
    deliver_pending,
    fixed_issue,
    send_all,
    tracking_event,
)
from tests.loops.world import T0, contact_of
from voc.core.audit import INGEST
from voc.core.models import AuditEntry, SendOnce

pytestmark = pytest.mark.django_db
R = NoticeRecipient.Status


def statuses(notice) -> dict[int | None, tuple[str, str]]:
    return {
        r.customer_id: (r.status, r.skip_reason)
        for r in NoticeRecipient.objects.filter(notice=notice)
    }


# --- who hears -------------------------------------------------------------------------------


def test_reporters_are_evidence_feedback_and_flag_customers(cast):
    world = fixed_issue(cast, reporters=2)
    flagged = CustomerFactory()
    contact = contact_of(cast.team_a, customer=flagged, reason=world.reason)
    Flag.objects.create(issue=world.issue, contact=contact, flagged_by=cast.rep)
    feedback_customer = CustomerFactory()
    item = feedback_item_record(
        kind="complaint", source="t", customer=feedback_customer, verbatim="x", by=INGEST
    ).item
    from loops.services.issues import evidence_add

    evidence_add(issue=world.issue, source=item, by=cast.manager)
    assert reporter_ids(world.issue) == {c.pk for c in world.reporters} | {
        flagged.pk,
        feedback_customer.pk,
    }


def test_a_merged_away_reporter_is_told_through_the_record_that_lives_on(cast):
    survivor = CustomerFactory()
    world = fixed_issue(cast, reporters=1)
    Customer.objects.filter(pk=world.reporters[0].pk).update(merged_into=survivor)
    assert reporter_ids(world.issue) == {survivor.pk}


def test_reason_contacts_count_from_first_seen_inclusive_and_include_sub_reasons(cast):
    from tests.loops.world import reason

    world = fixed_issue(cast, reporters=1)  # first seen at T0
    child = reason("Double charge › card", department=cast.dept_a, parent=world.reason)
    at_first_seen = contact_of(cast.team_a, reason=world.reason, at=T0)
    on_child = contact_of(cast.team_a, reason=child, at=T0 + timedelta(days=1))
    contact_of(cast.team_a, reason=world.reason, at=T0 - timedelta(seconds=1))  # before: no
    contact_of(cast.team_a, reason=None, at=T0 + timedelta(days=1))  # another reason: no
    audience = notice_audience(world.issue)
    assert audience.reporters == [world.reporters[0].pk]
    assert set(audience.others) == {at_first_seen.customer_id, on_child.customer_id}
    assert audience.ids(include_reason_contacts=False) == [world.reporters[0].pk]
    assert len(audience.ids(include_reason_contacts=True)) == 3


def test_the_audience_says_who_would_be_left_out_and_why(cast):
    opted, erased, no_address = CustomerFactory(), CustomerFactory(), CustomerFactory(email="")
    world = fixed_issue(cast, customers=[CustomerFactory(), opted, erased, no_address])
    budget_opt_out(customer=opted, purpose="fix_notice", by=cast.manager)
    Customer.objects.filter(pk=erased.pk).update(erased_at=timezone.now())
    audience = notice_audience(world.issue)
    assert audience.left_out == {"opted_out": 1, "erased": 1, "no_address": 1}
    assert audience.reachable_reporters == 1
    # Reading the audience claims nothing.
    assert not BudgetTouch.objects.exists() and not BudgetRefusal.objects.exists()


# --- who may write one, and when -------------------------------------------------------------


def test_only_a_fixed_or_verified_issue_gets_a_notice(cast):
    issue = issue_open(title="Not yet", owner=cast.manager, department=cast.dept_a, by=cast.manager)
    issue = issue_transition(issue=issue, to="assigned", by=cast.manager)
    with pytest.raises(NoticeRefused, match=r"assigned: customers"):
        notice_draft(issue=issue, by=cast.manager)
    issue = issue_transition(issue=issue, to="in_progress", by=cast.manager)
    with pytest.raises(NoticeRefused, match="once it is fixed or verified"):
        notice_draft(issue=issue, by=cast.manager)


def test_the_owner_and_the_department_head_write_notices_nobody_else(cast):
    world = fixed_issue(cast)
    # Owned by the head of department B, in department A: both may write.
    issue_b_owner = issue_open(
        title="Shared", department=cast.dept_a, owner=cast.other_manager, by=cast.manager
    )
    from tests.loops.notices_world import fix

    shared = fix(issue_b_owner, cast.other_manager)
    assert notice_draft(issue=shared, by=cast.other_manager).pk
    assert notice_draft(issue=shared, by=cast.manager).pk  # heads department A
    for outsider in (cast.other_manager, cast.executive, cast.admin, cast.rep):
        with pytest.raises(PermissionDenied):
            notice_draft(issue=world.issue, by=outsider)


def test_a_draft_is_edited_and_approved_once_and_both_are_audited(
    cast, django_capture_on_commit_callbacks
):
    world = fixed_issue(cast)
    notice = notice_draft(issue=world.issue, by=cast.manager)
    assert notice.subject == "We fixed it: Double charge on renewal"
    notice = notice_edit(
        notice=notice, by=cast.manager, subject="Fixed!", body="It is fixed.",
        include_reason_contacts=True,
    )  # fmt: skip
    with django_capture_on_commit_callbacks() as callbacks:
        notice = notice_approve(notice=notice, by=cast.manager)
    assert len(callbacks) == 1  # the plan task, queued after commit
    assert notice.status == FixNotice.Status.APPROVED and notice.approved_by == cast.manager
    with pytest.raises(NoticeRefused, match="approved already"):
        notice_approve(notice=notice, by=cast.manager)
    with pytest.raises(NoticeRefused, match="no longer be changed"):
        notice_edit(notice=notice, by=cast.manager, subject="x", body="y",
                    include_reason_contacts=False)  # fmt: skip
    actions = list(
        AuditEntry.objects.filter(action__startswith="notice.").values_list("action", "actor")
    )
    assert actions.count(("notice.edit", cast.manager.pk)) == 1
    assert ("notice.approve", cast.manager.pk) in actions


@pytest.mark.parametrize(
    ("subject", "body", "field"),
    [("", "text", "subject"), ("s" * 201, "text", "subject"), ("ok", "", "body"),
     ("ok", "b" * 5001, "body")],
)  # fmt: skip
def test_subject_and_text_are_bounded(cast, subject, body, field):
    world = fixed_issue(cast)
    with pytest.raises(ValidationError) as error:
        notice_draft(issue=world.issue, by=cast.manager, subject=subject, body=body)
    assert field in error.value.message_dict


def test_subject_and_text_at_their_limits_are_taken(cast):
    world = fixed_issue(cast)
    notice = notice_draft(issue=world.issue, by=cast.manager, subject="s" * 200, body="b" * 5000)
    assert len(notice.subject) == 200 and len(notice.body) == 5000


# --- sending -----------------------------------------------------------------------------------


def test_each_customer_gets_one_email_with_an_opt_out_and_list_unsubscribe(cast):
    world = fixed_issue(cast, reporters=3)
    notice = approved(cast, world, subject="Fixed", body="We fixed the double charge.")
    send_all(notice)
    assert len(mail.outbox) == 3
    assert sorted(m.to[0] for m in mail.outbox) == sorted(c.email for c in world.reporters)
    message = mail.outbox[0]
    assert message.subject == "Fixed"
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<http") and "/c/opt-out/fix_notice/" in unsubscribe
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "We fixed the double charge." in message.body
    # The opt-out link works without signing in (one-click POST).
    path = unsubscribe[1:-1].split("localhost:8000", 1)[-1]
    assert Client().post(path).status_code == 200
    recipients = statuses(notice)
    assert {s for s, _ in recipients.values()} == {R.PENDING}  # until the reconcile
    notices_reconcile()
    assert {s for s, _ in statuses(notice).values()} == {R.SENT}
    notice.refresh_from_db()
    assert notice.status == FixNotice.Status.SENT and notice.finished_at is not None
    assert AuditEntry.objects.filter(action="notice.sent").count() == 1


def test_customers_left_out_have_their_reason_recorded(cast):
    opted, erased, no_address, ok = (
        CustomerFactory(), CustomerFactory(), CustomerFactory(email=""), CustomerFactory()
    )  # fmt: skip
    merged_into = CustomerFactory()
    merged = CustomerFactory()
    world = fixed_issue(cast, customers=[opted, erased, no_address, ok, merged])
    budget_opt_out(customer=opted, purpose="fix_notice", by=cast.manager)
    notice = approved(cast, world)
    notice_plan(notice_id=notice.pk)
    # Changed after planning: the chunk judges by what is true when it runs.
    Customer.objects.filter(pk=erased.pk).update(erased_at=timezone.now(), email="")
    Customer.objects.filter(pk=merged.pk).update(merged_into=merged_into)
    ids = list(NoticeRecipient.objects.filter(notice=notice).values_list("id", flat=True))
    run = notice_send_chunk(notice_id=notice.pk, first_id=min(ids), last_id=max(ids))
    assert (run.asked, run.left_out) == (1, 4)
    assert statuses(notice) == {
        opted.pk: (R.SKIPPED, "opted_out"),
        erased.pk: (R.SKIPPED, "erased"),
        no_address.pk: (R.SKIPPED, "no_address"),
        ok.pk: (R.PENDING, ""),
        merged.pk: (R.SKIPPED, "merged"),
    }
    deliver_pending()
    assert [m.to for m in mail.outbox] == [[ok.email]]
    counts = notice_counts([notice.pk])[notice.pk]
    assert counts.left_out == 4 and counts.sent == 1
    assert counts.by_reason == {"opted_out": 1, "erased": 1, "no_address": 1, "merged": 1}


def test_a_second_notice_on_the_same_issue_tells_nobody_twice(cast):
    world = fixed_issue(cast, reporters=2)
    send_all(approved(cast, world))
    assert len(mail.outbox) == 2
    newcomer = CustomerFactory()
    from loops.services.issues import evidence_add

    evidence_add(
        issue=world.issue, source=contact_of(cast.team_a, customer=newcomer), by=cast.manager
    )
    second = approved(cast, world, subject="Still fixed")
    send_all(second)
    assert [m.to for m in mail.outbox[2:]] == [[newcomer.email]]
    assert statuses(second)[world.reporters[0].pk] == (R.SKIPPED, "already")


def test_planning_and_chunks_run_twice_send_nothing_twice(cast):
    world = fixed_issue(cast, reporters=3)
    notice = approved(cast, world)
    assert notice_plan(notice_id=notice.pk) == 3
    assert notice_plan(notice_id=notice.pk) == 0  # a redelivered plan task
    ids = list(NoticeRecipient.objects.filter(notice=notice).values_list("id", flat=True))
    assert notice_send_chunk(notice_id=notice.pk, first_id=ids[0], last_id=ids[-1]).asked == 3
    assert notice_send_chunk(notice_id=notice.pk, first_id=ids[0], last_id=ids[-1]).asked == 0
    deliver_pending()
    deliver_pending()
    assert len(mail.outbox) == 3
    assert SendOnce.objects.filter(purpose=SEND_ONCE_PURPOSE).count() == 3
    assert BudgetTouch.objects.filter(purpose="fix_notice").count() == 3


@pytest.mark.parametrize(("recipients", "chunks"), [(4, 2), (5, 3)])
def test_recipients_are_queued_in_chunks_by_id_range(cast, monkeypatch, recipients, chunks):
    monkeypatch.setattr(notice_services, "CHUNK", 2)
    queued = []
    world = fixed_issue(cast, reporters=recipients)
    notice = approved(cast, world)
    monkeypatch.setattr(
        notice_services,
        "enqueue_on_commit",
        lambda name, *args, catch_up: queued.append((name, args)),
    )
    notice_plan(notice_id=notice.pk)
    ids = sorted(NoticeRecipient.objects.filter(notice=notice).values_list("id", flat=True))
    ranges = [args[1:] for name, args in queued if name == notice_services.CHUNK_TASK]
    assert len(ranges) == chunks
    assert ranges[0] == (ids[0], ids[1]) and ranges[-1][1] == ids[-1]


def test_a_chunk_takes_a_fixed_number_of_queries_whatever_its_size(cast):
    """Prevents a query per recipient (the 20,000-customer notice)."""
    counts = []
    for size in (1, 3, 12):  # the first warms the business settings' cache
        world = fixed_issue(cast, reporters=size)
        notice = approved(cast, world)
        notice_plan(notice_id=notice.pk)
        ids = list(NoticeRecipient.objects.filter(notice=notice).values_list("id", flat=True))
        with CaptureQueriesContext(connection) as queries:
            notice_send_chunk(notice_id=notice.pk, first_id=min(ids), last_id=max(ids))
        counts.append(len(queries))
    assert counts[1] == counts[2]


def test_a_notice_with_nobody_to_tell_finishes_at_once(cast):
    world = fixed_issue(cast, reporters=0)
    notice = approved(cast, world)
    assert notice_plan(notice_id=notice.pk) == 0
    notice.refresh_from_db()
    assert notice.status == FixNotice.Status.SENT


# --- the window, reconciled ----------------------------------------------------------------


def test_an_email_left_in_the_window_is_uncertain_and_reported_then_resolved(cast):
    world = fixed_issue(cast, reporters=2)
    notice = approved(cast, world)
    notice_plan(notice_id=notice.pk)
    ids = list(NoticeRecipient.objects.filter(notice=notice).values_list("id", flat=True))
    notice_send_chunk(notice_id=notice.pk, first_id=min(ids), last_id=max(ids))
    stuck, _fine = list(SendOnce.objects.filter(purpose=SEND_ONCE_PURPOSE).order_by("id"))
    # The worker died after the ESP accepted and before recording: send-once's sweep says
    # "unknown" (it cannot know), and the notice's reconcile carries that to the recipient.
    SendOnce.objects.filter(pk=stuck.pk).update(
        status=SendOnce.Status.UNKNOWN, handed_at=timezone.now()
    )
    deliver_pending()
    notices_reconcile()
    recipient = NoticeRecipient.objects.get(send_once=stuck)
    assert recipient.status == R.UNCERTAIN
    counts = notice_counts([notice.pk])[notice.pk]
    assert counts[R.UNCERTAIN] == 1 and counts.sent == 1
    notice.refresh_from_db()
    assert notice.status == FixNotice.Status.SENT  # nobody waits: the uncertain one is shown
    recipient = NoticeRecipient.objects.select_related("notice__issue", "send_once").get(
        pk=recipient.pk
    )
    notice_recipient_resolve(recipient=recipient, delivered=True, by=cast.manager, why="In log")
    recipient.refresh_from_db()
    assert recipient.status == R.SENT
    assert SendOnce.objects.get(pk=stuck.pk).status == SendOnce.Status.SENT
    assert len(mail.outbox) == 1  # nothing resent


def test_resolving_as_not_sent_sends_it_again_with_the_same_message_id(cast):
    world = fixed_issue(cast, reporters=1)
    notice = approved(cast, world)
    notice_plan(notice_id=notice.pk)
    ids = list(NoticeRecipient.objects.filter(notice=notice).values_list("id", flat=True))
    notice_send_chunk(notice_id=notice.pk, first_id=min(ids), last_id=max(ids))
    SendOnce.objects.update(status=SendOnce.Status.UNKNOWN)
    notices_reconcile()
    recipient = NoticeRecipient.objects.select_related("notice__issue", "send_once").get()
    with pytest.raises(PermissionDenied):
        notice_recipient_resolve(recipient=recipient, delivered=False, by=cast.other_manager)
    notice_recipient_resolve(recipient=recipient, delivered=False, by=cast.manager)
    deliver_pending()
    notices_reconcile()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].extra_headers["Message-ID"] == SendOnce.objects.get().message_id
    assert NoticeRecipient.objects.get().status == R.SENT


def test_reconcile_queues_a_plan_whose_task_was_lost(cast, monkeypatch):
    queued = []
    monkeypatch.setattr(
        notice_services, "enqueue", lambda name, *args, catch_up: queued.append((name, args))
    )
    world = fixed_issue(cast, reporters=1)
    notice = approved(cast, world)
    assert notices_reconcile().planned == 0  # too fresh: its task may still come
    FixNotice.objects.filter(pk=notice.pk).update(approved_at=timezone.now() - timedelta(minutes=6))
    assert notices_reconcile().planned == 1
    assert queued == [(notice_services.PLAN_TASK, (notice.pk,))]


# --- tracking ------------------------------------------------------------------------------------


def test_tracking_marks_delivered_then_bounced_never_back(cast):
    world = fixed_issue(cast, reporters=1)
    send_all(approved(cast, world))
    email = SendOnce.objects.get(purpose=SEND_ONCE_PURPOSE)
    assert notice_tracking_event(event=tracking_event(email, "delivered")).status == R.DELIVERED
    recipient = notice_tracking_event(
        event=tracking_event(email, "bounced", description="550 no such user")
    )
    assert recipient.status == R.BOUNCED and recipient.detail == "550 no such user"
    assert notice_tracking_event(event=tracking_event(email, "delivered")).status == R.BOUNCED
    assert notice_tracking_event(event=tracking_event(email, "complained")).status == R.COMPLAINED
    notices_reconcile()  # send-once's "sent" does not overwrite what the ESP said
    assert NoticeRecipient.objects.get().status == R.COMPLAINED


def test_tracking_ignores_other_purposes_and_settles_an_unknown_email(cast):
    world = fixed_issue(cast, reporters=1)
    send_all(approved(cast, world))
    email = SendOnce.objects.get(purpose=SEND_ONCE_PURPOSE)
    other = tracking_event(email, "delivered")
    other.metadata = {"voc_send_once": "loops.digest:digest:1"}
    assert notice_tracking_event(event=other) is None
    SendOnce.objects.filter(pk=email.pk).update(status=SendOnce.Status.UNKNOWN)
    notice_tracking_event(event=tracking_event(email, "delivered"))
    assert SendOnce.objects.get(pk=email.pk).status == SendOnce.Status.SENT


# --- escaping, erasure --------------------------------------------------------------------------


def test_customer_names_are_escaped_in_the_email(cast):
    evil = CustomerFactory(name="<script>alert(1)</script>")
    world = fixed_issue(cast, customers=[evil])
    send_all(approved(cast, world, body="Fixed <b>now</b>"))
    html = mail.outbox[0].alternatives[0][0]
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Fixed &lt;b&gt;now&lt;/b&gt;" in html
    assert "Hello <script>alert(1)</script>," in mail.outbox[0].body  # plain text stays plain
    rendered = notice_render(
        notice=FixNotice(subject="s", body="b"), name="<i>x</i>", opt_out_url="#"
    )
    assert "<i>x</i>" not in rendered["body_html"]


def test_erasure_drops_the_customer_and_address_and_keeps_the_counts(cast):
    world = fixed_issue(cast, reporters=2)
    notice = approved(cast, world)
    send_all(notice)
    notices_reconcile()
    gone = world.reporters[0]
    customer_erase(customer=gone, by=cast.admin, note="asked")
    email = SendOnce.objects.get(purpose=SEND_ONCE_PURPOSE, customer_id=gone.pk)
    assert email.to == [] and email.context == {}
    assert not NoticeRecipient.objects.filter(customer_id=gone.pk).exists()
    counts = notice_counts([notice.pk])[notice.pk]
    assert counts.total == 2 and counts.sent == 2
    assert notices_erase(customer_ids=[world.reporters[1].pk]) == {"notice_recipients": 1}
