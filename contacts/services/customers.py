"""Customers: creating and correcting one by hand, merging a duplicate into another, and
finding one outside the viewer's scope by an exact match (docs/access.md)."""

import contextlib
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower

from contacts.budget.services import budget_merge_customers
from contacts.changes import contact_change
from contacts.ingest.records import RowError, normalise_phone
from contacts.models import Contact, Customer, CustomerEvent
from contacts.selectors import (
    CUSTOMER_LOOKUP,
    CustomerCard,
    customer_card,
    customer_list_exact_outside_scope,
    customer_list_visible,
    customer_matched_field,
)
from contacts.services.text import TextCleaner
from contacts.tombstones import identity_erased
from voc.core.audit import Actor, audit_record, field_changes
from voc.core.errors import Conflict
from voc.people.access import sees_everything
from voc.people.models import User


def _scoped_person(by: Actor) -> User | None:
    """The person acting, if they see only some customers (reps, managers); else None."""
    if isinstance(by, User) and not sees_everything(by):
        return by
    return None


def _record_lookup(*, by: User, customer: Customer, matched: str, typed: str, via: str) -> None:
    audit_record(
        by=by,
        action=CUSTOMER_LOOKUP,
        target=customer,
        customer_id=customer.pk,  # what was typed is personal: an erasure drops it
        changes={"matched": matched, "typed": TextCleaner().redact(typed.strip()), "via": via},
    )


@transaction.atomic
def customer_lookup(*, query: str, by: User, via: str = "search") -> list[CustomerCard]:
    """The customers outside ``by``'s scope whose ref, email or phone is exactly ``query``, as
    minimal cards (name and ref). Each is recorded in the audit trail: who looked, which
    customer, which identifier matched and what was typed. ``via`` names the page or API."""
    cards = []
    for customer in customer_list_exact_outside_scope(viewer=by, query=query):
        matched = customer_matched_field(customer, query)
        _record_lookup(by=by, customer=customer, matched=matched, typed=query, via=via)
        cards.append(customer_card(customer, matched=matched))
    return cards


def customer_identity_lookup(
    *, by: Actor, identity: Mapping[str, object], via: str
) -> list[Customer]:
    """Record the customers outside ``by``'s scope that a contact's customer identifiers
    (``customer_ref``, ``customer_email``, ``customer_phone``, as typed) name exactly: logging a
    contact against one is an exact-match lookup too, and brings them into the scope. Nothing
    for those who see everything and for ingest tokens."""
    person = _scoped_person(by)
    if person is None:
        return []
    found: dict[int, Customer] = {}
    for field in ("customer_ref", "customer_email", "customer_phone"):
        typed = identity.get(field)
        if not isinstance(typed, str) or not typed.strip():
            continue
        for customer in customer_list_exact_outside_scope(viewer=person, query=typed):
            if customer.pk in found:
                continue
            found[customer.pk] = customer
            matched = customer_matched_field(customer, typed)
            _record_lookup(by=person, customer=customer, matched=matched, typed=typed, via=via)
    return list(found.values())


def _customer_identity(
    *, external_ref: str | None, email: str | None, phone: str | None, cleaner: TextCleaner
) -> dict[str, str | None]:
    """Cleaned identity fields (None: not given), or a ValidationError naming the field."""
    errors: dict[str, str] = {}
    cleaned: dict[str, str | None] = {}
    if external_ref is not None:
        # An id: kept, or its keyed stand-in, exactly as ingestion matches it.
        cleaned["external_ref"] = cleaner.identifier(external_ref) or None
        if cleaned["external_ref"] and len(cleaned["external_ref"]) > 100:
            errors["external_ref"] = "Use at most 100 characters."
    if email is not None:
        email = email.strip()
        if email:
            # An address holding a card number is refused (as ingestion does), never stored.
            try:
                if cleaner.redact(email) != email:
                    raise ValidationError("redacted")
                validate_email(email)
            except ValidationError:
                errors["email"] = "Enter a valid email address."
        cleaned["email"] = email
    if phone is not None:
        phone = phone.strip()
        if phone:
            # Redacted first, as ingestion does: a "phone" that is really a card number is
            # refused, never stored.
            try:
                if cleaner.redact(phone) != phone:
                    raise RowError("phone", "is not a phone number")
                phone = normalise_phone(phone, settings.VOC_PHONE_REGION)
            except RowError as error:
                errors["phone"] = f"phone {error.reason}."
        cleaned["phone"] = phone
    if errors:
        raise ValidationError(errors)
    return cleaned


class KnownElsewhere(Exception):
    """The identity belongs to a customer outside the person's scope, or to an erased one
    (``customer`` None)."""

    def __init__(self, field: str, typed: str, customer: Customer | None):
        super().__init__(field)
        self.field, self.typed, self.customer = field, typed, customer

    def record(self, *, by: User, via: str) -> None:
        """Record the match as a lookup (after the refused change rolled back)."""
        if self.customer is not None:
            _record_lookup(
                by=by, customer=self.customer, matched=self.field, typed=self.typed, via=via
            )


def _refuse_duplicate_customer(
    cleaned: Mapping[str, str | None],
    *,
    exclude_id: int | None = None,
    person: User | None = None,
) -> None:
    """Customers are matched by external ref, then email (case-insensitively): a second
    customer with the same ref or email would split one customer's history.

    For everyone who sees every customer, a clash is a Conflict naming the field. For a
    ``person`` who sees only some, a clash with a customer in their scope is the same
    Conflict; a clash with one outside it (or an erased one) raises KnownElsewhere, for the
    caller to record and answer without saying so."""
    erased = identity_erased(
        external_ref=cleaned.get("external_ref") or "",
        email=cleaned.get("email") or "",
        phone=cleaned.get("phone") or "",
    )
    if erased:  # an erased person is not brought back by hand either
        if person is not None:
            raise KnownElsewhere(erased, str(cleaned.get(erased) or ""), None)
        raise Conflict({erased: "This belongs to an erased customer."})
    others = Customer.objects.exclude(id=exclude_id) if exclude_id else Customer.objects.all()
    clashes = []
    if ref := cleaned.get("external_ref"):
        clashes.append(
            ("external_ref", ref, others.filter(external_ref=ref).order_by("id").first())
        )
    if email := cleaned.get("email"):
        same_email = others.annotate(lemail=Lower("email")).filter(lemail=email.lower())
        clashes.append(("email", email, same_email.order_by("id").first()))
    messages = {
        "external_ref": "A customer with this external ref already exists.",
        "email": "A customer with this email address already exists.",
    }
    for field, typed, customer in clashes:
        if customer is None:
            continue
        if person is not None and not (
            customer_list_visible(viewer=person).filter(id=customer.pk).exists()
        ):
            raise KnownElsewhere(field, typed, customer)
        raise Conflict({field: messages[field]})


def customer_create(
    *,
    by: Actor,
    external_ref: str | None = None,
    name: str = "",
    email: str | None = "",
    phone: str = "",
    segment: str = Customer.Segment.CONSUMER,
) -> Customer:
    """Create a customer, refusing a ref or email another customer holds (Conflict).

    A person who sees only some customers (reps, managers) is never told that a customer
    outside their scope exists: when the ref or email belongs to one (or to an erased
    customer), nothing is stored, the match is recorded in the audit trail as a lookup, and
    the customer comes back unsaved (``pk`` None), just as they asked for it. Callers answer
    such a person the same way whether the customer was created or not (the API's 202)."""
    cleaner = TextCleaner()
    cleaned = _customer_identity(
        external_ref=external_ref or "", email=email or "", phone=phone, cleaner=cleaner
    )
    name = cleaner.clean(name, field="name", max_length=200)
    customer = Customer(name=name, segment=segment, **cleaned)
    person = _scoped_person(by)
    try:
        with transaction.atomic():
            _refuse_duplicate_customer(cleaned, person=person)
            customer.save()
            audit_record(
                by=by,
                action="customer.create",
                target=customer,
                customer_id=customer.pk,
                changes={key: [None, value] for key, value in {"name": name, **cleaned}.items()},
            )
    except KnownElsewhere as clash:
        assert person is not None
        with transaction.atomic():
            clash.record(by=person, via="customer.create")
        return customer  # unsaved: pk None
    except IntegrityError:  # a concurrent request created the same ref first
        if person is not None:
            return Customer(name=name, segment=segment, **cleaned)  # unsaved, as above
        raise Conflict(
            {"external_ref": "A customer with this external ref already exists."}
        ) from None
    return customer


def customer_update(*, customer: Customer, changes: Mapping[str, Any], by: Actor) -> Customer:
    """Change some of external_ref, name, email, phone and segment."""
    if customer.erased_at:
        raise Conflict({"detail": "This customer was erased; their record cannot change."})
    cleaner = TextCleaner()
    cleaned = _customer_identity(
        external_ref=changes.get("external_ref"),
        email=(changes["email"] or "") if "email" in changes else None,
        phone=(changes["phone"] or "") if "phone" in changes else None,
        cleaner=cleaner,
    )
    if "name" in changes:
        cleaned["name"] = cleaner.clean(changes["name"], field="name", max_length=200)
    if "segment" in changes:
        cleaned["segment"] = changes["segment"]
    if not cleaned:
        return customer
    before = {attribute: getattr(customer, attribute) for attribute in cleaned}
    person = _scoped_person(by)
    try:
        with transaction.atomic():
            _refuse_duplicate_customer(cleaned, exclude_id=customer.pk, person=person)
            for attribute, value in cleaned.items():
                setattr(customer, attribute, value)
            customer.save(update_fields=[*cleaned, "updated_at"])
            audit_record(
                by=by,
                action="customer.update",
                target=customer,
                customer_id=customer.pk,
                changes=field_changes(before, cleaned),
            )
    except KnownElsewhere as clash:
        # The ref or email of a customer the person may not see, named exactly: refused like
        # any clash (two records would split one person's history), with one message for a
        # live or an erased customer, and recorded as a lookup (docs/access.md).
        assert person is not None
        with transaction.atomic():
            clash.record(by=person, via="customer.update")
        raise Conflict(
            {clash.field: "This belongs to another customer; ask a manager to merge them."}
        ) from None
    except IntegrityError:
        raise Conflict(
            {"external_ref": "A customer with this external ref already exists."}
        ) from None
    return customer


def customer_admin_save(*, customer: Customer, by: Actor) -> Customer:
    """Save a customer an admin corrected in the Django admin: the name redacted, the phone
    normalised where it can be (the admin may keep a number the parser cannot read; ingestion
    won't match it then), the change in the customer's history."""
    customer.name = TextCleaner().redact(customer.name)
    if customer.phone:
        with contextlib.suppress(RowError):
            customer.phone = normalise_phone(customer.phone, settings.VOC_PHONE_REGION)
    fields = ["name", "email", "phone", "external_ref", "segment"]
    before = (
        Customer.objects.filter(pk=customer.pk).values(*fields).first() if customer.pk else {}
    ) or {}
    with transaction.atomic():
        customer.save()
        audit_record(
            by=by,
            action="customer.admin_update" if before else "customer.create",
            target=customer,
            customer_id=customer.pk,
            changes=field_changes(before, {field: getattr(customer, field) for field in fields}),
        )
    return customer


@transaction.atomic
def customer_merge(*, source: Customer, target: Customer, by: Actor) -> int:
    """Merge a duplicate customer into ``target``: contacts and lifecycle events move, blank
    identity fields are filled from the duplicate, repeat contacts are relinked and rollups
    adjusted (the write primitive does both). The duplicate stays as a pointer. Returns the
    contacts moved."""
    if source.pk == target.pk:
        raise ValidationError("A customer cannot be merged into itself.")
    if target.merged_into_id:
        raise ValidationError("Merge into a customer that has not itself been merged.")
    # Customers first, then their contacts, each in id order: the order an erasure takes
    # them in, so a merge and an erasure of the same person wait for each other instead of
    # deadlocking. Both customers' contacts are locked: the target's links change too.
    list(
        Customer.objects.select_for_update()
        .filter(id__in=[source.pk, target.pk])
        .order_by("id")
        .values_list("id", flat=True)
    )
    contact_ids = list(
        Contact.objects.filter(customer__in=[source, target]).values_list("id", flat=True)
    )
    with contact_change(contact_ids, by=by) as change:
        moved = [i for i, row in change.before.items() if row["customer_id"] == source.pk]
        Contact.objects.filter(id__in=moved).update(customer=target)
    CustomerEvent.objects.filter(customer=source).update(customer=target)
    budget_merge_customers(source_id=source.pk, target_id=target.pk)  # cool-downs stay theirs
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
    audit_record(
        by=by,
        action="customer.merge",
        target=source,
        customer_id=source.pk,
        changes={"merged_into": [None, target.pk], "contacts_moved": len(moved)},
    )
    audit_record(
        by=by,
        action="customer.merge_into",
        target=target,
        customer_id=target.pk,
        changes={"merged_from": source.pk, **{key: [None, v] for key, v in identity.items()}},
    )
    return len(moved)
