"""Writes behind the contacts REST API: customers, single contacts, contact edits, messages
and reasons. Bulk and single contacts go through the one ingest service
(contacts.ingest.service.contacts_ingest); the edits here keep redaction and rollups exactly
as ingestion does.

Refusals are Django ValidationErrors (the API answers 400 with messages by field). Refusals that
depend on what is stored rather than on the shape of the request (a duplicate, a reference to a
reason that doesn't exist) are :class:`Conflict`, which the API answers with 409.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.db.models.functions import Lower
from django.utils import timezone

from contacts import services
from contacts.erasure.tombstones import identity_erased
from contacts.ingest.records import MAX_TEXT, REASON_SEPARATOR, RowError, normalise_phone
from contacts.ingest.rollups import CONTRIBUTION_FIELDS, RollupDelta
from contacts.ingest.service import contacts_ingest, extra_redaction_patterns, parse_options
from contacts.models import Contact, ContactReason, Customer, Message
from contacts.redaction import redact_text
from voc.people.access import effective_role, scope_for
from voc.people.models import Department, Team, User
from voc.people.roles import Role


class Conflict(ValidationError):
    """The request is well formed but clashes with what is stored (the API answers 409)."""


def _redact(value: str, *, field: str = "", max_length: int | None = None) -> str:
    """Redacted text; a ValidationError for ``field`` if the placeholders made it longer than
    its column holds (a placeholder is longer than most card numbers)."""
    value = redact_text(value, extra_redaction_patterns()) if value else ""
    if max_length is not None and len(value) > max_length:
        raise ValidationError(
            {field: f"Use at most {max_length} characters (card numbers count as 22)."}
        )
    return value


# --- customers ---------------------------------------------------------------------------


def _customer_identity(*, external_ref: str | None, email: str, phone: str) -> dict:
    """Cleaned identity fields, or a ValidationError naming the field."""
    errors: dict[str, str] = {}
    cleaned: dict = {}
    if external_ref is not None:
        cleaned["external_ref"] = (
            _redact(external_ref.strip(), field="external_ref", max_length=100) or None
        )
    if email is not None:
        email = email.strip()
        if email:
            # An address holding a card number is refused (as ingestion does), never stored.
            try:
                if _redact(email) != email:
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
                if _redact(phone) != phone:
                    raise RowError("phone", "is not a phone number")
                phone = normalise_phone(phone, settings.VOC_PHONE_REGION)
            except RowError as error:
                errors["phone"] = f"phone {error.reason}."
        cleaned["phone"] = phone
    if errors:
        raise ValidationError(errors)
    return cleaned


def _refuse_duplicate_customer(cleaned: dict, *, exclude_id: int | None = None) -> None:
    """Customers are matched by external ref, then email (case-insensitively): a second
    customer with the same ref or email would split one customer's history."""
    erased = identity_erased(
        external_ref=cleaned.get("external_ref") or "",
        email=cleaned.get("email") or "",
        phone=cleaned.get("phone") or "",
    )
    if erased:  # an erased person is not brought back by hand either
        raise Conflict({erased: "This belongs to an erased customer."})
    others = Customer.objects.exclude(id=exclude_id) if exclude_id else Customer.objects.all()
    if cleaned.get("external_ref") and others.filter(external_ref=cleaned["external_ref"]).exists():
        raise Conflict({"external_ref": "A customer with this external ref already exists."})
    if cleaned.get("email"):
        same_email = others.annotate(lemail=Lower("email")).filter(lemail=cleaned["email"].lower())
        if same_email.exists():
            raise Conflict({"email": "A customer with this email address already exists."})


def customer_create(
    *,
    external_ref: str | None = None,
    name: str = "",
    email: str | None = "",
    phone: str = "",
    segment: str = Customer.Segment.CONSUMER,
) -> Customer:
    cleaned = _customer_identity(external_ref=external_ref or "", email=email or "", phone=phone)
    name = _redact(name.strip(), field="name", max_length=200)
    customer = Customer(name=name, segment=segment, **cleaned)
    try:
        with transaction.atomic():
            _refuse_duplicate_customer(cleaned)
            customer.save()
    except IntegrityError:  # a concurrent request created the same ref first
        raise Conflict(
            {"external_ref": "A customer with this external ref already exists."}
        ) from None
    return customer


def customer_update(*, customer: Customer, changes: Mapping) -> Customer:
    """Change some of external_ref, name, email, phone and segment."""
    if customer.erased_at:
        raise Conflict({"detail": "This customer was erased; their record cannot change."})
    cleaned = _customer_identity(
        external_ref=changes.get("external_ref"),
        email=(changes["email"] or "") if "email" in changes else None,
        phone=(changes["phone"] or "") if "phone" in changes else None,
    )
    if "name" in changes:
        cleaned["name"] = _redact(changes["name"].strip(), field="name", max_length=200)
    if "segment" in changes:
        cleaned["segment"] = changes["segment"]
    if not cleaned:
        return customer
    try:
        with transaction.atomic():
            _refuse_duplicate_customer(cleaned, exclude_id=customer.pk)
            for attribute, value in cleaned.items():
                setattr(customer, attribute, value)
            customer.save(update_fields=[*cleaned, "updated_at"])
    except IntegrityError:
        raise Conflict(
            {"external_ref": "A customer with this external ref already exists."}
        ) from None
    return customer


# --- contacts ----------------------------------------------------------------------------


@dataclass
class ContactWrite:
    contact: Contact
    outcome: str  # "created", "updated" or "unchanged"


# Ingestion reports these fields when a row names a reason, team or rep VoC doesn't have.
_REFERENCE_FIELDS = {"reason", "team", "rep"}


def contact_create(
    *, row: Mapping, source: str, by: User | None, now: datetime | None = None
) -> ContactWrite:
    """Create or update one contact from a row of VoC's ingest fields, stored under
    ``source``. ``by`` is the person sending it (None for an ingest token): reps and managers
    may log contacts for the teams in their scope only, and may not overwrite a contact with
    the same external id that they cannot see."""
    options = parse_options(source=source, default_occurred_at=now or timezone.now())
    row = dict(row)
    external_id = redact_text(str(row.get("external_id", "")).strip(), options.extra_patterns)
    with transaction.atomic():
        if by is not None:
            _check_contact_scope(row, by=by, source=source, external_id=external_id)
        result = contacts_ingest(rows=[row], options=options)
        if result.rejected:
            rejected = result.rejected[0]
            error_class = Conflict if rejected.field in _REFERENCE_FIELDS else ValidationError
            raise error_class({rejected.field: f"{rejected.field} {rejected.reason}."})
        outcome = "created" if result.created else "updated" if result.updated else "unchanged"
        contact = Contact.objects.get(source=source, external_id=external_id)
    return ContactWrite(contact=contact, outcome=outcome)


def _check_contact_scope(row: dict, *, by: User, source: str, external_id: str) -> None:
    scope = scope_for(by)
    if scope.everything:
        return
    existing = (
        Contact.objects.select_for_update()
        .filter(source=source, external_id=external_id)
        .values_list("id", flat=True)
        .first()
    )
    if (
        existing is not None
        and not Contact.objects.filter(
            Q(id=existing) & scope.q(team_field="team_id", department_field="reason__department_id")
        ).exists()
    ):
        raise Conflict({"external_id": "This external id belongs to a contact you can't change."})
    team_name = row.get("team")
    if isinstance(team_name, str) and team_name.strip():
        team = Team.objects.filter(name__iexact=team_name.strip()).first()
        if team is not None and team.id not in scope.team_ids:
            raise ValidationError({"team": "You may log contacts for your own teams only."})
    elif by.team_id and by.team_id in scope.team_ids:
        row["team"] = by.team.name  # logged by a rep: the rep's team by default
    if not row.get("rep") and effective_role(by) == Role.REP:
        row["rep"] = by.username  # a rep logging a contact handled it


def active_reason(reason_id: int) -> ContactReason:
    reason = ContactReason.objects.filter(
        id=reason_id, retired_at__isnull=True, merged_into__isnull=True
    ).first()
    if reason is None:
        raise Conflict({"reason": "There is no active reason with this id."})
    return reason


def contact_update(*, contact: Contact, changes: Mapping) -> Contact:
    """contacts.services.contact_update with the reason given by id: only an active reason
    may be set (a retired or merged one is a 409)."""
    changes = dict(changes)
    if changes.get("reason") is not None:
        changes["reason"] = active_reason(changes["reason"])
    return services.contact_update(contact=contact, changes=changes)


# --- messages ----------------------------------------------------------------------------


def message_append(
    *,
    contact: Contact,
    text: str,
    direction: str = "",
    author: str = "",
    sent_at: datetime | None = None,
    external_id: str = "",
) -> Message:
    """Add a message after the contact's last one. Its text changes the contact's sentiment,
    so that is scored again after commit (and the rollups follow)."""
    text = text.strip()
    if not text:
        raise ValidationError({"text": "Write the message."})
    if len(text) > MAX_TEXT:
        raise ValidationError({"text": f"Use at most {MAX_TEXT} characters."})
    if not direction:
        direction = (
            Message.Direction.INCOMING
            if contact.direction == Contact.Direction.INBOUND
            else Message.Direction.OUTGOING
        )
    with transaction.atomic():
        # Locking the contact serialises appends, so two can't take the same position.
        row = (
            Contact.objects.select_for_update()
            .filter(pk=contact.pk)
            .values(*CONTRIBUTION_FIELDS)
            .get()
        )
        last = Message.objects.filter(contact=contact).aggregate(last=Max("position"))["last"]
        position = 0 if last is None else last + 1
        taken = set(Message.objects.filter(contact=contact).values_list("external_id", flat=True))
        external_id = _redact(external_id.strip(), field="external_id", max_length=200)
        if external_id and external_id in taken:
            raise Conflict({"external_id": "This contact already has a message with this id."})
        if not external_id:
            external_id = str(position)
            suffix = 1
            while external_id in taken:  # ids ingestion gave other messages
                external_id = f"{position}-{suffix}"
                suffix += 1
        message = Message.objects.create(
            contact=contact,
            external_id=external_id,
            position=position,
            direction=direction,
            author=_redact(author.strip(), field="author", max_length=200),
            sent_at=sent_at or timezone.now(),
            text=_redact(text),
        )
        if row["sentiment"] is not None:
            delta = RollupDelta()
            delta.add_rows([row], sign=-1)
            delta.add_rows([{**row, "sentiment": None}])
            delta.apply()
        Contact.objects.filter(pk=contact.pk).update(sentiment=None, updated_at=timezone.now())
        contact_id = contact.pk
        transaction.on_commit(lambda: _enqueue_sentiment([contact_id]))
    return message


def _enqueue_sentiment(contact_ids: list[int]) -> None:
    from contacts.tasks import enqueue_sentiment

    enqueue_sentiment(contact_ids)


# --- reasons -----------------------------------------------------------------------------


def _reason_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the reason a name."})
    if REASON_SEPARATOR.search(name):
        raise ValidationError(
            {"name": "A name can't contain ›, > or /: they separate a parent from its reason."}
        )
    return name


def _check_reason_tree(
    *, reason: ContactReason | None, name: str, parent: ContactReason | None
) -> None:
    if parent is not None:
        if reason is not None and parent.pk == reason.pk:
            raise Conflict({"parent": "A reason can't be its own parent."})
        if parent.parent_id is not None:
            raise Conflict(
                {"parent": "The parent must be a top-level reason (two levels at most)."}
            )
        if parent.merged_into_id is not None:
            raise Conflict({"parent": "That reason was merged into another; use that one."})
        if reason is not None and reason.pk and reason.children.exists():
            raise Conflict({"parent": "This reason has reasons under it, so it stays top-level."})
    siblings = ContactReason.objects.annotate(lname=Lower("name")).filter(
        lname=name.lower(), parent=parent
    )
    if reason is not None and reason.pk:
        siblings = siblings.exclude(pk=reason.pk)
    if siblings.exists():
        raise Conflict({"name": "A reason with this name already exists there."})


def _reason_refs(changes: Mapping) -> dict:
    refs: dict = {}
    if "parent" in changes:
        parent_id = changes["parent"]
        refs["parent"] = None
        if parent_id is not None:
            refs["parent"] = ContactReason.objects.filter(id=parent_id).first()
            if refs["parent"] is None:
                raise Conflict({"parent": "There is no reason with this id."})
    if "department" in changes:
        department_id = changes["department"]
        refs["department"] = None
        if department_id is not None:
            refs["department"] = Department.objects.filter(id=department_id).first()
            if refs["department"] is None:
                raise Conflict({"department": "There is no department with this id."})
    return refs


def reason_create(
    *,
    name: str,
    parent: int | None = None,
    department: int | None = None,
    avoidable: bool = False,
) -> ContactReason:
    name = _reason_name(name)
    refs = _reason_refs({"parent": parent, "department": department})
    try:
        with transaction.atomic():
            _check_reason_tree(reason=None, name=name, parent=refs["parent"])
            return ContactReason.objects.create(name=name, avoidable=avoidable, **refs)
    except IntegrityError:
        raise Conflict({"name": "A reason with this name already exists there."}) from None


def reason_update(*, reason: ContactReason, changes: Mapping) -> ContactReason:
    """Change some of name, parent, department and avoidable. Contacts keep pointing at the
    reason, so history follows the change."""
    values = _reason_refs(changes)
    if "name" in changes:
        values["name"] = _reason_name(changes["name"])
    if "avoidable" in changes:
        values["avoidable"] = changes["avoidable"]
    if not values:
        return reason
    name = values.get("name", reason.name)
    parent = values.get("parent", reason.parent)
    try:
        with transaction.atomic():
            _check_reason_tree(reason=reason, name=name, parent=parent)
            for attribute, value in values.items():
                setattr(reason, attribute, value)
            reason.save(update_fields=list(values))
    except IntegrityError:
        raise Conflict({"name": "A reason with this name already exists there."}) from None
    return reason
