"""Reading an inbound email (as django-anymail parsed it) into plain, redacted, bounded values.

Nothing here trusts the message: headers are read raw and decoded defensively, bodies are
decoded with a fallback for unknown charsets, HTML becomes text through nh3, and every value is
cleaned of NUL and control characters, redacted and cut to what the database holds. Limits
(``VOC_INBOUND_MAX_HEADER_BYTES``, ``VOC_INBOUND_MAX_BODY_CHARS``) raise :class:`InboundRejected`.
"""

import codecs
import hashlib
import hmac
import html
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import Message
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_to_datetime
from typing import TypedDict

import nh3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from contacts.models import InboundEmail
from contacts.redaction import Redactor, redact_text
from contacts.redaction_rules import redactor as build_redactor

MAX_ID = 490  # a Message-ID longer than this is replaced by a hash (the column holds 500)
MAX_REFERENCES = 50
MAX_ADDRESSES = 50
MAX_ATTACHMENTS = 100
MAX_PARTS = 500  # MIME parts walked; a message with more is refused
CLASSIFYING_HEADERS = (
    "Auto-Submitted",
    "X-Autoreply",
    "X-Autorespond",
    "Precedence",
    "Content-Type",
    "X-Spam-Status",
    "X-Spam-Score",
    "X-Mailgun-Sflag",
)
_ID = re.compile(r"<([^<>\s]{1,1000})>")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_BLOCK_TAG = re.compile(
    r"<\s*/?\s*(?:br|p|div|li|ul|ol|tr|table|h[1-6]|blockquote|hr|pre|section|article|header|"
    r"footer|dd|dt)\b[^>]{0,2000}>",
    re.IGNORECASE,
)
_BLANK_LINES = re.compile(r"\n(?:[ \t]*\n)+")
_OUT_OF_OFFICE = re.compile(
    r"^\s*(?:out of (?:the )?office|automatic reply|auto[- ]?reply|autoreply|auto[- ]?response|"
    r"away from (?:the )?office|on vacation|on holiday|abwesenheitsnotiz|automatische antwort|"
    r"réponse automatique|absence du bureau|respuesta automática|fuera de la oficina|"
    r"risposta automatica|fuori sede|automatisch antwoord|afwezig)\b",
    re.IGNORECASE,
)
_BOUNCE_SENDERS = {"mailer-daemon", "mail-daemon", "mailerdaemon"}


class InboundRejected(Exception):
    """Input refused with an HTTP status and a message that never quotes the input."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


class Attachment(TypedDict):
    """An attachment as VoC keeps it: never its content."""

    name: str  # redacted
    type: str
    size: int


@dataclass
class ParsedEmail:
    message_id: str
    sent_at: datetime | None = None
    from_address: str = ""
    from_name: str = ""
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    bcc: list[str] = field(default_factory=list)  # also the envelope recipient and Delivered-To
    subject: str = ""
    in_reply_to: str = ""
    references: list[str] = field(default_factory=list)
    text: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    spam_detected: bool | None = None
    spam_score: float | None = None
    attachments: list[Attachment] = field(default_factory=list)
    kind: str = InboundEmail.Kind.MESSAGE

    def recipients(self) -> list[str]:
        seen: dict[str, None] = {}
        for address in [*self.to, *self.cc, *self.bcc]:
            seen.setdefault(address, None)
        return list(seen)


def clean_text(value: str | None) -> str:
    """Storable text: raw 8-bit bytes (surrogate-escaped by the parser) decoded as UTF-8, no
    NUL or control characters other than tab and line breaks, line endings normalised."""
    if not value:
        return ""
    value = str(value)
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = value.encode("utf-8", "replace")
    value = raw.decode("utf-8", "replace")
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", value)


def _one_line(value: str, limit: int) -> str:
    return " ".join(clean_text(value).split())[:limit]


def _decode_header(raw: str) -> str:
    """An RFC 2047 header value as text; undecodable parts are kept as they came."""
    raw = re.sub(r"\r?\n[ \t]+", " ", raw)
    try:
        return str(make_header(decode_header(raw)))
    except Exception:  # unknown charsets, broken encoded words: keep the raw text
        return raw


def _headers(message: Message) -> list[tuple[str, str]]:
    """The message's headers, raw (never through the policy's parser, which can raise)."""
    items = []
    total = 0
    limit = settings.VOC_INBOUND_MAX_HEADER_BYTES
    for name, value in message.raw_items():
        name, value = str(name), str(value)
        total += len(name) + len(value) + 4
        if total > limit:
            raise InboundRejected(400, f"The email's headers are larger than {limit} bytes.")
        items.append((name, value))
    return items


def _first(headers: list[tuple[str, str]], name: str) -> str:
    lowered = name.lower()
    for key, value in headers:
        if key.lower() == lowered:
            return value
    return ""


def _param_text(value: str | tuple[str | None, str | None, str] | None) -> str:
    """A MIME parameter's value; an RFC 2231 one (charset, language, text) decoded."""
    if isinstance(value, tuple):
        return collapse_rfc2231_value(value)
    return value or ""


def _all(headers: list[tuple[str, str]], name: str) -> list[str]:
    lowered = name.lower()
    return [value for key, value in headers if key.lower() == lowered]


def normalise_address(address: str) -> str:
    """A lower-case address, or "" if it is not one (also if it held a card number)."""
    address = clean_text(address).strip().strip("<>").lower()
    if not address or len(address) > 254 or redact_text(address) != address:
        return ""
    try:
        validate_email(address)
    except ValidationError:
        return ""
    return address


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    """(display name, address) pairs from address headers; bad entries are dropped."""
    pairs = []
    try:
        parsed = getaddresses([_decode_header(value) for value in values])
    except Exception:  # getaddresses is forgiving, but the input is hostile
        return []
    for name, address in parsed[: MAX_ADDRESSES * 2]:
        address = normalise_address(address)
        if address:
            pairs.append((name, address))
    return pairs[:MAX_ADDRESSES]


def safe_id(value: str, redactor: Redactor | None = None) -> str:
    """A Message-ID as stored: without angle brackets, bounded, and never holding a card number,
    an SSN or an admin pattern (such an id, or an overlong one, becomes a keyed hash: stable, so
    threading still works). Ids are not redacted in place: a timestamp-like id often looks like
    a card number to the redaction rules, and two different ids must never become the same
    placeholder. A stored hash given back (In-Reply-To of a reply VoC sent) stays as it is."""
    value = clean_text(value).strip().strip("<>").strip()
    if not value:
        return ""
    redactor = redactor or build_redactor()
    if len(value) > MAX_ID:
        key = settings.SECRET_KEY.encode()
        return "hash-" + hmac.new(key, value.encode(), hashlib.sha256).hexdigest()
    return redactor.identifier(value)


def _ids(raw: str, redactor: Redactor) -> list[str]:
    found = _ID.findall(raw[:100_000])
    if not found and raw.strip() and " " not in raw.strip():
        found = [raw.strip()]
    return [ident for ident in (safe_id(value, redactor) for value in found) if ident]


def _date(raw: str) -> datetime | None:
    if not raw:
        return None
    try:
        parsed = parsedate_to_datetime(clean_text(raw).strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if parsed is None or not 1970 <= parsed.year <= 2199:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _decode_part(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:  # a broken transfer encoding
        return ""
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "utf-8"
    try:
        return payload.decode(charset, "replace")
    except Exception:  # codecs that are not text encodings
        return payload.decode("utf-8", "replace")


def html_to_text(markup: str) -> str:
    """Safe plain text from an HTML body: tags removed (scripts, styles and the like with their
    content), nothing loaded from anywhere, block elements kept as line breaks."""
    if not markup:
        return ""
    markup = _BLOCK_TAG.sub(lambda m: "\n" + m.group(0), markup)
    cleaned = nh3.clean(
        markup,
        tags=set(),
        clean_content_tags={"script", "style", "head", "title", "noscript", "template"},
        attributes={},
    )
    text = html.unescape(cleaned)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    # Opening and closing tags both break the line: one break between blocks is enough.
    return _BLANK_LINES.sub("\n", "\n".join(lines)).strip()


def _body_and_attachments(
    message: Message, redactor: Redactor
) -> tuple[str, list[Attachment], str]:
    """(body text, attachments, top-level content type). Prefers the first text/plain part
    that is not an attachment, then the first text/html one."""
    plain = markup = None
    attachments: list[Attachment] = []
    parts = 0
    for part in message.walk():
        parts += 1
        if parts > MAX_PARTS:
            raise InboundRejected(400, f"The email has more than {MAX_PARTS} MIME parts.")
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        disposition = part.get_content_disposition()
        filename = None
        try:
            filename = part.get_filename()
        except Exception:  # a malformed parameter
            filename = None
        if (
            disposition == "attachment"
            or (filename and disposition != "inline")
            or (filename and not content_type.startswith("text/"))
        ):
            if len(attachments) < MAX_ATTACHMENTS:
                try:
                    size = len(part.get_payload(decode=True) or b"")
                except Exception:
                    size = 0
                attachments.append(
                    {
                        "name": redactor.text(_one_line(_decode_header(filename or ""), 200)),
                        "type": _one_line(content_type, 100),
                        "size": size,
                    }
                )
            continue
        if content_type == "text/plain" and plain is None:
            plain = _decode_part(part)
        elif content_type == "text/html" and markup is None:
            markup = _decode_part(part)
    if plain is not None and plain.strip():
        text = plain
    elif markup is not None:
        text = html_to_text(markup)
    else:
        text = plain or ""
    return clean_text(text).strip(), attachments, message.get_content_type()


def _classify(
    headers: list[tuple[str, str]],
    content_type: str,
    report_type: str,
    from_address: str,
    subject: str,
    spam_detected: bool | None,
    spam_score: float | None,
) -> str:
    Kind = InboundEmail.Kind
    if spam_detected or (spam_score is not None and spam_score >= settings.VOC_INBOUND_SPAM_SCORE):
        return Kind.SPAM
    if from_address.split("@")[0] in _BOUNCE_SENDERS or (
        content_type == "multipart/report" and report_type == "delivery-status"
    ):
        return Kind.BOUNCE
    auto_submitted = _first(headers, "Auto-Submitted").split(";")[0].strip().lower()
    precedence = _first(headers, "Precedence").strip().lower()
    if (
        (auto_submitted and auto_submitted != "no")
        or _all(headers, "X-Autoreply")
        or _all(headers, "X-Autorespond")
        or precedence == "auto_reply"
        or _OUT_OF_OFFICE.match(subject)
    ):
        return Kind.AUTO_REPLY
    return Kind.MESSAGE


def derived_message_id(*, from_address: str, date: str, subject: str, text: str) -> str:
    """For an email without a Message-ID: the same email delivered again gets the same id."""
    digest = hashlib.sha256(
        "\n".join([from_address, date.strip(), subject, text]).encode("utf-8", "replace")
    ).hexdigest()
    return f"derived-{digest}"


def parse_email(
    message: Message, *, envelope_recipient: str = "", redactor: Redactor | None = None
) -> ParsedEmail:
    """Everything VoC keeps of one email, redacted; raises InboundRejected over the limits.

    ``redactor``: the request's (contacts.redaction_rules.redactor(): the built-in rules and
    the admin's patterns); read from the database when not given."""
    redactor = redactor or build_redactor()
    headers = _headers(message)
    body, attachments, content_type = _body_and_attachments(message, redactor)
    limit = settings.VOC_INBOUND_MAX_BODY_CHARS
    if len(body) > limit:
        raise InboundRejected(413, f"The email's text is longer than {limit} characters.")

    senders = _addresses(_all(headers, "From"))
    from_name, from_address = senders[0] if senders else ("", "")
    subject = redactor.text(_one_line(_decode_header(_first(headers, "Subject")), 998))
    text = redactor.text(body)
    bcc = [address for _, address in _addresses(_all(headers, "Bcc"))]
    for extra in (
        envelope_recipient,
        *_all(headers, "Delivered-To"),
        *_all(headers, "X-Original-To"),
    ):
        address = normalise_address(_decode_header(extra or ""))
        if address and address not in bcc:
            bcc.append(address)
    spam_detected = getattr(message, "spam_detected", None)
    spam_score = getattr(message, "spam_score", None)
    if not isinstance(spam_score, int | float) or spam_score != spam_score:  # NaN
        spam_score = None
    try:
        report_type = _param_text(message.get_param("report-type")).lower()
    except Exception:
        report_type = ""

    date_raw = _first(headers, "Date")
    message_ids = _ids(_first(headers, "Message-ID"), redactor)
    message_id = message_ids[0] if message_ids else ""
    if not message_id:
        message_id = derived_message_id(
            from_address=from_address, date=clean_text(date_raw), subject=subject, text=text
        )
    in_reply_to = (_ids(_first(headers, "In-Reply-To"), redactor) or [""])[0]
    references = _ids(" ".join(_all(headers, "References")), redactor)
    if len(references) > MAX_REFERENCES:  # the root and the most recent ones matter
        references = [references[0], *references[-(MAX_REFERENCES - 1) :]]

    kept_headers = {}
    for name in CLASSIFYING_HEADERS:
        value = _first(headers, name)
        if value:
            kept_headers[name] = redactor.text(_one_line(_decode_header(value), 200))
    return ParsedEmail(
        message_id=message_id,
        sent_at=_date(date_raw),
        from_address=from_address,
        from_name=redactor.text(_one_line(from_name, 200)),
        to=[address for _, address in _addresses(_all(headers, "To"))],
        cc=[address for _, address in _addresses(_all(headers, "Cc"))],
        bcc=bcc,
        subject=subject,
        in_reply_to=in_reply_to,
        references=references,
        text=text,
        headers=kept_headers,
        spam_detected=spam_detected if isinstance(spam_detected, bool) else None,
        spam_score=float(spam_score) if spam_score is not None else None,
        attachments=attachments,
        kind=_classify(
            headers,
            content_type,
            report_type,
            from_address,
            subject,
            spam_detected,
            spam_score,
        ),
    )
