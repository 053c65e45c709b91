"""Writes made from the rep pages: logging a contact and editing one.

Logging goes through the one ingest service (contacts.ingest.service.contacts_ingest) like every
other path, so redaction, customer matching, repeat contacts and rollups are exactly those of
an import. Editing changes a few fields of one contact and moves its rollup counts in the same
transaction.
"""

import uuid
from datetime import datetime

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction

from contacts.ingest.repeats import repeats_relink
from contacts.ingest.rollups import CONTRIBUTION_FIELDS, RollupDelta
from contacts.ingest.service import contacts_ingest, parse_options
from contacts.models import Contact, ContactReason, Customer, Message
from contacts.services import contact_update, tags_normalise  # noqa: F401  (the pages' edits)
from voc.people.models import Team, User

LOG_SOURCE = "voc"  # contacts logged on VoC's own pages


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
    """Log one contact taken by ``by`` for ``team`` and return it.

    The customer is an existing ``customer`` or a new one described by name, email and phone
    (matched to an existing customer by email, then phone, exactly as on import). The customer's
    words become the first (incoming) message, the rep's reply the second (outgoing) one.
    Raises ValidationError (keyed by the log form's field names) when the ingest service
    rejects the row; nothing is stored then."""
    if customer is not None and (customer_name or customer_email or customer_phone):
        raise ValidationError("Choose an existing customer or describe a new one, not both.")
    options = parse_options(source=LOG_SOURCE)
    row: dict = {
        "external_id": uuid.uuid4().hex,
        "channel": channel,
        "direction": direction,
        "occurred_at": occurred_at.isoformat(),
        "rep": by.username,
        "team": team.name if team else "",
        "reason": _reason_path(reason),
        "tags": tags_normalise(tags or [], extra_patterns=options.extra_patterns),
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
    result = contacts_ingest(rows=[row], options=options)
    if result.rejected:
        rejected = result.rejected[0]
        field = _form_field(rejected.field, has_words=bool(customer_words))
        if field in _LOG_FORM_FIELDS:
            raise ValidationError({field: rejected.reason})
        raise ValidationError({NON_FIELD_ERRORS: f"{rejected.field} {rejected.reason}"})
    contact_id = result.written_contact_ids[0]
    if customer is not None:
        _attach_customer(contact_id=contact_id, customer_id=customer.id)
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
    return [reason.parent.name, reason.name] if reason.parent_id else [reason.name]


def _messages(by: User, customer: Customer | None, name: str, words: str, reply: str) -> list:
    messages = []
    if words:
        author = customer.name if customer is not None else name
        messages.append({"direction": Message.Direction.INCOMING, "author": author, "text": words})
    if reply:
        author = by.get_full_name() or by.username
        messages.append({"direction": Message.Direction.OUTGOING, "author": author, "text": reply})
    return messages


def _customer_identity(customer: Customer) -> dict:
    """The strongest identifier of an existing customer, so ingest matches that customer."""
    if customer.external_ref:
        return {"customer_ref": customer.external_ref}
    if customer.email:
        return {"customer_email": customer.email}
    if customer.phone:
        return {"customer_phone": customer.phone}
    return {}


def _attach_customer(*, contact_id: int, customer_id: int) -> None:
    """Make sure the logged contact belongs to the customer the rep picked.

    Ingest matches by identifier; that finds the picked customer unless it has no identifier
    at all (created by hand with a name only) or shares its email or phone with an older
    duplicate. Then the contact moves here, with repeat links and rollups adjusted."""
    current = Contact.objects.filter(id=contact_id).values("customer_id", "occurred_at").get()
    if current["customer_id"] == customer_id:
        return
    Contact.objects.filter(id=contact_id).update(customer_id=customer_id)
    customers = {customer_id} | ({current["customer_id"]} if current["customer_id"] else set())
    at = current["occurred_at"]
    relinked = repeats_relink(customer_ids=customers, since=at, until=at)
    if not relinked:
        return
    rows = {
        row["id"]: row
        for row in Contact.objects.filter(id__in=[change.contact_id for change in relinked]).values(
            *CONTRIBUTION_FIELDS
        )
    }
    delta = RollupDelta()
    for change in relinked:
        row = rows[change.contact_id]
        delta.add_rows([{**row, "repeat_of_id": change.old_repeat_of}], sign=-1)
        delta.add_rows([row])
    delta.apply()
