"""The call-back pages and API: the list's filters, recording a call, escaping, the home
widget."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from feedback.items.services import feedback_item_record
from loops.followups.services import follow_ups_open
from loops.models import FollowUp
from tests.factories import CustomerFactory
from tests.loops.world import contact_of
from voc.core.audit import INGEST

pytestmark = pytest.mark.django_db


@pytest.fixture
def follow_up(cast):
    customer = CustomerFactory(name="<b>Ann</b> O'Neil")
    contact = contact_of(cast.team_a, customer=customer)
    feedback_item_record(
        kind="nps",
        score=2,
        source="test",
        verbatim="<script>alert(1)</script> never again",
        contact=contact,
        by=INGEST,
    )
    follow_ups_open()
    return FollowUp.objects.get(contact=contact)


def test_list_shows_mine_and_escapes(client, cast, follow_up):
    client.force_login(cast.manager)
    page = client.get(reverse("loops:follow-up-list")).content.decode()
    assert reverse("loops:follow-up-detail", args=[follow_up.pk]) in page
    assert "&lt;b&gt;Ann&lt;/b&gt;" in page and "<b>Ann</b>" not in page
    done = client.get(reverse("loops:follow-up-list") + "?status=done").content.decode()
    assert reverse("loops:follow-up-detail", args=[follow_up.pk]) not in done


def test_record_the_call_from_the_page(client, cast, follow_up):
    client.force_login(cast.manager)
    url = reverse("loops:follow-up-detail", args=[follow_up.pk])
    page = client.get(url).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; never again" in page
    assert "<script>alert(1)</script>" not in page
    bad = client.post(url, {"outcome": "not_allowed"})
    assert bad.status_code == 400
    response = client.post(url, {"outcome": "resolved", "notes": "Refund sent"})
    assert response.status_code == 302
    follow_up.refresh_from_db()
    assert (follow_up.status, follow_up.outcome, follow_up.notes) == (
        "done",
        "resolved",
        "Refund sent",
    )


def test_an_executive_reads_but_cannot_record(client, cast, follow_up):
    client.force_login(cast.executive)
    url = reverse("loops:follow-up-detail", args=[follow_up.pk])
    assert 'data-testid="follow-up-close"' not in client.get(url).content.decode()
    client.post(url, {"outcome": "resolved"})
    follow_up.refresh_from_db()
    assert follow_up.status == "open"


def test_home_widget_lists_the_leads_call_backs(client, cast, follow_up):
    client.force_login(cast.manager)
    home = client.get(reverse("home")).content.decode()
    assert 'data-testid="home-follow-ups"' in home
    client.force_login(cast.other_manager)
    assert 'data-testid="home-follow-ups"' not in client.get(reverse("home")).content.decode()


def test_api_close_and_errors(cast, follow_up):
    api = APIClient()
    api.force_authenticate(cast.manager)
    url = reverse("api-follow-up-close", args=[follow_up.pk])
    assert api.post(url, {"outcome": "maybe"}, format="json").status_code == 400
    response = api.post(url, {"outcome": "reached", "notes": "ok"}, format="json")
    assert response.status_code == 200 and response.json()["status"] == "done"
    again = api.post(url, {"outcome": "reached"}, format="json")
    assert again.status_code == 400
    assert again.json() == {"detail": ["This follow-up is already done."]}
    listed = api.get(reverse("api-follow-up-list") + "?status=done").json()
    assert [row["id"] for row in listed["results"]] == [follow_up.pk]
    assert api.get(reverse("api-follow-up-list") + "?status=x").status_code == 400
