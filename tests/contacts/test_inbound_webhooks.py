"""The inbound-email webhooks: each provider's format, authentication, redelivery, hostile
input and what the webhook stores (redacted, classified) before the worker threads it."""

import json
import threading
from datetime import UTC, datetime

import pytest
import time_machine
from django.db import connection, transaction
from django.test import TestCase

from contacts import queue, tombstones
from contacts.inbound import services as inbound_services
from contacts.inbound.services import NO_CUSTOMER, NOT_TO_A_MAILBOX, inbound_email_store
from contacts.models import CustomerErasure, ErasureTombstone, InboundEmail, SupportMailbox
from contacts.redaction import CARD_PLACEHOLDER
from tests.contacts import inbound_payloads as p

pytestmark = pytest.mark.django_db

CARD = "4111 1111 1111 1111"
AUTH = {"HTTP_AUTHORIZATION": p.basic_auth()}


@pytest.fixture
def inbound(settings, cast):
    settings.ANYMAIL = dict(p.ANYMAIL)
    settings.VOC_SES_TOPIC_ARNS = [p.SES_TOPIC]
    return SupportMailbox.objects.create(address=p.SUPPORT, team=cast.team_a)


@pytest.fixture
def queued(monkeypatch):
    """The ids the webhook queued for threading (the task itself is not run here)."""
    ids: list[int] = []
    monkeypatch.setattr(queue, "enqueue_inbound_thread", ids.append)
    return ids


def post(client, url, data, **extra):
    """POST as the provider would, running what the request queues after its commit."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, data, **extra)


def post_mailgun(client, form, *, mime=False, **extra):
    url = "/webhooks/inbound/mailgun_mime/" if mime else "/webhooks/inbound/mailgun/"
    return post(client, url, form, **{**AUTH, **extra})


def post_postmark(client, payload, **extra):
    body = payload if isinstance(payload, str | bytes) else json.dumps(payload)
    return post(
        client,
        "/webhooks/inbound/postmark/",
        body,
        content_type="application/json",
        **{**AUTH, **extra},
    )


def post_ses(client, body, headers, **extra):
    return post(
        client,
        "/webhooks/inbound/amazon_ses/",
        json.dumps(body),
        content_type="text/plain; charset=UTF-8",
        **{**AUTH, **headers, **extra},
    )


# --- each provider ----------------------------------------------------------------------------


def test_mailgun_parsed_form_is_stored_and_queued(client, inbound, queued):
    response = post_mailgun(client, p.mailgun_parsed_form())
    assert response.status_code == 200
    email = InboundEmail.objects.get()
    assert email.message_id == "m1@mail.example"
    assert email.esp == "mailgun"
    assert email.from_address == "ann@mail.example"
    assert email.from_name == "Ann Customer"
    assert email.to_addresses == [p.SUPPORT]
    assert email.text == "Hello, I was charged twice this month."
    assert (email.kind, email.status, email.direction) == ("message", "pending", "incoming")
    assert email.mailbox == inbound
    assert queued == [email.id]


def test_mailgun_raw_mime_is_stored(client, inbound, queued):
    raw = p.mime(message_id="<raw-1@mail.example>", subject="Router dead")
    response = post_mailgun(client, p.mailgun_mime_form(raw), mime=True)
    assert response.status_code == 200
    email = InboundEmail.objects.get()
    assert (email.message_id, email.subject, email.esp) == (
        "raw-1@mail.example",
        "Router dead",
        "mailgun",
    )


def test_postmark_json_is_stored(client, inbound, queued):
    response = post_postmark(client, p.postmark_json(message_id="<pm-1@mail.example>"))
    assert response.status_code == 200
    email = InboundEmail.objects.get()
    assert (email.message_id, email.esp, email.mailbox) == (
        "pm-1@mail.example",
        "postmark",
        inbound,
    )
    assert email.spam_detected is False
    assert email.spam_score == 0.1


def test_amazon_ses_sns_notification_is_stored(client, inbound, queued):
    body, headers = p.ses_sns(p.mime(message_id="<ses-1@mail.example>"))
    response = post_ses(client, body, headers)
    assert response.status_code == 200
    email = InboundEmail.objects.get()
    assert (email.message_id, email.esp, email.spam_detected) == (
        "ses-1@mail.example",
        "amazon_ses",
        False,
    )


# --- authentication ---------------------------------------------------------------------------


@pytest.mark.parametrize("auth", [None, p.basic_auth("voc-inbound:wrong"), "Bearer x"])
def test_a_request_without_the_webhook_secret_is_refused(client, inbound, queued, auth):
    extra = {"HTTP_AUTHORIZATION": auth} if auth else {"HTTP_AUTHORIZATION": ""}
    response = client.post(
        "/webhooks/inbound/postmark/",
        json.dumps(p.postmark_json()),
        content_type="application/json",
        **extra,
    )
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Basic")
    assert "secret" in response.json()["detail"]
    assert not InboundEmail.objects.exists()


def test_without_a_configured_secret_nothing_is_accepted(client, inbound, queued, settings):
    settings.ANYMAIL = {"MAILGUN_WEBHOOK_SIGNING_KEY": p.MAILGUN_KEY}
    assert post_mailgun(client, p.mailgun_parsed_form()).status_code == 401
    assert not InboundEmail.objects.exists()


def test_a_forged_mailgun_signature_is_refused(client, inbound, queued):
    form = p.mailgun_parsed_form(key="not-the-signing-key")
    response = post_mailgun(client, form)
    assert response.status_code == 403
    assert not InboundEmail.objects.exists()
    form = p.mailgun_parsed_form()
    del form["signature"]
    assert post_mailgun(client, form).status_code == 403


def test_mailgun_without_its_signing_key_is_not_set_up(client, inbound, queued, settings):
    settings.ANYMAIL = {"WEBHOOK_SECRET": p.WEBHOOK_SECRET}
    response = post_mailgun(client, p.mailgun_parsed_form())
    assert response.status_code == 404
    assert not InboundEmail.objects.exists()


def test_ses_from_a_topic_not_allowed_is_refused(client, inbound, queued):
    body, headers = p.ses_sns(p.mime(), topic="arn:aws:sns:eu-west-1:999999999999:someone-else")
    assert post_ses(client, body, headers).status_code == 403
    assert not InboundEmail.objects.exists()


def test_ses_with_mismatched_sns_headers_is_refused(client, inbound, queued):
    body, headers = p.ses_sns(p.mime())
    headers["HTTP_X_AMZ_SNS_MESSAGE_ID"] = "another-id"
    assert post_ses(client, body, headers).status_code == 403
    assert not InboundEmail.objects.exists()


@pytest.mark.parametrize("topic", [None, "arn:aws:sns:eu-west-1:999999999999:someone-else"])
def test_ses_whose_topic_header_differs_from_the_body_is_refused(
    client, inbound, queued, settings, topic
):
    other = "arn:aws:sns:eu-west-1:123456789012:voc-other"
    body, headers = p.ses_sns(p.mime())
    if topic is None:
        del headers["HTTP_X_AMZ_SNS_TOPIC_ARN"]
    else:
        headers["HTTP_X_AMZ_SNS_TOPIC_ARN"] = topic
    assert post_ses(client, body, headers).status_code == 403
    body, headers = p.ses_sns(p.mime())
    headers["HTTP_X_AMZ_SNS_TOPIC_ARN"] = other  # allowed too, but not this message's
    settings.VOC_SES_TOPIC_ARNS = [p.SES_TOPIC, other]
    assert post_ses(client, body, headers).status_code == 403
    assert not InboundEmail.objects.exists()


# Mailgun: a signature is good for VOC_INBOUND_SIGNATURE_MAX_AGE (300 s) either side of now,
# and once.
NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def _signed_form(*, age: int, token: str | None = None, **fields) -> dict:
    form = p.mailgun_parsed_form(**fields)
    timestamp = str(int(NOW.timestamp()) - age)
    return {**form, **p.mailgun_signature(timestamp=timestamp, token=token)}


@pytest.mark.parametrize(("age", "status"), [(300, 200), (301, 403), (-300, 200), (-301, 403)])
def test_a_mailgun_signature_is_fresh_within_five_minutes(client, inbound, queued, age, status):
    with time_machine.travel(NOW, tick=False):
        assert post_mailgun(client, _signed_form(age=age)).status_code == status
    assert InboundEmail.objects.count() == (1 if status == 200 else 0)


def test_a_mailgun_signature_from_2001_is_refused(client, inbound, queued):
    form = {**p.mailgun_parsed_form(), **p.mailgun_signature(timestamp="1000000000")}
    response = post_mailgun(client, form)
    assert response.status_code == 403
    assert not InboundEmail.objects.exists()
    form = {**p.mailgun_parsed_form(), **p.mailgun_signature(timestamp="soon")}
    assert post_mailgun(client, form).status_code == 403


def test_a_captured_mailgun_signature_cannot_be_replayed_with_new_content(client, inbound, queued):
    with time_machine.travel(NOW, tick=False):
        first = _signed_form(age=10)
        assert post_mailgun(client, first).status_code == 200
        replay = _signed_form(age=10, token=first["token"], message_id="<m2@mail.example>",
                              text="Send the refund to this other account.")  # fmt: skip
        assert replay["signature"] == first["signature"]
        assert post_mailgun(client, replay).status_code == 403
        raw_replay = {**p.mailgun_mime_form(p.mime(message_id="<m3@mail.example>"))}
        raw_replay.update({k: first[k] for k in ("timestamp", "token", "signature")})
        assert post_mailgun(client, raw_replay, mime=True).status_code == 403
    assert list(InboundEmail.objects.values_list("message_id", flat=True)) == ["m1@mail.example"]


def test_without_the_cache_a_fresh_mailgun_signature_is_still_taken(
    client, inbound, queued, monkeypatch, caplog
):
    from django.core.cache import cache

    def down(*args, **kwargs):
        raise ConnectionError("Redis is down")

    monkeypatch.setattr(cache, "add", down)
    with time_machine.travel(NOW, tick=False):
        assert post_mailgun(client, _signed_form(age=10)).status_code == 200
        assert post_mailgun(client, _signed_form(age=400)).status_code == 403
    assert "token not checked" in caplog.text
    assert InboundEmail.objects.count() == 1


def test_ses_subscription_confirmation_is_logged_not_fetched(client, inbound, queued, caplog):
    body = {
        "Type": "SubscriptionConfirmation",
        "MessageId": "sub-1",
        "TopicArn": p.SES_TOPIC,
        "Token": "confirm-token",
        "SubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription",
    }
    headers = {
        "HTTP_X_AMZ_SNS_MESSAGE_TYPE": "SubscriptionConfirmation",
        "HTTP_X_AMZ_SNS_MESSAGE_ID": "sub-1",
        "HTTP_X_AMZ_SNS_TOPIC_ARN": p.SES_TOPIC,
    }
    response = post_ses(client, body, headers)
    assert response.status_code == 200  # nothing fetched: boto3 is not even installed
    assert "confirm-subscription" in caplog.text
    assert not InboundEmail.objects.exists()
    body["TopicArn"] = "arn:aws:sns:eu-west-1:999999999999:someone-else"
    assert post_ses(client, body, headers).status_code == 403


def test_ses_s3_actions_are_refused_without_fetching(client, inbound, queued):
    body, headers = p.ses_sns(p.mime())
    message = json.loads(body["Message"])
    message["receipt"]["action"] = {"type": "S3", "bucketName": "b", "objectKey": "k"}
    del message["content"]
    body["Message"] = json.dumps(message)
    assert post_ses(client, body, headers).status_code == 400
    assert not InboundEmail.objects.exists()


def test_an_unknown_provider_or_method(client, inbound):
    assert client.post("/webhooks/inbound/resend/", {}, **AUTH).status_code == 404
    assert client.get("/webhooks/inbound/postmark/", **AUTH).status_code == 405
    assert client.head("/webhooks/inbound/postmark/").status_code == 200


# --- redelivery -------------------------------------------------------------------------------


def test_the_same_email_delivered_twice_is_stored_once(client, inbound, queued):
    form = p.mailgun_parsed_form()
    assert post_mailgun(client, form).status_code == 200
    assert post_mailgun(client, p.mailgun_parsed_form()).status_code == 200
    assert post_postmark(client, p.postmark_json()).status_code == 200  # same Message-ID
    assert InboundEmail.objects.count() == 1
    assert len(queued) == 1


def test_an_email_without_message_id_still_dedups(client, inbound, queued):
    raw = p.mime(message_id=None)
    assert post_mailgun(client, p.mailgun_mime_form(raw), mime=True).status_code == 200
    assert post_mailgun(client, p.mailgun_mime_form(raw), mime=True).status_code == 200
    email = InboundEmail.objects.get()
    assert email.message_id.startswith("derived-")
    other = p.mime(message_id=None, text="A different question.")
    post_mailgun(client, p.mailgun_mime_form(other), mime=True)
    assert InboundEmail.objects.count() == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_deliveries_at_once_store_one_row(cast, settings, monkeypatch):
    """Both pass the "already stored?" check before either inserts: the unique constraint
    decides, and the loser returns the winner's row."""
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers")
    SupportMailbox.objects.create(address=p.SUPPORT, team=cast.team_a)
    monkeypatch.setattr(queue, "enqueue_inbound_thread", lambda _id: None)
    barrier = threading.Barrier(2, timeout=10)
    real = inbound_services.mailboxes_for

    def both_checked(addresses):
        barrier.wait()  # both threads are past the existence check
        return real(addresses)

    monkeypatch.setattr(inbound_services, "mailboxes_for", both_checked)
    raw = p.mime(message_id="<race@mail.example>")
    results, errors = [], []

    def deliver():
        from anymail.inbound import AnymailInboundMessage

        try:
            with transaction.atomic():
                message = AnymailInboundMessage.parse_raw_mime_bytes(raw)
                results.append(inbound_email_store(message=message, esp="mailgun")[1])
        except Exception as error:  # surfaced below
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=deliver) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert errors == []
    assert sorted(results) == [False, True]
    assert InboundEmail.objects.filter(message_id="race@mail.example").count() == 1


# --- hostile input ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "send",
    [
        lambda c: post_postmark(c, "{not json"),
        lambda c: post_postmark(c, json.dumps(["a", "list"])),
        lambda c: post_postmark(c, {"RecordType": "Bounce"}),
        lambda c: post_mailgun(c, {**p.mailgun_signature(), "recipient": p.SUPPORT}),
        lambda c: post_mailgun(c, {**p.mailgun_signature(), "message-headers": "{bad"}),
        lambda c: c.post(
            "/webhooks/inbound/amazon_ses/",
            "{bad",
            content_type="text/plain",
            HTTP_X_AMZ_SNS_MESSAGE_TYPE="Notification",
            **AUTH,
        ),
        lambda c: post_ses(
            c,
            {"Type": "Notification", "MessageId": "1", "TopicArn": p.SES_TOPIC, "Message": "{bad"},
            {"HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification", "HTTP_X_AMZ_SNS_MESSAGE_ID": "1"},
        ),
    ],
    ids=[
        "not-json",
        "json-list",
        "postmark-bounce",
        "mailgun-no-headers",
        "mailgun-bad-headers",
        "sns-not-json",
        "ses-message-not-json",
    ],
)
def test_malformed_requests_get_a_clear_4xx_and_store_nothing(client, inbound, queued, send):
    response = send(client)
    assert 400 <= response.status_code < 500, response.content
    assert "detail" in response.json()
    assert not InboundEmail.objects.exists()
    assert queued == []


def test_limits_refuse_large_requests_headers_and_bodies(client, inbound, queued, settings):
    settings.VOC_INBOUND_MAX_REQUEST_BYTES = 50_000
    big = p.postmark_json(text="x" * 60_000)
    response = post_postmark(client, big)
    assert response.status_code == 413
    settings.VOC_INBOUND_MAX_REQUEST_BYTES = 10_000_000

    settings.VOC_INBOUND_MAX_HEADER_BYTES = 2_000
    headers = {"X-Filler": "y" * 3_000}
    raw = p.mime(headers=headers)
    response = post_mailgun(client, p.mailgun_mime_form(raw), mime=True)
    assert response.status_code == 400
    assert "headers" in response.json()["detail"]

    settings.VOC_INBOUND_MAX_BODY_CHARS = 1_000
    response = post_postmark(client, p.postmark_json(text="z" * 1_001))
    assert response.status_code == 413
    assert not InboundEmail.objects.exists()


def test_malformed_mime_and_bad_charsets_are_read_defensively(client, inbound, queued):
    raw = (
        b"From: =?x-unknown?q?Ann?= <ann@mail.example>\r\n"
        b"To: help@northwind.example\r\n"
        b"Subject: =?utf-8?b?broken-base64?=\r\n"
        b"Subject: second subject\r\n"
        b"Message-ID: <charset@mail.example>\r\n"
        b"Date: not a date\r\n"
        b'Content-Type: multipart/alternative; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain; charset=klingon\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n!!!not base64!!!\r\n"
        b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nCaf\xc3\xa9 \x00 ok\r\n"
        b"--b--"  # no closing line break
    )
    response = post_mailgun(client, p.mailgun_mime_form(raw), mime=True)
    assert response.status_code == 200
    email = InboundEmail.objects.get()
    assert email.sent_at is None
    assert email.from_address == "ann@mail.example"
    assert "\x00" not in email.text


def test_a_latin1_8bit_header_and_body(client, inbound, queued):
    raw = (
        "From: Jos\xe9 <jose@mail.example>\r\nTo: help@northwind.example\r\n"
        "Subject: Factura \xe9lev\xe9e\r\nMessage-ID: <latin@mail.example>\r\n"
        "Content-Type: text/plain; charset=iso-8859-1\r\n\r\nMon compte \xe9t\xe9 d\xe9bit\xe9.\r\n"
    ).encode("latin-1")
    from anymail.inbound import AnymailInboundMessage

    email, created = inbound_email_store(
        message=AnymailInboundMessage.parse_raw_mime_bytes(raw), esp="test"
    )
    assert created
    assert email.text == "Mon compte été débité."
    assert email.subject  # undecodable bytes become replacement characters, never an error
    email.refresh_from_db()


# --- what is stored ---------------------------------------------------------------------------


def test_subject_names_body_and_attachment_names_are_redacted(client, inbound, queued):
    raw = p.mime(
        sender=f'"Ann {CARD}" <ann@mail.example>',
        subject=f"Card {CARD} charged twice",
        text=f"My card is {CARD}, cvv 123.",
        attachments=[(f"statement {CARD}.pdf", "application/pdf", b"%PDF-1.4 " + b"0" * 500)],
    )
    assert post_mailgun(client, p.mailgun_mime_form(raw), mime=True).status_code == 200
    email = InboundEmail.objects.get()
    stored = json.dumps(
        [email.subject, email.from_name, email.text, email.attachments], ensure_ascii=False
    )
    assert "4111" not in stored
    assert CARD_PLACEHOLDER in email.subject
    assert CARD_PLACEHOLDER in email.text
    assert email.attachments == [
        {"name": f"statement {CARD_PLACEHOLDER}.pdf", "type": "application/pdf", "size": 509}
    ]


def test_html_mail_becomes_safe_text_with_line_breaks(client, inbound, queued):
    html = (
        "<html><head><title>T</title><style>p{color:red}</style></head><body>"
        "<p>First line</p><div>Second &amp; <b>bold</b></div>"
        "<script>alert('x')</script><img src='https://tracker.example/p.gif'>"
        "<ul><li>one</li><li>two</li></ul>Last<br>line</body></html>"
    )
    raw = p.mime(text=None, html=html)
    post_mailgun(client, p.mailgun_mime_form(raw), mime=True)
    text = InboundEmail.objects.get().text
    assert text == "First line\nSecond & bold\none\ntwo\nLast\nline"
    assert "alert" not in text and "tracker" not in text and "color" not in text


@pytest.mark.parametrize(
    ("build", "kind"),
    [
        (lambda: p.postmark_json(spam=True), "spam"),
        (
            lambda: p.postmark_json(headers=[{"Name": "Auto-Submitted", "Value": "auto-replied"}]),
            "auto_reply",
        ),
        (lambda: p.postmark_json(headers=[{"Name": "X-Autoreply", "Value": "yes"}]), "auto_reply"),
        (
            lambda: p.postmark_json(headers=[{"Name": "Precedence", "Value": "auto_reply"}]),
            "auto_reply",
        ),
        (lambda: p.postmark_json(subject="Out of Office: back Monday"), "auto_reply"),
        (lambda: p.postmark_json(subject="Automatic reply: My bill"), "auto_reply"),
        (lambda: p.postmark_json(from_email="MAILER-DAEMON@mx.mail.example"), "bounce"),
        (lambda: p.postmark_json(headers=[{"Name": "Auto-Submitted", "Value": "no"}]), "message"),
    ],
)
def test_spam_auto_replies_and_bounces_are_counted_not_threaded(
    client, inbound, queued, build, kind
):
    assert post_postmark(client, build()).status_code == 200
    email = InboundEmail.objects.get()
    assert email.kind == kind
    if kind == "message":
        assert email.status == "pending" and queued == [email.id]
    else:
        assert email.status == "skipped" and queued == []


def test_a_delivery_status_report_is_a_bounce(client, inbound, queued):
    raw = (
        b"From: Mail Delivery System <postmaster@mx.mail.example>\r\n"
        b"To: help@northwind.example\r\nSubject: Undelivered Mail\r\n"
        b"Message-ID: <dsn-1@mx.mail.example>\r\n"
        b'Content-Type: multipart/report; report-type=delivery-status; boundary="r"\r\n\r\n'
        b"--r\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        b"--r\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--r--\r\n"
    )
    post_mailgun(client, p.mailgun_mime_form(raw), mime=True)
    email = InboundEmail.objects.get()
    assert (email.kind, email.status, queued) == ("bounce", "skipped", [])


def test_a_delivery_status_report_with_an_encoded_report_type_is_a_bounce(client, inbound, queued):
    # RFC 2231 (report-type*=charset'language'value): the only sign here that it is a report.
    raw = (
        b"From: Delivery reports <reports@relay.example>\r\n"
        b"To: help@northwind.example\r\nSubject: About your message\r\n"
        b"Message-ID: <dsn-2@relay.example>\r\n"
        b"Content-Type: multipart/report; report-type*=us-ascii'en'delivery-status;"
        b' boundary="r"\r\n\r\n'
        b"--r\r\nContent-Type: text/plain\r\n\r\nDelivery failed.\r\n"
        b"--r\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--r--\r\n"
    )
    post_mailgun(client, p.mailgun_mime_form(raw), mime=True)
    email = InboundEmail.objects.get()
    assert (email.kind, email.status, queued) == ("bounce", "skipped", [])


def test_mail_to_no_support_mailbox_is_skipped_with_a_reason(client, inbound, queued):
    payload = p.postmark_json(to="someone.else@northwind.example")
    assert post_postmark(client, payload).status_code == 200
    email = InboundEmail.objects.get()
    assert (email.status, email.error, email.mailbox) == ("skipped", NOT_TO_A_MAILBOX, None)
    assert queued == []
    inbound.active = False
    inbound.save()
    post_postmark(client, p.postmark_json(message_id="<m2@mail.example>"))
    assert InboundEmail.objects.get(message_id="m2@mail.example").status == "skipped"


def test_a_bcc_copy_of_a_support_reply_is_outgoing(client, inbound, queued):
    raw = p.mime(
        message_id="<reply-1@northwind.example>",
        sender=f"Help desk <{p.SUPPORT}>",
        to="Ann <ann@mail.example>",
        in_reply_to="<m1@mail.example>",
    )
    post_mailgun(client, p.mailgun_mime_form(raw), mime=True)
    email = InboundEmail.objects.get()
    assert (email.direction, email.mailbox, email.status) == ("outgoing", inbound, "pending")


def test_an_erased_customers_mail_is_stored_without_content(client, inbound, queued):
    erasure = CustomerErasure.objects.create(customer_id_erased=1)
    ErasureTombstone.objects.create(
        kind=ErasureTombstone.Kind.EMAIL,
        digest=tombstones.digest(ErasureTombstone.Kind.EMAIL, "ann@mail.example"),
        erasure=erasure,
    )
    assert post_postmark(client, p.postmark_json()).status_code == 200
    email = InboundEmail.objects.get()
    assert email.status == "erased"
    assert (email.from_address, email.from_name, email.subject, email.text) == ("", "", "", "")
    assert email.to_addresses == [] and email.headers == {} and email.attachments == []
    # The Message-ID can carry a name too: only its keyed hash is kept, and a redelivery of
    # the same email is still recognised by it.
    assert email.message_id == tombstones.erased_message_id("m1@mail.example")
    assert post_postmark(client, p.postmark_json()).status_code == 200
    assert InboundEmail.objects.count() == 1
    assert queued == []
    # Whatever the kind: an auto-reply from the same person keeps nothing either.
    post_postmark(client, p.postmark_json(message_id="<ooo@mail.example>", subject="Out of office"))
    ooo = InboundEmail.objects.get(message_id=tombstones.erased_message_id("ooo@mail.example"))
    assert ooo.subject == ""


def test_xss_in_subject_and_names_is_stored_as_text(client, inbound, queued):
    payload = p.postmark_json(
        from_name='<img src=x onerror="alert(1)">', subject="<script>alert('s')</script>"
    )
    post_postmark(client, payload)
    email = InboundEmail.objects.get()
    assert email.subject == "<script>alert('s')</script>"  # escaped where shown, see the pages


def test_references_are_kept_oldest_first_and_bounded(client, inbound, queued):
    refs = " ".join(f"<r{n}@mail.example>" for n in range(80))
    raw = p.mime(in_reply_to="<r79@mail.example>", references=refs)
    post_mailgun(client, p.mailgun_mime_form(raw), mime=True)
    email = InboundEmail.objects.get()
    assert email.in_reply_to == "r79@mail.example"
    assert len(email.references) == 50
    assert email.references[0] == "r0@mail.example" and email.references[-1] == "r79@mail.example"


def test_a_message_id_holding_a_card_number_is_hashed(client, inbound, queued):
    raw = p.mime(message_id="<4111111111111111@mail.example>")
    post_mailgun(client, p.mailgun_mime_form(raw), mime=True)
    email = InboundEmail.objects.get()
    assert email.message_id.startswith("hash-") and "4111" not in email.message_id


def test_the_date_header_is_kept(client, inbound, queued):
    raw = p.mime(date=datetime(2026, 11, 19, 8, 0, tzinfo=UTC))
    post_mailgun(client, p.mailgun_mime_form(raw), mime=True)
    assert InboundEmail.objects.get().sent_at == datetime(2026, 11, 19, 8, 0, tzinfo=UTC)


def test_missing_fields_are_stored_as_skipped_not_an_error(client, inbound, queued):
    assert post_postmark(client, {"TextBody": "hi"}).status_code == 200
    email = InboundEmail.objects.get()
    assert email.message_id.startswith("derived-")
    assert (email.status, email.error) == ("skipped", NOT_TO_A_MAILBOX)
    payload = {"TextBody": "hi again", "ToFull": [{"Email": p.SUPPORT}]}
    assert post_postmark(client, payload).status_code == 200
    email = InboundEmail.objects.exclude(id=email.id).get()
    assert (email.status, email.error) == ("skipped", NO_CUSTOMER)
    assert queued == []
