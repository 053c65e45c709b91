"""Two gestures by one rep at the same moment, each on its own PostgreSQL connection: the
month's allowance counts them one after the other, so they can't both slip under it."""

import threading
from decimal import Decimal

import pytest
from django.db import connection, transaction

from contacts.gestures.services import gesture_record
from contacts.models import Gesture
from tests.concurrency import in_thread, wait_until
from tests.contacts.gesture_helpers import contact_of, set_allowance
from tests.contacts.test_budget_concurrency import lock_waits
from voc.people.models import User

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")


def test_a_second_gesture_waits_for_the_first_and_counts_it(cast):
    set_allowance(cast, per_gesture="100.00", per_month="120.00")
    contact = contact_of(cast.team_a)
    release = threading.Event()

    def first():  # records, then keeps its transaction open a while
        with transaction.atomic():
            gesture = gesture_record(contact=contact, kind="credit", value="70.00", by=cast.rep)
            release.wait(timeout=30)
        return gesture

    def second():
        return gesture_record(contact=contact, kind="refund", value="70.00", by=cast.rep)

    first_thread, first_outcome = in_thread(first)
    # Once the first holds the rep's row, the second starts: it must wait for the first.
    assert wait_until(lambda: _rep_row_locked(cast.rep.pk)), "the first took no lock"
    second_thread, second_outcome = in_thread(second)
    assert wait_until(lambda: lock_waits() >= 1), "the second gesture did not wait"
    release.set()
    first_thread.join(timeout=30)
    second_thread.join(timeout=30)
    assert "error" not in first_outcome and "error" not in second_outcome, (
        first_outcome,
        second_outcome,
    )
    assert first_outcome["value"].state == "granted"
    assert second_outcome["value"].state == "pending"


def _rep_row_locked(user_id: int) -> bool:
    """Someone holds the rep's row: a NOWAIT lock attempt from here fails."""
    from django.db import DatabaseError

    try:
        with transaction.atomic():
            User.objects.select_for_update(nowait=True).get(pk=user_id)
    except DatabaseError:
        return True
    return False


def test_of_two_simultaneous_gestures_only_one_fits_the_month(cast):
    set_allowance(cast, per_gesture="100.00", per_month="120.00")
    contact = contact_of(cast.team_a)
    for round_number in range(8):
        Gesture.objects.all().delete()
        start = threading.Barrier(2)

        def racer(start=start):
            start.wait(timeout=30)
            return gesture_record(contact=contact, kind="credit", value="70.00", by=cast.rep)

        racers = [in_thread(racer) for _ in range(2)]
        for thread, _ in racers:
            thread.join(timeout=30)
        outcomes = [outcome for _, outcome in racers]
        assert all("error" not in outcome for outcome in outcomes), outcomes
        states = sorted(outcome["value"].state for outcome in outcomes)
        assert states == ["granted", "pending"], (round_number, states)
        granted = Gesture.objects.filter(state="granted")
        assert sum(g.value for g in granted) == Decimal("70.00")
