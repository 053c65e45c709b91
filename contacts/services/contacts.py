"""Contacts: logging one by hand, creating one through the API, and a person's edits.

New contacts go through the one ingest service (contacts.ingest.service.contacts_ingest), so
redaction, customer matching, repeat links and rollups are exactly those of an import. Changes
to stored contacts go through contacts.changes.contact_change.
"""

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from contacts.changes import contact_change
from contacts.ingest.records import MAX_TAGS, MAX_TEXT
from contacts.ingest.service import contacts_ingest, parse_options
from contacts.models import Contact, ContactReason, Customer, Message
from contacts.services.customers import customer_identity_lookup
from contacts.services.reasons import active_reason, reason_resolve_merged
from contacts.services.text import TextCleaner
from contacts.tombstones import ERASED_REASON
from voc.core.audit import Actor, SystemActor
from voc.core.capabilities import effective_role
from voc.core.errors import Conflict
from voc.people.access import scope_for
from voc.people.models import Team, User
from voc.people.roles import Role

LOG_SOURCE = "voc"  # contacts logged on VoC's own pages

# What a person may change on a contact (on its page, through the API or in the admin); the
# rest is the source system's, and changes when the source sends the row again.
CONTACT_EDITABLE = frozenset(
    {
        "reason", "tags", "road", "outcome", "notes", "handle_seconds", "wait_seconds",
        "first_contact_resolution",
    }
)  # fmt: skip
MAX_TAG_LENGTH = 50


def tags_normalise(tags: Iterable[object], *, cleaner: TextCleaner | None = None) -> list[str]:
    """Tags as ingestion stores them: redacted (before they are cut, so no part of a card
    number is left), lower case, trimmed, at most 50 characters, unique, sorted."""
    cleaner = cleaner or TextCleaner()
    cleaned: set[str] = set()
    for tag in tags:
        tag = cleaner.redact(str(tag)).strip().lower()[:MAX_TAG_LENGTH].strip()
        if tag:
            cleaned.add(tag)
    if len(cleaned) > MAX_TAGS:
        raise ValidationError({"tags": f"Give at most {MAX_TAGS} tags."})
    return sorted(cleaned)


def contact_update(
    *, contact: Contact, changes: Mapping[str, Any], by: Actor, why: str = ""
) -> Contact:
    """Change some of CONTACT_EDITABLE on one contact. ``reason`` is a ContactReason, the id
    of an active reason (a retired or merged one is a Conflict), or None.

    Notes and tags are redacted like ingested text. The ingest fingerprint is left alone: if
    the source re-sends the row unchanged the edit stays; a changed row wins."""
    unknown = set(changes) - CONTACT_EDITABLE
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field can't be changed."})
    cleaner = TextCleaner()
    values: dict[str, object] = {}
    if "reason" in changes:
        reason = changes["reason"]
        if reason is not None and not isinstance(reason, ContactReason):
            reason = active_reason(reason)
        values["reason"] = reason_resolve_merged(reason)
    if "tags" in changes:
        values["tags"] = tags_normalise(changes["tags"] or [], cleaner=cleaner)
    if "notes" in changes:
        notes = str(changes["notes"] or "").strip()
        if len(notes) > MAX_TEXT:
            raise ValidationError({"notes": f"Use at most {MAX_TEXT} characters."})
        values["notes"] = cleaner.redact(notes)
    if "road" in changes:
        if changes["road"] is not None and changes["road"] not in Contact.Road.values:
            raise ValidationError({"road": "Choose a road from 1 to 4."})
        values["road"] = changes["road"]
    if "outcome" in changes:
        outcome = changes["outcome"] or ""
        if outcome and outcome not in Contact.Outcome.values:
            raise ValidationError({"outcome": "Choose one of the listed outcomes."})
        values["outcome"] = outcome
    for name in ("handle_seconds", "wait_seconds", "first_contact_resolution"):
        if name in changes:
            values[name] = changes[name]
    if values:
        now = timezone.now()
        with contact_change([contact.pk], by=by, action="contact.update", why=why) as change:
            before = change.before.get(contact.pk)
            if (
                before is not None
                and "outcome" in values
                and values["outcome"] != before["outcome"]
            ):
                values["outcome_set_at"] = now  # the contact budget's "open since"
            Contact.objects.filter(pk=contact.pk).update(**values, updated_at=now)
    return Contact.objects.select_related("customer", "reason__parent", "team", "rep").get(
        pk=contact.pk
    )


def contact_admin_save(*, contact: Contact, by: Actor) -> Contact:
    """Save a contact an admin corrected in the Django admin (any field the admin form offers,
    customer and time included): texts redacted, links, rollups and history kept true."""
    cleaner = TextCleaner()
    contact.subject = cleaner.redact(contact.subject)
    contact.notes = cleaner.redact(contact.notes)
    with contact_change([contact.pk], by=by, action="contact.admin_update") as change:
        before = change.before.get(contact.pk)
        if before is not None and contact.outcome != before["outcome"]:
            contact.outcome_set_at = timezone.now()  # the contact budget's "open since"
        contact.save()
    return contact


# --- creating ------------------------------------------------------------------------------


@dataclass
class ContactWrite:
    contact: Contact
    outcome: str  # "created", "updated" or "unchanged"


# Ingestion reports these fields when a row names a reason, team or rep VoC doesn't have.
_REFERENCE_FIELDS = {"reason", "team", "rep"}


def contact_create(
    *, row: Mapping[str, object], source: str, by: User | None, now: datetime | None = None
) -> ContactWrite:
    """Create or update one contact from a row of VoC's ingest fields, stored under
    ``source``. ``by`` is the person sending it (None for an ingest token): reps and managers
    may log contacts for the teams in their scope only, and may not overwrite a contact with
    the same external id that they cannot see."""
    options = parse_options(source=source, default_occurred_at=now or timezone.now())
    row = dict(row)
    external_id = TextCleaner().identifier(row.get("external_id", ""))
    with transaction.atomic():
        if by is not None:
            _check_contact_scope(row, by=by, source=source, external_id=external_id)
            # A customer outside the sender's scope named exactly: recorded as a lookup (the
            # contact brings them into the scope, docs/access.md).
            customer_identity_lookup(by=by, identity=row, via="contact.create")
        sender = by if by is not None else SystemActor(f"ingest:{source}")
        result = contacts_ingest(rows=[row], options=options, by=sender)
        if result.rejected:
            rejected = result.rejected[0]
            stored_state = rejected.field in _REFERENCE_FIELDS or rejected.reason == ERASED_REASON
            error_class = Conflict if stored_state else ValidationError
            raise error_class({rejected.field: f"{rejected.field} {rejected.reason}."})
        outcome = "created" if result.created else "updated" if result.updated else "unchanged"
        contact = Contact.objects.get(source=source, external_id=external_id)
    return ContactWrite(contact=contact, outcome=outcome)


def _check_contact_scope(
    row: dict[str, object], *, by: User, source: str, external_id: str
) -> None:
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
    elif by.team_id and by.team_id in scope.team_ids and by.team is not None:
        row["team"] = by.team.name  # logged by a rep: the rep's team by default
    if not row.get("rep") and effective_role(by) == Role.REP:
        row["rep"] = by.username  # a rep logging a contact handled it


# The log form's fields: a rejected row's reason is shown next to its field.
_LOG_FORM_FIELDS = frozenset(
    {
        "customer_name", "customer_email", "customer_phone", "channel", "direction",
        "occurred_at", "reason", "tags", "subject", "notes", "customer_words", "reply",
        "handle_seconds", "outcome", "first_contact_resolution", "road",
    }
)  # fmt: skip


@transaction.atomic
def contact_log(
    *,
    by: User,
    team: Team | None,
    channel: str,
    direction: str,
    occurred_at: datetime,
    customer: Customer | None = None,
    customer_name: str = "",
    customer_email: str = "",
    customer_phone: str = "",
    reason: ContactReason | None = None,
    tags: list[str] | None = None,
    subject: str = "",
    notes: str = "",
    customer_words: str = "",
    reply: str = "",
    handle_seconds: int | None = None,
    outcome: str = "",
    first_contact_resolution: bool | None = None,
    road: int | None = None,
) -> Contact:
    """Log one contact taken by ``by`` for ``team`` on VoC's own pages and return it.

    The customer is an existing ``customer`` or a new one described by name, email and phone
    (matched to an existing customer by email, then phone, exactly as on import). The customer's
    words become the first (incoming) message, the rep's reply the second (outgoing) one.
    Raises ValidationError (keyed by the log form's field names) when the ingest service
    rejects the row; nothing is stored then."""
    if customer is not None and (customer_name or customer_email or customer_phone):
        raise ValidationError("Choose an existing customer or describe a new one, not both.")
    options = parse_options(source=LOG_SOURCE)
    row: dict[str, object] = {
        "external_id": uuid.uuid4().hex,
        "channel": channel,
        "direction": direction,
        "occurred_at": occurred_at.isoformat(),
        "rep": by.username,
        "team": team.name if team else "",
        "reason": _reason_path(reason),
        "tags": tags_normalise(tags or []),
        "subject": subject,
        "notes": notes,
        "handle_seconds": handle_seconds,
        "outcome": outcome,
        "first_contact_resolution": first_contact_resolution,
        "road": road,
        "messages": _messages(by, customer, customer_name, customer_words, reply),
    }
    if customer is not None:
        row.update(_customer_identity(customer))
    else:
        row.update(
            customer_name=customer_name,
            customer_email=customer_email,
            customer_phone=customer_phone,
        )
        # An email or phone of a customer outside the rep's scope: the contact joins that
        # customer (as on import), recorded as an exact-match lookup (docs/access.md).
        customer_identity_lookup(by=by, identity=row, via="contact.log")
    result = contacts_ingest(rows=[row], options=options, by=by)
    if result.rejected:
        rejected = result.rejected[0]
        field = _form_field(rejected.field, has_words=bool(customer_words))
        if field in _LOG_FORM_FIELDS:
            raise ValidationError({field: rejected.reason})
        raise ValidationError({NON_FIELD_ERRORS: f"{rejected.field} {rejected.reason}"})
    contact_id = result.written_contact_ids[0]
    if customer is not None:
        _attach_customer(contact_id=contact_id, customer_id=customer.id, by=by)
    return Contact.objects.select_related("customer", "reason__parent", "team", "rep").get(
        id=contact_id
    )


def _form_field(ingest_field: str, *, has_words: bool) -> str:
    """The log form's name for a field of the ingest row ("messages[1].text" → "reply")."""
    if ingest_field.startswith("messages["):
        first = ingest_field.startswith("messages[0]")
        return "customer_words" if first and has_words else "reply"
    return ingest_field


def _reason_path(reason: ContactReason | None) -> list[str] | str:
    # [parent, name] rather than "Parent › Name": a name may itself contain "/" or ">", which
    # the text form would split on.
    if reason is None:
        return ""
    return [reason.parent.name, reason.name] if reason.parent is not None else [reason.name]


def _messages(
    by: User, customer: Customer | None, name: str, words: str, reply: str
) -> list[dict[str, str]]:
    messages: list[dict[str, str]] = []
    if words:
        author = customer.name if customer is not None else name
        messages.append({"direction": Message.Direction.INCOMING, "author": author, "text": words})
    if reply:
        author = by.get_full_name() or by.username
        messages.append({"direction": Message.Direction.OUTGOING, "author": author, "text": reply})
    return messages


def _customer_identity(customer: Customer) -> dict[str, str]:
    """The strongest identifier of an existing customer, so ingest matches that customer."""
    if customer.external_ref:
        return {"customer_ref": customer.external_ref}
    if customer.email:
        return {"customer_email": customer.email}
    if customer.phone:
        return {"customer_phone": customer.phone}
    return {}


def _attach_customer(*, contact_id: int, customer_id: int, by: Actor) -> None:
    """Make sure the logged contact belongs to the customer the rep picked.

    Ingest matches by identifier; that finds the picked customer unless it has no identifier
    at all (created by hand with a name only) or shares its email or phone with an older
    duplicate. Then the contact moves here (the write primitive relinks and recounts)."""
    with contact_change([contact_id], by=by) as change:
        if change.before[contact_id]["customer_id"] != customer_id:
            Contact.objects.filter(id=contact_id).update(customer_id=customer_id)


def contact_may_delete(*, contact: Contact, user: User) -> bool:
    """A contact logged by hand on VoC's pages may be deleted (a mistake) by the rep who
    logged it or by a manager or admin whose scope holds it; executives read only. Ingested
    contacts are corrected at their source, not deleted here."""
    if contact.source != LOG_SOURCE:
        return False
    role = effective_role(user)
    if role == Role.REP:
        return contact.rep_id == user.pk
    if role not in (Role.MANAGER, Role.ADMIN):
        return False
    return Contact.objects.filter(
        Q(pk=contact.pk)
        & scope_for(user).q(team_field="team_id", department_field="reason__department_id")
    ).exists()


def contact_delete(*, contact: Contact, by: User, why: str = "") -> None:
    """Delete a contact logged by mistake (see contact_may_delete), with its messages. Through
    the write primitive: the customer's later contacts are relinked, the rollups lose it, and
    the history keeps what it was."""
    if not contact_may_delete(contact=contact, user=by):
        raise PermissionDenied("Only a contact logged by hand, by its author or a manager.")
    # Contacts that repeat it lose their link when it goes: lock them too, so their counts move.
    repeats = list(Contact.objects.filter(repeat_of=contact).values_list("id", flat=True))
    with contact_change([contact.pk, *repeats], by=by, action="contact.delete", why=why):
        Contact.objects.filter(pk=contact.pk).delete()
