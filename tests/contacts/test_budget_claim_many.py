"""``budget_claim_many`` agrees with ``budget_claim`` on the same facts: the same answers, in
order, and the same ledger rows (touches and refusals with their reasons), for every purpose,
including several claims of one customer in one batch."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.budget.selectors import budget_cool_downs
from contacts.budget.services import budget_claim, budget_claim_many, budget_opt_out
from contacts.models import BudgetPurpose, BudgetRefusal, BudgetTouch, Contact, Customer
from tests.factories import CustomerFactory
from voc.core.audit import SystemActor

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
BY = SystemActor("survey-sampler")


def world(tag: str) -> list[tuple[Customer, str]]:
    """One customer per situation the rules know, and the claims to make (customer, key):
    a fresh one twice (the second claim in the batch meets the first's touch), cool-downs
    just inside and exactly at their limit, an open contact, an old open one, an opt-out, an
    erased and a merged record, and a fix notice already sent for one key."""
    make = CustomerFactory
    fresh, inside, at_limit, open_, old_open, opted, erased, merged, noticed = (
        make(external_ref=f"{tag}-{n}") for n in range(9)
    )
    erased.erased_at = NOW - timedelta(days=3)
    erased.save()
    merged.merged_into = make(external_ref=f"{tag}-survivor")
    merged.save()
    for purpose in (BudgetPurpose.SURVEY, BudgetPurpose.OUTREACH):
        days = 30 if purpose == BudgetPurpose.SURVEY else 90
        BudgetTouch.objects.create(
            customer=inside, purpose=purpose, at=NOW - timedelta(days=days - 1), actor_name="t"
        )
        BudgetTouch.objects.create(
            customer=at_limit, purpose=purpose, at=NOW - timedelta(days=days), actor_name="t"
        )
    BudgetTouch.objects.create(
        customer=noticed, purpose=BudgetPurpose.FIX_NOTICE, key="issue-1", at=NOW, actor_name="t"
    )
    for customer, days in ((open_, 14), (old_open, 15)):
        Contact.objects.create(
            source="t", external_id=f"{tag}-{customer.id}", customer=customer, channel="phone",
            occurred_at=NOW - timedelta(days=days), outcome="open",
        )  # fmt: skip
    for purpose in BudgetPurpose.values:
        if purpose != BudgetPurpose.CALLBACK:
            budget_opt_out(customer=opted, purpose=purpose, by=BY)
    return [
        (fresh, "issue-1"),
        (fresh, "issue-1"),
        (fresh, "issue-2"),
        (inside, "issue-1"),
        (at_limit, "issue-1"),
        (open_, "issue-1"),
        (old_open, "issue-1"),
        (opted, "issue-1"),
        (erased, "issue-1"),
        (merged, "issue-1"),
        (noticed, "issue-1"),
        (noticed, "issue-2"),
    ]


def ledger(customers: list[Customer]) -> list[tuple]:
    """The rows the claims wrote, as positions in the world (ids differ between worlds)."""
    index = {c.id: n for n, c in enumerate(dict.fromkeys(customers))}
    touches = [
        ("touch", index[t.customer_id], t.purpose, t.key)
        for t in BudgetTouch.objects.filter(at=NOW, actor_name=str(BY), customer__in=customers)
    ]
    refusals = [
        ("refusal", index[r.customer_id], r.purpose, r.key, r.reason)
        for r in BudgetRefusal.objects.filter(customer__in=customers)
    ]
    return sorted(touches) + sorted(refusals)


@pytest.mark.parametrize("purpose", BudgetPurpose.values)
def test_the_batch_claim_agrees_with_one_claim_at_a_time(purpose):
    one_by_one = world("a")
    batch = world("b")
    with time_machine.travel(NOW, tick=False):
        single = [
            budget_claim(customer=customer, purpose=purpose, key=key, by=BY)
            for customer, key in one_by_one
        ]
        many = budget_claim_many(
            claims=[(customer.id, key) for customer, key in batch], purpose=purpose, by=BY
        )
    assert [(a.allowed, a.reason) for a in many] == [(a.allowed, a.reason) for a in single]
    assert ledger([c for c, _ in batch]) == ledger([c for c, _ in one_by_one])
    # Something was refused and something allowed for every purpose.
    assert any(a.allowed for a in many) and not all(a.allowed for a in many)


def test_the_expected_answers_for_surveys():
    claims = world("s")
    with time_machine.travel(NOW, tick=False):
        answers = budget_claim_many(
            claims=[(c.id, k) for c, k in claims], purpose=BudgetPurpose.SURVEY, by=BY
        )
    assert [a.reason for a in answers] == [
        "", "cool_down", "cool_down", "cool_down", "", "contact_open", "", "opted_out",
        "erased", "merged", "", "cool_down",
    ]  # fmt: skip


def test_an_unknown_customer_is_answered_unknown_without_a_row():
    known = CustomerFactory()
    with time_machine.travel(NOW, tick=False):
        answers = budget_claim_many(
            claims=[(known.id + 1000, "x"), (known.id, "x")], purpose="survey", by=BY
        )
    assert [(a.allowed, a.reason) for a in answers] == [(False, "unknown"), (True, "")]
    assert not BudgetRefusal.objects.exists()


def test_the_batch_claim_makes_the_same_queries_for_3_or_60_claims():
    budget_cool_downs()  # business settings are read once and cached

    def count(n: int) -> int:
        customers = [CustomerFactory() for _ in range(n)]
        for customer in customers[::2]:
            BudgetTouch.objects.create(customer=customer, purpose="survey", at=NOW, actor_name="t")
        at_now = time_machine.travel(NOW, tick=False)
        with at_now, CaptureQueriesContext(connection) as queries:
            budget_claim_many(claims=[(c.id, "") for c in customers], purpose="survey", by=BY)
        return len(queries)

    assert count(3) == count(60) <= 8
