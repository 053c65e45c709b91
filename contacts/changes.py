"""The one write primitive for changing stored contacts.

Whatever changes a contact (a rep's edit, the API, the admin, a merge, a message appended, its
sentiment scored, an erasure) does it inside :func:`contact_change`::

    with contact_change([contact.pk], by=request.user, action="contact.update") as change:
        Contact.objects.filter(pk=contact.pk).update(reason=reason)

which keeps the contract every derived value depends on:

1. the contacts' before-state is read under a row lock, taken in id order (the order every
   writer uses, so two writers cannot deadlock, and none can compute a rollup delta from a
   "before" another writer is changing: the rollup race of a concurrent edit and scoring);
2. the block applies the change;
3. the repeat links of every customer span the change touched (a contact created, deleted, or
   moved in time or to another customer) are recomputed;
4. the rollup delta (after minus before, plus the contacts whose repeat link moved) is applied;
5. people's changes get an audit entry per contact (``action``); scoring again is queued after
   commit (``change.rescore()``).

Ingestion's set-based fast path (contacts.ingest.service) keeps the same contract for a whole
batch: it locks the stored contacts it changes, relinks the spans it touched, applies one delta
(with :func:`relinked_delta` for the contacts it did not write), records one audit entry per
batch and queues scoring after commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime

from django.db import transaction
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce

from contacts.models import Contact, Customer
from contacts.queue import enqueue_sentiment_on_commit
from contacts.repeats import Relink, repeats_relink_spans
from contacts.rollups import (
    CONTRIBUTION_FIELDS,
    ContributionRow,
    RollupDelta,
    contribution_rows,
)
from voc.core.audit import Actor, AuditEntryArgs, audit_record_many, field_changes

# What a contact change is compared on: the rollup contribution, the customer (repeat spans),
# and what a person may see changed in the history.
STATE_FIELDS = (
    *CONTRIBUTION_FIELDS, "customer_id", "rep_id", "direction", "tags", "subject", "notes",
)  # fmt: skip


class ContactState(ContributionRow):
    """A contact's STATE_FIELDS, as ``.values()`` reads them."""

    customer_id: int | None
    rep_id: int | None
    direction: str
    tags: list[str]
    subject: str
    notes: str


# How a contact's or customer's history names what people did.
AUDIT_LABELS = {
    "contact.update": "changed the contact",
    "contact.admin_update": "corrected the contact in the admin",
    "contact.messages_edit": "corrected the messages in the admin",
    "contact.delete": "deleted the contact",
    "customer.create": "added the customer",
    "customer.update": "changed the customer",
    "customer.admin_update": "corrected the customer in the admin",
    "customer.merge": "merged this record into another",
    "customer.merge_into": "merged another record into this one",
    "customer.erase": "erased the customer",
    "reason.create": "added the reason",
    "reason.update": "changed the reason",
    "reason.retire": "retired the reason",
    "reason.merge": "merged the reason into another",
    "contacts.ingest": "ingested a batch",
}
# Not shown in a contact's history: derived, or the bookkeeping of the change itself.
_NOT_AUDITED = frozenset({"id", "sentiment", "repeat_of_id", "customer_segment"})


def contacts_lock(contact_ids: Iterable[int]) -> dict[int, ContactState]:
    """Lock these contacts in id order and return their STATE_FIELDS by id (missing ids are
    left out). Must run inside a transaction."""
    ids = sorted(set(contact_ids))
    if not ids:
        return {}
    return {
        row["id"]: row
        for row in Contact.objects.select_for_update()
        .filter(id__in=ids)
        .order_by("id")
        .values(*STATE_FIELDS)
    }


def contacts_state(contact_ids: Iterable[int]) -> dict[int, ContactState]:
    ids = sorted(set(contact_ids))
    if not ids:
        return {}
    return {row["id"]: row for row in Contact.objects.filter(id__in=ids).values(*STATE_FIELDS)}


def widen_span(
    spans: dict[int, tuple[datetime, datetime]], customer_id: int | None, at: datetime
) -> None:
    """Grow ``customer_id``'s span of touched times to include ``at``."""
    if not customer_id:
        return
    span = spans.get(customer_id)
    if span is None:
        spans[customer_id] = (at, at)
    elif not span[0] <= at <= span[1]:
        spans[customer_id] = (min(span[0], at), max(span[1], at))


def relinked_delta(delta: RollupDelta, relinked: Sequence[Relink], *, skip: set[int]) -> None:
    """Add to ``delta`` what the contacts whose repeat link moved contribute now instead of
    before, leaving out ``skip`` (contacts the caller counts from their own before and after)."""
    others = [change for change in relinked if change.contact_id not in skip]
    if not others:
        return
    rows = [change.row for change in others if change.row is not None]
    if len(rows) == len(others):
        after = rows
    else:
        after = contribution_rows(change.contact_id for change in others)
    old_links = {change.contact_id: change.old_repeat_of for change in others}
    delta.add_rows(after)
    delta.add_rows(({**row, "repeat_of_id": old_links[row["id"]]} for row in after), sign=-1)


class ContactChange:
    """What one :func:`contact_change` block changes; see the module docstring."""

    def __init__(self, before: dict[int, ContactState]) -> None:
        self.before = before
        self.after: dict[int, ContactState] = {}
        self.relinked: list[Relink] = []
        self._created: set[int] = set()
        self._rescore: set[int] = set()

    @property
    def ids(self) -> list[int]:
        return sorted(set(self.before) | self._created)

    def created(self, contact_ids: Iterable[int]) -> None:
        """Count contacts the block created (they had no before)."""
        self._created.update(contact_ids)

    def rescore(self, contact_ids: Iterable[int] | None = None) -> None:
        """Queue these contacts (all of the change's by default) for sentiment scoring after
        commit: the block changed their text and emptied their sentiment."""
        self._rescore.update(self.ids if contact_ids is None else contact_ids)

    def _finish(self) -> None:
        self.after = contacts_state(self.ids)
        self._snapshot_segments()
        spans: dict[int, tuple[datetime, datetime]] = {}
        for contact_id in self.ids:
            old, new = self.before.get(contact_id), self.after.get(contact_id)
            if (
                old
                and new
                and (old["customer_id"], old["occurred_at"])
                == (
                    new["customer_id"],
                    new["occurred_at"],
                )
            ):
                continue  # not moved: no other contact's link can change
            for row in (old, new):
                if row:
                    widen_span(spans, row["customer_id"], row["occurred_at"])
        if spans:
            self.relinked = repeats_relink_spans(spans=spans)
            for link in self.relinked:
                if link.contact_id in self.after:
                    self.after[link.contact_id]["repeat_of_id"] = link.new_repeat_of
        delta = RollupDelta()
        delta.add_rows(self.before.values(), sign=-1)
        delta.add_rows(self.after.values())
        relinked_delta(delta, self.relinked, skip=set(self.before) | set(self.after))
        delta.apply()
        if self._rescore:
            enqueue_sentiment_on_commit(sorted(self._rescore))

    def _snapshot_segments(self) -> None:
        """A contact linked to a customer by this change (created, or moved to another
        customer, a merge included) takes the customer's segment as it is now; its later
        changes of segment do not move the contact (dashboards count the segment at contact
        time). A contact left without a customer has none."""
        relinked = [
            contact_id
            for contact_id, new in self.after.items()
            if (old := self.before.get(contact_id)) is None
            or old["customer_id"] != new["customer_id"]
        ]
        if not relinked:
            return
        Contact.objects.filter(id__in=relinked).update(
            customer_segment=Coalesce(
                Subquery(Customer.objects.filter(pk=OuterRef("customer_id")).values("segment")),
                Value(""),
            )
        )
        for contact_id, segment in Contact.objects.filter(id__in=relinked).values_list(
            "id", "customer_segment"
        ):
            self.after[contact_id]["customer_segment"] = segment

    def changes_of(self, contact_id: int) -> dict[str, list[object]]:
        """{field: [before, after]} of one contact, as its history shows it."""
        no_state: Mapping[str, object] = {}
        old = self.before.get(contact_id, no_state)
        new = self.after.get(contact_id, no_state)
        if old and not new:  # deleted: the history keeps what it was
            new = dict.fromkeys(old)
        return {
            name: values
            for name, values in field_changes(old, new).items()
            if name not in _NOT_AUDITED
        }


@contextmanager
def contact_change(
    contact_ids: Iterable[int],
    *,
    by: Actor,
    action: str | None = None,
    why: str = "",
    extra: Mapping[int, Mapping[str, object]] | None = None,
) -> Iterator[ContactChange]:
    """Lock ``contact_ids``, run the block, then relink, move rollups, audit and queue (see
    the module docstring). ``action`` records one audit entry per contact that changed (for a
    person's edit); leave it out where the service records its own summary entry (a merge) or
    the actor is VoC itself (scoring). ``extra`` adds entries to a contact's audited changes
    (a message appended: {contact id: {"messages": [3, 4]}})."""
    with transaction.atomic():
        change = ContactChange(contacts_lock(contact_ids))
        yield change
        change._finish()
        if action:
            entries: list[AuditEntryArgs] = []
            for contact_id in change.ids:
                changes = {**change.changes_of(contact_id), **((extra or {}).get(contact_id, {}))}
                if not changes:
                    continue
                row = change.after.get(contact_id) or change.before.get(contact_id)
                entries.append(
                    {
                        "action": action,
                        "target": Contact(pk=contact_id),
                        "changes": changes,
                        "why": why,
                        "customer_id": row["customer_id"] if row else None,
                    }
                )
            if entries:
                audit_record_many(entries, by=by)
