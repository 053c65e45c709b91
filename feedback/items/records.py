"""Parsing one incoming feedback row (the bulk API, an NDJSON or CSV import) into a clean,
redacted record, with the contacts ingest's rules for text, identifiers and times
(contacts/ingest/records.py). A problem is a ``RowError(field, reason)`` that never includes
the rejected value: it may be a card number.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.utils import timezone

from contacts.ingest.records import (
    NOT_TEXT_REASON,
    NUL_REASON,
    REASON_SEPARATOR,
    ParseOptions,
    RowError,
    parse_datetime_value,
)
from contacts.models import Channel
from feedback.models import FeedbackItem

MAX_VERBATIM = 20_000
FIELDS = frozenset(
    {
        "kind", "score", "verbatim", "source", "external_id", "received_at", "customer_ref",
        "customer_email", "contact_source", "contact_external_id", "reason", "channel",
    }
)  # fmt: skip
REQUIRED = ("external_id", "kind")
_PLAIN_NAME = re.compile(r"[A-Za-z_]{1,64}")
_DIGITS = re.compile(r"\s*[0-9]{1,3}\s*")
# Computed once: a choices class's .values builds a new list each time.
KINDS = tuple(FeedbackItem.Kind.values)
_KIND_SET = frozenset(KINDS)
CHANNELS = tuple(Channel.values)
_CHANNEL_SET = frozenset(CHANNELS)
_RANGES = {str(kind): bounds for kind, bounds in FeedbackItem.SCORE_RANGES.items()}
_LABELS = dict(FeedbackItem.Kind.choices)


@dataclass(slots=True)
class ItemRecord:
    """A parsed row: text redacted, identifiers replaced by their stand-in when they hold
    something redaction takes, the time in UTC."""

    kind: str
    score: int | None
    band: str
    verbatim: str
    source: str
    external_id: str
    received_at: datetime
    customer_ref: str = ""
    customer_email: str = ""
    contact_source: str = ""
    contact_external_id: str = ""
    reason_path: tuple[str, ...] = ()
    channel: str = ""
    # False when the row gave no time: a new item is received now, a stored one keeps its time.
    received_given: bool = True


def score_band(kind: str, score: int | None) -> str:
    """The band a score falls in (FeedbackItem's docstring); "" for kinds without a score.
    CES is agreement with "the company made it easy", so 3 or less is a detractor."""
    if score is None:
        return ""
    if kind == FeedbackItem.Kind.NPS:
        return "negative" if score <= 6 else "neutral" if score <= 8 else "positive"
    if kind == FeedbackItem.Kind.CSAT:
        return "negative" if score <= 2 else "neutral" if score == 3 else "positive"
    if kind == FeedbackItem.Kind.CES:
        return "negative" if score <= 3 else "neutral" if score == 4 else "positive"
    return ""


def score_problem(kind: str, score: int | None) -> tuple[str, str] | None:
    """(field, message) when the kind is unknown or the score does not fit it."""
    if kind not in _KIND_SET:
        return "kind", f"Choose one of: {', '.join(KINDS)}."
    bounds = _RANGES.get(kind)
    if bounds is None:
        if score is not None:
            return "score", f"A {_LABELS[kind].lower()} has no score."
        return None
    low, high = bounds
    if score is None or not low <= score <= high:
        return "score", f"Give a score from {low} to {high}."
    return None


def check_score(kind: str, score: int | None) -> None:
    problem = score_problem(kind, score)
    if problem is not None:
        raise ValidationError({problem[0]: problem[1]})


def _text(row: Mapping, name: str, max_length: int) -> str:
    value = row.get(name)
    if value is None:
        return ""
    if type(value) is not str:  # a plain str, the usual value, skips the type checks
        if isinstance(value, bool) or not isinstance(value, str | int):
            raise RowError(name, "must be text")
        value = str(value)
    value = value.strip()
    if "\x00" in value:
        raise RowError(name, NUL_REASON)
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise RowError(name, NOT_TEXT_REASON) from None
    if len(value) > max_length:
        raise RowError(name, f"is longer than {max_length:,} characters")
    return value


def _identifier(
    row: Mapping, name: str, max_length: int, options: ParseOptions, known: dict[str, str] | None
) -> str:
    """The redactor's identifier for the value (its keyed stand-in if it holds a card number),
    remembered in ``known`` when given: the rows of a batch name the same customers again."""
    value = _text(row, name, max_length)
    if not value:
        return ""
    if known is None:
        return options.redaction.identifier(value)
    stand_in = known.get(value)
    if stand_in is None:
        stand_in = known[value] = options.redaction.identifier(value)
    return stand_in


def _score(row: Mapping) -> int | None:
    value = row.get("score")
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise RowError("score", "must be a whole number")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value):  # a CSV cell
        return int(value)
    raise RowError("score", "must be a whole number")


def parse_item_row(
    row: object,
    options: ParseOptions,
    *,
    external_id_required: bool = True,
    known_refs: dict[str, str] | None = None,
) -> ItemRecord:
    """One row of feedback field names (FIELDS) as a record, or RowError. ``options.source``
    (an ingest token's, an import's) wins over the row's; with ``strict_fields`` an unknown
    field is an error, else it is ignored."""
    if not isinstance(row, Mapping):
        raise RowError("row", "must be a JSON object")
    if options.strict_fields:
        for name in row:
            if name not in FIELDS:
                if isinstance(name, str) and _PLAIN_NAME.fullmatch(name):
                    raise RowError(name, "is not a feedback field (see docs/feedback-items.md)")
                raise RowError("row", "has a field that is not a feedback field")
    kind = _text(row, "kind", 20).lower()
    if not kind:
        raise RowError("kind", "is required")
    score = _score(row)
    problem = score_problem(kind, score)
    if problem is not None:
        raise RowError(*problem)
    redaction = options.redaction
    source = options.source or _text(row, "source", 50)
    if not source:
        raise RowError("source", "is required (say where the feedback came from)")
    external_id = _text(row, "external_id", 200)
    if not external_id and external_id_required:
        raise RowError("external_id", "is required")
    verbatim = redaction.text(_text(row, "verbatim", MAX_VERBATIM * 2))
    if len(verbatim) > MAX_VERBATIM:
        raise RowError("verbatim", f"is longer than {MAX_VERBATIM:,} characters")
    received = parse_datetime_value(row.get("received_at"), "received_at", options)
    channel = _text(row, "channel", 20).lower().replace("-", "_").replace(" ", "_")
    if channel and channel not in _CHANNEL_SET:
        raise RowError("channel", f"must be one of {', '.join(CHANNELS)}")
    reason = row.get("reason")
    reason_path: tuple[str, ...] = ()
    if reason not in (None, ""):
        text = _text(row, "reason", 250)
        reason_path = tuple(part for part in REASON_SEPARATOR.split(text) if part)
        if len(reason_path) > 2:
            raise RowError("reason", "must be a reason or “Parent › Reason”")
    contact_external_id = _text(row, "contact_external_id", 200)
    return ItemRecord(
        kind=kind,
        score=score,
        band=score_band(kind, score),
        verbatim=verbatim,
        source=source,
        external_id=redaction.identifier(external_id) if external_id else "",
        received_at=received or options.default_occurred_at or timezone.now(),
        customer_ref=_identifier(row, "customer_ref", 100, options, known_refs),
        customer_email=_text(row, "customer_email", 254).lower(),
        contact_source=_text(row, "contact_source", 50) or (source if contact_external_id else ""),
        contact_external_id=(
            redaction.identifier(contact_external_id) if contact_external_id else ""
        ),
        reason_path=reason_path,
        channel=channel,
        received_given=received is not None,
    )
