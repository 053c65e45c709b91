"""The one ingest service behind every path that brings contacts in.

``contacts_ingest`` takes rows of VoC's field names, parses and redacts each one, and in one
transaction per batch: matches or creates customers, creates, updates or leaves unchanged each
contact by (source, external_id), replaces the messages of changed contacts, relinks repeat
contacts and applies the rollup deltas. A bad row is rejected with its index, field and reason;
the good rows of the batch are kept.
"""

import contextlib
import gc
import logging
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from typing import Any, Protocol, TypedDict, Unpack

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Lower

from contacts.changes import ContactState, contacts_lock, relinked_delta, widen_span
from contacts.ingest.pgcopy import CopyWriter
from contacts.ingest.records import (
    CONTACT_UPDATE_FIELDS,
    ContactRecord,
    ParseOptions,
    RowError,
    parse_row,
)
from contacts.models import Contact, ContactReason, Customer, Message
from contacts.queue import enqueue_sentiment_on_commit
from contacts.redaction_rules import extra_patterns
from contacts.repeats import (
    Relink,
    repeats_link_ahead,
    repeats_relink_spans,
    repeats_save_links,
)
from contacts.rollups import CONTRIBUTION_FIELDS, ContributionRow, RollupDelta
from contacts.tombstones import ERASED_REASON, erased_rows, hold_erasure_lock_shared
from voc.core.audit import INGEST, Actor, audit_record
from voc.core.pg import array_literal
from voc.people.models import Team, User

logger = logging.getLogger(__name__)

MAX_BATCH = 10_000

# A contact's column values by name, as a writer inserts or updates them (model field names
# with "_id" for references; "id" once known).
ContactValues = dict[str, Any]


@dataclass(frozen=True)
class RejectedRow:
    index: int
    field: str
    reason: str

    def as_dict(self) -> dict[str, int | str]:
        return {"index": self.index, "field": self.field, "reason": self.reason}


@dataclass
class IngestResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    written_contact_ids: list[int] = field(default_factory=list)

    def add(self, other: "IngestResult") -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.rejected.extend(other.rejected)
        self.written_contact_ids.extend(other.written_contact_ids)

    def counts(self) -> dict[str, int]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": len(self.rejected),
        }


class ParseOptionArgs(TypedDict, total=False):
    """ParseOptions' fields, for parse_options."""

    source: str | None
    default_occurred_at: datetime | None
    naive_tz: tzinfo | None
    phone_region: str
    strict_fields: bool
    extra_patterns: Sequence[tuple[str, re.Pattern[str]]]


def parse_options(**kwargs: Unpack[ParseOptionArgs]) -> ParseOptions:
    """ParseOptions with the admin's redaction patterns and the platform's phone region."""
    kwargs.setdefault("extra_patterns", extra_patterns())
    kwargs.setdefault("phone_region", settings.VOC_PHONE_REGION)
    return ParseOptions(**kwargs)


class _Lookups:
    """Reasons, teams, reps and customers for one batch, resolved with a few set queries."""

    def __init__(self, records: list[ContactRecord], *, create_reasons: bool) -> None:
        self.create_reasons = create_reasons
        self.reasons: dict[tuple[str, str], ContactReason] = {}
        for reason in ContactReason.objects.select_related("parent"):
            parent = reason.parent.name.lower() if reason.parent is not None else ""
            self.reasons[(parent, reason.name.lower())] = reason
        team_names = {r.team.lower() for r in records if r.team}
        self.teams: dict[str, int] = {
            name: team_id
            for team_id, name in Team.objects.annotate(lname=Lower("name"))
            .filter(lname__in=team_names)
            .values_list("id", "lname")
        }
        rep_keys = {r.rep.lower() for r in records if r.rep}
        self.reps: dict[str, tuple[int, int | None]] = {}
        for user_id, username, email, team_id in (
            User.objects.annotate(lu=Lower("username"), le=Lower("email"))
            .filter(Q(lu__in=rep_keys) | Q(le__in=rep_keys))
            .values_list("id", "lu", "le", "team_id")
        ):
            self.reps[username] = (user_id, team_id)
            if email:
                self.reps.setdefault(email, (user_id, team_id))

    def reason_id(self, path: tuple[str, ...]) -> int | None:
        if not path:
            return None
        parent_name, name = ("", path[0]) if len(path) == 1 else path
        key = (parent_name.lower(), name.lower())
        reason = self.reasons.get(key)
        if reason is None:
            if not self.create_reasons:
                raise RowError("reason", "is not in the contact-reason taxonomy")
            parent = None
            if parent_name:
                parent = self.reasons.get(("", parent_name.lower()))
                if parent is None:
                    parent = ContactReason.objects.create(name=parent_name)
                    self.reasons[("", parent_name.lower())] = parent
            reason = ContactReason.objects.create(name=name, parent=parent)
            self.reasons[key] = reason
        while reason.merged_into_id:  # merged reasons resolve to the reason that survived
            reason = ContactReason.objects.get(id=reason.merged_into_id)
        return reason.id

    def team_id(self, record: ContactRecord) -> int | None:
        if record.team:
            if record.team.lower() not in self.teams:
                raise RowError("team", "is not a VoC team")
            return self.teams[record.team.lower()]
        if record.rep:
            return self.reps[record.rep.lower()][1]
        return None

    def rep_id(self, record: ContactRecord) -> int | None:
        if not record.rep:
            return None
        if record.rep.lower() not in self.reps:
            raise RowError("rep", "is not a VoC user (give a username or email)")
        return self.reps[record.rep.lower()][0]


class Writer(Protocol):
    """The writes of one batch; ``contacts_ingest`` decides what they are."""

    def create_customers(self, customers: Sequence["_NewCustomer"]) -> None:
        """Insert new customers (objects with pk None, external_ref, name, email, phone and
        segment) and set their pk."""

    def assign_contact_ids(self, rows: list[ContactValues]) -> bool:
        """Set each new contact's "id" ahead of create_contacts, if this writer can; returns
        whether it did."""

    def create_contacts(self, rows: list[ContactValues], records: Sequence[ContactRecord]) -> None:
        """Insert contacts (dicts of column values, each made from the record at the same
        position, "repeat_of_id" among them when known) and set each one's "id" unless
        assign_contact_ids did."""

    def update_contacts(self, rows: list[ContactValues]) -> None:
        """Set CONTACT_UPDATE_FIELDS of existing contacts (dicts with "id")."""

    def delete_messages(self, contact_ids: list[int]) -> None: ...

    def create_messages(self, items: Iterable[tuple[int, ContactRecord]]) -> None:
        """Insert the messages of each record, for the contact with that id."""


class OrmWriter:
    """Django's bulk operations: the writer for SQLite, and the reference for the others."""

    def create_customers(self, customers: Sequence["_NewCustomer"]) -> None:
        models = [
            Customer(
                external_ref=c.external_ref, name=c.name, email=c.email, phone=c.phone,
                segment=c.segment,
            )
            for c in customers
        ]  # fmt: skip
        # PostgreSQL and SQLite >= 3.35 return the new ids from a bulk insert.
        Customer.objects.bulk_create(models, batch_size=2000)
        for customer, model in zip(customers, models, strict=True):
            customer.pk = model.pk

    def assign_contact_ids(self, rows: list[ContactValues]) -> bool:
        return False  # the database assigns them as it inserts

    def create_contacts(self, rows: list[ContactValues], records: Sequence[ContactRecord]) -> None:
        contacts = [Contact(**values) for values in rows]
        Contact.objects.bulk_create(contacts, batch_size=2000)
        for values, contact in zip(rows, contacts, strict=True):
            values["id"] = contact.id

    def update_contacts(self, rows: list[ContactValues]) -> None:
        fields = [name.removesuffix("_id") for name in CONTACT_UPDATE_FIELDS]
        contacts = [
            Contact(id=values["id"], **{name: values[name] for name in CONTACT_UPDATE_FIELDS})
            for values in rows
        ]
        Contact.objects.bulk_update(contacts, fields, batch_size=1000)

    def delete_messages(self, contact_ids: list[int]) -> None:
        Message.objects.filter(contact_id__in=contact_ids).delete()

    def create_messages(self, items: Iterable[tuple[int, ContactRecord]]) -> None:
        messages = [
            Message(
                contact_id=contact_id,
                external_id=message.external_id,
                position=message.position,
                direction=message.direction,
                author=message.author,
                sent_at=message.sent_at,
                text=message.text,
            )
            for contact_id, record in items
            for message in record.messages
        ]
        Message.objects.bulk_create(messages, batch_size=5000)


def default_writer() -> Writer:
    if connection.vendor == "postgresql":
        return CopyWriter()
    return OrmWriter()


class _KnownCustomer:
    """The matching fields of a stored customer, and its segment, without building a model
    instance."""

    __slots__ = ("email", "external_ref", "name", "phone", "pk", "segment")
    FIELDS = ("id", "external_ref", "name", "email", "phone", "segment")  # in __init__'s order

    def __init__(
        self,
        pk: int | None,
        external_ref: str | None,
        name: str,
        email: str,
        phone: str,
        segment: str,
    ) -> None:
        self.pk = pk
        self.external_ref = external_ref
        self.name = name
        self.email = email
        self.phone = phone
        self.segment = segment

    def stored_pk(self) -> int:
        """The pk of a stored customer (a new one's is set by the writer's create_customers)."""
        if self.pk is None:
            raise RuntimeError("The writer did not set a new customer's pk.")
        return self.pk


# Customers by external ref, email or phone; looked up with None for a record without one.
_CustomerIndex = dict[str | None, _KnownCustomer]


class _NewCustomer(_KnownCustomer):
    """A customer to create; the writer sets its pk."""

    __slots__ = ()


def _match_customers(
    records: list[ContactRecord], writer: Writer
) -> tuple[dict[int, tuple[int, str]], set[int]]:
    """Customer id and segment for each record position that names a customer, and the ids
    of the customers created for them (the missing ones).

    Matching order: external ref, then email (case-insensitive), then phone."""
    refs = {r.customer_ref for r in records if r.customer_ref}
    emails = {r.customer_email.lower() for r in records if r.customer_email}
    phones = {r.customer_phone for r in records if r.customer_phone}
    by_ref: _CustomerIndex = {}
    by_email: _CustomerIndex = {}
    by_phone: _CustomerIndex = {}
    survivors: dict[int, list[_KnownCustomer]] = {}
    for *values, merged_into_id in _find_customers(refs, emails, phones):
        known = _KnownCustomer(*values)
        if merged_into_id:
            survivors.setdefault(merged_into_id, []).append(known)
        else:
            _index_customer(known, by_ref, by_email, by_phone)
    if survivors:  # a merged-away record still matches, as the customer it was merged into
        for values in Customer.objects.filter(id__in=list(survivors)).values_list(
            *_KnownCustomer.FIELDS
        ):
            survivor = _KnownCustomer(*values)
            for merged in survivors[survivor.stored_pk()]:
                for index, value in (
                    (by_ref, merged.external_ref),
                    (by_email, merged.email.lower()),
                    (by_phone, merged.phone),
                ):
                    if value:
                        index.setdefault(value, survivor)

    result: dict[int, _KnownCustomer] = {}
    to_create: list[_NewCustomer] = []
    to_fill: dict[int, _KnownCustomer] = {}
    for position, record in enumerate(records):
        if not record.has_customer:
            continue
        customer = (
            by_ref.get(record.customer_ref or None)
            or by_email.get(record.customer_email.lower() or None)
            or by_phone.get(record.customer_phone or None)
        )
        if customer is None:
            customer = new = _NewCustomer(
                None,
                record.customer_ref or None,
                record.customer_name,
                record.customer_email,
                record.customer_phone,
                record.customer_segment or Customer.Segment.CONSUMER,
            )
            to_create.append(new)
            _index_customer(customer, by_ref, by_email, by_phone)
        elif customer.pk and _fill_blanks(customer, record):
            to_fill[customer.pk] = customer
        result[position] = customer
    if to_create:
        writer.create_customers(to_create)
    if to_fill:
        Customer.objects.bulk_update(
            [
                Customer(
                    id=c.pk, external_ref=c.external_ref, name=c.name, email=c.email, phone=c.phone
                )
                for c in to_fill.values()
            ],
            ["external_ref", "name", "email", "phone"],
            batch_size=1000,
        )
    positions = {
        position: (customer.stored_pk(), customer.segment) for position, customer in result.items()
    }
    return positions, {customer.stored_pk() for customer in to_create}


def _find_customers(refs: set[str], emails: set[str], phones: set[str]) -> list[tuple[Any, ...]]:
    """(*_KnownCustomer.FIELDS, merged_into_id) of the customers with one of these external
    refs, lower-cased emails or phones, by id."""
    if not (refs or emails or phones):
        return []
    columns = (*_KnownCustomer.FIELDS, "merged_into_id")
    if connection.vendor == "postgresql":
        # Array parameters, each value looked up through its index (see _probe_each): with
        # the statistics of a table that an import is filling, the planner otherwise reads
        # every customer.
        probes = " UNION ".join(
            _probe_each(Customer._meta.db_table, columns, condition)
            for condition, values in (
                ("external_ref = u.value", refs),
                ("lower(email) = u.value", emails),
                ("phone = u.value", phones),
            )
            if values
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT * FROM ({probes}) AS found ORDER BY id",  # noqa: S608
                [array_literal(values) for values in (refs, emails, phones) if values],
            )
            found: list[tuple[Any, ...]] = cursor.fetchall()
            return found
    return list(
        Customer.objects.annotate(lemail=Lower("email"))
        .filter(Q(external_ref__in=refs) | Q(lemail__in=emails) | Q(phone__in=phones))
        .order_by("id")
        .values_list(*columns)
    )


def _probe_each(table: str, columns: Sequence[str], condition: str) -> str:
    """SQL that looks up the rows of ``table`` matching ``condition`` for each value of an
    array parameter (``u.value``), one index probe a value. The LATERAL subquery (kept one
    by OFFSET 0) fixes that plan: in the middle of a large import the table's statistics
    are those of a far smaller table, and the planner's own choice was to scan all of it."""
    return (
        f"SELECT t.* FROM unnest(%s::text[]) AS u (value) CROSS JOIN LATERAL ("  # noqa: S608
        f"SELECT {', '.join(columns)} FROM {table} WHERE {condition} OFFSET 0) AS t"
    )


def _index_customer(
    customer: _KnownCustomer,
    by_ref: _CustomerIndex,
    by_email: _CustomerIndex,
    by_phone: _CustomerIndex,
) -> None:
    if customer.external_ref:
        by_ref.setdefault(customer.external_ref, customer)
    if customer.email:
        by_email.setdefault(customer.email.lower(), customer)
    if customer.phone:
        by_phone.setdefault(customer.phone, customer)


def _fill_blanks(customer: _KnownCustomer, record: ContactRecord) -> bool:
    """What the CRM left empty, a contact may fill; it never overwrites."""
    if not (
        (record.customer_name and not customer.name)
        or (record.customer_email and not customer.email)
        or (record.customer_phone and not customer.phone)
        or (record.customer_ref and not customer.external_ref)
    ):
        return False  # the usual case, checked without the loop below
    changed = False
    for attribute, value in (
        ("external_ref", record.customer_ref),
        ("name", record.customer_name),
        ("email", record.customer_email),
        ("phone", record.customer_phone),
    ):
        if value and not getattr(customer, attribute):
            setattr(customer, attribute, value)
            changed = True
    return changed


def contacts_ingest(
    *,
    rows: Iterable[Mapping[str, object] | ContactRecord],
    options: ParseOptions | None = None,
    create_reasons: bool = False,
    first_index: int = 0,
    writer: "Writer | None" = None,
    by: Actor = INGEST,
) -> IngestResult:
    """Ingest one batch (at most MAX_BATCH rows) atomically. ``rows`` are mappings of VoC's
    field names, or ContactRecords that ``parse_row`` made with the same options. Row indexes
    in the result count from ``first_index`` (the line or position the caller reports).
    ``writer`` defaults to the one for the database (COPY on PostgreSQL, the ORM elsewhere);
    both give the same result. ``by`` is who sent the batch (a person logging a contact, or
    ingestion itself): the batch gets one audit entry with its counts, not one per contact.

    Stored contacts the batch changes follow the write primitive's contract
    (contacts.changes): their before-state is read under a row lock in id order, the touched
    customer spans are relinked, one rollup delta is applied and scoring is queued after
    commit."""
    with fewer_gc_passes():
        return _ingest(rows, options, create_reasons, first_index, writer, by)


@contextlib.contextmanager
def fewer_gc_passes(threshold: int = 50_000) -> Iterator[None]:
    """Python's cycle collector runs every 700 new containers and, now and then, walks every
    live object: with a batch of thousands of records alive that is a good part of the time,
    and records make no cycles for it to find. Run it less often for a while."""
    old = gc.get_threshold()
    gc.set_threshold(max(threshold, old[0]), *old[1:])
    try:
        yield
    finally:
        gc.set_threshold(*old)


def _ingest(
    rows: Iterable[Mapping[str, object] | ContactRecord],
    options: ParseOptions | None,
    create_reasons: bool,
    first_index: int,
    writer: "Writer | None",
    by: Actor,
) -> IngestResult:
    options = options or parse_options()
    result = IngestResult()
    parsed: list[tuple[int, ContactRecord]] = []
    seen: dict[tuple[str, str], int] = {}
    for index, row in enumerate(rows, start=first_index):
        try:
            # A record comes from a parse done already (the file import parses while it writes).
            record = row if isinstance(row, ContactRecord) else parse_row(row, options)
        except RowError as error:
            result.rejected.append(RejectedRow(index, error.field, error.reason))
            continue
        identity = (record.source, record.external_id)
        if identity in seen:
            result.rejected.append(
                RejectedRow(index, "external_id", f"repeats the contact of row {seen[identity]}")
            )
            continue
        seen[identity] = index
        parsed.append((index, record))
    if len(parsed) + len(result.rejected) > MAX_BATCH:
        raise ValueError(f"a batch holds at most {MAX_BATCH} rows")
    if parsed:
        with transaction.atomic():
            _short_statements()
            # Erasure (docs/erasure.md): rows whose contact or customer identifiers are
            # tombstoned belong to an erased customer and are refused, so a re-import cannot
            # bring them back. One query for the batch (two once tombstones exist), under the
            # lock an erasure takes exclusively, so no erasure can commit between this check
            # and the writes.
            hold_erasure_lock_shared()
            erased = erased_rows(parsed)
            if erased:
                result.rejected.extend(RejectedRow(i, f, ERASED_REASON) for i, f in erased.items())
                parsed = [item for item in parsed if item[0] not in erased]
            if parsed:
                _write(parsed, result, create_reasons=create_reasons, writer=writer)
            if result.created or result.updated:
                audit_record(by=by, action="contacts.ingest", changes=result.counts())
    result.rejected.sort(key=lambda rejected: rejected.index)
    if result.written_contact_ids:
        enqueue_sentiment_on_commit(result.written_contact_ids)
    return result


def _short_statements() -> None:
    """PostgreSQL: no JIT compilation and no parallel workers for this transaction. Its
    statements are many short lookups by index whose cost estimates, with the statistics of a
    table an import is filling, are far off: JIT compiled a relinking query for longer than
    it ran, and a parallel worker was started to scan customers instead of probing them."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0")


def _write(
    parsed: list[tuple[int, ContactRecord]],
    result: IngestResult,
    *,
    create_reasons: bool,
    writer: "Writer | None" = None,
) -> None:
    """Write one parsed batch: resolve references, skip unchanged rows, match customers, then
    create and update contacts with their messages, repeat links and rollup delta."""
    resolved = _resolve_references(parsed, result, create_reasons=create_reasons)
    if not resolved:
        return
    changed = _changed_rows(resolved, result)
    if not changed:
        return
    writer = writer or default_writer()
    customer_ids, new_customers = _match_customers(
        [record for _, record, _, _, _ in changed], writer
    )
    plan = _plan(changed, customer_ids)

    # Repeat links: where the writer gives new contacts their ids first (PostgreSQL), they are
    # computed before the writes, from the stored contacts around each span, and written with
    # the rows; only stored contacts whose link changes are updated afterwards. Elsewhere the
    # customers are relinked after the writes.
    linked_ahead = writer.assign_contact_ids(plan.to_create)
    if linked_ahead:
        relinked = repeats_link_ahead(
            rows=plan.written, spans=plan.spans, new_customers=new_customers
        )

    in_write_order = [record for _, record, _, _, _ in _in_write_order(changed)]
    writer.create_contacts(plan.to_create, in_write_order[: len(plan.to_create)])
    if plan.to_update:
        writer.update_contacts(plan.to_update)
        writer.delete_messages([values["id"] for values in plan.to_update])
    writer.create_messages(
        (values["id"], record) for values, record in zip(plan.written, in_write_order, strict=True)
    )

    if linked_ahead:
        repeats_save_links(relinked)
    else:
        relinked = repeats_relink_spans(spans=plan.spans)
    _apply_rollups(plan, relinked)
    result.created += len(plan.to_create)
    result.updated += len(plan.to_update)
    result.written_contact_ids.extend(values["id"] for values in plan.written)


def _resolve_references(
    parsed: list[tuple[int, ContactRecord]], result: IngestResult, *, create_reasons: bool
) -> list[tuple[int, ContactRecord, "_Refs"]]:
    """Each row with its rep, team and reason ids; a row that names an unknown reason, team or
    rep is rejected."""
    lookups = _Lookups([record for _, record in parsed], create_reasons=create_reasons)
    resolved: list[tuple[int, ContactRecord, _Refs]] = []
    # A batch has few distinct (rep, team, reason).
    known: dict[tuple[str, str, tuple[str, ...]], _Refs | RowError] = {}
    for index, record in parsed:
        key = (record.rep, record.team, record.reason_path)
        refs = known.get(key)
        if refs is None:
            try:
                # Rep and team first: a row rejected for them must not leave a new reason.
                rep_id, team_id = lookups.rep_id(record), lookups.team_id(record)
                refs = {
                    "rep_id": rep_id,
                    "team_id": team_id,
                    "reason_id": lookups.reason_id(record.reason_path),
                }
            except RowError as error:
                refs = error
            known[key] = refs
        if isinstance(refs, RowError):
            result.rejected.append(RejectedRow(index, refs.field, refs.reason))
            continue
        resolved.append((index, record, refs))
    return resolved


def _changed_rows(
    resolved: list[tuple[int, ContactRecord, "_Refs"]], result: IngestResult
) -> list["_Changed"]:
    """(index, record, refs, digest, stored state or None) of the rows that create or change a
    contact; rows identical to their stored contact are counted unchanged.

    The stored contacts this batch changes are read again under a row lock in id order (the
    write primitive's contract, contacts.changes): another writer's change to one of them
    waits, and the rollup delta starts from what is really stored."""
    existing = _existing_contacts([record for _, record, _ in resolved])
    changed: list[tuple[int, ContactRecord, _Refs, str, dict[str, Any] | None]] = []
    for index, record, refs in resolved:
        current = existing.get((record.source, record.external_id))
        digest = record.content_hash()
        if current is not None and current["content_hash"] == digest:
            result.unchanged += 1
            continue
        changed.append((index, record, refs, digest, current))
    locked = contacts_lock(current["id"] for _, _, _, _, current in changed if current)
    return [
        (index, record, refs, digest, locked.get(current["id"]) if current else None)
        for index, record, refs, digest, current in changed
    ]


class _Refs(TypedDict):
    rep_id: int | None
    team_id: int | None
    reason_id: int | None


# (index, record, refs, content hash, stored state or None) of a row that creates or changes
# a contact.
_Changed = tuple[int, ContactRecord, _Refs, str, ContactState | None]


@dataclass
class _Plan:
    """What a batch writes: new and updated contacts' values, each customer's span of touched
    times (its repeat links are recomputed there), and the rollup delta of the stored contacts'
    before-state (the written values are added once their links are known)."""

    to_create: list[ContactValues] = field(default_factory=list)
    to_update: list[ContactValues] = field(default_factory=list)
    spans: dict[int, tuple[datetime, datetime]] = field(default_factory=dict)
    delta: RollupDelta = field(default_factory=RollupDelta)

    @property
    def written(self) -> list[ContactValues]:
        return self.to_create + self.to_update


def _plan(changed: list[_Changed], customers: dict[int, tuple[int, str]]) -> _Plan:
    plan = _Plan()
    for position, (_, record, refs, digest, current) in enumerate(changed):
        customer_id, segment = customers.get(position, (None, ""))
        if current is not None and current["customer_id"] == customer_id:
            segment = current["customer_segment"]  # the segment when it was linked stays
        values: ContactValues = {
            "customer_id": customer_id,
            "customer_segment": segment,
            "channel": record.channel,
            "direction": record.direction,
            "occurred_at": record.occurred_at,
            "occurred_date_only": record.occurred_date_only,
            "rep_id": refs["rep_id"],
            "team_id": refs["team_id"],
            "reason_id": refs["reason_id"],
            "tags": record.tags,
            "subject": record.subject,
            "notes": record.notes,
            "handle_seconds": record.handle_seconds,
            "wait_seconds": record.wait_seconds,
            "outcome": record.outcome,
            "first_contact_resolution": record.first_contact_resolution,
            "road": record.road,
            "content_hash": digest,
            "customer_messages": record.customer_messages,
        }
        if current is None:
            values["source"] = record.source
            values["external_id"] = record.external_id
            plan.to_create.append(values)
        else:
            values["id"] = current["id"]
            values["sentiment"] = None  # the text may have changed: computed again after commit
            # Kept unless relinking moves it; a contact left without a customer repeats nothing.
            values["repeat_of_id"] = current["repeat_of_id"] if values["customer_id"] else None
            plan.delta.add_rows([current], sign=-1)
            # Where it was, later contacts may lose their link.
            widen_span(plan.spans, current["customer_id"], current["occurred_at"])
            plan.to_update.append(values)
    for values in plan.written:
        widen_span(plan.spans, values["customer_id"], values["occurred_at"])
    return plan


def _apply_rollups(plan: _Plan, relinked: list[Relink]) -> None:
    """Add what the written contacts now contribute, from the values just written (sentiment
    is empty until it is computed again, repeat links are what the relinking left), and what
    the stored contacts whose link moved contribute instead of before; apply the delta."""
    new_links = {change.contact_id: change.new_repeat_of for change in relinked}
    written: Iterable[ContributionRow] = (
        {
            "occurred_at": values["occurred_at"],
            "occurred_date_only": values["occurred_date_only"],
            "reason_id": values["reason_id"],
            "channel": values["channel"],
            "team_id": values["team_id"],
            "customer_segment": values["customer_segment"],
            "handle_seconds": values["handle_seconds"],
            "wait_seconds": values["wait_seconds"],
            "repeat_of_id": new_links.get(values["id"], values.get("repeat_of_id")),
            "sentiment": None,
            "road": values["road"],
            "first_contact_resolution": values["first_contact_resolution"],
            "outcome": values["outcome"],
        }
        for values in plan.written
    )
    plan.delta.add_rows(written)
    relinked_delta(plan.delta, relinked, skip={values["id"] for values in plan.written})
    plan.delta.apply()


_EXISTING_FIELDS = ("source", "external_id", "content_hash", "customer_id", *CONTRIBUTION_FIELDS)


def _existing_contacts(records: list[ContactRecord]) -> dict[tuple[str, str], dict[str, Any]]:
    """The stored contacts of these records, by (source, external_id)."""
    by_source: dict[str, list[str]] = {}
    for record in records:
        by_source.setdefault(record.source, []).append(record.external_id)
    existing: dict[tuple[str, str], dict[str, Any]] = {}
    if connection.vendor == "postgresql":  # one array parameter instead of an IN list
        sql = _probe_each(
            Contact._meta.db_table, _EXISTING_FIELDS, "source = %s AND external_id = u.value"
        )
        with connection.cursor() as cursor:
            for source, external_ids in by_source.items():
                cursor.execute(sql, [array_literal(external_ids), source])
                for values in cursor.fetchall():
                    row = dict(zip(_EXISTING_FIELDS, values, strict=True))
                    existing[(row["source"], row["external_id"])] = row
        return existing
    for source, external_ids in by_source.items():
        for row in Contact.objects.filter(source=source, external_id__in=external_ids).values(
            *_EXISTING_FIELDS
        ):
            existing[(row["source"], row["external_id"])] = row
    return existing


def _in_write_order(changed: list[_Changed]) -> list[_Changed]:
    """The changed rows in the order of to_create + to_update."""
    new = [item for item in changed if item[4] is None]
    old = [item for item in changed if item[4] is not None]
    return new + old
