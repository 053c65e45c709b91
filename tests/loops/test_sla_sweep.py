"""The escalation sweep: which clocks are overdue, who is told at each level and when, once
per level however often it runs, emails once per level with a link back and escaped text,
follow-ups the same way, the escalated manager's new scope, and a query count that does not
grow with the number of overdue rows."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from loops.followups.selectors import follow_up_list_visible
from loops.models import Clock, Escalation, FollowUp, Issue, Severity
from loops.selectors import issue_list_visible
from loops.services.issues import issue_assign, issue_transition
from loops.sla.services import ESCALATION_PURPOSE, escalations_sweep
from tests.factories import CustomerFactory, UserFactory
from tests.loops.world import T0, open_issue
from voc.core.business import business_setting_set
from voc.core.models import AuditEntry, SendOnce
from voc.core.sendonce import send_once_deliver
from voc.people.roles import Role

pytestmark = pytest.mark.django_db
SECOND = timedelta(seconds=1)
STEP = timedelta(hours=24)  # the setting's default
HOUR = timedelta(hours=1)


@pytest.fixture
def chain(cast):
    """An owner (a team lead in department A) who reports to the head of department A
    (``cast.manager``), and the executive sponsor."""
    lead = UserFactory(
        username="lead", role=Role.MANAGER, department=cast.dept_a, reports_to=cast.manager
    )
    return lead


def code_red(cast, owner, **kw):
    """A code red (respond in 4 h, fix in 72 h) opened at T0, owned and sponsored."""
    issue = open_issue(
        cast,
        severity=Severity.CODE_RED,
        department=cast.dept_a,
        sponsor=cast.executive,
        at=T0,
        **kw,
    )
    if owner is not None:
        issue = issue_assign(issue=issue, owner=owner, by=cast.manager)
    return issue


def escalations(**filters):
    return list(
        Escalation.objects.filter(**filters)
        .order_by("clock", "level")
        .values_list("clock", "level", "notified__username")
    )


def test_the_resolution_clock_escalates_owner_then_manager_then_sponsor(cast, chain):
    issue = code_red(cast, chain)
    due = issue.resolution_due_at
    assert due == T0 + timedelta(hours=72)

    assert escalations_sweep(now=due).escalated == 0  # exactly at the deadline: not yet
    assert escalations_sweep(now=due + SECOND).escalated == 1
    assert escalations(issue=issue) == [("resolution", 1, "lead")]

    assert escalations_sweep(now=due + STEP).escalated == 0  # the manager waits one step
    assert escalations_sweep(now=due + STEP + SECOND).escalated == 1
    assert escalations_sweep(now=due + 2 * STEP).escalated == 0
    assert escalations_sweep(now=due + 2 * STEP + SECOND).escalated == 1
    assert escalations(issue=issue) == [
        ("resolution", 1, "lead"),
        ("resolution", 2, "manager"),
        ("resolution", 3, "executive"),
    ]
    assert escalations_sweep(now=due + 30 * STEP).escalated == 0  # the chain is done
    row = Escalation.objects.get(issue=issue, level=2)
    assert row.due_at == due
    assert row.at == due + STEP + SECOND


def test_running_the_sweep_again_escalates_nothing_more_and_asks_no_second_email(cast, chain):
    issue = code_red(cast, chain)
    now = issue.resolution_due_at + SECOND
    assert escalations_sweep(now=now).escalated == 1
    assert escalations_sweep(now=now).escalated == 0
    assert escalations_sweep(now=now + HOUR).escalated == 0
    assert Escalation.objects.count() == 1
    assert SendOnce.objects.filter(purpose=ESCALATION_PURPOSE).count() == 1


def test_the_response_clock_of_an_issue_nobody_owns_goes_to_the_department_head(cast):
    """No owner: the head of the department (who should assign it), then the head's manager
    (nobody here), then the sponsor."""
    issue = code_red(cast, None)
    due = issue.response_due_at
    assert due == T0 + timedelta(hours=4)
    escalations_sweep(now=due + SECOND)
    assert escalations(issue=issue) == [("response", 1, "manager")]
    # The head reports to nobody: the sponsor is the chain's second step.
    escalations_sweep(now=due + STEP)
    assert len(escalations(issue=issue)) == 1
    escalations_sweep(now=due + STEP + SECOND)
    assert escalations(issue=issue) == [("response", 1, "manager"), ("response", 3, "executive")]


def test_a_long_overdue_issue_waits_a_step_between_levels(cast, chain):
    issue = code_red(cast, chain)
    late = issue.resolution_due_at + 10 * STEP
    escalations_sweep(now=late)
    escalations_sweep(now=late + STEP - SECOND)
    assert escalations(issue=issue) == [("resolution", 1, "lead")]
    escalations_sweep(now=late + STEP)
    assert escalations(issue=issue) == [("resolution", 1, "lead"), ("resolution", 2, "manager")]


def test_the_response_clock_stops_when_the_issue_is_assigned(cast, chain):
    issue = code_red(cast, chain)  # assigned at once: responded
    assert Issue.objects.get(pk=issue.pk).responded_at is not None
    escalations_sweep(now=issue.response_due_at + timedelta(hours=10))
    assert escalations(issue=issue) == []


def test_fixed_closed_and_merged_issues_are_not_escalated(cast, chain):
    fixed = code_red(cast, chain)
    for status in ("in_progress", "fixed"):
        fixed = issue_transition(issue=fixed, to=status, by=chain)
    wont = code_red(cast, chain)
    issue_transition(issue=wont, to="wont_fix", by=chain, why="Not ours")
    survivor = code_red(cast, chain)
    merged = code_red(cast, chain)
    Issue.objects.filter(pk=merged.pk).update(merged_into=survivor)
    escalations_sweep(now=T0 + timedelta(days=30))
    assert set(Escalation.objects.values_list("issue_id", flat=True)) == {survivor.pk}


def test_both_clocks_of_one_issue_escalate_separately(cast, chain):
    issue = code_red(cast, None)
    Issue.objects.filter(pk=issue.pk).update(owner=chain)  # owned but never responded
    escalations_sweep(now=issue.resolution_due_at + SECOND)
    # The response clock (overdue since T0 + 4 h) and the resolution clock, each at level 1.
    assert escalations(issue=issue) == [("resolution", 1, "lead"), ("response", 1, "lead")]


def test_after_a_handover_the_person_told_before_is_skipped(cast, chain):
    issue = code_red(cast, chain)
    due = issue.resolution_due_at
    escalations_sweep(now=due + SECOND)
    # A new owner who reports to the lead: level 1 was done (to the lead), the lead is level 2
    # of the new chain but was told already, so the sponsor is next, at the third position.
    deputy = UserFactory(
        username="deputy", role=Role.MANAGER, department=cast.dept_a, reports_to=chain
    )
    issue_assign(issue=issue, owner=deputy, by=cast.manager)
    escalations_sweep(now=due + 2 * STEP)
    assert escalations(issue=issue) == [("resolution", 1, "lead")]
    escalations_sweep(now=due + 2 * STEP + SECOND)
    assert escalations(issue=issue) == [("resolution", 1, "lead"), ("resolution", 3, "executive")]


def test_a_new_owner_whose_level_was_escalated_is_not_told_again_the_chain_goes_on(cast, chain):
    issue = code_red(cast, chain)
    due = issue.resolution_due_at
    escalations_sweep(now=due + SECOND)
    issue_assign(issue=issue, owner=cast.manager, by=cast.manager)  # the head takes it over
    # New chain: the head (level 1, done), nobody above the head, the sponsor second.
    escalations_sweep(now=due + STEP)
    assert escalations(issue=issue) == [("resolution", 1, "lead")]
    escalations_sweep(now=due + STEP + SECOND)
    assert escalations(issue=issue) == [("resolution", 1, "lead"), ("resolution", 3, "executive")]


def test_inactive_people_are_skipped(cast, chain):
    issue = code_red(cast, chain)
    cast.manager.is_active = False
    cast.manager.save()
    due = issue.resolution_due_at
    escalations_sweep(now=due + SECOND)
    escalations_sweep(now=due + STEP + SECOND)
    assert escalations(issue=issue) == [("resolution", 1, "lead"), ("resolution", 3, "executive")]


def test_the_step_is_a_business_setting(cast, chain):
    business_setting_set(key="sla_escalation_step_hours", value=2, by=cast.admin)
    issue = code_red(cast, chain)
    due = issue.resolution_due_at
    escalations_sweep(now=due + SECOND)
    escalations_sweep(now=due + 2 * HOUR)
    assert len(escalations(issue=issue)) == 1
    escalations_sweep(now=due + 2 * HOUR + SECOND)
    assert len(escalations(issue=issue)) == 2


def test_each_escalation_emails_the_person_told_once_with_a_link_and_escaped_text(
    cast, chain, settings
):
    settings.VOC_BASE_URL = "https://voc.example"
    issue = code_red(cast, chain, title="Card <script>alert(1)</script> declined")
    escalations_sweep(now=issue.resolution_due_at + SECOND)
    email = SendOnce.objects.get(purpose=ESCALATION_PURPOSE)
    escalation = Escalation.objects.get()
    assert email.key == f"escalations:{chain.pk}:{escalation.pk}"
    assert email.context == {"user_id": chain.pk, "escalation_ids": [escalation.pk]}
    assert email.to == [chain.email]
    mail.outbox.clear()
    assert send_once_deliver(email_id=email.id) == "sent"
    assert send_once_deliver(email_id=email.id) == "not pending"  # a redelivered task
    (message,) = mail.outbox
    html = message.alternatives[0][0]
    link = f"https://voc.example/loops/issues/{issue.pk}/"
    assert link in message.body and link in html
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Card <script>alert(1)</script> declined" in message.body  # plain text stays plain
    assert "Level 1: you own it" in message.body and "cannot be switched off" in message.body
    assert message.subject.startswith("Overdue (resolution): #")


def test_escalations_ignore_the_preferences(cast, chain):
    """Escalations to oneself cannot be switched off: nothing the owner chose stops them."""
    from loops.models import NotificationKind, NotificationPreference

    for kind in NotificationKind.values:
        NotificationPreference.objects.create(user=chain, kind=kind, enabled=False)
    issue = code_red(cast, chain)
    escalations_sweep(now=issue.resolution_due_at + SECOND)
    assert SendOnce.objects.get(purpose=ESCALATION_PURPOSE).to == [chain.email]


def test_one_email_per_person_lists_everything_the_sweep_escalated_to_them(cast, chain):
    issues = [code_red(cast, chain, title=f"Issue {n}") for n in range(3)]
    other = UserFactory(username="other", role=Role.MANAGER, department=cast.dept_a)
    theirs = code_red(cast, other, title="Not the lead's")
    escalations_sweep(now=issues[0].resolution_due_at + SECOND)
    emails = {email.to[0]: email for email in SendOnce.objects.filter(purpose=ESCALATION_PURPOSE)}
    assert set(emails) == {chain.email, other.email}
    lead_ids = sorted(Escalation.objects.filter(notified=chain).values_list("id", flat=True))
    assert emails[chain.email].context["escalation_ids"] == lead_ids
    mail.outbox.clear()
    send_once_deliver(email_id=emails[chain.email].id)
    (message,) = mail.outbox
    assert message.subject == "3 overdue issues and call backs escalated to you"
    for issue in issues:
        assert f"/loops/issues/{issue.pk}/" in message.body
    assert f"/loops/issues/{theirs.pk}/" not in message.body


def test_a_long_list_shows_fifty_and_counts_the_rest(cast, chain):
    for _ in range(51):
        follow_up(cast, chain, due=T0)
    escalations_sweep(now=T0 + SECOND)
    mail.outbox.clear()
    send_once_deliver(email_id=SendOnce.objects.get().id)
    (message,) = mail.outbox
    assert message.body.count("/loops/follow-ups/") == 50
    assert "…and 1 more" in message.body


def test_a_sweep_is_audited_once_with_counts(cast, chain):
    first, second = code_red(cast, chain), code_red(cast, chain)
    now = first.resolution_due_at + SECOND
    AuditEntry.objects.all().delete()
    escalations_sweep(now=now)
    entry = AuditEntry.objects.get()
    assert entry.action == "sla.escalate" and entry.actor_name == "sla-escalation"
    assert entry.changes["escalations"] == 2
    assert entry.changes["issues"] == sorted([first.pk, second.pk])
    escalations_sweep(now=now)
    assert AuditEntry.objects.count() == 1  # nothing escalated: nothing recorded


# --- follow-ups ----------------------------------------------------------------------------------


def follow_up(cast, assignee, *, due):
    return FollowUp.objects.create(
        trigger=FollowUp.Trigger.COMPLAINT_CONTACT,
        contact=_contact(cast),
        customer=CustomerFactory(name="Zoë <b>O'Brien</b>"),
        assignee=assignee,
        team=cast.team_a,
        department=cast.dept_b,
        due_at=due,
    )


def _contact(cast):
    from tests.loops.world import contact_of

    return contact_of(cast.team_a)


def test_an_overdue_follow_up_goes_to_the_assignee_their_manager_then_the_head(cast, chain):
    item = follow_up(cast, chain, due=T0)
    escalations_sweep(now=T0)
    assert escalations(follow_up=item) == []
    escalations_sweep(now=T0 + SECOND)
    escalations_sweep(now=T0 + STEP + SECOND)
    escalations_sweep(now=T0 + 2 * STEP + SECOND)
    # The department of the follow-up is B: its head is other_manager.
    assert escalations(follow_up=item) == [
        ("follow_up", 1, "lead"),
        ("follow_up", 2, "manager"),
        ("follow_up", 3, "other_manager"),
    ]
    emails = SendOnce.objects.order_by("id")
    assert [email.to for email in emails] == [
        [chain.email],
        [cast.manager.email],
        [cast.other_manager.email],
    ]


def test_a_closed_follow_up_is_not_escalated(cast, chain):
    item = follow_up(cast, chain, due=T0)
    FollowUp.objects.filter(pk=item.pk).update(status=FollowUp.Status.DONE)
    assert escalations_sweep(now=T0 + 10 * STEP).escalated == 0


def test_the_follow_up_email_escapes_the_customer_name(cast, chain):
    item = follow_up(cast, chain, due=T0)
    escalations_sweep(now=T0 + SECOND)
    mail.outbox.clear()
    send_once_deliver(email_id=SendOnce.objects.get().id)
    html = mail.outbox[0].alternatives[0][0]
    assert "<b>O" not in html and "&lt;b&gt;O&#x27;Brien&lt;/b&gt;" in html
    assert f"/loops/follow-ups/{item.pk}/" in html


# --- scope: escalated managers see what they are told about -------------------------------------


def test_an_escalated_manager_outside_the_department_sees_the_issue(cast):
    """other_manager heads department B; the lead of a department-A issue reports to them."""
    lead = UserFactory(
        username="lead_a", role=Role.MANAGER, department=cast.dept_a, reports_to=cast.other_manager
    )
    issue = code_red(cast, lead)
    assert not issue_list_visible(viewer=cast.other_manager).filter(pk=issue.pk).exists()
    due = issue.resolution_due_at
    escalations_sweep(now=due + SECOND)
    assert not issue_list_visible(viewer=cast.other_manager).filter(pk=issue.pk).exists()
    escalations_sweep(now=due + STEP + SECOND)
    assert list(issue_list_visible(viewer=cast.other_manager).filter(pk=issue.pk)) == [issue]
    # The rep still does not see it; each issue is listed once.
    assert not issue_list_visible(viewer=cast.rep).filter(pk=issue.pk).exists()
    assert issue_list_visible(viewer=cast.other_manager).filter(pk=issue.pk).count() == 1


def test_an_escalated_manager_sees_the_follow_up(cast):
    outside = UserFactory(username="outside_head", role=Role.MANAGER)
    lead = UserFactory(username="lead_b", role=Role.MANAGER, reports_to=outside)
    item = follow_up(cast, lead, due=T0)
    FollowUp.objects.filter(pk=item.pk).update(team=None, department=None)
    assert not follow_up_list_visible(viewer=outside).filter(pk=item.pk).exists()
    escalations_sweep(now=T0 + SECOND)  # level 1 (the lead)
    escalations_sweep(now=T0 + STEP + SECOND)  # level 2 (their manager)
    assert list(follow_up_list_visible(viewer=outside)) == [item]


# --- bounded queries ------------------------------------------------------------------------------


def _overdue_world(cast, chain, n: int):
    for _ in range(n):
        code_red(cast, chain)
        follow_up(cast, chain, due=T0 + timedelta(hours=72))


def _queries(now) -> int:
    with CaptureQueriesContext(connection) as queries:
        escalations_sweep(now=now)
    return len(queries)


def test_the_sweep_does_not_grow_queries_with_rows(cast, chain):
    now = T0 + timedelta(hours=73)  # level 1 due for everything, level 2 for nothing
    escalations_sweep(now=now)  # reads the business settings once (they are cached)
    _overdue_world(cast, chain, 2)
    small_first = _queries(now)
    small_again = _queries(now)
    Escalation.objects.all().delete()
    SendOnce.objects.all().delete()
    _overdue_world(cast, chain, 10)
    big_first = _queries(now)
    big_again = _queries(now)
    assert Escalation.objects.count() == 12 * 2
    assert small_first == big_first
    assert small_again == big_again
    # Read (3 issue + 2 follow-up queries), the claim, the addresses, two for send-once, the
    # audit entry, and the transaction's savepoint and release.
    assert big_first == 12
    assert big_again == 7
    assert Escalation.objects.filter(clock=Clock.FOLLOW_UP).count() == 12
