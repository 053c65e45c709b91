"""Parsing one incoming contact row into a clean, redacted record.

Every ingestion path (REST API, bulk API, file import, admin, rep pages) turns its input into
rows of VoC's own field names (documented in docs/ingest.md) and parses them here, so the
rules are the same everywhere. A problem is reported as (field, reason) and never includes the
rejected value: it may be a card number.
"""

import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, tzinfo
from typing import Any

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from contacts.models import Channel, Contact, Customer, Message
from contacts.redaction import Redactor, redact_split_cards
from contacts.redaction_rules import identifier_key
from voc.core.imports.rows import RowError

MAX_TEXT = 100_000  # characters in one message, notes or subject before a row is refused
MAX_MESSAGES = 500
MIN_YEAR, MAX_YEAR = 1900, 2199
MAX_TAGS = 30
REASON_SEPARATOR = re.compile(r"\s*(?:›|>|/)\s*")
# Why text that can't be stored is refused (the value itself is never reported).
NUL_REASON = "contains a NUL character"
NOT_TEXT_REASON = "contains an unpaired surrogate (\\ud800-\\udfff), which is not text"

FIELDS = {
    "source", "external_id", "channel", "direction", "occurred_at",
    "customer_ref", "customer_name", "customer_email", "customer_phone", "customer_segment",
    "rep", "team", "reason", "tags", "subject", "notes", "handle_seconds", "wait_seconds",
    "outcome", "first_contact_resolution", "road", "messages", "text",
}  # fmt: skip
REQUIRED = ("external_id", "channel")
MESSAGE_FIELDS = {"external_id", "direction", "author", "sent_at", "text"}


# An unknown field is named in an error only when its name is plain letters and underscores
# (a misspelt field); any other name could be a card number or other customer data.
_PLAIN_NAME = re.compile(r"[A-Za-z_]{1,64}")
UNKNOWN_FIELD_REASON = "is not a field VoC knows (see docs/ingest.md)"
UNNAMED_FIELD_REASON = (
    "has a field VoC doesn't know, whose name is not repeated here because it holds digits "
    "or symbols (see docs/ingest.md)"
)


def _unknown_field_error(names: set, *, where: str) -> "RowError":
    plain = sorted(name for name in names if isinstance(name, str) and _PLAIN_NAME.fullmatch(name))
    if plain:
        return RowError(f"{where}.{plain[0]}" if where != "row" else plain[0], UNKNOWN_FIELD_REASON)
    return RowError(where, UNNAMED_FIELD_REASON)


@dataclass
class MessageRecord:
    external_id: str
    position: int
    direction: str
    author: str
    sent_at: datetime | None
    text: str


@dataclass
class ContactRecord:
    source: str
    external_id: str
    channel: str
    direction: str
    occurred_at: datetime
    customer_ref: str = ""
    customer_name: str = ""
    customer_email: str = ""
    customer_phone: str = ""
    customer_segment: str = ""
    rep: str = ""
    team: str = ""
    reason_path: tuple[str, ...] = ()
    tags: list[str] = field(default_factory=list)
    subject: str = ""
    notes: str = ""
    handle_seconds: int | None = None
    outcome: str = ""
    first_contact_resolution: bool | None = None
    road: int | None = None
    wait_seconds: int | None = None
    # occurred_at is a day without a time, stored at noon UTC (see Contact.occurred_date_only).
    occurred_date_only: bool = False
    messages: list[MessageRecord] = field(default_factory=list)
    # content_hash(), once computed (a record is not changed after parse_row made it).
    digest: str = field(default="", compare=False, repr=False)
    # (field, tombstone kind, HMAC) of the identifiers an erasure would tombstone, once
    # computed (contacts.tombstones.record_erasure_keys).
    erasure_keys: tuple = field(default=(), compare=False, repr=False)
    # On PostgreSQL, the record's part of its COPY lines (contacts.ingest.pgcopy.
    # record_copy_text), when the file import's parsing processes formatted it ahead.
    copy_text: tuple = field(default=(), compare=False, repr=False)

    @property
    def has_customer(self) -> bool:
        return bool(self.customer_ref or self.customer_email or self.customer_phone)

    @property
    def customer_messages(self) -> int:
        """How many of its messages the customer wrote (Contact.customer_messages)."""
        return sum(message.direction == "incoming" for message in self.messages)

    def content_hash(self) -> str:
        """Changes when anything ingestion would write changes."""
        if self.digest:
            return self.digest
        payload: list[object] = [
            self.channel, self.direction, self.occurred_at.isoformat(), self.customer_ref,
            self.customer_name, self.customer_email, self.customer_phone, self.customer_segment,
            self.rep, self.team, list(self.reason_path), self.tags, self.subject, self.notes,
            self.handle_seconds, self.outcome, self.first_contact_resolution, self.road,
            [[m.external_id, m.direction, m.author, m.sent_at.isoformat() if m.sent_at else None,
              m.text] for m in self.messages],
        ]  # fmt: skip
        # Added only when given, so rows sent before these fields existed keep their digest.
        if self.wait_seconds is not None:
            payload.append({"wait_seconds": self.wait_seconds})
        if self.occurred_date_only:
            payload.append({"occurred_date_only": True})
        self.digest = hashlib.blake2b(json.dumps(payload).encode(), digest_size=16).hexdigest()
        return self.digest


@dataclass(frozen=True)
class ParseOptions:
    source: str | None = None  # wins over a row's own source when set (ingest tokens, imports)
    default_occurred_at: datetime | None = None
    naive_tz: tzinfo | None = None  # the time zone of dates without one
    phone_region: str = "US"
    strict_fields: bool = True  # unknown fields are an error (the API); imports map columns
    extra_patterns: Sequence = ()
    # The batch's redactor (contacts.redaction_rules.redactor()); when not given, one is built
    # from extra_patterns on first use.
    redactor: Redactor | None = None

    @functools.cached_property
    def redaction(self) -> Redactor:
        if self.redactor is not None:
            return self.redactor
        return Redactor(extra_patterns=tuple(self.extra_patterns), key=identifier_key())


def _is_text(value: str) -> bool:
    """False for a string holding an unpaired surrogate (U+D800-U+DFFF, which only a JSON
    "\\ud800"-style escape or Python code produces): it has no UTF-8 form, so no database can
    store it. Callers skip the call for ASCII (``value.isascii()``), which is all most text is."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_text(name: str, value: str) -> None:
    """RowError(name, ...) for a string that can't be stored (a NUL or an unpaired surrogate):
    every text parse_row keeps goes through here, through ``_text`` or directly (tags, reason
    names)."""
    if "\x00" in value:
        raise RowError(name, NUL_REASON)
    if not value.isascii() and not _is_text(value):
        raise RowError(name, NOT_TEXT_REASON)


def _raw_text(row: Mapping, name: str, *, max_length: int) -> str:
    value = row.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = str(value)
        else:
            raise RowError(name, "must be text")
    value = value.strip()
    _check_text(name, value)
    if len(value) > 2 * max_length + 100:  # too long whatever redaction does: spare the work
        raise RowError(name, f"is longer than {max_length} characters")
    return value


def _text(row: Mapping, name: str, *, max_length: int, options: ParseOptions) -> str:
    value = _raw_text(row, name, max_length=max_length)
    if not value:
        return ""
    # Redacted first, then measured: what is stored must fit (a placeholder is longer than
    # most card numbers; a long digit run becomes one placeholder).
    value = options.redaction.text(value)
    if len(value) > max_length:
        raise RowError(name, f"is longer than {max_length} characters")
    return value


def _identifier(row: Mapping, name: str, *, max_length: int, options: ParseOptions) -> str:
    """An id that finds its row again (external ids, customer references): never redacted in
    place, where two ids could become the same placeholder and their rows merge; one that
    holds a card number (or anything redaction takes) is stored as its keyed stand-in."""
    value = _raw_text(row, name, max_length=max_length)
    if not value:
        return ""
    if len(value) > max_length:
        raise RowError(name, f"is longer than {max_length} characters")
    return options.redaction.identifier(value)


@functools.cache
def _choice_values(choices) -> frozenset[str]:
    """The values of a choices class, computed once (``.values`` rebuilds a list each time)."""
    return frozenset(choices.values)


def _choice(row: Mapping, name: str, choices, *, default: str = "") -> str:
    value = row.get(name)
    if value in (None, ""):
        if not default:
            raise RowError(name, "is required")
        return default
    normalised = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    if normalised not in _choice_values(choices):
        raise RowError(name, f"must be one of {', '.join(choices.values)}")
    return normalised


# A day without a time, as ISO 8601 writes it (2026-11-23).
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_occurred(value: object, options: ParseOptions) -> tuple[datetime | None, bool]:
    """When a contact happened, and whether the source gave only its day. A day keeps its
    calendar date in every reporting time zone: it is stored at noon UTC and flagged, instead
    of at midnight of some zone, which a zone west of it would count on the day before."""
    if isinstance(value, str) and _ISO_DAY.fullmatch(value.strip()):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError:
            raise RowError("occurred_at", "is not a date in ISO 8601 (2026-11-23)") from None
        if not MIN_YEAR <= day.year <= MAX_YEAR:
            raise RowError("occurred_at", f"must be between the years {MIN_YEAR} and {MAX_YEAR}")
        return datetime.combine(day, time(12), tzinfo=UTC), True
    return parse_datetime_value(value, "occurred_at", options), False


def parse_datetime_value(value, name: str, options: ParseOptions) -> datetime | None:
    if value in (None, ""):
        return None
    parsed: datetime | None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = parse_datetime(value.strip())
        except ValueError:
            parsed = None
        if parsed is None:
            raise RowError(name, "is not a date and time in ISO 8601 (2026-11-23T14:05:00Z)")
    else:
        raise RowError(name, "must be a date and time in ISO 8601")
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        # Dates near either end of the calendar overflow day arithmetic (rollups, repeat
        # windows), and none of them is a real contact's.
        raise RowError(name, f"must be between the years {MIN_YEAR} and {MAX_YEAR}")
    if timezone.is_naive(parsed):
        parsed = timezone.make_aware(parsed, options.naive_tz or timezone.get_default_timezone())
    # Stored and compared in UTC; PostgreSQL refuses offsets beyond ±15:59 that Python reads.
    return parsed.astimezone(UTC)


def _int(row: Mapping, name: str, *, low: int, high: int) -> int | None:
    value = row.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise RowError(name, "must be a whole number")
    try:
        number = int(str(value).strip()) if not isinstance(value, int) else value
    except ValueError:
        try:
            as_float = float(str(value).strip())
        except ValueError:
            raise RowError(name, "must be a whole number") from None
        if not as_float.is_integer():
            raise RowError(name, "must be a whole number") from None
        number = int(as_float)
    if not low <= number <= high:
        raise RowError(name, f"must be between {low} and {high}")
    return number


def _bool(row: Mapping, name: str) -> bool | None:
    value = row.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "y", "t"}:
        return True
    if text in {"0", "false", "no", "n", "f"}:
        return False
    raise RowError(name, "must be true or false")


def _email(row: Mapping, options: ParseOptions) -> str:
    value = _text(row, "customer_email", max_length=254, options=options)
    if not value:
        return ""
    try:
        validate_email(value)
    except ValidationError:
        raise RowError("customer_email", "is not an email address") from None
    return value


def normalise_phone(value: str, region: str) -> str:
    """E.164 or a RowError. Raises for numbers that cannot be dialled."""
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        raise RowError("customer_phone", "is not a phone number") from None
    if not phonenumbers.is_possible_number(number):
        raise RowError("customer_phone", "is not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _tags(row: Mapping, options: ParseOptions) -> list[str]:
    value = row.get("tags")
    if value in (None, ""):
        return []
    if isinstance(value, str):
        _check_text("tags", value)
        items = value.split(",")
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        for item in value:
            _check_text("tags", item)
        items = value
    else:
        raise RowError("tags", "must be a list of text or comma-separated text")
    tags = sorted(
        {options.redaction.text(item.strip().lower())[:50] for item in items if item.strip()}
    )
    if len(tags) > MAX_TAGS:
        raise RowError("tags", f"has more than {MAX_TAGS} tags")
    return tags


def _reason_path(row: Mapping, options: ParseOptions) -> tuple[str, ...]:
    value = row.get("reason")
    if value in (None, ""):
        return ()
    parts: list[Any] | tuple[str, ...]
    if isinstance(value, list):
        for part in value:
            if isinstance(part, str):  # str() of anything else is plain text
                _check_text("reason", part)
        parts = value
    elif isinstance(value, str):
        _check_text("reason", value)
        parts = REASON_SEPARATOR.split(value.strip())
    else:
        raise RowError("reason", "must be text such as “Billing › Double charge”")
    parts = tuple(str(part).strip() for part in parts if str(part).strip())
    if not parts or len(parts) > 2:
        raise RowError("reason", "must be a reason or “Parent › Reason”")
    # Redacted (a mapping with create_missing makes new reasons from them, shown to everyone),
    # then cut, so no part of a card survives the cut.
    return tuple(options.redaction.text(part)[:120] for part in parts)


def _messages(row: Mapping, contact_direction: str, options: ParseOptions) -> list[MessageRecord]:
    raw = row.get("messages")
    if raw in (None, ""):
        raw = []
    if not isinstance(raw, list):
        raise RowError("messages", "must be a list")
    if raw and row.get("text") not in (None, ""):
        raise RowError("text", "give either text or messages, not both")
    if row.get("text") not in (None, ""):
        raw = [{"text": row["text"]}]
    if len(raw) > MAX_MESSAGES:
        raise RowError("messages", f"has more than {MAX_MESSAGES} messages")
    default_direction = (
        Message.Direction.INCOMING
        if contact_direction == Contact.Direction.INBOUND
        else Message.Direction.OUTGOING
    )
    messages = []
    seen: set[str] = set()
    for position, item in enumerate(raw):
        where = f"messages[{position}]"
        if not isinstance(item, Mapping):
            raise RowError(where, "must be an object with text")
        unknown = set(item) - MESSAGE_FIELDS
        if unknown and options.strict_fields:
            raise _unknown_field_error(unknown, where=where)
        try:
            text = _text(item, "text", max_length=MAX_TEXT, options=options)
            if not text:
                raise RowError("text", "is required")
            external_id = _identifier(item, "external_id", max_length=200, options=options)
            if external_id and external_id in seen:
                raise RowError("external_id", "is used twice in this contact")
            seen.add(external_id)
            direction = _choice(item, "direction", Message.Direction, default=default_direction)
            author = _text(item, "author", max_length=200, options=options)
            sent_at = parse_datetime_value(item.get("sent_at"), "sent_at", options)
        except RowError as error:
            raise RowError(f"{where}.{error.field}", error.reason) from None
        messages.append(MessageRecord(external_id, position, direction, author, sent_at, text))
    # A message sent without an id is known by its position ("0", "1", ...), unless another
    # message of the contact took that as its own id: then by "#<position>" (the same payload
    # always gives the same ids, so a re-sent contact still matches its messages).
    for message in messages:
        if not message.external_id:
            fallback = str(message.position)
            while fallback in seen:
                fallback = "#" + fallback
            seen.add(fallback)
            message.external_id = fallback
    # A card number split over consecutive messages ("my card is 4111 1111", "1111 1111").
    texts = redact_split_cards([message.text for message in messages])
    for message, text in zip(messages, texts, strict=True):
        message.text = text
    return messages


def parse_row(row: Mapping, options: ParseOptions) -> ContactRecord:
    """A ContactRecord, or RowError(field, reason) for the first problem found."""
    if not isinstance(row, Mapping):
        raise RowError("row", "must be an object of field names and values")
    if options.strict_fields:
        unknown = set(row) - FIELDS
        if unknown:
            raise _unknown_field_error(unknown, where="row")
    for name in REQUIRED:
        if row.get(name) in (None, ""):
            raise RowError(name, "is required")
    source = options.source or _text(row, "source", max_length=50, options=options)
    if not source:
        raise RowError("source", "is required")
    external_id = _identifier(row, "external_id", max_length=200, options=options)
    direction = _choice(row, "direction", Contact.Direction, default=Contact.Direction.INBOUND)
    occurred_at, date_only = parse_occurred(row.get("occurred_at"), options)
    occurred_at = occurred_at or options.default_occurred_at
    if occurred_at is None:
        raise RowError("occurred_at", "is required")
    phone = _text(row, "customer_phone", max_length=40, options=options)
    segment = row.get("customer_segment")
    record = ContactRecord(
        source=source,
        external_id=external_id,
        channel=_choice(row, "channel", Channel),
        direction=direction,
        occurred_at=occurred_at,
        customer_ref=_identifier(row, "customer_ref", max_length=100, options=options),
        customer_name=_text(row, "customer_name", max_length=200, options=options),
        customer_email=_email(row, options),
        customer_phone=normalise_phone(phone, options.phone_region) if phone else "",
        customer_segment=_choice(row, "customer_segment", Customer.Segment) if segment else "",
        rep=_text(row, "rep", max_length=150, options=options),
        team=_text(row, "team", max_length=100, options=options),
        reason_path=_reason_path(row, options),
        tags=_tags(row, options),
        subject=_text(row, "subject", max_length=300, options=options),
        notes=_text(row, "notes", max_length=MAX_TEXT, options=options),
        handle_seconds=_int(row, "handle_seconds", low=0, high=7 * 24 * 3600),
        outcome=_choice(row, "outcome", Contact.Outcome) if row.get("outcome") else "",
        first_contact_resolution=_bool(row, "first_contact_resolution"),
        road=_int(row, "road", low=1, high=4),
        wait_seconds=_int(row, "wait_seconds", low=0, high=7 * 24 * 3600),
        occurred_date_only=date_only,
    )
    record.messages = _messages(row, direction, options)
    return record


# The columns of a stored contact that a re-sent row rewrites.
CONTACT_UPDATE_FIELDS = (
    "customer_id", "channel", "direction", "occurred_at", "rep_id", "team_id", "reason_id",
    "tags", "subject", "notes", "handle_seconds", "outcome", "first_contact_resolution", "road",
    "sentiment", "content_hash", "repeat_of_id", "wait_seconds", "occurred_date_only",
    "customer_segment", "customer_messages",
)  # fmt: skip
