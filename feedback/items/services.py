"""Recording feedback items: the one write path every source uses (the API, the import, survey
answers, a complaint typed by hand), so each item is redacted through the one entry point,
banded, scored for sentiment, given a topic and audited the same way, and the feedback rollups
follow in the same transaction.

``feedback_item_record`` is idempotent on (source, external_id) when an external id is given:
a re-sent item updates the stored one. ``feedback_items_ingest`` does the same for a batch of
rows (the bulk API, the import) with a fixed number of queries whatever its size.

The topic: a reason given by hand wins, then the linked contact's reason, then the first
enabled keyword rule that matches the verbatim (feedback/items/topics.py).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from contacts.ingest.records import ParseOptions, RowError
from contacts.ingest.service import MAX_BATCH, RejectedRow, parse_options
from contacts.models import Contact, ContactReason, Customer
from contacts.redaction_rules import redactor
from contacts.sentiment import sentiment_score
from feedback.items.records import (
    MAX_VERBATIM,
    ItemRecord,
    check_score,
    parse_item_row,
    score_band,
)
from feedback.items.rollups import FeedbackDelta, contribution
from feedback.items.topics import TopicMatcher, topic_rules_active
from feedback.models import FeedbackItem
from voc.core.audit import Actor, audit_record
from voc.core.errors import Conflict
from voc.people.models import User

Kind = FeedbackItem.Kind
Band = FeedbackItem.Band
TopicSource = FeedbackItem.TopicSource
__all__ = [
    "MAX_BATCH",
    "MAX_VERBATIM",
    "ItemSaved",
    "check_score",
    "feedback_item_record",
    "feedback_item_submit",
    "feedback_items_ingest",
    "score_band",
]

AUDIT_LABELS = {
    "feedback.record": "recorded the feedback item",
    "feedback.update": "updated the feedback item",
    "feedback.ingest": "received a batch of feedback items",
}
# Every writer that creates items by (source, external_id) holds this for its transaction,
# so two batches (or a batch and a single item) never insert the same item at once.
_WRITE_LOCK = 0x766F_6366_6974  # "vocfit"


@dataclass(frozen=True)
class ItemSaved:
    item: FeedbackItem
    created: bool


def _hold_write_lock() -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_WRITE_LOCK])


def _resolve_topic(
    reason: ContactReason | None, contact: Contact | None, text: str, rules: TopicMatcher | None
) -> tuple[int | None, str]:
    """(reason id, topic source): by hand, from the contact, by a rule, or none."""
    if reason is not None:
        return reason.id, TopicSource.HAND
    if contact is not None and contact.reason_id is not None:
        return contact.reason_id, TopicSource.CONTACT
    matcher = rules if rules is not None else topic_rules_active()
    rule_reason = matcher.reason_id(text)
    if rule_reason is not None:
        return rule_reason, TopicSource.RULE
    return None, ""


def feedback_item_record(
    *,
    kind: str,
    source: str,
    by: Actor,
    score: int | None = None,
    verbatim: str = "",
    external_id: str = "",
    customer: Customer | None = None,
    contact: Contact | None = None,
    reason: ContactReason | None = None,
    channel: str = "",
    received_at: datetime | None = None,
) -> ItemSaved:
    """Record (or, for a known source and external id, update) one feedback item.

    A linked contact supplies the customer, channel, team and topic when they are not given;
    the customer's current segment is kept on the item."""
    check_score(kind, score)
    if not source.strip():
        raise ValidationError({"source": "Say where the feedback came from."})
    if len(verbatim) > MAX_VERBATIM:
        raise ValidationError({"verbatim": f"Keep the text under {MAX_VERBATIM} characters."})
    received_given = received_at is not None
    received_at = received_at or timezone.now()
    if timezone.is_naive(received_at):
        raise ValidationError({"received_at": "Give the time with its time zone."})
    redact = redactor()
    text = redact.text(verbatim.strip())
    external_id = redact.identifier(external_id.strip()) if external_id.strip() else ""
    if contact is not None:
        customer = customer or contact.customer
        channel = channel or contact.channel
    reason_id, topic_source = _resolve_topic(reason, contact, text, None)
    values = {
        "kind": kind,
        "score": score,
        "band": score_band(kind, score),
        "verbatim": text,
        "customer": customer,
        "contact": contact,
        "reason_id": reason_id,
        "topic_source": topic_source,
        "channel": channel,
        "team_id": contact.team_id if contact is not None else None,
        "customer_segment": customer.segment if customer is not None else "",
        "sentiment": sentiment_score(text) if text else None,
        "received_at": received_at,
    }
    author = by if isinstance(by, User) else None
    delta = FeedbackDelta()
    with transaction.atomic():
        if external_id:
            _hold_write_lock()
            item, created = FeedbackItem.objects.select_for_update().get_or_create(
                source=source, external_id=external_id, defaults={**values, "created_by": author}
            )
            if not created:
                delta.add_rows([contribution(item)], sign=-1)
                if not received_given:  # a re-send without a time keeps the stored one
                    values["received_at"] = item.received_at
                for name, value in values.items():
                    setattr(item, name, value)
                item.save()
        else:
            item = FeedbackItem.objects.create(source=source, created_by=author, **values)
            created = True
        delta.add_rows([contribution(item)])
        delta.apply()
        audit_record(
            by=by,
            action="feedback.record" if created else "feedback.update",
            target=item,
            customer_id=item.customer_id,
        )
    return ItemSaved(item, created)


def feedback_item_submit(*, row: Mapping[str, Any], source: str, by: Actor) -> ItemSaved:
    """One item sent in feedback field names (the API): customer, contact and topic named by
    reference are resolved as in a batch, then recorded by ``feedback_item_record``.
    ValidationError by field for a row that cannot be stored, Conflict for a customer,
    contact or reason that is not stored."""
    try:
        record = parse_item_row(
            {**row, "source": source}, parse_options(source=source), external_id_required=False
        )
    except RowError as error:
        raise ValidationError({error.field: error.reason}) from None
    try:  # well formed, but naming what is not stored
        links = _Links([record])
        customer = links.customer(record)
        contact = links.contact(record)
        reason_id = links.reason_id(record.reason_path)
    except RowError as error:
        raise Conflict({error.field: error.reason}) from None
    return feedback_item_record(
        kind=record.kind,
        source=source,
        by=by,
        score=record.score,
        verbatim=str(row.get("verbatim") or ""),
        external_id=str(row.get("external_id") or ""),
        customer=Customer.objects.get(id=customer[0]) if customer else None,
        contact=(
            Contact.objects.select_related("customer", "reason").get(id=contact["id"])
            if contact
            else None
        ),
        reason=ContactReason.objects.get(id=reason_id) if reason_id else None,
        channel=record.channel,
        received_at=record.received_at if record.received_given else None,
    )


# --- batches: the bulk API and the import ----------------------------------------------------


@dataclass
class IngestResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected),
        }


# The columns a batch writes, compared with the stored item to tell an unchanged row.
_WRITTEN = (
    "kind", "score", "band", "verbatim", "customer_id", "contact_id", "reason_id",
    "topic_source", "channel", "team_id", "customer_segment", "sentiment", "received_at",
)  # fmt: skip


class _Links:
    """Customers, contacts and reasons a batch names, resolved with a few set queries."""

    def __init__(self, records: list[ItemRecord]) -> None:
        refs = {r.customer_ref for r in records if r.customer_ref}
        emails = {r.customer_email for r in records if r.customer_email and not r.customer_ref}
        self.by_ref: dict[str, tuple[int, str]] = {}
        self.by_email: dict[str, tuple[int, str]] = {}
        merged: dict[int, list[tuple[str, str]]] = {}
        if refs or emails:
            found = (
                Customer.objects.annotate(lower_email=Lower("email"))
                .filter(Q(external_ref__in=refs) | Q(lower_email__in=emails))
                .values_list("id", "external_ref", "email", "segment", "merged_into_id")
            )
            for pk, ref, email, segment, merged_into in found:
                keys = [("ref", ref)] if ref in refs else []
                if email and email.lower() in emails:
                    keys.append(("email", email.lower()))
                if merged_into:
                    merged.setdefault(merged_into, []).extend(keys)
                    continue
                for index, key in keys:
                    target = self.by_ref if index == "ref" else self.by_email
                    target.setdefault(key, (pk, segment))
        if merged:  # a merged-away customer is linked as the one it was merged into
            for pk, segment in Customer.objects.filter(id__in=merged).values_list("id", "segment"):
                for index, key in merged[pk]:
                    target = self.by_ref if index == "ref" else self.by_email
                    target.setdefault(key, (pk, segment))
        pairs: dict[str, set[str]] = {}
        for r in records:
            if r.contact_external_id:
                pairs.setdefault(r.contact_source, set()).add(r.contact_external_id)
        self.contacts: dict[tuple[str, str], dict[str, Any]] = {}
        if pairs:
            condition = Q()
            for source, ids in pairs.items():
                condition |= Q(source=source, external_id__in=ids)
            for row in (
                Contact.objects.filter(condition)
                .select_related(None)
                .values(
                    "id", "source", "external_id", "customer_id", "customer__segment",
                    "channel", "team_id", "reason_id",
                )
            ):  # fmt: skip
                self.contacts[(row["source"], row["external_id"])] = row
        self.reasons: dict[tuple[str, str], int] | None = None
        if any(r.reason_path for r in records):
            self.reasons = {}
            for pk, name, parent, merged_into in ContactReason.objects.values_list(
                "id", "name", "parent__name", "merged_into_id"
            ):
                self.reasons[((parent or "").lower(), name.lower())] = merged_into or pk

    def customer(self, record: ItemRecord) -> tuple[int, str] | None:
        if record.customer_ref:
            found = self.by_ref.get(record.customer_ref)
            if found is None:
                raise RowError("customer_ref", "is not a known customer")
            return found
        if record.customer_email:
            found = self.by_email.get(record.customer_email)
            if found is None:
                raise RowError("customer_email", "is not a known customer's email")
            return found
        return None

    def contact(self, record: ItemRecord) -> dict[str, Any] | None:
        if not record.contact_external_id:
            return None
        found = self.contacts.get((record.contact_source, record.contact_external_id))
        if found is None:
            raise RowError("contact_external_id", "is not a known contact of that source")
        return found

    def reason_id(self, path: tuple[str, ...]) -> int | None:
        if not path or self.reasons is None:
            return None
        parent, name = ("", path[0]) if len(path) == 1 else path
        found = self.reasons.get((parent.lower(), name.lower()))
        if found is None:
            raise RowError("reason", "is not in the contact-reason taxonomy")
        return found


def _values(record: ItemRecord, links: _Links, rules: TopicMatcher) -> dict[str, Any]:
    customer = links.customer(record)
    contact = links.contact(record)
    hand_reason = links.reason_id(record.reason_path)
    customer_id, segment = customer if customer else (None, "")
    channel = record.channel
    if contact is not None:
        if customer is None and contact["customer_id"]:
            customer_id, segment = contact["customer_id"], contact["customer__segment"]
        channel = channel or contact["channel"]
    if hand_reason is not None:
        reason_id, topic_source = hand_reason, TopicSource.HAND
    elif contact is not None and contact["reason_id"]:
        reason_id, topic_source = contact["reason_id"], TopicSource.CONTACT
    else:
        reason_id = rules.reason_id(record.verbatim)
        topic_source = TopicSource.RULE if reason_id is not None else ""
    return {
        "kind": record.kind,
        "score": record.score,
        "band": record.band,
        "verbatim": record.verbatim,
        "customer_id": customer_id,
        "contact_id": contact["id"] if contact else None,
        "reason_id": reason_id,
        "topic_source": topic_source,
        "channel": channel,
        "team_id": contact["team_id"] if contact else None,
        "customer_segment": segment,
        "sentiment": sentiment_score(record.verbatim) if record.verbatim else None,
        "received_at": record.received_at,
    }


def feedback_items_ingest(
    *,
    rows: Iterable[object],
    by: Actor,
    options: ParseOptions | None = None,
    first_index: int = 0,
) -> IngestResult:
    """Parse, link and store a batch of rows (dicts of feedback field names, see
    feedback/items/records.py, or ItemRecords already parsed) in one transaction. A bad row is
    rejected with its index, field and reason; the good ones are kept. Rows are idempotent on
    (source, external_id): an identical re-send is counted unchanged, a changed one updates
    the item. The number of queries does not grow with the rows (one INSERT or UPDATE a few
    thousand rows aside); one audit entry records the batch's counts."""
    options = options or parse_options()
    result = IngestResult()
    parsed: list[tuple[int, ItemRecord]] = []
    seen: dict[tuple[str, str], int] = {}
    for index, row in enumerate(rows, start=first_index):
        if index - first_index >= MAX_BATCH:
            raise ValueError(f"a batch holds at most {MAX_BATCH} rows")
        try:
            record = row if isinstance(row, ItemRecord) else parse_item_row(row, options)
        except RowError as error:
            result.rejected.append(RejectedRow(index, error.field, error.reason))
            continue
        identity = (record.source, record.external_id)
        if identity in seen:
            result.rejected.append(
                RejectedRow(index, "external_id", f"repeats the item of row {seen[identity]}")
            )
            continue
        seen[identity] = index
        parsed.append((index, record))
    if parsed:
        with transaction.atomic():
            _write(parsed, result, by)
            if result.created or result.updated:
                audit_record(by=by, action="feedback.ingest", changes=result.counts())
    result.rejected.sort(key=lambda rejected: rejected.index)
    return result


def _write(parsed: list[tuple[int, ItemRecord]], result: IngestResult, by: Actor) -> None:
    links = _Links([record for _, record in parsed])
    rules = topic_rules_active()
    ready: list[tuple[ItemRecord, dict[str, Any]]] = []
    for index, record in parsed:
        try:
            ready.append((record, _values(record, links, rules)))
        except RowError as error:
            result.rejected.append(RejectedRow(index, error.field, error.reason))
    if not ready:
        return
    _hold_write_lock()
    by_source: dict[str, list[str]] = {}
    for record, _ in ready:
        by_source.setdefault(record.source, []).append(record.external_id)
    condition = Q()
    for source, ids in by_source.items():
        condition |= Q(source=source, external_id__in=ids)
    stored = {
        (row["source"], row["external_id"]): row
        for row in FeedbackItem.objects.select_for_update()
        .filter(condition)
        .order_by("id")
        .values("id", "source", "external_id", *_WRITTEN)
    }
    author = by if isinstance(by, User) else None
    delta = FeedbackDelta()
    to_create: list[FeedbackItem] = []
    to_update: list[FeedbackItem] = []
    for record, values in ready:
        current = stored.get((record.source, record.external_id))
        if current is None:
            to_create.append(
                FeedbackItem(
                    source=record.source, external_id=record.external_id, created_by=author,
                    **values,
                )
            )  # fmt: skip
            delta.add_rows([values])
            continue
        if not record.received_given:
            values["received_at"] = current["received_at"]
        if all(current[name] == values[name] for name in _WRITTEN):
            result.unchanged += 1
            continue
        delta.add_rows([current], sign=-1)
        delta.add_rows([values])
        to_update.append(FeedbackItem(id=current["id"], **values))
    if to_create:
        FeedbackItem.objects.bulk_create(to_create, batch_size=2000)
    if to_update:
        now = timezone.now()
        for item in to_update:
            item.updated_at = now
        FeedbackItem.objects.bulk_update(
            to_update, [*_UPDATE_FIELDS, "updated_at"], batch_size=1000
        )
    delta.apply()
    result.created += len(to_create)
    result.updated += len(to_update)


_UPDATE_FIELDS = [name.removesuffix("_id") for name in _WRITTEN]
