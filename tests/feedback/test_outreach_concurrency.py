"""Two executives' lists made at the same moment, each on its own PostgreSQL connection: no
customer ends up on both, and the one made second takes the next customers."""

import threading

import pytest
import time_machine
from django.db import connection

from contacts.models import BudgetRefusal, BudgetTouch
from feedback.models import OutreachCall, OutreachList
from feedback.outreach.services import outreach_list_generate
from tests.concurrency import in_thread
from tests.factories import UserFactory
from tests.feedback.outreach_helpers import NOW, TODAY, lost
from voc.people.roles import Role

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("concurrent transactions need PostgreSQL")


def test_two_lists_made_at_once_never_share_a_customer():
    executives = [UserFactory(role=Role.EXECUTIVE) for _ in range(2)]
    customers = [lost(days) for days in range(1, 9)]
    start = threading.Barrier(2)

    def make(executive):
        def run():
            start.wait(timeout=30)
            with time_machine.travel(NOW, tick=False):
                outreach_list, _ = outreach_list_generate(
                    executive=executive, program="lost", today=TODAY, by=executive
                )
            return outreach_list.pk

        return run

    racers = [in_thread(make(executive)) for executive in executives]
    for thread, _ in racers:
        thread.join(timeout=60)
    outcomes = [outcome for _, outcome in racers]
    assert all("error" not in outcome for outcome in outcomes), outcomes
    assert OutreachList.objects.count() == 2
    held = list(OutreachCall.objects.values_list("customer_id", flat=True))
    assert len(held) == len(set(held)) == 8  # five and three, none twice
    assert set(held) == {customer.pk for customer in customers}
    sizes = sorted(OutreachCall.objects.filter(outreach_list=pk).count() for pk in
                   (outcome["value"] for outcome in outcomes))  # fmt: skip
    assert sizes == [3, 5]
    # the one that came second skipped the held customers without asking the budget
    assert BudgetRefusal.objects.count() == 0
    assert BudgetTouch.objects.count() == 8


def test_the_same_list_asked_for_twice_at_once_is_made_once():
    executive = UserFactory(role=Role.EXECUTIVE)
    for days in range(1, 4):
        lost(days)
    start = threading.Barrier(2)

    def run():
        start.wait(timeout=30)
        with time_machine.travel(NOW, tick=False):
            return outreach_list_generate(
                executive=executive, program="lost", today=TODAY, by=executive
            )[1]

    racers = [in_thread(run) for _ in range(2)]
    for thread, _ in racers:
        thread.join(timeout=60)
    outcomes = [outcome for _, outcome in racers]
    assert all("error" not in outcome for outcome in outcomes), outcomes
    assert sorted(outcome["value"] for outcome in outcomes) == [False, True]
    assert OutreachList.objects.count() == 1
    assert OutreachCall.objects.count() == 3
