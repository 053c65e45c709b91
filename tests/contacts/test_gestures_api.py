"""The make-it-right API per role: list and give on a contact, approve and decline; refusals
are 4xx with a message."""

from decimal import Decimal

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from contacts.gestures.services import gesture_record
from contacts.models import Gesture
from tests.contacts.gesture_helpers import contact_of, set_allowance

pytestmark = pytest.mark.django_db


@pytest.fixture
def contact(cast):
    set_allowance(cast, per_gesture="50.00", per_month="120.00")
    return contact_of(cast.team_a)


def api(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def give(client, contact, **body):
    url = reverse("api-gesture-list", args=[contact.id])
    return client.post(url, {"kind": "credit", "value": "12.50", **body}, format="json")


@pytest.mark.parametrize(
    ("role", "status"),
    [("rep", 201), ("manager", 201), ("admin", 201), ("executive", 403), ("outsider", 404)],
)
def test_who_gives_a_gesture_through_the_api(cast, contact, role, status):
    response = give(api(getattr(cast, role)), contact, note="Sorry <b>again</b>")
    assert response.status_code == status, response.content
    if status == 201:
        body = response.json()
        assert (body["kind"], body["value"], body["currency"], body["note"]) == (
            "credit",
            "12.50",
            "USD",
            "Sorry <b>again</b>",  # JSON carries text as it is; pages escape it
        )
        assert body["given_by"] == getattr(cast, role).id
    else:
        assert "detail" in response.json()


def test_anonymous_callers_are_refused(contact):
    assert give(api(None), contact).status_code in (401, 403)


def test_the_state_follows_the_allowance(cast, contact):
    client = api(cast.rep)
    assert give(client, contact, value="50.00").json()["state"] == "granted"
    assert give(client, contact, value="50.01").json()["state"] == "pending"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"value": "-1"}, "value"),
        ({"value": 12.5}, "value"),  # a JSON number would be a float: text only
        ({"value": "1.005"}, "value"),
        ({"value": "0"}, "value"),  # only a call back is worth nothing
        ({"kind": "voucher"}, "kind"),
        ({"note": "x" * 501}, "note"),
        ({"note": "a\x00b"}, "note"),
    ],
)
def test_bad_input_is_a_400_with_a_message(cast, contact, body, field):
    response = give(api(cast.rep), contact, **body)
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not Gesture.objects.exists()


def test_a_contact_without_a_customer_is_a_409(cast, contact):
    contact.customer = None
    contact.save()
    response = give(api(cast.rep), contact)
    assert response.status_code == 409
    assert "Link this contact to a customer" in str(response.json())


@pytest.mark.parametrize(
    ("role", "status"), [("rep", 200), ("executive", 200), ("manager", 200), ("outsider", 404)]
)
def test_who_lists_a_contacts_gestures(cast, contact, role, status):
    gesture_record(contact=contact, kind="refund", value="5.00", by=cast.rep)
    response = api(getattr(cast, role)).get(reverse("api-gesture-list", args=[contact.id]))
    assert response.status_code == status
    if status == 200:
        assert [(g["kind"], g["value"]) for g in response.json()["results"]] == [("refund", "5.00")]


@pytest.mark.parametrize(
    ("role", "status", "state"),
    [
        ("rep", 403, "pending"),
        ("other_manager", 404, "pending"),
        ("manager", 200, "approved"),
        ("executive", 200, "approved"),
        ("admin", 200, "approved"),
    ],
)
def test_who_approves_through_the_api(cast, contact, role, status, state):
    waiting = gesture_record(contact=contact, kind="refund", value="80.00", by=cast.rep)
    url = reverse("api-gesture-approve", args=[waiting.id])
    response = api(getattr(cast, role)).post(url, {"reason": "ok"}, format="json")
    assert response.status_code == status
    waiting.refresh_from_db()
    assert waiting.state == state


def test_own_gestures_and_second_decisions_are_refused_with_a_message(cast, contact):
    set_allowance(cast, per_gesture="10.00", per_month="100.00", role="manager")
    cast.manager.team = cast.team_a
    cast.manager.save()
    own = gesture_record(contact=contact, kind="refund", value="80.00", by=cast.manager)
    client = api(cast.manager)
    response = client.post(reverse("api-gesture-approve", args=[own.id]), {}, format="json")
    assert response.status_code == 403
    assert "Nobody decides their own gesture" in response.json()["detail"]
    declined = api(cast.executive).post(
        reverse("api-gesture-decline", args=[own.id]), {"reason": "Too much"}, format="json"
    )
    assert declined.status_code == 200
    assert (declined.json()["state"], declined.json()["decision_reason"]) == (
        "declined",
        "Too much",
    )
    again = api(cast.admin).post(reverse("api-gesture-approve", args=[own.id]), {}, format="json")
    assert again.status_code == 409
    assert "already declined" in str(again.json())
    own.refresh_from_db()
    assert (own.state, own.value) == ("declined", Decimal("80.00"))


def test_an_unknown_gesture_is_a_404(cast):
    response = api(cast.admin).post(
        reverse("api-gesture-approve", args=[999999]), {}, format="json"
    )
    assert response.status_code == 404
