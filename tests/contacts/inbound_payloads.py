"""Inbound-email webhook requests as Mailgun, Postmark and Amazon SES (through SNS) send them,
for the inbound tests, the worker test and bench/inbound_bench.py."""

import base64
import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

WEBHOOK_SECRET = "voc-inbound:s3cret-for-tests"
MAILGUN_KEY = "mailgun-signing-key-for-tests"
SES_TOPIC = "arn:aws:sns:eu-west-1:123456789012:voc-inbound"
SUPPORT = "help@northwind.example"

ANYMAIL = {"WEBHOOK_SECRET": WEBHOOK_SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}


def basic_auth(secret: str = WEBHOOK_SECRET) -> str:
    return "Basic " + base64.b64encode(secret.encode()).decode()


def mime(
    *,
    message_id: str | None = "<m1@mail.example>",
    sender: str = "Ann Customer <ann@mail.example>",
    to: str = SUPPORT,
    subject: str = "My bill is wrong",
    text: str | None = "Hello, I was charged twice this month.",
    html: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
    date: datetime | None = None,
    headers: dict | None = None,
    attachments: list[tuple[str, str, bytes]] = (),
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(date or datetime(2026, 11, 20, 9, 30, tzinfo=UTC))
    if message_id:
        message["Message-ID"] = message_id
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
    if references:
        message["References"] = references
    for name, value in (headers or {}).items():
        message[name] = value
    if text is not None:
        message.set_content(text)
    if html is not None:
        if text is None:
            message.set_content(html, subtype="html")
        else:
            message.add_alternative(html, subtype="html")
    for name, content_type, content in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=name)
    return message.as_bytes()


def mailgun_signature(
    key: str = MAILGUN_KEY, *, timestamp: str | None = None, token: str | None = None
) -> dict:
    timestamp = timestamp or str(int(datetime.now(UTC).timestamp()))
    token = token or uuid.uuid4().hex
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"timestamp": timestamp, "token": token, "signature": signature}


def mailgun_mime_form(raw: bytes, *, recipient: str = SUPPORT, key: str = MAILGUN_KEY) -> dict:
    """Mailgun's "raw MIME" forward (to a URL containing "mime")."""
    return {
        "recipient": recipient,
        "sender": "ann@mail.example",
        "body-mime": raw.decode("utf-8", "surrogateescape"),
        **mailgun_signature(key),
    }


def mailgun_parsed_form(
    *,
    message_id: str = "<m1@mail.example>",
    sender: str = "Ann Customer <ann@mail.example>",
    to: str = SUPPORT,
    subject: str = "My bill is wrong",
    text: str = "Hello, I was charged twice this month.",
    html: str | None = None,
    extra_headers: list | None = None,
    key: str = MAILGUN_KEY,
) -> dict:
    """Mailgun's "fully parsed" forward: fields, with every header in message-headers."""
    headers = [
        ["From", sender],
        ["To", to],
        ["Subject", subject],
        ["Date", "Fri, 20 Nov 2026 09:30:00 +0000"],
        ["Message-Id", message_id],
        *(extra_headers or []),
    ]
    form = {
        "recipient": to,
        "sender": "ann@mail.example",
        "from": sender,
        "subject": subject,
        "body-plain": text,
        "message-headers": json.dumps(headers),
        **mailgun_signature(key),
    }
    if html is not None:
        form["body-html"] = html
    return form


def postmark_json(
    *,
    message_id: str = "<m1@mail.example>",
    from_email: str = "ann@mail.example",
    from_name: str = "Ann Customer",
    to: str = SUPPORT,
    subject: str = "My bill is wrong",
    text: str = "Hello, I was charged twice this month.",
    html: str = "",
    headers: list | None = None,
    spam: bool = False,
) -> dict:
    return {
        "FromName": from_name,
        "FromFull": {"Email": from_email, "Name": from_name},
        "ToFull": [{"Email": to, "Name": ""}],
        "CcFull": [],
        "OriginalRecipient": to,
        "Subject": subject,
        "MessageID": str(uuid.uuid4()),
        "Date": "Fri, 20 Nov 2026 09:30:00 +0000",
        "TextBody": text,
        "HtmlBody": html,
        "Headers": [
            {"Name": "Return-Path", "Value": f"<{from_email}>"},
            {"Name": "Message-ID", "Value": message_id},
            {"Name": "X-Spam-Status", "Value": "Yes" if spam else "No"},
            {"Name": "X-Spam-Score", "Value": "7.5" if spam else "0.1"},
            *(headers or []),
        ],
        "Attachments": [],
    }


def ses_sns(raw: bytes, *, topic: str = SES_TOPIC, recipient: str = SUPPORT) -> tuple[dict, dict]:
    """(SNS notification body, request headers) for an SES receipt rule with an SNS action."""
    notification = {
        "notificationType": "Received",
        "mail": {
            "timestamp": "2026-11-20T09:30:01.000Z",
            "source": "ann@mail.example",
            "messageId": uuid.uuid4().hex,
            "destination": [recipient],
        },
        "receipt": {
            "recipients": [recipient],
            "spamVerdict": {"status": "PASS"},
            "action": {"type": "SNS", "topicArn": topic, "encoding": "BASE64"},
        },
        "content": base64.b64encode(raw).decode("ascii"),
    }
    sns_id = str(uuid.uuid4())
    body = {
        "Type": "Notification",
        "MessageId": sns_id,
        "TopicArn": topic,
        "Subject": "Amazon SES Email Receipt Notification",
        "Message": json.dumps(notification),
        "Timestamp": "2026-11-20T09:30:02.000Z",
        "SignatureVersion": "1",
        "Signature": "not-verified",
    }
    headers = {
        "HTTP_X_AMZ_SNS_MESSAGE_TYPE": "Notification",
        "HTTP_X_AMZ_SNS_MESSAGE_ID": sns_id,
        "HTTP_X_AMZ_SNS_TOPIC_ARN": topic,
    }
    return body, headers
