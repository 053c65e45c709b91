import json
import smtplib
from html.parser import HTMLParser
from unittest import mock

import pytest
import requests
from anymail.exceptions import AnymailAPIError, AnymailRecipientsRefused
from django.core import mail
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import transaction
from django.urls import reverse

from voc.core import services
from voc.core.mail import (
    OutboxBackend,
    TransientEmailError,
    email_queue,
    email_render,
    is_transient,
)
from voc.core.models import OutboxMessage
from voc.core.tasks import email_send_task

pytestmark = pytest.mark.django_db

RESET_CONTEXT = {
    "protocol": "https",
    "domain": "voc.example.com",
    "uid": "MQ",
    "token": "abc-123",
    "username": "rep",
    "site_name": "VoC",
}


def anymail_error(status_code: int | None) -> AnymailAPIError:
    """An API error as anymail raises it: with the ESP's response when there was one."""
    if status_code is None:  # no response at all: a network failure
        return AnymailAPIError("connection reset", esp_name="Mailgun")
    response = requests.Response()
    response.status_code = status_code
    response.reason = "Reason"
    response._content = b'{"message": "nope"}'
    return AnymailAPIError(
        "send failed", status_code=status_code, response=response, esp_name="Mailgun"
    )


def rendered_message(**extra) -> dict:
    return {**email_render("password-reset", RESET_CONTEXT), "to": ["rep@example.com"], **extra}


# --- the outbox backend ---------------------------------------------------------------------


def test_the_outbox_backend_stores_every_part_of_a_message():
    email = EmailMultiAlternatives(
        subject="Your digest",
        body="Plain text body",
        from_email="VoC <voc@example.com>",
        to=["to@example.com"],
        cc=["cc@example.com"],
        bcc=["bcc@example.com"],
        reply_to=["reply@example.com"],
        headers={"List-Unsubscribe": "<https://voc.example.com/u/1>"},
        connection=get_connection("voc.core.mail.OutboxBackend"),
    )
    email.attach_alternative("<p>HTML body</p>", "text/html")

    assert email.send() == 1

    stored = OutboxMessage.objects.get()
    assert stored.subject == "Your digest"
    assert stored.from_email == "VoC <voc@example.com>"
    assert stored.to == ["to@example.com"]
    assert stored.cc == ["cc@example.com"]
    assert stored.bcc == ["bcc@example.com"]
    assert stored.reply_to == ["reply@example.com"]
    assert stored.headers == {"List-Unsubscribe": "<https://voc.example.com/u/1>"}
    assert stored.body_text == "Plain text body"
    assert stored.body_html == "<p>HTML body</p>"
    assert stored.recipients == ["to@example.com", "cc@example.com", "bcc@example.com"]


def test_the_outbox_backend_stores_a_text_only_message_and_counts_what_it_stored():
    messages = [
        EmailMessage(subject=f"Note {n}", body="Just text", to=[f"{n}@example.com"])
        for n in range(2)
    ]

    assert OutboxBackend().send_messages(messages) == 2

    stored = list(OutboxMessage.objects.order_by("id"))
    assert [m.subject for m in stored] == ["Note 0", "Note 1"]
    assert all(m.body_html == "" and m.body_text == "Just text" for m in stored)
    assert OutboxBackend().send_messages([]) == 0


# --- queueing -------------------------------------------------------------------------------


def test_email_queue_enqueues_only_when_the_transaction_commits(django_capture_on_commit_callbacks):
    with (
        mock.patch("voc.core.mail.enqueue_email_send") as delay,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
    ):
        email_queue(template="password-reset", context=RESET_CONTEXT, to=("rep@example.com",))
        assert delay.call_count == 0  # nothing leaves before the commit

    assert len(callbacks) == 1
    delay.assert_called_once()
    (payload,), kwargs = delay.call_args
    assert kwargs == {}
    # Only plain JSON travels to the worker (the task serializer is json).
    assert json.loads(json.dumps(payload)) == payload
    assert payload["to"] == ["rep@example.com"]
    assert payload["subject"] == "Reset your VoC password"
    assert "https://voc.example.com/accounts/reset/MQ/abc-123/" in payload["body_text"]
    assert 'href="https://voc.example.com/accounts/reset/MQ/abc-123/"' in payload["body_html"]


def test_email_queue_enqueues_nothing_when_the_transaction_rolls_back(
    django_capture_on_commit_callbacks,
):
    with (
        mock.patch("voc.core.mail.enqueue_email_send") as delay,
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        email_queue(template="password-reset", context=RESET_CONTEXT, to=["rep@example.com"])
        raise RuntimeError("the request failed after queueing")

    assert callbacks == []
    delay.assert_not_called()


def test_email_queue_passes_extra_fields_to_the_worker(django_capture_on_commit_callbacks):
    with (
        mock.patch("voc.core.mail.enqueue_email_send") as delay,
        django_capture_on_commit_callbacks(execute=True),
    ):
        email_queue(
            template="password-reset",
            context=RESET_CONTEXT,
            to=["rep@example.com"],
            headers={"List-Unsubscribe": "<https://voc.example.com/u/1>"},
            reply_to=["help@example.com"],
        )

    (payload,), _ = delay.call_args
    assert json.loads(json.dumps(payload)) == payload
    email_send_task(payload)  # what the worker does with it
    (sent,) = mail.outbox
    assert sent.to == ["rep@example.com"]
    assert sent.reply_to == ["help@example.com"]
    assert sent.extra_headers == {"List-Unsubscribe": "<https://voc.example.com/u/1>"}


def test_the_rendered_subject_is_one_line():
    message = email_render(
        "password-reset", {**RESET_CONTEXT, "site_name": "Voice\nof the\nCustomer"}
    )
    assert message["subject"] == "Reset your Voice of the Customer password"


# --- sending --------------------------------------------------------------------------------


def test_the_send_task_sends_the_rendered_message():
    email_send_task(rendered_message())

    (sent,) = mail.outbox
    assert sent.subject == "Reset your VoC password"
    assert sent.to == ["rep@example.com"]
    assert sent.from_email == "VoC <voc@example.com>"
    assert "https://voc.example.com/accounts/reset/MQ/abc-123/" in sent.body
    ((html, mimetype),) = sent.alternatives
    assert mimetype == "text/html"
    assert "abc-123" in html


@pytest.mark.parametrize(
    "failure",
    [
        smtplib.SMTPServerDisconnected("Connection unexpectedly closed"),
        smtplib.SMTPResponseException(451, b"4.3.0 Try again later"),
        TimeoutError("timed out"),
        anymail_error(503),
        anymail_error(429),
        anymail_error(None),
    ],
    ids=["smtp-disconnected", "smtp-451", "timeout", "api-503", "api-429", "api-no-response"],
)
def test_a_transient_failure_is_raised_as_transient_email_error(failure):
    with (
        mock.patch.object(LocmemBackend, "send_messages", side_effect=failure),
        pytest.raises(TransientEmailError) as raised,
    ):
        services.email_send_rendered(message=rendered_message())

    assert raised.value.__cause__ is failure
    # ... which the task retries.
    assert isinstance(raised.value, email_send_task.autoretry_for)


@pytest.mark.parametrize(
    "failure",
    [
        anymail_error(400),
        anymail_error(401),
        AnymailRecipientsRefused("every recipient was rejected"),
        smtplib.SMTPRecipientsRefused({"rep@example.com": (550, b"5.1.1 No such user")}),
        smtplib.SMTPDataError(554, b"5.7.1 Message rejected"),
        smtplib.SMTPConnectError(554, b"5.7.1 No SMTP service here"),
    ],
    ids=["api-400", "api-401", "recipients-refused", "smtp-550", "smtp-554", "smtp-connect-554"],
)
def test_a_permanent_failure_is_reraised_as_is_and_not_retried(failure):
    with (
        mock.patch.object(LocmemBackend, "send_messages", side_effect=failure),
        pytest.raises(type(failure)) as raised,
    ):
        services.email_send_rendered(message=rendered_message())

    assert raised.value is failure
    assert not isinstance(raised.value, email_send_task.autoretry_for)


@pytest.mark.parametrize(
    ("error", "transient"),
    [
        (TransientEmailError("retry me"), True),
        (smtplib.SMTPServerDisconnected("closed"), True),
        (smtplib.SMTPConnectError(421, b"4.3.2 Busy"), True),
        (smtplib.SMTPConnectError(554, b"5.7.1 Go away"), False),
        (smtplib.SMTPResponseException(421, b"4.4.2 Timeout"), True),
        (smtplib.SMTPResponseException(499, b"4.x.x"), True),
        (smtplib.SMTPResponseException(500, b"5.5.1 Bad command"), False),
        (smtplib.SMTPSenderRefused(451, b"4.1.8 Try later", "voc@example.com"), True),
        (smtplib.SMTPSenderRefused(553, b"5.1.8 Bad sender", "voc@example.com"), False),
        (smtplib.SMTPDataError(552, b"5.3.4 Too big"), False),
        (smtplib.SMTPAuthenticationError(535, b"5.7.8 Bad credentials"), False),
        (smtplib.SMTPRecipientsRefused({"a@example.com": (550, b"No such user")}), False),
        (TimeoutError("timed out"), True),  # socket.timeout is TimeoutError
        (ConnectionRefusedError("refused"), True),
        (ConnectionResetError("reset"), True),
        (anymail_error(None), True),
        (anymail_error(429), True),
        (anymail_error(500), True),
        (anymail_error(502), True),
        (anymail_error(503), True),
        (anymail_error(400), False),
        (anymail_error(401), False),
        (anymail_error(404), False),
        (anymail_error(422), False),
        (AnymailRecipientsRefused("rejected"), False),
        (ValueError("bad address"), False),
        (KeyError("subject"), False),
    ],
    ids=lambda value: value if isinstance(value, bool) else type(value).__name__,
)
def test_is_transient(error, transient):
    assert is_transient(error) is transient


# --- showing mail on the outbox page --------------------------------------------------------


class _IframeFinder(HTMLParser):
    def __init__(self):
        super().__init__()
        self.iframes: list[dict[str, str | None]] = []

    def handle_starttag(self, tag, attrs):
        if tag == "iframe":
            self.iframes.append(dict(attrs))


def test_html_in_an_outbox_message_is_escaped_and_sandboxed(client, cast):
    script = "<script>alert('pwned')</script>"
    html_body = f'<p onclick="steal()">Hi</p>{script}<a href="https://x.example">"quoted"</a>'
    message = OutboxMessage.objects.create(
        subject=f"Subject {script}",
        from_email="customer@example.com",
        to=["rep@example.com"],
        headers={"X-Note": script},
        body_text=f"Text {script} https://voc.example.com/",
        body_html=html_body,
    )
    client.force_login(cast.admin)

    response = client.get(reverse("core:outbox-message", args=[message.id]))

    assert response.status_code == 200
    page = response.content.decode()
    assert script not in page
    assert '<p onclick="steal()">' not in page
    assert "&lt;script&gt;alert(&#x27;pwned&#x27;)&lt;/script&gt;" in page
    finder = _IframeFinder()
    finder.feed(page)
    (iframe,) = finder.iframes
    assert iframe["sandbox"] == ""  # no scripts, no forms, no same-origin access
    # The browser gets the original HTML back from srcdoc, but only inside the sandbox.
    assert iframe["srcdoc"] == html_body
