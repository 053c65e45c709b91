"""The demo's gestures: granted ones within the reps' allowances, some waiting for their team
lead (on the lead's home page), one declined."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from contacts.gestures.rules import needs_approval
from contacts.gestures.selectors import allowance_left, gestures_awaiting
from contacts.models import Gesture

pytestmark = pytest.mark.django_db


def test_the_demo_has_granted_waiting_and_declined_gestures():
    call_command("seed_demo", customers=100, contacts=600, seed=3)
    states = {state: Gesture.objects.filter(state=state).count() for state in Gesture.State}
    assert states["granted"] >= 10
    assert states["pending"] == 3
    assert states["declined"] == 1
    assert states["approved"] == 0
    for gesture in Gesture.objects.filter(state="pending").select_related("team__lead"):
        assert gesture.team is not None and gesture.team.lead is not None
        assert gesture in gestures_awaiting(viewer=gesture.team.lead)
        # Really above the giver's allowance.
        assert needs_approval(gesture.value, allowance_left(user=gesture.given_by))
    for gesture in Gesture.objects.filter(state="granted"):
        assert gesture.value <= Decimal("25.00")
        assert gesture.contact.team_id == gesture.team_id
    declined = Gesture.objects.get(state="declined")
    assert declined.decided_by == declined.team.lead and declined.decision_reason
