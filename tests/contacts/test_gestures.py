"""Make it right, the services: allowances at their boundaries, a team's allowance over its
members' role, who may approve, redaction, the audit trail, erasure and the timeline."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from contacts.erasure.services import customer_erase
from contacts.gestures.rules import AllowanceLeft, Decider, may_decide, needs_approval
from contacts.gestures.selectors import (
    allowance_left,
    gesture_list_visible,
    gestures_awaiting,
    month_spent,
)
from contacts.gestures.services import gesture_approve, gesture_decline, gesture_record
from contacts.models import Gesture
from contacts.selectors import customer_timeline
from tests.contacts.gesture_helpers import contact_of, lead_only_manager, set_allowance
from tests.factories import UserFactory
from voc.core.business import business_setting_set
from voc.core.errors import Conflict
from voc.core.models import AuditEntry
from voc.people.roles import Role

pytestmark = pytest.mark.django_db

GRANTED, PENDING = Gesture.State.GRANTED, Gesture.State.PENDING


@pytest.fixture
def contact(cast):
    set_allowance(cast, per_gesture="50.00", per_month="120.00")
    return contact_of(cast.team_a)


def give(contact, by, value, kind=Gesture.Kind.CREDIT, note=""):
    return gesture_record(contact=contact, kind=kind, value=value, note=note, by=by)


# --- the rule, without a database -------------------------------------------------------------


def allowance(spent: str) -> AllowanceLeft:
    return AllowanceLeft(Decimal("50.00"), Decimal("120.00"), Decimal(spent), "EUR")


@pytest.mark.parametrize(
    ("value", "spent", "waits"),
    [
        ("50.00", "0.00", False),  # exactly the per-gesture allowance
        ("50.01", "0.00", True),  # one cent over it
        ("20.00", "100.00", False),  # the month's total exactly at the monthly allowance
        ("20.01", "100.00", True),  # one cent over it
        ("0.00", "120.00", False),  # nothing costs nothing
        ("0.01", "120.00", True),
    ],
)
def test_the_rule_pins_both_limits(value, spent, waits):
    assert needs_approval(Decimal(value), allowance(spent)) is waits


def test_what_is_left_is_never_negative():
    assert allowance("130.00").left == Decimal("0.00")
    assert allowance("100.00").up_to == Decimal("20.00")
    assert allowance("0.00").up_to == Decimal("50.00")


# --- the allowance, through the service --------------------------------------------------------


def test_a_gesture_exactly_at_the_per_gesture_allowance_is_granted(cast, contact):
    gesture = give(contact, cast.rep, "50.00")
    assert (gesture.state, gesture.value, gesture.currency) == (GRANTED, Decimal("50.00"), "USD")
    assert gesture.team == cast.team_a and gesture.given_by == cast.rep


def test_one_cent_over_the_per_gesture_allowance_waits(cast, contact):
    assert give(contact, cast.rep, "50.01").state == PENDING
    assert month_spent(user=cast.rep) == Decimal("0.00")  # waiting is not spending


def test_the_month_total_exactly_at_the_monthly_allowance_is_granted(cast, contact):
    assert [give(contact, cast.rep, v).state for v in ("50.00", "50.00", "20.00")] == [GRANTED] * 3
    assert month_spent(user=cast.rep) == Decimal("120.00")
    left = allowance_left(user=cast.rep)
    assert (left.left, left.up_to) == (Decimal("0.00"), Decimal("0.00"))


def test_one_cent_over_the_monthly_allowance_waits(cast, contact):
    give(contact, cast.rep, "50.00")
    give(contact, cast.rep, "50.00")
    assert give(contact, cast.rep, "20.01").state == PENDING
    # The month's spend stays where it was: the next 20.00 still fits.
    assert give(contact, cast.rep, "20.00").state == GRANTED


def test_a_teammates_spend_is_their_own(cast, contact):
    give(contact, cast.rep, "50.00")
    give(contact, cast.rep, "50.00")
    assert give(contact, cast.teammate, "50.00").state == GRANTED


def test_approved_gestures_do_not_use_the_givers_allowance(cast, contact):
    waiting = give(contact, cast.rep, "100.00")
    gesture_approve(gesture=waiting, by=cast.manager)
    assert month_spent(user=cast.rep) == Decimal("0.00")
    assert give(contact, cast.rep, "50.00").state == GRANTED


def test_a_teams_allowance_wins_over_its_members_role(cast, contact):
    business_setting_set(
        key="make_it_right_per_gesture", value="10.00", team=cast.team_a, by=cast.admin
    )
    business_setting_set(
        key="make_it_right_per_month", value="500.00", team=cast.team_a, by=cast.admin
    )
    assert give(contact, cast.rep, "10.00").state == GRANTED
    assert give(contact, cast.rep, "10.01").state == PENDING
    # Team B has no value of its own: its reps keep the role's 50.00.
    outsider_contact = contact_of(cast.team_b)
    assert give(outsider_contact, cast.outsider, "50.00").state == GRANTED
    assert allowance_left(user=cast.rep).per_month == Decimal("500.00")
    assert allowance_left(user=cast.outsider).per_month == Decimal("120.00")


def test_a_call_back_may_be_worth_nothing_and_other_gestures_may_not(cast, contact):
    call = give(contact, cast.rep, "0", kind=Gesture.Kind.SPECIALIST_CALL)
    assert (call.state, call.value) == (GRANTED, Decimal("0.00"))
    with pytest.raises(ValidationError) as refused:
        give(contact, cast.rep, "0.00", kind=Gesture.Kind.REFUND)
    assert "only a call back may be worth nothing" in str(refused.value)


@pytest.mark.parametrize("value", ["-1", "1.005", "abc", "1e3", "", "12345678901"])
def test_values_that_are_not_amounts_are_refused(cast, contact, value):
    with pytest.raises(ValidationError):
        give(contact, cast.rep, value)
    assert not Gesture.objects.exists()


def test_unknown_kinds_and_long_notes_are_refused(cast, contact):
    with pytest.raises(ValidationError):
        give(contact, cast.rep, "5", kind="voucher")
    with pytest.raises(ValidationError):
        give(contact, cast.rep, "5", note="x" * 501)


def test_executives_do_not_give_gestures_and_nobody_gives_outside_their_contacts(cast, contact):
    with pytest.raises(PermissionDenied):
        give(contact, cast.executive, "5")
    with pytest.raises(PermissionDenied):
        give(contact, cast.outsider, "5")
    with pytest.raises(PermissionDenied):
        give(contact, cast.other_manager, "5")


def test_a_contact_without_a_customer_or_of_an_erased_one_takes_no_gesture(cast, contact):
    contact.customer = None
    contact.save()
    with pytest.raises(Conflict):
        give(contact, cast.rep, "5")
    other = contact_of(cast.team_a)
    customer_erase(customer=other.customer, by=cast.admin)
    with pytest.raises(Conflict):
        give(other, cast.rep, "5")


def test_the_note_is_redacted_and_the_gesture_audited_with_its_customer(cast, contact):
    gesture = give(contact, cast.rep, "12.50", note="Card 4111 1111 1111 1111 refunded")
    assert "4111" not in gesture.note and "redacted" in gesture.note
    entry = AuditEntry.objects.get(action="gesture.record")
    assert (entry.actor, entry.target_id, entry.customer_id) == (
        cast.rep,
        gesture.pk,
        contact.customer_id,
    )
    assert entry.changes["value"] == [None, "12.50"]
    assert entry.changes["state"] == [None, "granted"]


# --- approvals ---------------------------------------------------------------------------------


@pytest.fixture
def waiting(cast, contact):
    return give(contact, cast.rep, "80.00", note="Three months of trouble")


def test_the_reps_team_lead_approves(cast, waiting):
    lead = lead_only_manager(cast)  # heads no department
    approved = gesture_approve(gesture=waiting, by=lead, reason="Fair")
    assert (approved.state, approved.decided_by, approved.decision_reason) == (
        Gesture.State.APPROVED,
        lead,
        "Fair",
    )
    entry = AuditEntry.objects.get(action="gesture.approve")
    assert (entry.actor, entry.why, entry.customer_id) == (
        lead,
        "Fair",
        waiting.contact.customer_id,
    )


def test_the_department_head_approves_when_someone_else_leads_the_team(cast, waiting):
    lead_only_manager(cast)
    assert gesture_decline(gesture=waiting, by=cast.manager).state == Gesture.State.DECLINED


def test_a_manager_of_another_team_is_refused(cast, waiting):
    with pytest.raises(PermissionDenied):
        gesture_approve(gesture=waiting, by=cast.other_manager)
    waiting.refresh_from_db()
    assert waiting.state == PENDING


def test_a_manager_of_the_department_who_neither_heads_nor_leads_is_refused(cast, waiting):
    member = UserFactory(username="member", role=Role.MANAGER, department=cast.dept_a)
    with pytest.raises(PermissionDenied):
        gesture_approve(gesture=waiting, by=member)


@pytest.mark.parametrize("role", ["executive", "admin"])
def test_executives_and_admins_approve(cast, waiting, role):
    assert gesture_approve(gesture=waiting, by=getattr(cast, role)).state == "approved"


@pytest.mark.parametrize("role", ["rep", "teammate", "outsider"])
def test_reps_never_decide(cast, waiting, role):
    with pytest.raises(PermissionDenied):
        gesture_decline(gesture=waiting, by=getattr(cast, role))


def test_nobody_approves_their_own(cast, contact):
    cast.manager.team = cast.team_a  # leads team A, heads department A, and gives
    cast.manager.save()
    set_allowance(cast, per_gesture="10.00", per_month="100.00", role=Role.MANAGER)
    own = give(contact, cast.manager, "30.00")
    assert own.state == PENDING
    with pytest.raises(PermissionDenied) as refused:
        gesture_approve(gesture=own, by=cast.manager)
    assert "Nobody decides their own gesture" in str(refused.value)
    assert own not in gestures_awaiting(viewer=cast.manager)
    assert own in gestures_awaiting(viewer=cast.executive)
    admin_own = give(contact, cast.admin, "5000.00")
    with pytest.raises(PermissionDenied):
        gesture_approve(gesture=admin_own, by=cast.admin)
    other_admin = UserFactory(username="admin2", role=Role.ADMIN)
    assert gesture_approve(gesture=admin_own, by=other_admin).state == "approved"


def test_a_gesture_is_decided_once(cast, waiting):
    gesture_approve(gesture=waiting, by=cast.manager)
    with pytest.raises(Conflict) as refused:
        gesture_decline(gesture=waiting, by=cast.executive)
    assert "already approved by" in str(refused.value)
    granted = give(waiting.contact, cast.rep, "1.00")
    with pytest.raises(Conflict):
        gesture_approve(gesture=granted, by=cast.manager)


def test_who_sees_the_waiting_gestures(cast, waiting):
    lead = lead_only_manager(cast)
    assert list(gestures_awaiting(viewer=lead)) == [waiting]
    assert list(gestures_awaiting(viewer=cast.manager)) == [waiting]
    assert list(gestures_awaiting(viewer=cast.other_manager)) == []
    assert list(gestures_awaiting(viewer=cast.rep)) == []
    assert list(gestures_awaiting(viewer=cast.admin)) == [waiting]


def test_decider_rule_without_a_database():
    def decider(role, lead=False, head=False, user_id=1):
        return Decider(user_id=user_id, role=role, leads_the_team=lead, heads_the_department=head)

    assert may_decide(decider("manager", lead=True), given_by_id=2)
    assert may_decide(decider("manager", head=True), given_by_id=2)
    assert not may_decide(decider("manager"), given_by_id=2)
    assert not may_decide(decider("manager", lead=True, head=True), given_by_id=1)
    assert may_decide(decider("executive"), given_by_id=2)
    assert not may_decide(decider("admin"), given_by_id=1)
    assert not may_decide(decider("rep", lead=True), given_by_id=2)
    assert not may_decide(decider(None, lead=True), given_by_id=2)


# --- scope, timeline, erasure ---------------------------------------------------------------


def test_who_sees_which_gestures(cast, contact):
    ours = give(contact, cast.rep, "5.00")
    theirs = give(contact_of(cast.team_b), cast.outsider, "5.00")
    assert set(gesture_list_visible(viewer=cast.rep)) == {ours}
    assert set(gesture_list_visible(viewer=cast.teammate)) == {ours}
    assert set(gesture_list_visible(viewer=cast.outsider)) == {theirs}
    assert set(gesture_list_visible(viewer=cast.manager)) == {ours}
    assert set(gesture_list_visible(viewer=cast.other_manager)) == {theirs}
    assert set(gesture_list_visible(viewer=cast.executive)) == {ours, theirs}
    assert set(gesture_list_visible(viewer=cast.admin)) == {ours, theirs}
    lead = lead_only_manager(cast)
    assert set(gesture_list_visible(viewer=lead)) == {ours}


def test_gestures_appear_on_the_customer_timeline(cast, contact):
    give(contact, cast.rep, "12.50", kind=Gesture.Kind.REFUND, note="Double charge")
    entries = list(customer_timeline(customer=contact.customer, viewer=cast.rep))
    gesture_entries = [e for e in entries if e.kind == "gesture"]
    assert [(e.title, e.summary) for e in gesture_entries] == [
        ("Refund · 12.50 USD · granted", "Double charge")
    ]
    assert gesture_entries[0].url == f"/contacts/{contact.pk}/"
    # Outside the scope: not shown.
    outsider_view = customer_timeline(customer=contact.customer, viewer=cast.outsider)
    assert not [e for e in outsider_view if e.kind == "gesture"]


def test_erasure_blanks_the_notes_and_keeps_the_figures(cast, contact):
    waiting = give(contact, cast.rep, "80.00", note="Ann Smith, flat 3")
    gesture_decline(gesture=waiting, by=cast.manager, reason="Ann asked twice")
    other = give(contact_of(cast.team_a), cast.rep, "5.00", note="Someone else")
    erasure = customer_erase(customer=contact.customer, by=cast.admin)
    waiting.refresh_from_db()
    other.refresh_from_db()
    assert (waiting.note, waiting.decision_reason) == ("", "")
    assert (waiting.value, waiting.state, waiting.kind) == (Decimal("80.00"), "declined", "credit")
    assert other.note == "Someone else"
    assert erasure.counts["contacts.gestures.notes"] == 1
    # The audit entries of the erased customer keep who and when, not the note.
    entry = AuditEntry.objects.get(action="gesture.record", target_id=waiting.pk)
    assert "Ann Smith" not in str(entry.changes)
    decline = AuditEntry.objects.get(action="gesture.decline")
    assert "Ann" not in decline.why


def test_the_month_starts_on_the_first_in_the_reporting_time_zone(cast, contact, settings):
    import time_machine

    settings.VOC_REPORTING_TIME_ZONE = "Europe/Paris"  # the 1st starts at 23:00 UTC the day before
    with time_machine.travel("2026-10-31T22:59:59Z", tick=False):
        assert give(contact, cast.rep, "50.00").state == GRANTED
        assert give(contact, cast.rep, "50.00").state == GRANTED
        assert give(contact, cast.rep, "20.01").state == PENDING  # still October in Paris
    with time_machine.travel("2026-10-31T23:00:00Z", tick=False):
        assert month_spent(user=cast.rep) == Decimal("0.00")  # November in Paris
        assert give(contact, cast.rep, "50.00").state == GRANTED
