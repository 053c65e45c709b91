"""With Redis down (broker and cache), a write that was saved is answered as saved, on every
path that stores contacts or email, and the periodic sweeps catch up once it is back.

These tests commit for real (``transaction=True``): the task is queued by an on-commit hook
inside the request, where an error used to turn the saved write into a 500.
"""

import json
import logging
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.core.cache.backends.redis import RedisCache
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from contacts.inbound import services as inbound_services
from contacts.ingest.service import contacts_ingest
from contacts.ingest.tokens import ingest_token_create
from contacts.models import Contact, ContactReason, InboundEmail, Message, SupportMailbox
from contacts.tasks import inbound_sweep, sentiment_sweep
from tests.contacts import inbound_payloads as p

pytestmark = pytest.mark.django_db(transaction=True)

# Nothing listens on port 1: connections are refused at once, as with a stopped Redis.
DEAD_REDIS = "redis://127.0.0.1:1/0"


@pytest.fixture
def redis_down(settings, monkeypatch):
    """Celery's broker and every cache (the throttles' too) point at a Redis that is down."""
    from rest_framework.throttling import SimpleRateThrottle

    from voc.celery import app

    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache",
                    "LOCATION": DEAD_REDIS}
    }  # fmt: skip
    monkeypatch.setattr(SimpleRateThrottle, "cache", RedisCache(DEAD_REDIS, {}))
    monkeypatch.setattr(app.conf, "broker_url", DEAD_REDIS)
    _reset_broker_pools(app)
    yield
    _reset_broker_pools(app)  # the next use connects to the restored URL


def _reset_broker_pools(app) -> None:
    app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def ingest_key(redis_down, cast):
    _, key = ingest_token_create(name="Genesys cloud", source="genesys", by=cast.admin)
    return key


def row(n: int, **fields) -> dict:
    return {
        "external_id": f"call-{n}",
        "channel": "phone",
        "occurred_at": "2026-11-02T09:30:00Z",
        "customer_ref": f"CRM-{n}",
        "text": f"Thanks, that fixed it. Call number {n}",
        **fields,
    }


def test_one_contact_through_the_api_is_answered_201_and_stored(ingest_key, caplog):
    client = APIClient()
    response = client.post(
        reverse("api-contact-create"),
        row(1),
        format="json",
        HTTP_AUTHORIZATION=f"Ingest {ingest_key}",
    )
    assert response.status_code == 201, response.content
    assert Contact.objects.filter(source="genesys", external_id="call-1").exists()
    assert "rate limits are counted per process" in caplog.text
    assert "contacts.sentiment_sweep catches up" in caplog.text


def test_bulk_ingest_is_answered_200_with_every_row_stored(ingest_key):
    rows = [row(n) for n in range(25)]
    response = APIClient().post(
        reverse("api-contact-bulk"),
        json.dumps(rows),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Ingest {ingest_key}",
    )
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 25
    assert Contact.objects.count() == 25


def test_the_rate_limit_still_counts_while_redis_is_down(ingest_key, settings):
    settings.VOC_INGEST_RATE = "3/minute"
    client = APIClient(HTTP_AUTHORIZATION=f"Ingest {ingest_key}")
    url = reverse("api-contact-create")
    codes = [client.post(url, row(n), format="json").status_code for n in range(4)]
    assert codes == [201, 201, 201, 429]  # at the limit, then one past it
    assert Contact.objects.count() == 3


def test_a_message_appended_through_the_api_is_answered_201(redis_down, cast):
    contacts_ingest(rows=[{**row(1), "source": "genesys", "team": cast.team_a.name}])
    contact = Contact.objects.get()
    client = APIClient()
    client.force_login(cast.rep)
    url = reverse("api-message-create", kwargs={"contact_id": contact.id})
    response = client.post(url, {"text": "One more thing"}, format="json")
    assert response.status_code == 201, response.content
    assert Message.objects.filter(contact=contact).count() == 2


def test_a_contact_logged_on_the_page_is_saved_and_shown(redis_down, client, cast):
    client.force_login(cast.rep)
    response = client.post(
        reverse("contacts:contact-log"),
        {
            "customer": "",
            "channel": "phone",
            "direction": "inbound",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "customer_name": "Carla Caller",
            "customer_email": "carla@example.com",
            "reason": ContactReason.objects.create(name="Billing", department=cast.dept_a).id,
            "customer_words": "I was charged twice this month.",
        },
    )
    contact = Contact.objects.get(source="voc")
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:contact-detail", args=[contact.id])


def test_an_inbound_email_is_answered_200_and_stored_pending(redis_down, client, cast, settings):
    settings.ANYMAIL = dict(p.ANYMAIL)
    SupportMailbox.objects.create(address=p.SUPPORT, team=cast.team_a)
    response = client.post(
        "/webhooks/inbound/mailgun/",
        p.mailgun_parsed_form(),
        HTTP_AUTHORIZATION=p.basic_auth(),
    )
    assert response.status_code == 200, response.content
    assert InboundEmail.objects.get().status == InboundEmail.Status.PENDING


def test_a_password_reset_mail_is_sent_from_the_web_process(redis_down, client, cast, caplog):
    with caplog.at_level(logging.WARNING):
        response = client.post(reverse("password_reset"), {"email": cast.rep.email})
    assert response.status_code == 302
    (email,) = mail.outbox
    assert email.to == [cast.rep.email]
    assert "sent from this process instead" in caplog.text


def test_the_sweeps_catch_up_once_redis_is_back(ingest_key, cast, settings, client):
    response = APIClient().post(
        reverse("api-contact-bulk"),
        json.dumps([row(n) for n in range(5)]),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Ingest {ingest_key}",
    )
    assert response.json()["created"] == 5
    settings.ANYMAIL = dict(p.ANYMAIL)
    SupportMailbox.objects.create(address=p.SUPPORT, team=cast.team_a)
    client.post("/webhooks/inbound/mailgun/", p.mailgun_parsed_form(),
                HTTP_AUTHORIZATION=p.basic_auth())  # fmt: skip
    assert Contact.objects.filter(sentiment__isnull=True).count() == 5

    # The jobs need no broker: beat runs them; here they are called as beat's task would.
    assert sentiment_sweep() == 5
    assert not Contact.objects.filter(sentiment__isnull=True).exists()
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        assert inbound_sweep() == 1
    email = InboundEmail.objects.get()
    assert email.status == InboundEmail.Status.THREADED
    assert inbound_services.inbound_pending_ids(older_than=timedelta(0), limit=10) == []


def test_a_task_named_rather_than_imported_is_queued_the_same_way(redis_down, caplog):
    from voc.core.queueing import enqueue

    assert enqueue("contacts.sentiment", [1, 2], catch_up="contacts.sentiment_sweep") is False
    assert "task contacts.sentiment could not be queued" in caplog.text
