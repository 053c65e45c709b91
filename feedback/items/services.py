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
from contacts.ingest.service import MAX_BATCH, RejectedRow, fewer_gc_passes, parse_options
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
from feedback.items.rollups import CONTRIBUTION_FIELDS, FeedbackDelta, contribution
from feedback.items.topics import TopicMatcher, topic_rules_active
from feedback.models import FeedbackItem
from voc.core.audit import Actor, audit_record
from voc.core.errors import Conflict
from voc.core.pg import (
    array_literal,
    copy_datetime,
    copy_escape,
    copy_field,
    copy_int_or_null,
    copy_lines,
    next_ids,
)
from voc.core.queueing import enqueue
from voc.people.models import Team, User

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

SENTIMENT_TASK = "feedback.items_sentiment"
SENTIMENT_SWEEP = "feedback.items_sentiment_sweep"
SENTIMENT_BATCH = 1000

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
    team: Team | None = None,
    received_at: datetime | None = None,
) -> ItemSaved:
    """Record (or, for a known source and external id, update) one feedback item.

    A linked contact supplies the customer, channel, team and topic when they are not given
    (its team wins over ``team``: the item belongs where the contact was handled); ``team`` is
    for an item without a contact, such as a letter a rep logs for their team. The customer's
    current segment is kept on the item."""
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
        "team_id": contact.team_id if contact is not None else (team.pk if team else None),
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
                self.contacts[(row["source"], row["external_id"])] = dict(row)
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
    reason_id: int | None
    topic_source: str
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
        "sentiment": None,  # scored after commit (feedback_items_score_sentiment)
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
    with fewer_gc_passes():  # as contacts' batches: thousands of records alive, no cycles
        return _ingest(rows, by, options or parse_options(), first_index)


def _ingest(
    rows: Iterable[object], by: Actor, options: ParseOptions, first_index: int
) -> IngestResult:
    result = IngestResult()
    parsed: list[tuple[int, ItemRecord]] = []
    seen: dict[tuple[str, str], int] = {}
    known_refs: dict[str, str] = {}  # customer refs and their stand-ins, for this batch
    for index, row in enumerate(rows, start=first_index):
        if index - first_index >= MAX_BATCH:
            raise ValueError(f"a batch holds at most {MAX_BATCH} rows")
        try:
            record = (
                row
                if isinstance(row, ItemRecord)
                else parse_item_row(row, options, known_refs=known_refs)
            )
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
    to_score: list[int] = []
    if parsed:
        with transaction.atomic():
            to_score = _write(parsed, result, by)
            if result.created or result.updated:
                audit_record(by=by, action="feedback.ingest", changes=result.counts())
            if to_score:
                transaction.on_commit(lambda: _enqueue_sentiment(to_score))
    result.rejected.sort(key=lambda rejected: rejected.index)
    return result


def _enqueue_sentiment(item_ids: list[int]) -> None:
    """Never raises: with the broker down the sweep scores the items."""
    for start in range(0, len(item_ids), SENTIMENT_BATCH):
        batch = item_ids[start : start + SENTIMENT_BATCH]
        if not enqueue(SENTIMENT_TASK, batch, catch_up=SENTIMENT_SWEEP):
            break


def feedback_item_ids_unscored(*, limit: int = SENTIMENT_BATCH) -> list[int]:
    """Items with a verbatim and no sentiment yet (a batch's, until its task runs)."""
    return list(
        FeedbackItem.objects.filter(sentiment__isnull=True)
        .exclude(verbatim="")
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )


def feedback_items_score_sentiment(*, item_ids: Iterable[int]) -> int:
    """Score the sentiment of these items that still have none, and move their rollup
    contribution (negative sentiment) with it, in one transaction. Idempotent: an item scored
    already (by the task or the sweep) is skipped. Returns how many were scored."""
    ids = sorted(set(item_ids))
    if not ids:
        return 0
    with transaction.atomic():
        rows = list(
            FeedbackItem.objects.select_for_update()
            .filter(id__in=ids, sentiment__isnull=True)
            .exclude(verbatim="")
            .order_by("id")
            .values("verbatim", *CONTRIBUTION_FIELDS)
        )
        delta = FeedbackDelta()
        scored = []
        for row in rows:
            sentiment = sentiment_score(row["verbatim"])
            if sentiment is None:
                continue
            delta.add_rows([row], sign=-1)
            delta.add_rows([{**row, "sentiment": sentiment}])
            scored.append(FeedbackItem(id=row["id"], sentiment=sentiment))
        FeedbackItem.objects.bulk_update(scored, ["sentiment"], batch_size=1000)
        delta.apply()
    return len(scored)


def _write(parsed: list[tuple[int, ItemRecord]], result: IngestResult, by: Actor) -> list[int]:
    """Write the batch; returns the ids of the items whose sentiment is to be scored (new or
    changed verbatims: scored after commit, as contacts are, not while the batch waits)."""
    links = _Links([record for _, record in parsed])
    rules = topic_rules_active()
    ready: list[tuple[ItemRecord, dict[str, Any]]] = []
    for index, record in parsed:
        try:
            ready.append((record, _values(record, links, rules)))
        except RowError as error:
            result.rejected.append(RejectedRow(index, error.field, error.reason))
    if not ready:
        return []
    _hold_write_lock()
    by_source: dict[str, list[str]] = {}
    for record, _ in ready:
        by_source.setdefault(record.source, []).append(record.external_id)
    stored = _stored_items(by_source)
    author = by if isinstance(by, User) else None
    delta = FeedbackDelta()
    to_update: list[FeedbackItem] = []
    new_rows: list[tuple[ItemRecord, dict[str, Any]]] = []
    for record, values in ready:
        current = stored.get((record.source, record.external_id))
        if current is None:
            new_rows.append((record, values))
            continue
        if not record.received_given:
            values["received_at"] = current["received_at"]
        if current["verbatim"] == values["verbatim"]:
            values["sentiment"] = current["sentiment"]  # the same text: the same score
        if all(current[name] == values[name] for name in _WRITTEN):
            result.unchanged += 1
            continue
        delta.add_rows([current], sign=-1)
        delta.add_rows([values])
        to_update.append(FeedbackItem(id=current["id"], **values))
    delta.add_rows(values for _, values in new_rows)  # one pass for the batch's new items
    created_ids = _insert(new_rows, author)
    if to_update:
        now = timezone.now()
        for item in to_update:
            item.updated_at = now
        FeedbackItem.objects.bulk_update(
            to_update, [*_UPDATE_FIELDS, "updated_at"], batch_size=1000
        )
    delta.apply()
    result.created += len(new_rows)
    result.updated += len(to_update)
    return [
        *(pk for pk, (_, row) in zip(created_ids, new_rows, strict=True) if row["verbatim"]),
        *(item.id for item in to_update if item.verbatim and item.sentiment is None),
    ]


_UPDATE_FIELDS = [name.removesuffix("_id") for name in _WRITTEN]
_INSERTED = ("source", "external_id", *_WRITTEN)
_STORED = ("id", "source", "external_id", *_WRITTEN)
# The columns of a new item's COPY line, in the order _insert writes them.
_COPIED = ("id", *_INSERTED, "created_by_id", "created_at", "updated_at")


def _stored_items(by_source: dict[str, list[str]]) -> dict[tuple[str, str], dict[str, Any]]:
    """The stored items of these (source, external ids), locked in id order (one statement
    a source; on PostgreSQL the ids go as one array parameter, not a list of thousands)."""
    stored: dict[tuple[str, str], dict[str, Any]] = {}
    if connection.vendor == "postgresql":
        table = FeedbackItem._meta.db_table
        with connection.cursor() as cursor:
            for source, ids in sorted(by_source.items()):
                cursor.execute(
                    f"SELECT {', '.join(_STORED)} FROM {table} "  # noqa: S608
                    "WHERE source = %s AND external_id = ANY(%s::text[]) ORDER BY id FOR UPDATE",
                    [source, array_literal(ids)],
                )
                for values in cursor.fetchall():
                    row = dict(zip(_STORED, values, strict=True))
                    stored[(row["source"], row["external_id"])] = row
        return stored
    for source, ids in sorted(by_source.items()):
        for row in (
            FeedbackItem.objects.select_for_update()
            .filter(source=source, external_id__in=ids)
            .order_by("id")
            .values(*_STORED)
        ):
            stored[(row["source"], row["external_id"])] = row
    return stored


def _insert(rows: list[tuple[ItemRecord, dict[str, Any]]], author: User | None) -> list[int]:
    """Insert new items (their records and values); returns their ids in order. PostgreSQL:
    ids drawn from the sequence and the rows COPied in (the contacts ingest's fast path);
    elsewhere the ORM's bulk insert."""
    if not rows:
        return []
    now = timezone.now()
    if connection.vendor == "postgresql":
        ids = next_ids(FeedbackItem._meta.db_table, len(rows))
        # Each line written by hand in COPY's text format, the same for the whole batch at its
        # end (author, times): a generic writer asks every value its type. Kind, band and
        # topic source are one of their choices (checked or set by the parse): nothing to
        # escape in them.
        stamp = copy_datetime(now)
        author_id = copy_int_or_null(author.pk if author is not None else None)
        tail = f"\t{author_id}\t{stamp}\t{stamp}\n"
        escape, number = copy_escape, copy_int_or_null
        copy_lines(
            FeedbackItem._meta.db_table,
            _COPIED,
            [
                f"{pk}\t{escape(record.source)}\t{escape(record.external_id)}\t"
                f"{row['kind']}\t{number(row['score'])}\t{row['band']}\t"
                f"{escape(row['verbatim'])}\t{number(row['customer_id'])}\t"
                f"{number(row['contact_id'])}\t{number(row['reason_id'])}\t"
                f"{row['topic_source']}\t{escape(row['channel'])}\t"
                f"{number(row['team_id'])}\t{escape(row['customer_segment'])}\t"
                f"{copy_field(row['sentiment'])}\t{copy_datetime(row['received_at'])}{tail}"
                for pk, (record, row) in zip(ids, rows, strict=True)
            ],
        )
        return ids
    items = [
        FeedbackItem(
            created_by=author,
            created_at=now,
            source=record.source,
            external_id=record.external_id,
            **row,
        )
        for record, row in rows
    ]
    FeedbackItem.objects.bulk_create(items, batch_size=2000)
    return [item.pk for item in items]
