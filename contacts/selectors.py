"""Reads of the contacts app, with the viewer's row scope applied (voc.people.access)."""

import re
from dataclasses import dataclass, replace
from datetime import timedelta

from django.conf import settings
from django.db.models import OuterRef, Q, QuerySet, Subquery
from django.urls import reverse
from django.utils import timezone

from contacts.ingest.records import RowError, normalise_phone
from contacts.models import Channel, Contact, ContactReason, Customer, Message
from contacts.pingpong import CallNudge, ThreadFacts, last_call_at, needs_call, threads_needing_call
from contacts.redaction_rules import redactor
from contacts.registry import TimelineEntry, register_timeline_provider, timeline_providers
from contacts.repeats import repeat_window
from voc.core.audit import target_label
from voc.core.models import AuditEntry
from voc.people.access import scope_for
from voc.people.models import User

# A contact is in a manager's department when its reason is owned by the department.
CONTACT_SCOPE = {"team_field": "team_id", "department_field": "reason__department_id"}


def contact_list_visible(*, viewer: User) -> QuerySet[Contact]:
    return Contact.objects.filter(scope_for(viewer).q(**CONTACT_SCOPE))


def contact_get_visible(*, viewer: User, contact_id: int) -> Contact | None:
    return (
        contact_list_visible(viewer=viewer)
        .select_related("customer", "reason__parent", "reason__department", "team", "rep")
        .filter(id=contact_id)
        .first()
    )


def customer_list_visible(*, viewer: User) -> QuerySet[Customer]:
    """Customers the viewer may see: those with a contact the viewer may see (everyone for
    executives and admins). Whoever may see a contact may see its customer's details."""
    scope = scope_for(viewer)
    customers = Customer.objects.filter(merged_into__isnull=True)
    if scope.everything:
        return customers
    return customers.filter(
        id__in=Contact.objects.filter(scope.q(**CONTACT_SCOPE)).values("customer_id")
    )


def customer_match(query: str) -> Q:
    """Customers whose name or email contains ``query``, whose customer ref is it (any case),
    or whose phone contains its digits (four or more, so "+1 555" does not match every
    number)."""
    query = query.strip()
    condition = Q(name__icontains=query) | Q(email__icontains=query) | Q(external_ref__iexact=query)
    stored_ref = redactor().identifier(query)  # a reference holding a card is stored keyed
    if stored_ref != query:
        condition |= Q(external_ref=stored_ref)
    digits = re.sub(r"\D", "", query)
    if len(digits) >= 4:
        condition |= Q(phone__contains=digits)
    return condition


def customer_list_matching(*, viewer: User, query: str) -> QuerySet[Customer]:
    """The customers the viewer may see that match ``query`` (see customer_match)."""
    return customer_list_visible(viewer=viewer).filter(customer_match(query))


def customer_get_visible(*, viewer: User, customer_id: int) -> Customer | None:
    return customer_list_visible(viewer=viewer).filter(id=customer_id).first()


# --- exact matches outside the viewer's scope (docs/access.md, "Customers outside your scope")

# A phone number as people type one: digits and the usual separators, at least 7 digits. A
# customer ref such as "CUST-0001234" is not read as a (vanity) phone number.
_PHONE_LIKE = re.compile(r"\+?[\d\s().\-/]+")
EXACT_MATCHES_SHOWN = 5  # refs and emails are unique; a phone may be shared by a few
# How long a customer found by an exact match may be picked on the log form.
CUSTOMER_CARD_PICKABLE = timedelta(hours=12)
CUSTOMER_LOOKUP = "customer.lookup"


@dataclass(frozen=True)
class CustomerCard:
    """What a viewer is shown of a customer outside their scope that they named exactly:
    enough to log a contact against them on the phone, nothing of their history, and no
    email or phone number beyond what the viewer typed."""

    id: int
    name: str
    external_ref: str
    matched: str  # "external_ref", "email" or "phone"


def _exact_phone(query: str) -> str | None:
    if not _PHONE_LIKE.fullmatch(query) or len(re.sub(r"\D", "", query)) < 7:
        return None
    try:
        return normalise_phone(query, settings.VOC_PHONE_REGION)
    except RowError:
        return None


def customer_exact_match(query: str) -> Q:
    """Customers whose customer ref (any case), email address (any case) or phone number (as
    stored, E.164) is exactly ``query``. Matches nothing for a blank query."""
    query = query.strip()
    if not query:
        return Q(pk__in=[])
    condition = Q(external_ref__iexact=query)
    stored_ref = redactor().identifier(query)  # a reference holding a card is stored keyed
    if stored_ref != query:
        condition |= Q(external_ref=stored_ref)
    if "@" in query:
        condition |= Q(email__iexact=query)
    if phone := _exact_phone(query):
        condition |= Q(phone=phone)
    return condition


def customer_matched_field(customer: Customer, query: str) -> str:
    """Which of the customer's identifiers ``query`` named exactly (see customer_exact_match)."""
    query = query.strip()
    if customer.external_ref and customer.external_ref.lower() in {
        query.lower(),
        redactor().identifier(query).lower(),
    }:
        return "external_ref"
    if customer.email and customer.email.lower() == query.lower():
        return "email"
    return "phone"


def customer_list_exact_outside_scope(*, viewer: User, query: str) -> list[Customer]:
    """Customers the viewer may not see whose ref, email or phone is exactly ``query``
    (erased and merged-away records left out). Empty for those who see everything."""
    scope = scope_for(viewer)
    if scope.everything:
        return []
    visible = Contact.objects.filter(scope.q(**CONTACT_SCOPE)).values("customer_id")
    return list(
        Customer.objects.filter(customer_exact_match(query))
        .filter(merged_into__isnull=True, erased_at__isnull=True)
        .exclude(id__in=visible)
        .order_by("id")[:EXACT_MATCHES_SHOWN]
    )


def customer_cards_in_scope(*, viewer: User, query: str) -> list[CustomerCard]:
    """The customers the viewer may see whose ref, email or phone is exactly ``query``, as
    cards (nothing is recorded: they are the viewer's to read)."""
    customers = (
        customer_list_visible(viewer=viewer)
        .filter(customer_exact_match(query), erased_at__isnull=True)
        .order_by("id")[:EXACT_MATCHES_SHOWN]
    )
    return [
        customer_card(customer, matched=customer_matched_field(customer, query))
        for customer in customers
    ]


def customer_card(customer: Customer, *, matched: str) -> CustomerCard:
    return CustomerCard(
        id=customer.pk,
        name=customer.name,
        external_ref=customer.external_ref or "",
        matched=matched,
    )


def customer_cards_looked_up(*, viewer: User) -> QuerySet[Customer]:
    """Customers outside the viewer's scope that the viewer found by an exact match within
    CUSTOMER_CARD_PICKABLE (the audit trail holds each lookup): the ones the log form lets
    them pick, as a minimal card."""
    looked_up = AuditEntry.objects.filter(
        actor=viewer,
        action=CUSTOMER_LOOKUP,
        target_type=target_label(Customer),
        at__gte=timezone.now() - CUSTOMER_CARD_PICKABLE,
    ).values("target_id")
    return Customer.objects.filter(
        id__in=looked_up, merged_into__isnull=True, erased_at__isnull=True
    )


def customer_list_pickable(*, viewer: User) -> QuerySet[Customer]:
    """The customers the viewer may log a contact against: those they may see, and those
    they found by an exact match (customer_cards_looked_up)."""
    visible = customer_list_visible(viewer=viewer).filter(erased_at__isnull=True)
    if scope_for(viewer).everything:
        return visible
    return Customer.objects.filter(
        Q(id__in=visible.values("id"))
        | Q(id__in=customer_cards_looked_up(viewer=viewer).values("id"))
    )


def reason_list_active() -> QuerySet[ContactReason]:
    """Reasons a rep may pick: not retired, not merged away."""
    return ContactReason.objects.filter(
        retired_at__isnull=True, merged_into__isnull=True
    ).select_related("parent", "department")


def repeat_contacts(*, contact: Contact) -> list[Contact]:
    """The customer's other contacts within the repeat window before this one, newest first,
    for "spoke to us 3 times in the last 7 days about …"."""
    if contact.customer_id is None:
        return []
    window = repeat_window()
    return list(
        Contact.objects.filter(
            customer_id=contact.customer_id,
            occurred_at__gte=contact.occurred_at - window,
            occurred_at__lte=contact.occurred_at,
        )
        .exclude(id=contact.id)
        .select_related("reason__parent")
        .order_by("-occurred_at")[:20]
    )


def customer_timeline(*, customer: Customer, viewer: User, limit: int = 100) -> list[TimelineEntry]:
    """Everything that happened with one customer, newest first, from every registered app."""
    entries: list[TimelineEntry] = []
    for provider in timeline_providers().values():
        entries.extend(provider(customer=customer, viewer=viewer, limit=limit))
    return sorted(entries, key=lambda entry: entry.when, reverse=True)[:limit]


def _contact_timeline(*, customer: Customer, viewer: User, limit: int) -> list[TimelineEntry]:
    # Contacts outside the viewer's scope still show when and why the customer called (the
    # rep needs to know), but not what was said, and without a link.
    contacts = list(
        Contact.objects.filter(customer=customer)
        .select_related("reason__parent")
        .order_by("-occurred_at")[:limit]
    )
    visible = set(
        contact_list_visible(viewer=viewer)
        .filter(id__in=[contact.id for contact in contacts])
        .values_list("id", flat=True)
    )
    return [
        TimelineEntry(
            when=contact.occurred_at,
            kind="contact",
            title=f"{contact.get_channel_display()} · {contact.reason or 'no reason yet'}",
            summary=contact.subject if contact.id in visible else "",
            url=reverse("contacts:contact-detail", args=[contact.id])
            if contact.id in visible
            else "",
            restricted=contact.id not in visible,
            date_only=contact.occurred_date_only,
        )
        for contact in contacts
    ]


register_timeline_provider("contacts", _contact_timeline)


def contact_ids_without_sentiment(*, limit: int) -> list[int]:
    """Contacts with messages whose sentiment is not scored yet, oldest id first (the sweep)."""
    return list(
        Contact.objects.filter(sentiment__isnull=True, messages__isnull=False)
        .order_by("id")
        .values_list("id", flat=True)
        .distinct()[:limit]
    )


def contact_call_nudge(
    *, viewer: User, contact: Contact, messages: list[Message]
) -> CallNudge | None:
    """ "Call the customer" for an email thread the customer has written to three times
    without a resolution or a call since (contacts.pingpong), with the customer's phone as the
    viewer may see it (the customer page's rule). ``messages`` are the contact's, as the page
    shows them; one query for the customer's calls, one more for the phone when nudging."""
    if contact.channel != Channel.EMAIL:
        return None  # no thread: spare the calls query
    facts = ThreadFacts.for_contact(
        contact, messages=messages, last_call_at=last_call_at(customer_id=contact.customer_id)
    )
    nudge = needs_call(facts)
    if nudge is None:
        return None
    customer = customer_get_visible(viewer=viewer, customer_id=contact.customer_id or 0)
    return replace(nudge, phone=customer.phone if customer else "")


def email_threads_needing_call(*, viewer: User) -> QuerySet[Contact]:
    """The team's worklist: email threads in the viewer's scope that need a call
    (contacts.pingpong), the longest waiting first, each with ``customer_phone`` as the viewer
    may see it."""
    phone = customer_list_visible(viewer=viewer).filter(id=OuterRef("customer_id"))
    return (
        threads_needing_call(contact_list_visible(viewer=viewer))
        .annotate(customer_phone=Subquery(phone.values("phone")[:1]))
        # An annotation threads_needing_call adds, which the model's stubs cannot know.
        .order_by("third_customer_message_at", "id")  # type: ignore[misc]
    )
