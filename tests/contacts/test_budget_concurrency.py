"""Two claims for one customer at once, each on its own PostgreSQL connection: exactly one gets
the touch, and the other is refused and recorded."""

import threading

import pytest
from django.db import OperationalError, connection, connections, transaction

from contacts.budget.services import budget_claim
from contacts.models import BudgetRefusal, BudgetTouch, Contact
from tests.concurrency import in_thread, wait_until
from tests.factories import CustomerFactory
from voc.core.audit import SystemActor

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SAMPLER = SystemActor("survey-sampler")


def lock_waits() -> int:
    """Connections of this database waiting for a lock held by another transaction."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            # A row lock is waited for as the holder's transaction id, which names no
            # database: the waiter's session does.
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid IN "
            "(SELECT pid FROM pg_stat_activity WHERE datname = current_database())"
        )
        return cursor.fetchone()[0]


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")


@pytest.mark.parametrize(("purpose", "key"), [("survey", ""), ("fix_notice", "issue-4")])
def test_a_second_claim_waits_for_the_first_and_is_refused(purpose, key):
    ann = CustomerFactory()
    release = threading.Event()

    def first():  # claims, then keeps its transaction open (sending, say)
        with transaction.atomic():
            answer = budget_claim(customer=ann, purpose=purpose, key=key, by=SAMPLER)
            release.wait(timeout=30)
        return answer

    first_thread, first_outcome = in_thread(first)
    assert wait_until(lambda: lock_held(ann.pk)), "the first claim took no lock"
    second_thread, second_outcome = in_thread(
        lambda: budget_claim(customer=ann, purpose=purpose, key=key, by=SAMPLER)
    )
    assert wait_until(lambda: lock_waits() >= 1), "the second claim did not wait"
    release.set()
    first_thread.join(timeout=30)
    second_thread.join(timeout=30)
    assert "error" not in first_outcome and "error" not in second_outcome, (
        first_outcome,
        second_outcome,
    )
    assert first_outcome["value"].allowed is True
    assert second_outcome["value"].allowed is False
    assert BudgetTouch.objects.count() == 1
    assert BudgetRefusal.objects.count() == 1


@pytest.mark.parametrize("purpose", ["survey", "outreach", "fix_notice"])
def test_of_two_simultaneous_claims_exactly_one_wins(purpose):
    customers = CustomerFactory.create_batch(10)
    for customer in customers:
        start = threading.Barrier(2)

        def racer(customer=customer, start=start):
            start.wait(timeout=30)
            return budget_claim(customer=customer, purpose=purpose, key="issue-1", by=SAMPLER)

        racers = [in_thread(racer) for _ in range(2)]
        for thread, _ in racers:
            thread.join(timeout=30)
        outcomes = [outcome for _, outcome in racers]
        assert all("error" not in outcome for outcome in outcomes), outcomes
        assert sorted(outcome["value"].allowed for outcome in outcomes) == [False, True]
    assert BudgetTouch.objects.count() == 10
    assert BudgetRefusal.objects.count() == 10


def test_a_claim_in_progress_does_not_hold_up_a_new_contact_for_the_customer():
    # The claim's lock is FOR NO KEY UPDATE: a contact's foreign key check (KEY SHARE) passes.
    ann = CustomerFactory()
    release = threading.Event()

    def claimer():
        with transaction.atomic():
            budget_claim(customer=ann, purpose="callback", by=SAMPLER)
            release.wait(timeout=30)

    claim_thread, claim_outcome = in_thread(claimer)
    try:
        assert wait_until(lambda: lock_held(ann.pk))
        writer, written = in_thread(
            lambda: (
                Contact.objects.create(
                    source="t",
                    external_id="1",
                    customer=ann,
                    channel="phone",
                    occurred_at=ann.created_at,
                ).pk
            )
        )
        writer.join(timeout=10)
        assert not writer.is_alive() and "value" in written, written
    finally:
        release.set()
        claim_thread.join(timeout=30)
    assert "error" not in claim_outcome


def lock_held(customer_id: int) -> bool:
    """Another transaction holds a row lock on the customer: a NOWAIT attempt fails."""
    try:
        with transaction.atomic(), connections["default"].cursor() as cursor:
            cursor.execute(
                "SELECT id FROM contacts_customer WHERE id = %s FOR UPDATE NOWAIT", [customer_id]
            )
        return False
    except OperationalError:
        return True
