"""Email: one helper that renders the subject / text / HTML trio, and the outbox backend.

All mail goes through Django's email API. Production uses django-anymail (or SMTP); the embedded
default stores messages in the database so they can be read on the /outbox/ page.
"""

import logging
import smtplib
import socket
from collections.abc import Mapping, Sequence
from typing import Any

from anymail.exceptions import AnymailAPIError
from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction
from django.template.loader import render_to_string

from voc.core.queueing import enqueue

# A rendered email as it travels to a worker: JSON-safe, with subject, body_text, body_html and
# to, and optionally from_email, cc, bcc, reply_to and headers.
EmailData = dict[str, Any]

logger = logging.getLogger(__name__)


class TransientEmailError(Exception):
    """The email service failed in a way worth retrying (timeouts, 5xx, rate limits)."""


TRANSIENT_EMAIL_ERRORS: tuple[type[BaseException], ...] = (
    TransientEmailError,
    smtplib.SMTPServerDisconnected,
    smtplib.SMTPConnectError,
    socket.timeout,
    ConnectionError,
)


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, AnymailAPIError):
        status = getattr(exc, "status_code", None)
        return status is None or status >= 500 or status == 429
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, TRANSIENT_EMAIL_ERRORS)


def email_render(template: str, context: Mapping[str, Any]) -> EmailData:
    """Render ``emails/<template>-subject.txt``, ``-body-text.txt`` and ``-body-html.html``.

    Returns a plain dict (JSON-safe) so it can travel as a task argument."""
    subject = render_to_string(f"emails/{template}-subject.txt", context)
    return {
        "subject": " ".join(subject.split()),  # one line: headers may not contain newlines
        "body_text": render_to_string(f"emails/{template}-body-text.txt", context),
        "body_html": render_to_string(f"emails/{template}-body-html.html", context),
    }


def email_build(message: EmailData) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(
        subject=message["subject"],
        body=message["body_text"],
        from_email=message.get("from_email") or settings.DEFAULT_FROM_EMAIL,
        to=message.get("to", []),
        cc=message.get("cc", []),
        bcc=message.get("bcc", []),
        reply_to=message.get("reply_to", []),
        headers=message.get("headers", {}),
    )
    if message.get("body_html"):
        email.attach_alternative(message["body_html"], "text/html")
    # Files as plain JSON ({"filename", "content", "mimetype"}), so a message with them can
    # still travel as a task argument or sit in a send-once row's context.
    for attachment in message.get("attachments", []):
        email.attach(attachment["filename"], attachment["content"], attachment["mimetype"])
    return email


def email_queue(
    *, template: str, context: Mapping[str, Any], to: Sequence[str], **extra: Any
) -> None:
    """Render now, send from a worker once the surrounding transaction commits."""
    message = {**email_render(template, context), "to": list(to), **extra}
    transaction.on_commit(lambda: enqueue_email_send(message))


# By name: voc.core.tasks runs services that send mail through this module, so importing the
# task here would make the two import each other.
EMAIL_SEND_TASK = "core.email_send"


def enqueue_email_send(message: EmailData) -> None:
    """Queue the message; with the broker down, send it from this process instead (no job
    could find it later: it is stored nowhere). Never raises: whatever called email_queue
    has committed, and its answer must not turn into an error."""
    if enqueue(EMAIL_SEND_TASK, message, catch_up="none (sent from this process instead)"):
        return
    try:
        email_build(message).send()
    except Exception as error:
        logger.error("an email could not be queued or sent (%s)", type(error).__name__)


class OutboxBackend(BaseEmailBackend):
    """Stores each message as an OutboxMessage instead of sending it."""

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        from voc.core.models import OutboxMessage

        sent = 0
        for email in email_messages:
            html = ""
            for content, mimetype in getattr(email, "alternatives", []):
                if mimetype == "text/html":
                    html = content
            OutboxMessage.objects.create(
                subject=str(email.subject),
                from_email=email.from_email,
                to=list(email.to),
                cc=list(email.cc),
                bcc=list(email.bcc),
                reply_to=list(email.reply_to),
                headers={str(k): str(v) for k, v in email.extra_headers.items()},
                body_text=str(email.body),
                body_html=html,
            )
            sent += 1
        return sent
