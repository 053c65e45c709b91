"""The issue page's facts as selectors, with exact values: the next deadline and its SLA state
(at the boundaries), ageing, evidence per day and week, "how many a day are like this?", cost
per week, the customers' own time, shared reasons and customers lost behind the issue."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from contacts.models import CustomerEvent
from loops.models import Issue
from loops.selectors import (
    issue_ageing,
    issue_cost,
    issue_evidence_series,
    issue_like_this_per_day,
    issue_lost_customers,
    issue_next_deadline,
    issue_sla_state_q,
)
from loops.services.issues import evidence_add, issue_assign, issue_transition
from tests.factories import CustomerFactory
from tests.loops.world import T0, contact_of, open_issue, reason
from voc.core.audit import SystemActor
from voc.core.business import business_setting_set

pytestmark = pytest.mark.django_db
HOUR = timedelta(hours=1)


def sla_states(issue: Issue, now) -> list[str]:
    return [
        state
        for state in ("on_time", "due_soon", "overdue")
        if Issue.objects.filter(issue_sla_state_q(state, now=now), pk=issue.pk).exists()
    ]


def test_the_response_clock_runs_first_and_its_state_turns_at_the_exact_times(cast):
    # Medium: respond within 72 h, fix within 30 days (rules.DEFAULT_SLA_HOURS).
    issue = open_issue(cast, severity="medium", at=T0)
    due = T0 + 72 * HOUR
    cases = [
        (due - 24 * HOUR - timedelta(seconds=1), "on_time"),
        (due - 24 * HOUR, "due_soon"),
        (due, "due_soon"),  # exactly at the deadline is not yet overdue
        (due + timedelta(seconds=1), "overdue"),
    ]
    for now, state in cases:
        deadline = issue_next_deadline(issue, now=now)
        assert (deadline.clock, deadline.due_at, deadline.state) == ("response", due, state)
        assert sla_states(issue, now) == [state]  # the board's SQL agrees with the page


def test_after_the_response_the_resolution_clock_runs_and_a_fix_stops_it(cast):
    issue = open_issue(cast, severity="high", at=T0)
    issue = issue_assign(issue=issue, owner=cast.manager, by=cast.manager)
    deadline = issue_next_deadline(issue, now=T0)
    assert (deadline.clock, deadline.due_at) == ("resolution", T0 + 7 * 24 * HOUR)
    assert sla_states(issue, T0 + 7 * 24 * HOUR + timedelta(seconds=1)) == ["overdue"]
    issue = issue_transition(issue=issue, to="in_progress", by=cast.manager)
    issue = issue_transition(issue=issue, to="fixed", by=cast.manager)
    assert issue_next_deadline(issue, now=T0 + 365 * 24 * HOUR) is None
    assert sla_states(issue, T0 + 365 * 24 * HOUR) == []


def test_closed_and_merged_issues_have_no_running_clock(cast):
    issue = open_issue(cast, at=T0)
    Issue.objects.filter(pk=issue.pk).update(status="wont_fix", wont_fix_reason="No.")
    issue.refresh_from_db()
    assert issue_next_deadline(issue, now=T0 + 1000 * HOUR) is None
    assert sla_states(issue, T0 + 1000 * HOUR) == []


def test_code_red_and_high_issues_age_in_days_others_do_not(cast):
    red = open_issue(cast, severity="code_red", at=T0)
    assert issue_ageing(red, now=T0 + timedelta(days=90, hours=23)) == "Code red for 90 days"
    assert issue_ageing(red, now=T0 + timedelta(days=1)) == "Code red for 1 day"
    assert issue_ageing(red, now=T0 + timedelta(days=1) - timedelta(seconds=1)) == ""
    high = open_issue(cast, severity="high", at=T0)
    assert issue_ageing(high, now=T0 + timedelta(days=3)) == "High for 3 days"
    medium = open_issue(cast, severity="medium", at=T0)
    assert issue_ageing(medium, now=T0 + timedelta(days=300)) == ""
    Issue.objects.filter(pk=red.pk).update(status="fixed", fixed_at=T0 + timedelta(days=5))
    red.refresh_from_db()
    assert issue_ageing(red, now=T0 + timedelta(days=90)) == ""


def test_evidence_counts_per_day_and_per_week_over_eight_weeks(cast, settings):
    settings.TIME_ZONE = "UTC"
    issue = open_issue(cast, at=T0 - timedelta(days=80))
    now = T0  # Monday 2 Nov 2026, 09:30 UTC
    for days_ago in (0, 0, 1, 6, 7, 27, 28, 49, 50, 70):
        evidence_add(
            issue=issue,
            source=contact_of(cast.team_a, at=now - timedelta(days=days_ago)),
            by=cast.manager,
        )
    issue.refresh_from_db()
    series = issue_evidence_series(issue, now=now)
    assert len(series.days) == 28 and series.days[-1] == (date(2026, 11, 2), 2)
    assert series.days[0] == (date(2026, 10, 6), 1)  # 27 days ago; 28 days ago is outside
    assert sum(n for _, n in series.days) == 6  # 0, 0, 1, 6, 7 and 27 days ago
    assert series.weeks[-1] == (date(2026, 11, 2), 2)  # this week: today's two
    assert series.weeks[-2] == (date(2026, 10, 26), 3)  # 1, 6 and 7 days ago
    assert series.weeks[-5] == (date(2026, 10, 5), 2)  # 27 and 28 days ago
    assert series.weeks[0] == (date(2026, 9, 14), 1)  # 49 days ago; 50 (a Sunday) is out
    assert sum(n for _, n in series.weeks) == 8
    assert (series.first_seen_at, series.last_seen_at) == (
        now - timedelta(days=70),
        now,
    )


def test_how_many_a_day_counts_reason_contacts_and_evidence_once_each(cast):
    billing = reason("Double charge", department=cast.dept_a)
    other = reason("Other", department=cast.dept_a)
    issue = open_issue(cast, reasons=[billing], at=T0 - timedelta(days=60))
    now = T0
    on_reason = [contact_of(cast.team_a, reason=billing, at=now - timedelta(days=d))
                 for d in (1, 2, 27)]  # fmt: skip
    contact_of(cast.team_a, reason=billing, at=now - timedelta(days=28, seconds=1))  # too old
    evidence_add(issue=issue, source=on_reason[0], by=cast.manager)  # both: counts once
    evidence_add(
        issue=issue, source=contact_of(cast.team_a, reason=other, at=now - timedelta(days=3)),
        by=cast.manager,
    )  # fmt: skip
    like = issue_like_this_per_day(issue, now=now)
    assert (like.contacts, like.days, like.per_day) == (4, 28, Decimal("0.1"))


@pytest.fixture
def costly(cast):
    """An issue first seen at T0 - 10 days, with a reason it shares with another open issue."""
    billing = reason("Double charge", department=cast.dept_a)
    issue = open_issue(cast, reasons=[billing], at=T0 - timedelta(days=30))
    other = open_issue(cast, title="Renewal emails", reasons=[billing], at=T0)
    start = T0 - timedelta(days=10)
    customer = CustomerFactory()

    def contact(at, *, reason=billing, handle=None, wait=None, customer=customer):
        made = contact_of(cast.team_a, reason=reason, at=at, customer=customer)
        type(made).objects.filter(pk=made.pk).update(handle_seconds=handle, wait_seconds=wait)
        return made

    first = contact(start, reason=None, handle=600, wait=120)  # evidence, no reason
    evidence_add(issue=issue, source=first, by=cast.manager)
    evidence = contact(start + timedelta(days=1), handle=300, wait=60)  # evidence and reason
    evidence_add(issue=issue, source=evidence, by=cast.manager)
    contact(start + timedelta(days=2), handle=240, wait=0)  # the same customer again: counts
    contact(start + timedelta(days=3), handle=None, wait=30)  # no handle time: 0 minutes
    contact(start - timedelta(seconds=1), handle=9999, wait=9999)  # before first seen: out
    contact(start + timedelta(days=4), reason=reason("Elsewhere"), handle=9999)  # other reason
    issue.refresh_from_db()
    return issue, other


def test_cost_per_week_counts_each_contact_once_times_handle_time_and_cost_per_minute(cast, costly):
    issue, other = costly
    business_setting_set(key="cost_per_minute", value="2.50", by=SystemActor("test"))
    cost = issue_cost(issue, now=T0)
    assert cost.contacts == 4  # 2 evidence (one also on the reason) + 2 more on the reason
    assert cost.without_handle_time == 1
    assert cost.handle_seconds == 600 + 300 + 240
    assert cost.cost == Decimal("47.50")  # 1,140 s = 19 min × 2.50
    assert cost.weeks == 2  # 10 days since first seen: a started week counts
    assert cost.cost_per_week == Decimal("23.75")
    # The customers' own time: wait + handle on the same contacts, repeat contacts included.
    assert cost.wait_seconds == 120 + 60 + 0 + 30
    assert cost.customer_minutes == Decimal("22.5")  # 1,350 s
    assert cost.customer_minutes_per_week == Decimal("11.2")
    [shared] = cost.shared_reasons
    assert shared.reason.name == "Double charge" and [i.pk for i in shared.issues] == [other.pk]


def test_a_reason_shared_only_with_closed_or_merged_issues_is_not_shared(cast, costly):
    issue, other = costly
    Issue.objects.filter(pk=other.pk).update(status="closed")
    assert issue_cost(issue, now=T0).shared_reasons == []
    Issue.objects.filter(pk=other.pk).update(status="new", merged_into=issue)
    assert issue_cost(issue, now=T0).shared_reasons == []


def test_exactly_seven_days_is_one_week_and_one_second_more_is_two(cast, costly):
    issue, _ = costly
    since = issue.first_seen_at
    assert issue_cost(issue, now=since + timedelta(days=7)).weeks == 1
    assert issue_cost(issue, now=since + timedelta(days=8)).weeks == 2
    assert issue_cost(issue, now=since).weeks == 1


def test_customers_lost_behind_the_issue_by_reason_or_recent_contacts(cast):
    billing = reason("Double charge", department=cast.dept_a)
    issue = open_issue(cast, reasons=[billing], at=T0 - timedelta(days=200))
    evidence_add(
        issue=issue,
        source=contact_of(cast.team_a, at=T0 - timedelta(days=150)),
        by=cast.manager,
    )
    issue.refresh_from_db()
    lost_day = (T0 + timedelta(days=10)).date()

    def lost(customer, *, on=lost_day, reason=None):
        return CustomerEvent.objects.create(
            customer=customer, kind="lost", occurred_on=on, reason=reason
        )

    by_reason = CustomerFactory()
    lost(by_reason, reason=billing)
    lost(by_reason, reason=billing, on=lost_day + timedelta(days=1))  # twice: one customer
    recent = CustomerFactory()
    contact_of(cast.team_a, customer=recent, reason=billing, at=T0 - timedelta(days=80))
    lost(recent)  # a billing contact 90 days before the event (T0+10 - 90 = T0-80)
    too_early = CustomerFactory()
    contact_of(cast.team_a, customer=too_early, reason=billing, at=T0 - timedelta(days=81))
    lost(too_early)  # 91 days before: not behind it
    elsewhere = CustomerFactory()
    contact_of(cast.team_a, customer=elsewhere, reason=reason("Other"), at=T0)
    lost(elsewhere)
    CustomerEvent.objects.create(customer=CustomerFactory(), kind="gained",
                                 occurred_on=lost_day, reason=billing)  # fmt: skip
    before_first_seen = CustomerFactory()
    lost(before_first_seen, reason=billing, on=(T0 - timedelta(days=151)).date())
    result = issue_lost_customers(issue)
    assert result.customers == 2
    assert {event.customer_id for event in result.events} == {by_reason.pk, recent.pk}
