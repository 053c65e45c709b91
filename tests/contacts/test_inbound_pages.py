"""The admins' inbound-email page, the Django admin for mailboxes and emails, and hostile
email text on every page that shows it."""

import json
from datetime import timedelta

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone

from contacts.inbound.services import inbound_email_thread
from contacts.models import InboundEmail, SupportMailbox
from contacts.tasks import inbound_email_thread_task
from tests.contacts import inbound_payloads as p
from tests.contacts.test_xss import VECTORS, assert_inert, raw_absent

pytestmark = pytest.mark.django_db

AUTH = {"HTTP_AUTHORIZATION": p.basic_auth()}


@pytest.fixture
def inbound(settings, cast, monkeypatch):
    settings.ANYMAIL = dict(p.ANYMAIL)
    monkeypatch.setattr(inbound_email_thread_task, "delay", lambda _id: None)
    return SupportMailbox.objects.create(address=p.SUPPORT, team=cast.team_a)


def post_postmark(client, payload):
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            "/webhooks/inbound/postmark/",
            json.dumps(payload),
            content_type="application/json",
            **AUTH,
        )
    assert response.status_code == 200, response.content
    return response


def test_the_inbound_page_counts_per_kind_and_status(client, cast, inbound):
    post_postmark(client, p.postmark_json())
    post_postmark(client, p.postmark_json(message_id="<s@x.example>", spam=True))
    post_postmark(client, p.postmark_json(message_id="<o@x.example>", subject="Out of office"))
    post_postmark(client, p.postmark_json(message_id="<n@x.example>", to="nobody@x.example"))
    old = InboundEmail.objects.get(message_id="n@x.example")
    InboundEmail.objects.filter(id=old.id).update(received_at=timezone.now() - timedelta(days=3))
    client.force_login(cast.admin)
    response = client.get(reverse("inbound:ops"))
    assert response.status_code == 200
    counts = {
        (row["kind"], row["status"]): (row["day"], row["week"])
        for row in response.context["counts"]
    }
    assert counts == {
        ("auto_reply", "skipped"): (1, 1),
        ("message", "pending"): (1, 1),
        ("message", "skipped"): (0, 1),
        ("spam", "skipped"): (1, 1),
    }
    assert len(response.context["emails"]) == 4
    page = response.content.decode()
    assert "Not addressed to an active support mailbox." in page
    filtered = client.get(reverse("inbound:ops"), {"kind": "spam"})
    assert [e.message_id for e in filtered.context["emails"]] == ["s@x.example"]
    assert client.get(reverse("inbound:ops"), {"kind": "<bad>"}).status_code == 200


def test_the_inbound_page_reads_a_fixed_number_of_queries(
    client, cast, inbound, django_assert_max_num_queries
):
    for n in range(30):
        post_postmark(client, p.postmark_json(message_id=f"<q{n}@x.example>"))
    client.force_login(cast.admin)
    # session, user, counts, latest (with their mailboxes): no query per row
    with django_assert_max_num_queries(6):
        assert client.get(reverse("inbound:ops")).status_code == 200


@pytest.mark.parametrize("role", ["rep", "manager", "executive", "inactive"])
def test_only_admins_see_the_inbound_page(client, cast, role):
    client.force_login(getattr(cast, role))
    response = client.get(reverse("inbound:ops"))
    assert response.status_code in (302, 403)
    if role != "inactive":
        assert response.status_code == 403


def test_the_django_admin_lists_mailboxes_and_read_only_emails(client, cast, inbound):
    post_postmark(client, p.postmark_json())
    email = InboundEmail.objects.get()
    client.force_login(cast.admin)
    assert client.get(reverse("admin:contacts_supportmailbox_changelist")).status_code == 200
    assert client.get(reverse("admin:contacts_supportmailbox_add")).status_code == 200
    assert client.get(reverse("admin:contacts_inboundemail_changelist")).status_code == 200
    page = client.get(reverse("admin:contacts_inboundemail_change", args=[email.id]))
    assert page.status_code == 200
    assert client.get(reverse("admin:contacts_inboundemail_add")).status_code == 403
    response = client.post(
        reverse("admin:contacts_inboundemail_change", args=[email.id]), {"subject": "changed"}
    )
    assert response.status_code == 403
    email.refresh_from_db()
    assert email.subject == "My bill is wrong"
    response = client.post(
        reverse("admin:contacts_supportmailbox_add"),
        {"address": " Billing@Northwind.Example ", "team": cast.team_b.id, "active": "on"},
    )
    assert response.status_code == 302
    assert SupportMailbox.objects.filter(address="billing@northwind.example").exists()


def test_hostile_email_text_is_inert_on_every_page(client, cast, inbound):
    vectors = VECTORS[:12]
    for n, vector in enumerate(vectors):
        post_postmark(
            client,
            p.postmark_json(
                message_id=f"<x{n}@x.example>",
                from_email=f"x{n}@mail.example",
                from_name=vector,
                subject=vector,
                text=f"{vector}\nsecond line",
                html=f"<p>{vector}</p>",
            ),
        )
    # An HTML-only email whose markup is the attack.
    post_postmark(
        client,
        p.postmark_json(
            message_id="<html@x.example>",
            from_email="h@mail.example",
            subject="X99_html",
            text="",
            html='<p>X99_body</p><script>alert(1)</script><img src=x onerror="alert(1)">',
        ),
    )
    for email in InboundEmail.objects.all():
        assert inbound_email_thread(inbound_id=email.id) == "threaded"
    client.force_login(cast.admin)

    ops = client.get(reverse("inbound:ops")).content.decode()
    assert_inert(ops, shown=["X0_", "X99_html"], where="ops page")
    raw_absent(ops, vectors, "ops page")
    for email in InboundEmail.objects.select_related("contact"):
        page = client.get(reverse("contacts:contact-detail", args=[email.contact_id]))
        html = page.content.decode()
        where = f"contact {email.message_id}"
        assert_inert(html, where=where)
        raw_absent(html, vectors, where)
    html_contact = InboundEmail.objects.get(message_id="html@x.example").contact
    page = client.get(reverse("contacts:contact-detail", args=[html_contact.id])).content.decode()
    assert "X99_body" in page and "onerror" not in page and "alert(1)" not in page
    admin_page = client.get(reverse("admin:contacts_inboundemail_changelist")).content.decode()
    raw_absent(admin_page, vectors, "admin")


def test_the_webhooks_are_not_part_of_the_api_schema(client, cast):
    client.force_login(cast.admin)
    schema = client.get(reverse("api-schema"), {"format": "json"}).content.decode()
    assert "/api/v1/" in schema
    assert "/webhooks/" not in schema and "/ops/inbound/" not in schema
