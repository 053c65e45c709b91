"""Follow-ups: which answers open one, for whom, through the callback budget, closing them,
their scope for every role, and the closed-loop figures."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from contacts.budget.services import budget_opt_out
from contacts.models import BudgetPurpose, BudgetTouch
from feedback.items.services import feedback_item_record
from loops.followups.rules import calls_for_follow_up, is_detractor
from loops.followups.selectors import closed_loop_stats, follow_up_list_visible
from loops.followups.services import (
    follow_up_close,
    follow_up_reassign,
    follow_ups_erase,
    follow_ups_open,
)
from loops.models import FollowUp
from tests.factories import CustomerFactory, UserFactory
from tests.loops.world import contact_of, reason
from voc.core.business import business_setting_set
from voc.core.models import AuditEntry
from voc.people.roles import Role

pytestmark = pytest.mark.django_db
Outcome = FollowUp.Outcome


@pytest.mark.parametrize(
    ("kind", "score", "expected"),
    [
        ("nps", 6, True),
        ("nps", 7, False),
        ("nps", 0, True),
        ("csat", 2, True),
        ("csat", 3, False),
        ("ces", 3, True),
        ("ces", 4, False),
        ("nps", None, False),
        ("review", 1, False),
    ],
)
def test_detractor_boundaries(kind, score, expected):
    assert is_detractor(kind, score) is expected


def test_triggers():
    assert calls_for_follow_up("complaint", None) == "complaint"
    assert calls_for_follow_up("nps", 6) == "detractor"
    assert calls_for_follow_up("compliment", None) is None
    assert calls_for_follow_up("nps", 9) is None


def item(cast, *, kind="nps", score=3, contact=None, customer=None, team=None, reason=None):
    return feedback_item_record(
        kind=kind,
        score=score,
        source="test",
        verbatim="Waited an hour",
        contact=contact,
        customer=customer if customer is not None or contact is not None else CustomerFactory(),
        team=team,
        reason=reason,
        by=cast.admin,
    ).item


def test_detractor_on_a_contact_goes_to_the_team_lead_due_in_48_hours(cast):
    contact = contact_of(cast.team_a)
    detractor = item(cast, score=6, contact=contact)
    item(cast, score=7, contact=contact_of(cast.team_a))  # passive: nothing
    now = timezone.now()
    run = follow_ups_open(now=now)
    assert (run.opened, run.not_allowed) == (1, 0)
    follow_up = FollowUp.objects.get()
    assert follow_up.feedback_item == detractor and follow_up.contact == contact
    assert follow_up.trigger == "detractor"
    assert follow_up.assignee == cast.manager  # team_a's lead
    assert follow_up.team == cast.team_a
    assert follow_up.due_at == now + timedelta(hours=48)
    assert BudgetTouch.objects.filter(purpose=BudgetPurpose.CALLBACK).count() == 1
    assert AuditEntry.objects.filter(action="follow_up.open", target_id=follow_up.pk).exists()
    # A second run opens nothing more.
    assert follow_ups_open(now=now).opened == 0
    assert FollowUp.objects.count() == 1


def test_the_due_time_is_a_business_setting(cast):
    business_setting_set(key="follow_up_callback_hours", value=24, by=cast.admin)
    item(cast, kind="complaint", score=None, contact=contact_of(cast.team_a))
    now = timezone.now()
    follow_ups_open(now=now)
    assert FollowUp.objects.get().due_at == now + timedelta(hours=24)


def test_without_a_team_lead_the_reasons_department_head(cast):
    billing = reason("Billing", department=cast.dept_b)
    item(cast, kind="complaint", score=None, reason=billing)  # no contact, no team
    follow_ups_open()
    follow_up = FollowUp.objects.get()
    assert follow_up.assignee == cast.other_manager
    assert follow_up.department == cast.dept_b and follow_up.team is None


def test_complaint_reason_contacts_and_one_follow_up_per_contact(cast):
    parent = reason("Complaints", department=cast.dept_a, complaint=True)
    child = reason("Rude agent", parent=parent, department=cast.dept_a)
    plain = reason("Address change", department=cast.dept_a)
    complaint_contact = contact_of(cast.team_b, reason=child)  # inherits the parent's flag
    contact_of(cast.team_a, reason=plain)
    # The same contact also has a detractor answer: one call back, not two.
    item(cast, score=1, contact=complaint_contact)
    follow_ups_open()
    follow_up = FollowUp.objects.get()
    assert follow_up.contact == complaint_contact
    assert follow_up.assignee == cast.other_manager  # team_b's lead
    assert follow_ups_open().opened == 0


def test_the_callback_budget_closes_a_follow_up_for_a_customer_who_opted_out(cast):
    customer = CustomerFactory()
    budget_opt_out(customer=customer, purpose=BudgetPurpose.CALLBACK, by=cast.admin)
    contact = contact_of(cast.team_a, customer=customer)
    item(cast, kind="complaint", score=None, contact=contact)
    run = follow_ups_open()
    assert (run.opened, run.not_allowed) == (1, 1)
    follow_up = FollowUp.objects.get()
    assert follow_up.status == "cancelled" and follow_up.outcome == Outcome.NOT_ALLOWED
    assert follow_up.notes.startswith("Not called:")


def test_old_triggers_are_not_looked_at(cast):
    old = item(cast, kind="complaint", score=None, contact=contact_of(cast.team_a))
    follow_ups_open(now=old.created_at + timedelta(days=7, seconds=1))
    assert not FollowUp.objects.exists()
    follow_ups_open(now=old.created_at + timedelta(days=7))
    assert FollowUp.objects.count() == 1


def opened(cast, team=None):
    item(cast, kind="complaint", score=None, contact=contact_of(team or cast.team_a))
    follow_ups_open()
    return FollowUp.objects.order_by("-id").first()


def test_close_by_the_assignee_redacts_and_audits(cast):
    follow_up = opened(cast)
    closed = follow_up_close(
        follow_up=follow_up,
        outcome=Outcome.RESOLVED,
        notes="Refunded to card 4111 1111 1111 1111",
        by=cast.manager,
    )
    assert closed.status == "done" and closed.closed_by == cast.manager
    assert "4111 1111" not in closed.notes
    with pytest.raises(ValidationError, match="already done"):
        follow_up_close(follow_up=closed, outcome=Outcome.REACHED, by=cast.manager)


def test_who_may_close(cast):
    follow_up = opened(cast)
    for user in (cast.rep, cast.other_manager, cast.executive, cast.admin):
        with pytest.raises(PermissionDenied):
            follow_up_close(follow_up=follow_up, outcome=Outcome.REACHED, by=user)
    with pytest.raises(ValidationError):
        follow_up_close(follow_up=follow_up, outcome=Outcome.NOT_ALLOWED, by=cast.manager)
    # A manager of the department who does not head it and leads no team: in scope, may call.
    member = UserFactory(username="member", role=Role.MANAGER, department=cast.dept_a)
    follow_up.department = cast.dept_a
    follow_up.save()
    follow_up_close(follow_up=follow_up, outcome=Outcome.NO_ANSWER, by=member)


def test_reassign(cast):
    follow_up = opened(cast)
    with pytest.raises(ValidationError):
        follow_up_reassign(follow_up=follow_up, assignee=cast.rep, by=cast.manager)
    follow_up = follow_up_reassign(
        follow_up=follow_up, assignee=cast.other_manager, by=cast.manager
    )
    assert follow_up.assignee == cast.other_manager
    # Now theirs: they may close it though it is not in their departments.
    follow_up_close(follow_up=follow_up, outcome=Outcome.REACHED, by=cast.other_manager)


def test_scope_for_every_role(cast):
    mine = opened(cast, cast.team_a)
    theirs = opened(cast, cast.team_b)
    member = UserFactory(username="member", role=Role.MANAGER, department=cast.dept_b)

    def ids(user):
        return sorted(follow_up_list_visible(viewer=user).values_list("id", flat=True))

    assert ids(cast.executive) == ids(cast.admin) == sorted([mine.pk, theirs.pk])
    assert ids(cast.manager) == [mine.pk]
    assert ids(cast.other_manager) == [theirs.pk]
    # A manager of department B who does not head it sees its teams' call backs, as contacts.
    assert ids(member) == [theirs.pk]
    assert ids(cast.rep) == ids(cast.outsider) == []


def test_closed_loop_stats(cast):
    start = timezone.now() - timedelta(hours=1)
    first, second, third = (opened(cast) for _ in range(3))
    follow_up_close(follow_up=first, outcome=Outcome.RESOLVED, by=cast.manager)
    FollowUp.objects.filter(pk=first.pk).update(closed_at=first.created_at + timedelta(hours=2))
    follow_up_close(follow_up=second, outcome=Outcome.REACHED, by=cast.manager)
    FollowUp.objects.filter(pk=second.pk).update(closed_at=second.created_at + timedelta(hours=6))
    end = timezone.now() + timedelta(hours=1)
    stats = closed_loop_stats(viewer=cast.executive, start=start, end=end)
    assert (stats.opened, stats.closed) == (3, 2)
    assert stats.rate == pytest.approx(2 / 3)
    assert stats.median_hours_to_close == pytest.approx(4.0)
    assert closed_loop_stats(viewer=cast.other_manager, start=start, end=end).opened == 0
    assert third.status == "open"


def test_erasure_clears_notes_and_customer(cast):
    follow_up = opened(cast)
    follow_up_close(follow_up=follow_up, outcome=Outcome.RESOLVED, notes="spoke", by=cast.manager)
    assert follow_ups_erase(customer_ids=[follow_up.customer_id]) == {"follow_ups": 1}
    follow_up.refresh_from_db()
    assert follow_up.notes == "" and follow_up.customer is None
