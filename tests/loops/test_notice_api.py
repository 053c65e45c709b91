"""The notices API: the same services and scope as the pages, one class per operation."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from loops.models import FixNotice
from loops.notices.services import notices_reconcile
from tests.loops.notices_world import fixed_issue, send_all

pytestmark = pytest.mark.django_db


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_owner_writes_edits_and_approves_a_notice_through_the_api(cast):
    world = fixed_issue(cast, reporters=2)
    client = api(cast.manager)
    audience = client.get(reverse("api-notice-audience", args=[world.issue.pk])).json()
    assert audience == {
        "reporters": 2, "reachable_reporters": 2, "reason_contacts": 0,
        "reachable_reason_contacts": 0, "left_out_by_reason": {},
    }  # fmt: skip
    created = client.post(
        reverse("api-notice-create", args=[world.issue.pk]), {"subject": "Fixed"}, format="json"
    )
    assert created.status_code == 201
    notice_id = created.json()["id"]
    assert created.json()["status"] == "draft" and created.json()["counts"]["total"] == 0
    edited = client.post(
        reverse("api-notice-edit", args=[notice_id]),
        {"subject": "Fixed!", "body": "Done."},
        format="json",
    )
    assert edited.status_code == 200 and edited.json()["body"] == "Done."
    approved = client.post(reverse("api-notice-approve", args=[notice_id]))
    assert approved.status_code == 200 and approved.json()["status"] == "approved"
    again = client.post(reverse("api-notice-approve", args=[notice_id]))
    assert again.status_code == 400 and "approved already" in str(again.json())
    send_all(FixNotice.objects.get(pk=notice_id))
    notices_reconcile()
    detail = client.get(reverse("api-notice-detail", args=[notice_id])).json()
    assert detail["status"] == "sent" and detail["counts"]["sent"] == 2
    recipients = client.get(reverse("api-notice-recipients", args=[notice_id])).json()
    assert recipients["count"] == 2 and {r["status"] for r in recipients["results"]} == {"sent"}
    listed = client.get(reverse("api-notice-list", args=[world.issue.pk])).json()
    assert [n["id"] for n in listed["results"]] == [notice_id]


def test_refusals_answer_with_a_message(cast):
    world = fixed_issue(cast, reporters=1)
    created = api(cast.manager).post(
        reverse("api-notice-create", args=[world.issue.pk]), {}, format="json"
    )
    notice_id = created.json()["id"]
    # Sees the issue (executives see all) but has no capability to send.
    assert (
        api(cast.executive).post(reverse("api-notice-approve", args=[notice_id])).status_code == 403
    )
    bad = api(cast.manager).get(
        reverse("api-notice-recipients", args=[notice_id]), {"status": "nope"}
    )
    assert bad.status_code == 400 and "status" in bad.json()
    empty = api(cast.manager).post(
        reverse("api-notice-edit", args=[notice_id]), {"subject": "", "body": "x"}, format="json"
    )
    assert empty.status_code == 400 and "subject" in empty.json()
    hidden = api(cast.other_manager).get(reverse("api-notice-detail", args=[notice_id]))
    assert hidden.status_code == 404
