"""The contact budget's rules, without a database: each purpose, each boundary."""

from datetime import UTC, datetime, timedelta

import pytest

from contacts.budget.rules import (
    ALLOWED,
    RULES,
    BudgetFacts,
    CoolDowns,
    budget_decide,
)
from contacts.models import BudgetPurpose, BudgetRefusal

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
Reason = BudgetRefusal.Reason
SURVEY, CALLBACK, FIX_NOTICE, OUTREACH = (
    BudgetPurpose.SURVEY,
    BudgetPurpose.CALLBACK,
    BudgetPurpose.FIX_NOTICE,
    BudgetPurpose.OUTREACH,
)


def decide(purpose, **facts):
    return budget_decide(BudgetFacts(purpose=purpose, now=NOW, **facts))


def test_every_purpose_has_rules():
    assert set(RULES) == set(BudgetPurpose.values)


def test_the_default_cool_downs():
    assert CoolDowns() == CoolDowns(
        survey=timedelta(days=30),
        outreach=timedelta(days=90),
        open_contact=timedelta(days=14),
        thanks=timedelta(days=30),
    )


@pytest.mark.parametrize("purpose", BudgetPurpose.values)
def test_a_customer_never_touched_is_allowed_every_purpose(purpose):
    assert decide(purpose) == ALLOWED


def test_a_survey_is_allowed_again_at_exactly_30_days_and_not_a_minute_before():
    assert decide(SURVEY, last_touch_at=NOW - timedelta(days=30)) == ALLOWED
    refused = decide(SURVEY, last_touch_at=NOW - timedelta(days=29, hours=23, minutes=59))
    assert refused.allowed is False
    assert refused.reason == Reason.COOL_DOWN
    assert refused.explanation == "last survey 29 days ago; the cool-down is 30 days"


def test_outreach_is_allowed_again_at_90_days_not_89():
    assert decide(OUTREACH, last_touch_at=NOW - timedelta(days=90)) == ALLOWED
    refused = decide(OUTREACH, last_touch_at=NOW - timedelta(days=89))
    assert (refused.allowed, refused.reason) == (False, Reason.COOL_DOWN)
    assert refused.explanation == "last outreach 89 days ago; the cool-down is 90 days"
    # An hour short of 90 days is still inside.
    assert not decide(OUTREACH, last_touch_at=NOW - timedelta(days=90) + timedelta(hours=1)).allowed


def test_a_contact_open_for_14_days_holds_a_survey_back_and_one_for_15_days_does_not():
    at_14 = decide(SURVEY, open_outcome_at=NOW - timedelta(days=14))
    assert (at_14.allowed, at_14.reason) == (False, Reason.CONTACT_OPEN)
    assert decide(SURVEY, open_outcome_at=NOW - timedelta(days=15)) == ALLOWED
    assert decide(SURVEY, open_outcome_at=NOW - timedelta(days=14, seconds=1)) == ALLOWED


def test_an_open_contact_holds_back_surveys_only():
    recent = NOW - timedelta(hours=1)
    for purpose in (CALLBACK, OUTREACH):
        assert decide(purpose, open_outcome_at=recent) == ALLOWED
    assert decide(FIX_NOTICE, open_outcome_at=recent) == ALLOWED


def test_a_callback_is_blocked_only_by_an_opt_out():
    assert decide(CALLBACK, last_touch_at=NOW - timedelta(minutes=1)) == ALLOWED
    refused = decide(CALLBACK, opted_out=True)
    assert (refused.reason, refused.explanation) == (
        Reason.OPTED_OUT,
        "the customer opted out of callbacks",
    )


def test_a_fix_notice_goes_once_per_key():
    assert decide(FIX_NOTICE, last_touch_at=NOW - timedelta(minutes=1)) == ALLOWED  # other key
    refused = decide(FIX_NOTICE, key_touched=True)
    assert (refused.allowed, refused.reason) == (False, Reason.ALREADY_SENT)


def test_a_thank_you_goes_once_per_complaint_and_once_in_30_days():
    THANKS = BudgetPurpose.THANKS
    already = decide(THANKS, key_touched=True, last_touch_at=NOW - timedelta(days=400))
    assert (already.allowed, already.reason) == (False, Reason.ALREADY_SENT)
    assert decide(THANKS, last_touch_at=NOW - timedelta(days=30)) == ALLOWED
    inside = decide(THANKS, last_touch_at=NOW - timedelta(days=30) + timedelta(seconds=1))
    assert (inside.allowed, inside.reason) == (False, Reason.COOL_DOWN)
    assert inside.explanation == "last thank-you 29 days ago; the cool-down is 30 days"
    # It waits for neither open contacts nor outreach (each purpose reads its own touches).
    assert decide(THANKS, open_outcome_at=NOW - timedelta(hours=1)) == ALLOWED


@pytest.mark.parametrize("purpose", BudgetPurpose.values)
def test_an_opt_out_refuses_its_purpose(purpose):
    assert decide(purpose, opted_out=True).reason == Reason.OPTED_OUT


@pytest.mark.parametrize("purpose", BudgetPurpose.values)
def test_erased_merged_and_unknown_customers_are_refused_first(purpose):
    assert decide(purpose, erased=True, opted_out=True).reason == Reason.ERASED
    merged = decide(purpose, merged_into_id=42)
    assert (merged.reason, merged.explanation) == (
        Reason.MERGED,
        "this record was merged into customer 42: ask for that one",
    )
    assert decide(purpose, known=False).reason == Reason.UNKNOWN


def test_an_opt_out_comes_before_the_survey_rules():
    facts = {"opted_out": True, "open_outcome_at": NOW, "last_touch_at": NOW}
    assert decide(SURVEY, **facts).reason == Reason.OPTED_OUT


def test_an_open_contact_comes_before_the_survey_cool_down():
    assert decide(SURVEY, open_outcome_at=NOW, last_touch_at=NOW).reason == Reason.CONTACT_OPEN


def test_cool_downs_given_replace_the_defaults():
    short = CoolDowns(survey=timedelta(days=7), open_contact=timedelta(days=1))
    assert decide(SURVEY, cool_downs=short, last_touch_at=NOW - timedelta(days=7)) == ALLOWED
    assert decide(SURVEY, cool_downs=short, open_outcome_at=NOW - timedelta(days=2)) == ALLOWED
    one_day = decide(SURVEY, cool_downs=short, last_touch_at=NOW - timedelta(days=1, hours=2))
    assert one_day.explanation == "last survey 1 day ago; the cool-down is 7 days"
