"""Writes of the contacts app that are not ingestion itself (see contacts/ingest/)."""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from contacts.ingest.records import MAX_TAGS, MAX_TEXT
from contacts.ingest.repeats import repeats_relink
from contacts.ingest.rollups import CONTRIBUTION_FIELDS, RollupDelta
from contacts.models import Contact, ContactReason, Customer, CustomerEvent, Message
from contacts.redaction import redact_text
from contacts.sentiment import sentiment_score


def contact_sentiment_update(*, contact_ids: Iterable[int]) -> int:
    """Score the contacts that have no sentiment yet and move their rollup counts. Returns how
    many were scored. Incoming messages carry the customer's tone; a contact with none is
    scored on all its messages."""
    ids = sorted(set(contact_ids))
    if not ids:
        return 0
    with transaction.atomic():
        rows = list(
            Contact.objects.select_for_update()
            .filter(id__in=ids, sentiment__isnull=True)
            .order_by("id")
            .values(*CONTRIBUTION_FIELDS)
        )
        if not rows:
            return 0
        texts: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for contact_id, direction, text in (
            Message.objects.filter(contact_id__in=[row["id"] for row in rows])
            .order_by("contact_id", "position")
            .values_list("contact_id", "direction", "text")
        ):
            texts[contact_id][direction].append(text)
        scored = []
        for row in rows:
            by_direction = texts.get(row["id"])
            if not by_direction:
                continue
            parts = by_direction.get(Message.Direction.INCOMING) or [
                text for part in by_direction.values() for text in part
            ]
            score = sentiment_score("\n".join(parts))
            if score is not None:
                scored.append((row, score))
        if not scored:
            return 0
        if connection.vendor == "postgresql":  # one UPDATE … FROM (VALUES …), not CASE WHEN
            from contacts.ingest.pgcopy import update_from_values

            update_from_values(
                Contact._meta.db_table,
                ["sentiment"],
                ["double precision"],
                [(row["id"], score) for row, score in scored],
            )
        else:
            Contact.objects.bulk_update(
                [Contact(id=row["id"], sentiment=score) for row, score in scored],
                ["sentiment"],
                batch_size=1000,
            )
        delta = RollupDelta()
        delta.add_rows([row for row, _ in scored], sign=-1)
        delta.add_rows([{**row, "sentiment": score} for row, score in scored])
        delta.apply()
    return len(scored)


def contact_message_append(
    *,
    contact_id: int,
    external_id: str,
    direction: str,
    author: str,
    sent_at: datetime | None,
    text: str,
) -> Message | None:
    """Add one message at the end of an existing contact (an email reply joining its thread),
    leaving everything a person classified (reason, tags, notes, road) as it is. Returns the
    message, or None if the contact already has one with this external_id.

    The contact row is locked, so two replies at once get distinct positions. Its sentiment is
    reset (and its rollup contribution moved accordingly) so the sentiment task scores it again
    with the new text, and its ingest fingerprint is cleared: the contact no longer matches what
    its source last sent."""
    from contacts.ingest.service import extra_redaction_patterns
    from contacts.tasks import enqueue_sentiment

    text = redact_text(str(text or "").strip(), extra_redaction_patterns())
    if not text:
        raise ValidationError({"text": "A message needs text."})
    if len(text) > MAX_TEXT:
        raise ValidationError({"text": f"Use at most {MAX_TEXT} characters."})
    if direction not in Message.Direction.values:
        raise ValidationError({"direction": "Choose incoming or outgoing."})
    with transaction.atomic():
        row = (
            Contact.objects.select_for_update()
            .filter(pk=contact_id)
            .values(*CONTRIBUTION_FIELDS)
            .first()
        )
        if row is None:
            raise Contact.DoesNotExist(f"Contact {contact_id} does not exist.")
        if Message.objects.filter(contact_id=contact_id, external_id=external_id).exists():
            return None
        last = Message.objects.filter(contact_id=contact_id).aggregate(last=Max("position"))
        message = Message.objects.create(
            contact_id=contact_id,
            external_id=external_id[:200],
            position=0 if last["last"] is None else last["last"] + 1,
            direction=direction,
            author=redact_text(str(author or ""))[:200],
            sent_at=sent_at,
            text=text,
        )
        Contact.objects.filter(pk=contact_id).update(
            sentiment=None, content_hash="", updated_at=timezone.now()
        )
        if row["sentiment"] is not None:
            delta = RollupDelta()
            delta.add_rows([row], sign=-1)
            delta.add_rows([{**row, "sentiment": None}])
            delta.apply()
        transaction.on_commit(lambda: enqueue_sentiment([contact_id]))
    return message


def contacts_without_sentiment(*, limit: int) -> list[int]:
    return list(
        Contact.objects.filter(sentiment__isnull=True, messages__isnull=False)
        .order_by("id")
        .values_list("id", flat=True)
        .distinct()[:limit]
    )


def _move_contacts(contact_ids: list[int], **changes) -> RollupDelta:
    """Update these contacts and return the rollup delta of the move (not yet applied)."""
    delta = RollupDelta()
    before = list(Contact.objects.filter(id__in=contact_ids).values(*CONTRIBUTION_FIELDS))
    delta.add_rows(before, sign=-1)
    Contact.objects.filter(id__in=contact_ids).update(**changes)
    delta.add_rows(Contact.objects.filter(id__in=contact_ids).values(*CONTRIBUTION_FIELDS))
    return delta


@transaction.atomic
def reason_merge(*, source: ContactReason, target: ContactReason) -> int:
    """Move every contact of ``source`` to ``target``; ``source`` stays as a pointer so history
    and later imports that name it resolve to ``target``. Returns the contacts moved."""
    if source.pk == target.pk:
        raise ValidationError("A reason cannot be merged into itself.")
    if target.merged_into_id:
        raise ValidationError("Merge into a reason that has not itself been merged.")
    if ContactReason.objects.filter(parent=source).exists():
        raise ValidationError("Merge or move this reason's children first.")
    contact_ids = list(Contact.objects.filter(reason=source).values_list("id", flat=True))
    delta = _move_contacts(contact_ids, reason=target)
    CustomerEvent.objects.filter(reason=source).update(reason=target)
    ContactReason.objects.filter(merged_into=source).update(merged_into=target)
    source.merged_into = target
    source.retired_at = source.retired_at or timezone.now()
    source.save(update_fields=["merged_into", "retired_at"])
    delta.apply()
    return len(contact_ids)


def reason_retire(*, reason: ContactReason) -> ContactReason:
    """Hide a reason from pickers; its contacts and history stay as they are."""
    if reason.retired_at is None:
        reason.retired_at = timezone.now()
        reason.save(update_fields=["retired_at"])
    return reason


@transaction.atomic
def customer_merge(*, source: Customer, target: Customer) -> int:
    """Merge a duplicate customer into ``target``: contacts and lifecycle events move, blank
    identity fields are filled from the duplicate, repeat contacts are relinked and rollups
    adjusted. The duplicate stays as a pointer. Returns the contacts moved."""
    if source.pk == target.pk:
        raise ValidationError("A customer cannot be merged into itself.")
    if target.merged_into_id:
        raise ValidationError("Merge into a customer that has not itself been merged.")
    # Lock both customers' contacts in id order before changing any: the sentiment task locks
    # contacts in id order too, so the two cannot deadlock.
    locked = list(
        Contact.objects.select_for_update()
        .filter(customer__in=[source, target])
        .order_by("id")
        .values_list("id", "customer_id", "occurred_at")
    )
    times = [occurred_at for _, _, occurred_at in locked]
    contact_ids = [contact_id for contact_id, customer_id, _ in locked if customer_id == source.pk]
    Contact.objects.filter(id__in=contact_ids).update(customer=target)
    CustomerEvent.objects.filter(customer=source).update(customer=target)
    Customer.objects.filter(merged_into=source).update(merged_into=target)
    identity = {}
    for attribute in ("name", "email", "phone"):
        if not getattr(target, attribute) and getattr(source, attribute):
            identity[attribute] = getattr(source, attribute)
    if not target.external_ref and source.external_ref:
        identity["external_ref"], source.external_ref = source.external_ref, None
    source.merged_into = target
    source.save(update_fields=["merged_into", "external_ref"])
    if identity:
        Customer.objects.filter(pk=target.pk).update(**identity)
    if times:
        relinked = repeats_relink(customer_ids=[target.id], since=min(times), until=max(times))
        delta = RollupDelta()
        rows = {
            row["id"]: row
            for row in Contact.objects.filter(
                id__in=[change.contact_id for change in relinked]
            ).values(*CONTRIBUTION_FIELDS)
        }
        for change in relinked:
            row = rows[change.contact_id]
            delta.add_rows([{**row, "repeat_of_id": change.old_repeat_of}], sign=-1)
            delta.add_rows([row])
        delta.apply()
    return len(contact_ids)


# What a person may change on a contact (on its page or through the API); the rest is the
# source system's, and changes when the source sends the row again.
CONTACT_EDITABLE = frozenset(
    {"reason", "tags", "road", "outcome", "notes", "handle_seconds", "first_contact_resolution"}
)
MAX_TAG_LENGTH = 50


def tags_normalise(tags: Iterable, *, extra_patterns=None) -> list[str]:
    """Tags as ingestion stores them: redacted (before they are cut, so no part of a card
    number is left), lower case, trimmed, at most 50 characters, unique, sorted."""
    from contacts.ingest.service import extra_redaction_patterns

    patterns = extra_redaction_patterns() if extra_patterns is None else extra_patterns
    cleaned = set()
    for tag in tags:
        tag = redact_text(str(tag), patterns).strip().lower()[:MAX_TAG_LENGTH].strip()
        if tag:
            cleaned.add(tag)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError({"tags": f"Give at most {MAX_TAGS} tags."})
    return sorted(cleaned)


def contact_update(*, contact: Contact, changes: Mapping) -> Contact:
    """Change some of CONTACT_EDITABLE on one contact. ``reason`` is a ContactReason or None.

    Notes and tags are redacted like ingested text. The contact's row is locked, its rollup
    contribution taken before and after, and the difference applied in the same transaction,
    so two edits at once cannot both subtract the same "before". The ingest fingerprint is
    left alone: if the source re-sends the row unchanged the edit stays; a changed row wins."""
    from contacts.ingest.service import extra_redaction_patterns

    unknown = set(changes) - CONTACT_EDITABLE
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field can't be changed."})
    patterns = extra_redaction_patterns()
    values: dict = {}
    if "reason" in changes:
        reason = changes["reason"]
        while reason is not None and reason.merged_into_id:  # lives on in its target
            reason = ContactReason.objects.get(id=reason.merged_into_id)
        values["reason"] = reason
    if "tags" in changes:
        values["tags"] = tags_normalise(changes["tags"] or [], extra_patterns=patterns)
    if "notes" in changes:
        notes = str(changes["notes"] or "").strip()
        if len(notes) > MAX_TEXT:
            raise ValidationError({"notes": f"Use at most {MAX_TEXT} characters."})
        values["notes"] = redact_text(notes, patterns)
    if "road" in changes:
        if changes["road"] is not None and changes["road"] not in Contact.Road.values:
            raise ValidationError({"road": "Choose a road from 1 to 4."})
        values["road"] = changes["road"]
    if "outcome" in changes:
        outcome = changes["outcome"] or ""
        if outcome and outcome not in Contact.Outcome.values:
            raise ValidationError({"outcome": "Choose one of the listed outcomes."})
        values["outcome"] = outcome
    for name in ("handle_seconds", "first_contact_resolution"):
        if name in changes:
            values[name] = changes[name]
    if not values:
        return contact
    with transaction.atomic():
        delta = RollupDelta()
        delta.add_rows(
            Contact.objects.select_for_update().filter(pk=contact.pk).values(*CONTRIBUTION_FIELDS),
            sign=-1,
        )
        Contact.objects.filter(pk=contact.pk).update(**values, updated_at=timezone.now())
        delta.add_rows(Contact.objects.filter(pk=contact.pk).values(*CONTRIBUTION_FIELDS))
        delta.apply()
    return Contact.objects.select_related("customer", "reason__parent", "team", "rep").get(
        pk=contact.pk
    )
