"""Erasing a customer (the right to erasure), in one transaction.

The customer row stays, anonymised, so the ids that counts, rollups and repeat links hang on
keep working; so do its contacts, without their texts. Everything that names or quotes the
person goes: identity, subjects, notes, message texts and authors, lifecycle notes, inbound
emails, the Django admin's history, outbox mail to them, and what later apps keep (through
``contacts.registry.register_erasure_handler``). Tombstones (HMACs only) stop a re-import or an
email from bringing the person back. The CustomerErasure row records who, when and how many
rows, never the erased values. docs/erasure.md explains what is kept and why.
"""

import logging
from collections.abc import Iterable, Mapping
from email.utils import getaddresses

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models import CharField, Q, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone

from contacts import tombstones
from contacts.budget.services import budget_forget_customers
from contacts.changes import contact_change
from contacts.models import (
    Contact,
    Customer,
    CustomerErasure,
    CustomerEvent,
    ErasureTombstone,
    InboundEmail,
    Message,
)
from contacts.redaction_rules import redactor
from contacts.registry import erasure_handlers
from contacts.services.sentiment import contact_sentiment_update
from voc.core.audit import SystemActor, audit_forget_customers, audit_record
from voc.core.models import OutboxMessage
from voc.core.sendonce import send_once_forget_customers
from voc.people.models import User

ERASURE = SystemActor("erasure")

logger = logging.getLogger(__name__)

ERASED_TEXT = "[erased]"  # what a message says once its text is gone
ERASED_NAME = "Erased customer"
ERASED_PREFIX = "erased-"  # contact and message external ids, inbound Message-IDs


class AlreadyErased(ValidationError):
    """The customer was erased before: erasing twice is refused (the API answers 409)."""


def erased_external_id(source: str, external_id: str) -> str:
    """A contact's new external id: derived from its tombstone's HMAC, so (source, external_id)
    stays unique without naming the original."""
    return ERASED_PREFIX + tombstones.contact_digest(source, external_id)[:32]


def merged_group(customer_id: int) -> list[int]:
    """The customer and every record merged into it (directly or through another), by id."""
    group = {customer_id}
    frontier = {customer_id}
    while frontier:
        frontier = (
            set(Customer.objects.filter(merged_into_id__in=frontier).values_list("id", flat=True))
            - group
        )
        group |= frontier
    return sorted(group)


def erasure_preview(*, customer: Customer) -> dict[str, int]:
    """How many rows an erasure of this customer would remove or anonymise, by kind (what the
    confirmation page shows). Later apps' rows are counted only when the erasure runs."""
    customer_ids = merged_group(customer.id)
    contact_ids = list(
        Contact.objects.filter(customer_id__in=customer_ids).values_list("id", flat=True)
    )
    emails = _emails(Customer.objects.filter(id__in=customer_ids))
    return {
        "customers": len(customer_ids),
        "contacts": len(contact_ids),
        "messages": Message.objects.filter(contact__customer_id__in=customer_ids).count(),
        "customer_events": CustomerEvent.objects.filter(customer_id__in=customer_ids).count(),
        "inbound_emails": len(_inbound_email_ids(customer_ids, contact_ids, emails)),
    }


@transaction.atomic
def customer_erase(*, customer: Customer, by: User | None, note: str = "") -> CustomerErasure:
    """Erase ``customer`` and every record merged into it. Raises AlreadyErased if it was
    erased before and ValidationError for a merged-away duplicate (erase the record it was
    merged into: they are the same person)."""
    # Writers that check tombstones (ingestion, inbound email) finish first, and new ones wait
    # until this commits, so none can slip the person's data in between.
    tombstones.hold_erasure_lock_exclusive()
    # Row locks, customer first: a concurrent erasure of the same person waits here, then
    # sees erased_at and is refused.
    locked = Customer.objects.select_for_update().get(pk=customer.pk)
    if locked.erased_at is not None:
        raise AlreadyErased(f"This customer was already erased on {locked.erased_at:%Y-%m-%d}.")
    if locked.merged_into_id:
        raise ValidationError(
            f"This record was merged into customer {locked.merged_into_id}; erase that one "
            "(the records merged into it are erased with it)."
        )
    customer_ids = merged_group(locked.pk)
    actor = by or ERASURE
    people = list(Customer.objects.select_for_update().filter(id__in=customer_ids).order_by("id"))
    contacts = list(
        Contact.objects.select_for_update()
        .filter(customer_id__in=customer_ids)
        .order_by("id")
        .values_list("id", "source", "external_id")
    )
    contact_ids = [contact_id for contact_id, _, _ in contacts]
    emails = _emails(people)

    erasure = CustomerErasure.objects.create(
        erased_by=by, customer_id_erased=locked.pk, note=redactor().text(note.strip())[:200]
    )
    counts: dict[str, int] = {"customers": len(people), "contacts": len(contacts)}

    # Later apps first, while the customer rows still hold the email and phone they may need.
    for name, handler in sorted(erasure_handlers().items()):
        for kind, number in (handler(customer_ids=customer_ids, erasure=erasure) or {}).items():
            counts[f"{name}.{kind}"] = int(number)

    counts["tombstones"] = _tombstone(erasure, people, contacts)
    # The contact budget's rows (ids only) go; an erased customer is refused every purpose.
    counts.update(budget_forget_customers(customer_ids=customer_ids))

    # Score what is not scored yet from the real words, before they go: otherwise the
    # sentiment sweep would score the placeholder later. Rollups move in this transaction.
    contact_sentiment_update(contact_ids=contact_ids)

    counts["messages"] = Message.objects.filter(contact_id__in=contact_ids).update(
        text=ERASED_TEXT,
        author="",
        # Message ids from email systems can carry a name or an address.
        external_id=Concat(Value(ERASED_PREFIX), Cast("id", CharField())),
    )
    # Contacts stay (counts, rollups and repeat links need no change); their texts go.
    # Only the columns below change, none of them a rollup input.
    renamed = [
        Contact(id=contact_id, external_id=erased_external_id(source, external_id))
        for contact_id, source, external_id in contacts
    ]
    # Through the write primitive like every contact change, although none of these columns
    # is a rollup or repeat input (its delta is empty).
    with contact_change(contact_ids, by=actor):
        Contact.objects.bulk_update(renamed, ["external_id"], batch_size=1000)
        Contact.objects.filter(id__in=contact_ids).update(
            subject="", notes="", content_hash="", updated_at=timezone.now()
        )
    counts["customer_events"] = CustomerEvent.objects.filter(customer_id__in=customer_ids).update(
        reason_text=""
    )
    email_ids = _inbound_email_ids(customer_ids, contact_ids, emails)
    counts["inbound_emails"] = _erase_inbound_emails(email_ids)
    counts["admin_log_entries"] = _anonymise_admin_log(
        {Customer: customer_ids, Contact: contact_ids, InboundEmail: email_ids}
    )
    counts["outbox_messages"] = _delete_outbox_mail(emails)
    counts["audit_entries"] = audit_forget_customers(customer_ids=customer_ids)
    counts["send_once_emails"] = send_once_forget_customers(customer_ids=customer_ids)

    Customer.objects.filter(id__in=customer_ids).update(
        name="", email="", phone="", external_ref=None, erased_at=timezone.now()
    )
    erasure.counts = counts
    erasure.save(update_fields=["counts"])
    audit_record(
        by=actor,
        action="customer.erase",
        target=locked,
        customer_id=locked.pk,
        changes={"customers": len(people), "contacts": len(contacts)},
        why=f"Erasure {erasure.pk}",
    )
    # Ids and counts only: a log line is kept longer and copied further than any table.
    logger.info(
        "customer %s erased (erasure %s) by user %s: %s",
        locked.pk,
        erasure.pk,
        by.pk if by else None,
        counts,
    )
    customer.refresh_from_db()
    return erasure


def _emails(people: Iterable[Customer]) -> set[str]:
    return {person.email.strip().lower() for person in people if person.email.strip()}


def _tombstone(
    erasure: CustomerErasure,
    people: Iterable[Customer],
    contacts: Iterable[tuple[int, str, str]],
) -> int:
    Kind = ErasureTombstone.Kind
    digests: set[tuple[str, str]] = set()
    for person in people:
        for kind, value in (
            (Kind.CUSTOMER_REF, person.external_ref or ""),
            (Kind.EMAIL, person.email),
            (Kind.PHONE, person.phone),
        ):
            if value.strip():
                digests.add((kind, tombstones.digest(kind, value)))
    for _, source, external_id in contacts:
        digests.add((Kind.CONTACT, tombstones.contact_digest(source, external_id)))
    # A digest already tombstoned (an identifier two erased customers shared) stays as it is.
    ErasureTombstone.objects.bulk_create(
        [ErasureTombstone(kind=kind, digest=value, erasure=erasure) for kind, value in digests],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return len(digests)


def _inbound_email_ids(
    customer_ids: list[int], contact_ids: list[int], emails: set[str]
) -> list[int]:
    """Inbound emails of these customers or contacts, or from or to one of their addresses
    (the mailbox's copies of its replies have the customer as a recipient)."""
    condition = Q(customer_id__in=customer_ids) | Q(contact_id__in=contact_ids)
    for email in emails:
        condition |= (
            Q(from_address__iexact=email)
            | Q(to_addresses__icontains=email)
            | Q(cc_addresses__icontains=email)
        )
    customers, contacts = set(customer_ids), set(contact_ids)
    ids = []
    for email_id, owner, contact_id, sender, to, cc in InboundEmail.objects.filter(
        condition
    ).values_list(
        "id", "customer_id", "contact_id", "from_address", "to_addresses", "cc_addresses"
    ):
        # icontains found candidates; "ann@x.example" must not take "joann@x.example"'s mail.
        addresses = {sender.strip().lower(), *_addresses([*to, *cc])}
        if owner in customers or contact_id in contacts or emails & addresses:
            ids.append(email_id)
    return ids


def _erase_inbound_emails(email_ids: list[int]) -> int:
    rows = list(InboundEmail.objects.filter(id__in=email_ids).values_list("id", "message_id"))
    InboundEmail.objects.bulk_update(
        [
            InboundEmail(
                id=email_id,
                message_id=tombstones.erased_message_id(message_id),
            )
            for email_id, message_id in rows
        ],
        ["message_id"],
        batch_size=1000,
    )
    return InboundEmail.objects.filter(id__in=email_ids).update(
        **InboundEmail.cleared_content(), error="", status=InboundEmail.Status.ERASED
    )


def _anonymise_admin_log(ids_by_model: Mapping[type[models.Model], list[int]]) -> int:
    """The Django admin's history of these rows keeps who changed what and when, not the
    object's name or the changed values (inline rows name the customer)."""
    changed = 0
    for model, ids in ids_by_model.items():
        label = ERASED_NAME if model is Customer else f"Erased {model._meta.verbose_name}"
        content_type = ContentType.objects.get_for_model(model)
        object_ids = [str(object_id) for object_id in ids]
        for start in range(0, len(object_ids), 900):
            changed += LogEntry.objects.filter(
                content_type=content_type, object_id__in=object_ids[start : start + 900]
            ).update(object_repr=label, change_message="")
    return changed


def _delete_outbox_mail(emails: set[str]) -> int:
    """Mail stored instead of sent (development's outbox) that went to the customer."""
    if not emails:
        return 0
    condition = Q()
    for email in emails:
        condition |= Q(to__icontains=email) | Q(cc__icontains=email) | Q(bcc__icontains=email)
    doomed = [
        message.id
        for message in OutboxMessage.objects.filter(condition).only("to", "cc", "bcc")
        if emails & _addresses(message.recipients)
    ]
    deleted, _ = OutboxMessage.objects.filter(id__in=doomed).delete()
    return deleted


def _addresses(values: Iterable[object]) -> set[str]:
    """Lower-case addresses of "Name <address>" or bare-address strings."""
    texts = [value for value in values if isinstance(value, str)]
    return {address.strip().lower() for _, address in getaddresses(texts) if address}
