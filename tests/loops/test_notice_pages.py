"""The notice pages and the tracking webhook: who may write, preview, approve and resolve;
the panel on the issue page; escaping of customer names; the delivery list, paginated."""

import base64
import json

import pytest
from django.test import Client
from django.urls import reverse

from loops.models import FixNotice, NoticeRecipient
from loops.notices.services import SEND_ONCE_PURPOSE, notice_draft, notices_reconcile
from loops.services.issues import issue_open
from tests.factories import CustomerFactory
from tests.loops.notices_world import approved, fix, fixed_issue, send_all
from voc.core.models import SendOnce

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_issue_page_offers_the_owner_a_notice_and_shows_what_was_sent(cast):
    world = fixed_issue(cast, reporters=2)
    page = client_for(cast.manager).get(reverse("loops:issue-detail", args=[world.issue.pk]))
    assert b'data-testid="notice-new"' in page.content
    executive = client_for(cast.executive).get(reverse("loops:issue-detail", args=[world.issue.pk]))
    assert b'data-testid="notice-new"' not in executive.content
    assert b"notices-panel" not in executive.content  # nothing sent: no panel to read
    notice = approved(cast, world, subject="Sorted")
    send_all(notice)
    notices_reconcile()
    for user in (cast.manager, cast.executive):
        page = client_for(user).get(reverse("loops:issue-detail", args=[world.issue.pk]))
        html = page.content.decode()
        assert "Customers told" in html and "Sorted" in html
        assert "<td>2</td>" in html  # sent


def test_the_owner_writes_a_draft_and_sees_the_audience(cast):
    world = fixed_issue(cast, reporters=3)
    client = client_for(cast.manager)
    page = client.get(reverse("loops:notice-new", args=[world.issue.pk]))
    assert page.status_code == 200
    assert "3 customers, 3 of them reachable" in page.content.decode()
    response = client.post(
        reverse("loops:notice-new", args=[world.issue.pk]),
        {"subject": "Fixed", "body": "All good now."},
    )
    notice = FixNotice.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("loops:notice-detail", args=[notice.pk])
    assert (notice.subject, notice.body, notice.status) == ("Fixed", "All good now.", "draft")


def test_a_manager_who_sees_the_issue_but_neither_owns_nor_heads_it_may_not_send(cast):
    issue = issue_open(
        title="Seen", department=cast.dept_a, owner=cast.manager, by=cast.other_manager
    )
    issue = fix(issue, cast.manager)
    notice = notice_draft(issue=issue, by=cast.manager)
    client = client_for(cast.other_manager)  # opened it, so sees it
    assert client.get(reverse("loops:issue-detail", args=[issue.pk])).status_code == 200
    assert client.get(reverse("loops:notice-new", args=[issue.pk])).status_code == 403
    detail = client.get(reverse("loops:notice-detail", args=[notice.pk]))
    assert detail.status_code == 200 and b"notice-approve" not in detail.content
    assert client.post(reverse("loops:notice-approve", args=[notice.pk])).status_code == 403
    notice.refresh_from_db()
    assert notice.status == FixNotice.Status.DRAFT


def test_an_issue_outside_the_scope_is_hidden(cast):
    world = fixed_issue(cast)
    notice = notice_draft(issue=world.issue, by=cast.manager)
    outsider = issue_open(title="B", department=cast.dept_b, by=cast.other_manager)
    client = client_for(cast.manager)
    assert client.get(reverse("loops:notice-new", args=[outsider.pk])).status_code == 404
    rep = client_for(cast.rep)
    assert rep.get(reverse("loops:notice-detail", args=[notice.pk])).status_code == 404


def test_the_preview_escapes_the_customers_name_and_the_text(cast):
    evil = CustomerFactory(name='<script>alert("x")</script>')
    world = fixed_issue(cast, customers=[evil])
    notice = notice_draft(issue=world.issue, by=cast.manager, body="<img src=x onerror=alert(1)>")
    html = client_for(cast.manager).get(reverse("loops:notice-detail", args=[notice.pk]))
    text = html.content.decode()
    assert '<script>alert("x")' not in text and "&lt;script&gt;" in text
    assert "<img src=x" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text


def test_editing_refuses_an_empty_text_and_saves_a_good_one(cast):
    world = fixed_issue(cast)
    notice = notice_draft(issue=world.issue, by=cast.manager)
    client = client_for(cast.manager)
    url = reverse("loops:notice-edit", args=[notice.pk])
    bad = client.post(url, {"subject": "Fixed", "body": ""})
    assert bad.status_code == 400 and b"This field is required" in bad.content
    good = client.post(url, {"subject": "Fixed", "body": "Done.", "include_reason_contacts": "on"})
    assert good.status_code == 302
    notice.refresh_from_db()
    assert (notice.body, notice.include_reason_contacts) == ("Done.", True)


def test_approving_from_the_page_queues_the_plan(cast, django_capture_on_commit_callbacks):
    world = fixed_issue(cast)
    notice = notice_draft(issue=world.issue, by=cast.manager)
    with django_capture_on_commit_callbacks() as callbacks:
        response = client_for(cast.manager).post(reverse("loops:notice-approve", args=[notice.pk]))
    assert response.status_code == 302 and len(callbacks) == 1
    notice.refresh_from_db()
    assert notice.status == FixNotice.Status.APPROVED


def test_the_delivery_list_is_paginated_and_filtered(cast):
    world = fixed_issue(cast, reporters=51)
    notice = approved(cast, world)
    send_all(notice)
    notices_reconcile()
    client = client_for(cast.executive)
    url = reverse("loops:notice-detail", args=[notice.pk])
    first = client.get(url).content.decode()
    assert first.count('data-status="sent"') == 50 and 'rel="next"' in first
    second = client.get(url, {"page": 2}).content.decode()
    assert second.count('data-status="sent"') == 1
    assert client.get(url, {"status": "bounced"}).content.decode().count("data-status=") == 0


def test_an_uncertain_email_is_reported_with_its_message_id_and_resolved(cast):
    world = fixed_issue(cast, reporters=1)
    notice = approved(cast, world)
    send_all(notice)
    SendOnce.objects.update(status=SendOnce.Status.UNKNOWN)
    NoticeRecipient.objects.update(status=NoticeRecipient.Status.PENDING)
    notices_reconcile()
    email = SendOnce.objects.get()
    client = client_for(cast.manager)
    page = client.get(reverse("loops:notice-detail", args=[notice.pk])).content.decode()
    assert 'data-testid="notice-uncertain"' in page and email.message_id.strip("<>") in page
    recipient = NoticeRecipient.objects.get()
    response = client.post(
        reverse("loops:notice-resolve", args=[notice.pk, recipient.pk]), {"delivered": "yes"}
    )
    assert response.status_code == 302
    recipient.refresh_from_db()
    assert recipient.status == NoticeRecipient.Status.SENT


# --- the tracking webhook ------------------------------------------------------------------------

SECRET = "esp:s3cret"


def _auth(secret: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(secret.encode()).decode()}


def _postmark_delivery(email: SendOnce) -> str:
    return json.dumps(
        {
            "RecordType": "Delivery",
            "MessageID": "pm-1",
            "Recipient": "someone@customer.example",
            "DeliveredAt": "2026-11-23T10:00:00Z",
            "Details": "Test delivery",
            "Tag": "",
            "ServerID": 1,
            "Metadata": {"voc_send_once": f"{email.purpose}:{email.key}"},
        }
    )


def test_the_tracking_webhook_wants_the_secret_and_records_delivery(cast, settings):
    settings.ANYMAIL = {**getattr(settings, "ANYMAIL", {}), "WEBHOOK_SECRET": SECRET}
    world = fixed_issue(cast, reporters=1)
    send_all(approved(cast, world))
    email = SendOnce.objects.get(purpose=SEND_ONCE_PURPOSE)
    url = reverse("loops:tracking-webhook", args=["postmark"])
    client = Client()
    body = _postmark_delivery(email)
    assert client.post(url, body, content_type="application/json").status_code == 401
    wrong = client.post(url, body, content_type="application/json", **_auth("esp:wrong"))
    assert wrong.status_code == 401
    assert NoticeRecipient.objects.get().status == NoticeRecipient.Status.PENDING
    ok = client.post(url, body, content_type="application/json", **_auth(SECRET))
    assert ok.status_code == 200
    recipient = NoticeRecipient.objects.get()
    assert recipient.status == NoticeRecipient.Status.DELIVERED
    assert client.post(reverse("loops:tracking-webhook", args=["nope"])).status_code == 404
    assert client.get(url, **_auth(SECRET)).status_code == 405


def test_the_customer_timeline_shows_the_notice_within_the_viewers_scope(cast):
    from loops.notices.selectors import notice_timeline

    world = fixed_issue(cast, reporters=1)
    send_all(approved(cast, world))
    notices_reconcile()
    customer = world.reporters[0]
    [mine] = notice_timeline(customer=customer, viewer=cast.manager, limit=10)
    assert mine.title == "Told the fix landed: Double charge on renewal" and not mine.restricted
    assert mine.summary == "Sent"
    [theirs] = notice_timeline(customer=customer, viewer=cast.outsider, limit=10)
    assert (theirs.title, theirs.url, theirs.restricted) == ("Told a fix landed", "", True)
    page = client_for(cast.manager).get(reverse("contacts:customer-detail", args=[customer.pk]))
    assert "Told the fix landed: Double charge on renewal" in page.content.decode()
