"""Inbound email end to end: the provider's webhook request, the web process storing it, and a
real worker threading it into a contact."""

import json

import pytest
from django.test import override_settings

from contacts.models import Contact, InboundEmail, Message, SupportMailbox
from tests.contacts import inbound_payloads as p
from tests.integration.conftest import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TIMEOUT = 30.0
AUTH = {"HTTP_AUTHORIZATION": p.basic_auth()}


@pytest.fixture
def mailbox(cast):
    with override_settings(ANYMAIL=p.ANYMAIL, VOC_SES_TOPIC_ARNS=[p.SES_TOPIC]):
        yield SupportMailbox.objects.create(address=p.SUPPORT, team=cast.team_a)


def threaded(message_id: str):
    return InboundEmail.objects.filter(message_id=message_id, status="threaded").first()


def test_the_same_email_delivered_twice_is_stored_once(client, mailbox, start_worker):
    worker = start_worker()
    form = p.mailgun_mime_form(p.mime(message_id="<twice@mail.example>"))
    assert client.post("/webhooks/inbound/mailgun_mime/", form, **AUTH).status_code == 200
    email = wait_for(
        lambda: threaded("twice@mail.example"),
        timeout=TIMEOUT,
        message="the worker did not thread the email",
        worker=worker,
    )
    # The provider did not see the answer and sends it again, this time as Postmark would.
    again = p.postmark_json(message_id="<twice@mail.example>")
    response = client.post(
        "/webhooks/inbound/postmark/", json.dumps(again), content_type="application/json", **AUTH
    )
    assert response.status_code == 200
    assert InboundEmail.objects.count() == 1
    assert Contact.objects.count() == 1
    assert Message.objects.filter(contact=email.contact).count() == 1
    assert email.contact.external_id == "twice@mail.example"


def test_a_bccd_outgoing_reply_joins_its_thread_as_outgoing(client, mailbox, start_worker):
    worker = start_worker()
    question = p.mime(message_id="<q1@mail.example>", subject="Router broken")
    assert (
        client.post(
            "/webhooks/inbound/mailgun_mime/", p.mailgun_mime_form(question), **AUTH
        ).status_code
        == 200
    )
    first = wait_for(
        lambda: threaded("q1@mail.example"),
        timeout=TIMEOUT,
        message="the question was not threaded",
        worker=worker,
    )
    answer = p.mime(
        message_id="<a1@northwind.example>",
        sender=f"Help desk <{p.SUPPORT}>",
        to="Ann Customer <ann@mail.example>",
        subject="Re: Router broken",
        in_reply_to="<q1@mail.example>",
        references="<q1@mail.example>",
        text="A new router is on its way.\n\nOn Fri, Ann wrote:\n> Router broken",
    )
    body, headers = p.ses_sns(answer, recipient=p.SUPPORT)
    response = client.post(
        "/webhooks/inbound/amazon_ses/",
        json.dumps(body),
        content_type="text/plain",
        **AUTH,
        **headers,
    )
    assert response.status_code == 200
    reply = wait_for(
        lambda: threaded("a1@northwind.example"),
        timeout=TIMEOUT,
        message="the bcc'd reply was not threaded",
        worker=worker,
    )
    assert reply.direction == "outgoing"
    assert reply.contact_id == first.contact_id
    messages = list(
        Message.objects.filter(contact_id=first.contact_id).values_list(
            "position", "direction", "text"
        )
    )
    assert messages == [
        (0, "incoming", "Hello, I was charged twice this month."),
        (1, "outgoing", "A new router is on its way."),
    ]
    assert Contact.objects.get().customer.email == "ann@mail.example"
