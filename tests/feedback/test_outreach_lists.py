"""The monthly call lists: who is on a lost- or loyal-customer list (and who never is), the
contact budget's say, the list size, and one list per executive, program and month."""

from datetime import date, timedelta

import pytest
import time_machine

from contacts.budget.services import budget_opt_out
from contacts.models import BudgetRefusal, BudgetTouch, CustomerEvent
from contacts.services.customers import customer_merge
from feedback.models import OutreachCall, OutreachList
from feedback.outreach.rules import loyal_since_cutoff, parse_month, years_before
from feedback.outreach.services import (
    OUTREACH_JOB,
    outreach_list_generate,
    outreach_lists_generate_all,
)
from feedback.outreach.tasks import outreach_lists
from tests.factories import CustomerFactory, UserFactory
from tests.feedback.outreach_helpers import MONTH, NOW, TODAY, gained, lost, promoter
from voc.core.business import business_setting_set
from voc.core.models import JobRun
from voc.people.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def on_list(executive, program="lost"):
    outreach_list, _ = outreach_list_generate(
        executive=executive, program=program, today=TODAY, by=executive
    )
    return [call.customer for call in outreach_list.calls.order_by("position")]


def test_pure_date_rules():
    assert years_before(date(2028, 2, 29), 2) == date(2026, 2, 28)
    assert loyal_since_cutoff(date(2026, 11, 18), 2) == date(2024, 11, 18)
    assert parse_month("2026-11") == date(2026, 11, 1)
    assert parse_month("2026-13") is None and parse_month("nope") is None


def test_the_most_recently_lost_come_first_with_why_they_are_on_the_list(cast):
    older = lost(40, reason_text="Price went up")
    newer = lost(3)
    outreach_list, created = outreach_list_generate(
        executive=cast.executive, program="lost", today=TODAY, by=cast.executive
    )
    assert created
    calls = list(outreach_list.calls.order_by("position"))
    assert [call.customer for call in calls] == [newer, older]
    assert (calls[1].lost_on, calls[1].lost_reason) == (TODAY - timedelta(days=40), "Price went up")
    assert outreach_list.month == MONTH and outreach_list.budget_key == (
        f"outreach:lost:2026-11:{cast.executive.pk}"
    )


def test_the_lost_window_is_90_days_inclusive(cast):
    edge = lost(90)
    lost(91)
    assert on_list(cast.executive) == [edge]


def test_the_lost_window_is_a_business_setting(cast):
    business_setting_set(key="lost_customer_window_days", value=30, by=cast.admin, why="test")
    inside = lost(30)
    lost(31)
    assert on_list(cast.executive) == [inside]


def test_a_customer_won_back_since_is_not_lost(cast):
    customer = lost(20)
    CustomerEvent.objects.create(customer=customer, kind="won_back", occurred_on=TODAY)
    assert on_list(cast.executive) == []


def test_never_an_erased_merged_or_opted_out_customer(cast):
    keep = lost(5)
    erased = lost(4)
    erased.erased_at = NOW
    erased.save()
    duplicate = lost(3)
    survivor = CustomerFactory()
    customer_merge(source=duplicate, target=survivor, by=cast.admin)  # the event moves with it
    opted_out = lost(2)
    budget_opt_out(customer=opted_out, purpose="outreach", by=cast.admin)
    assert on_list(cast.executive) == [survivor, keep]
    assert not OutreachCall.objects.filter(customer__in=[erased, duplicate, opted_out]).exists()
    refusal = BudgetRefusal.objects.get(customer=opted_out)
    assert (refusal.purpose, refusal.reason, refusal.key) == (
        "outreach",
        "opted_out",
        f"outreach:lost:2026-11:{cast.executive.pk}",
    )
    assert OutreachList.objects.get().refused == 1
    assert BudgetTouch.objects.filter(customer=keep, purpose="outreach").count() == 1
    assert not BudgetTouch.objects.filter(customer__in=[erased, duplicate, opted_out]).exists()


@pytest.mark.parametrize(("days", "allowed"), [(90, True), (89, False)])
def test_the_outreach_cool_down_exactly_90_days_allowed_a_day_less_refused(cast, days, allowed):
    customer = lost(10)
    BudgetTouch.objects.create(
        customer=customer, purpose="outreach", at=NOW - timedelta(days=days), actor_name="earlier"
    )
    assert on_list(cast.executive) == ([customer] if allowed else [])
    refusals = list(
        BudgetRefusal.objects.filter(customer=customer).values_list("reason", flat=True)
    )
    assert refusals == ([] if allowed else ["cool_down"])


def test_a_customer_without_phone_or_email_cannot_be_called(cast):
    lost(5, email="").__class__.objects.update(phone="")
    assert on_list(cast.executive) == []


def test_the_list_holds_five_by_default_and_the_business_setting_otherwise(cast):
    customers = [lost(days) for days in range(1, 9)]
    assert on_list(cast.executive) == customers[:5]
    vp = UserFactory(role=Role.EXECUTIVE, reports_to=cast.executive)
    business_setting_set(key="lost_customer_calls_per_month", value=2, by=cast.admin, why="t")
    assert on_list(vp) == customers[5:7]  # the next ones: never the first executive's


def test_never_two_executives_for_one_customer(cast):
    customer = lost(5)
    vp = UserFactory(role=Role.EXECUTIVE, reports_to=cast.executive)
    assert on_list(cast.executive) == [customer]
    assert on_list(vp) == []
    assert OutreachCall.objects.filter(customer=customer).count() == 1
    # a lost customer is not a loyal one either, whoever asks
    assert on_list(vp, "loyal") == []


def test_the_database_refuses_a_customer_on_two_lists_in_a_month(cast):
    from django.db import IntegrityError, transaction

    customer = lost(5)
    on_list(cast.executive)
    vp = UserFactory(role=Role.EXECUTIVE)
    other = OutreachList.objects.create(
        executive=vp, program="loyal", month=MONTH, size=5, generated_by="test"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        OutreachCall.objects.create(outreach_list=other, month=MONTH, customer=customer)


def test_a_list_is_made_once_per_executive_program_and_month(cast):
    first = lost(5)
    on_list(cast.executive)
    lost(1)
    again, created = outreach_list_generate(
        executive=cast.executive, program="lost", today=TODAY, by=cast.executive
    )
    assert not created
    assert [call.customer for call in again.calls.all()] == [first]
    # next month is a new list
    with time_machine.travel(NOW + timedelta(days=30), tick=False):
        december, created = outreach_list_generate(
            executive=cast.executive, program="lost", today=date(2026, 12, 18), by=OUTREACH_JOB
        )
    assert created and december.month == date(2026, 12, 1)


@pytest.mark.parametrize(
    ("gained_on", "loyal"), [(date(2024, 11, 18), True), (date(2024, 11, 19), False)]
)
def test_loyal_at_exactly_two_years_not_a_day_less(cast, gained_on, loyal):
    customer = gained(gained_on)
    calls = on_list(cast.executive, "loyal")
    assert calls == ([customer] if loyal else [])
    if loyal:
        assert OutreachCall.objects.get().customer_since == gained_on


@pytest.mark.parametrize(("score", "loyal"), [(10, True), (9, True), (8, False)])
def test_promoters_are_9_and_10_not_8(cast, score, loyal):
    customer = promoter(score)
    assert on_list(cast.executive, "loyal") == ([customer] if loyal else [])
    if loyal:
        assert OutreachCall.objects.get().promoter_score == score


def test_a_promoter_more_than_a_year_ago_is_not_on_the_list(cast):
    promoter(10, days_ago=366)
    assert on_list(cast.executive, "loyal") == []


def test_loyal_customers_lost_since_are_not_on_the_loyal_list(cast):
    customer = gained(date(2020, 1, 1))
    CustomerEvent.objects.create(customer=customer, kind="lost", occurred_on=date(2024, 1, 1))
    assert on_list(cast.executive, "loyal") == []


def test_the_longest_standing_come_first_then_promoters(cast):
    promoted = promoter(9)
    newer = gained(date(2023, 5, 1))
    oldest = gained(date(2018, 5, 1))
    assert on_list(cast.executive, "loyal") == [oldest, newer, promoted]


def test_loyal_list_size_is_its_own_setting(cast):
    customers = [gained(date(2015 + n, 1, 1)) for n in range(4)]
    business_setting_set(key="loyal_customer_calls_per_month", value=3, by=cast.admin, why="t")
    assert on_list(cast.executive, "loyal") == customers[:3]


def test_only_executives_get_lists_and_make_their_own(cast):
    from django.core.exceptions import PermissionDenied, ValidationError

    with pytest.raises(ValidationError):
        outreach_list_generate(executive=cast.manager, program="lost", by=OUTREACH_JOB)
    with pytest.raises(PermissionDenied):
        outreach_list_generate(executive=cast.executive, program="lost", by=cast.admin)
    with pytest.raises(ValidationError):
        outreach_list_generate(executive=cast.executive, program="forum", by=cast.executive)


def test_the_monthly_job_makes_each_list_once(cast):
    vp = UserFactory(role=Role.EXECUTIVE, reports_to=cast.executive)
    UserFactory(role=Role.EXECUTIVE, is_active=False)
    lost(1), lost(2), gained(date(2020, 1, 1))
    assert outreach_lists() == 4  # two executives, two programs
    assert outreach_lists_generate_all(today=TODAY) == 0
    assert set(OutreachList.objects.values_list("executive", "program")) == {
        (cast.executive.pk, "lost"),
        (cast.executive.pk, "loyal"),
        (vp.pk, "lost"),
        (vp.pk, "loyal"),
    }
    assert OutreachCall.objects.count() == 3
    run = JobRun.objects.get(job="feedback.outreach_lists")
    assert (run.status, run.rows_touched) == ("succeeded", 4)


def test_the_hub_says_why_the_budget_kept_customers_off_the_list(
    client, cast, django_assert_max_num_queries
):
    from django.urls import reverse

    from feedback.outreach.selectors import my_call_lists

    keep = lost(9)
    for days in (2, 3):
        budget_opt_out(customer=lost(days), purpose="outreach", by=cast.admin)
    recent = lost(4)
    BudgetTouch.objects.create(
        customer=recent, purpose="outreach", at=NOW - timedelta(days=10), actor_name="earlier"
    )
    assert on_list(cast.executive) == [keep]
    on_list(cast.executive, program="loyal")  # nobody loyal: no refusals on that list
    # Another executive's refusals are theirs, not this list's.
    budget_opt_out(customer=lost(1), purpose="outreach", by=cast.admin)
    on_list(UserFactory(role=Role.EXECUTIVE))

    with django_assert_max_num_queries(4):  # lists, calls, refusals: not one per list
        lists = my_call_lists(viewer=cast.executive, month=MONTH)
    assert [(item.program, item.refused, item.refusal_reasons) for item in lists] == [
        ("lost", 3, [("Opted out", 2), ("Within the cool-down", 1)]),
        ("loyal", 0, []),
    ]
    client.force_login(cast.executive)
    page = client.get(reverse("feedback:outreach-hub")).content.decode()
    assert "3 not allowed by the contact budget: 2 opted out, 1 within the cool-down" in page


def test_a_short_list_is_topped_up_later_in_the_month_and_never_past_its_size(cast):
    from voc.core.models import AuditEntry

    first = [lost(days) for days in (5, 6)]
    opted_out = lost(4)
    budget_opt_out(customer=opted_out, purpose="outreach", by=cast.admin)
    assert on_list(cast.executive) == first  # 2 of 5: nobody else lost yet
    outreach_list = OutreachList.objects.get(program="lost")
    assert (outreach_list.refused, outreach_list.taken) == (1, 0)

    later = [lost(days) for days in (1, 2, 3, 7)]  # four more lost since
    # 3 added to reach 5; the opted-out customer is not asked again (no second refusal).
    # The loyal list made (empty: nobody loyal) and 3 customers added to the lost one.
    assert outreach_lists_generate_all(today=TODAY) == 1 + 3
    calls = list(outreach_list.calls.order_by("position"))
    assert [call.customer for call in calls] == [*first, *later[:3]]
    assert [call.position for call in calls] == [0, 1, 2, 3, 4]
    outreach_list.refresh_from_db()
    assert (outreach_list.refused, outreach_list.taken) == (1, 0)
    assert BudgetRefusal.objects.filter(customer=opted_out).count() == 1
    entry = AuditEntry.objects.get(action="outreach.top_up")
    assert entry.changes["calls"] == [None, 3]

    lost(1)
    assert outreach_lists_generate_all(today=TODAY) == 0  # full: nothing more
    assert outreach_list.calls.count() == 5


def test_a_list_of_an_earlier_month_is_not_topped_up(cast):
    from feedback.outreach.services import outreach_list_top_up

    lost(5)
    on_list(cast.executive)
    outreach_list = OutreachList.objects.get(program="lost")
    lost(1)
    next_month = date(2026, 12, 2)
    assert outreach_list_top_up(outreach_list=outreach_list, today=next_month, by=OUTREACH_JOB) == 0
    assert outreach_list.calls.count() == 1
