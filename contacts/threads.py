"""Email ping-pong over a period, for the dashboard (seed 003): of the email threads opened in
the period (the contacts the rollup filters select, on the email channel), those in which the
customer wrote three times or more, and those of them still waiting for a call now
(contacts.pingpong: no resolution, nobody has called the customer since the third message).

Read from the period's email contacts (the contact_time index) and their incoming messages,
not from the rollups, which do not count messages.
"""

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce

from contacts.models import Channel, Contact, Message
from contacts.pingpong import CUSTOMER_MESSAGES, threads_needing_call
from contacts.reporting import RollupFilters, rollup_contacts
from voc.people.models import User


def _customer_messages() -> Coalesce:
    count = (
        Message.objects.filter(contact_id=OuterRef("pk"), direction=Message.Direction.INCOMING)
        .order_by()
        .values("contact_id")
        .annotate(n=Count("id"))
        .values("n")
    )
    return Coalesce(Subquery(count, output_field=IntegerField()), 0)


def email_threads(*, viewer: User, filters: RollupFilters) -> QuerySet[Contact]:
    """The email contacts of the period the viewer may see."""
    return rollup_contacts(viewer=viewer, filters=filters).filter(channel=Channel.EMAIL)


def _pingpong_ids(*, viewer: User, filters: RollupFilters) -> QuerySet[Any, Any]:
    """The ids of the period's email threads with three customer messages or more: one
    grouped pass over their incoming messages, rather than a count per contact."""
    threads = email_threads(viewer=viewer, filters=filters).order_by().values("id")
    return (
        Message.objects.filter(direction=Message.Direction.INCOMING, contact_id__in=threads)
        .order_by()
        .values("contact_id")
        .annotate(n=Count("id"))
        .filter(n__gte=CUSTOMER_MESSAGES)
        .values("contact_id")
    )


def pingpong_longest(*, viewer: User, filters: RollupFilters, limit: int) -> list[Contact]:
    """The ping-pong threads in which the customer wrote most (then the newest), each with
    ``thread_customer_messages``. One query: the grouped pass picks the ids, so the count is
    read again for those rows only."""
    top = (
        _pingpong_ids(viewer=viewer, filters=filters)
        .order_by("-n", "-contact_id")
        .values("contact_id")[:limit]
    )
    return list(
        Contact.objects.filter(id__in=top)
        .select_related("team", "customer")
        .annotate(thread_customer_messages=_customer_messages())
        .order_by("-thread_customer_messages", "-id")
    )


def pingpong_threads(
    *, viewer: User, filters: RollupFilters, waiting: bool = False
) -> QuerySet[Contact]:
    """The period's email threads in which the customer wrote three times or more, newest
    first, each with ``thread_customer_messages``; with ``waiting``, only those still waiting
    for a call (contacts.pingpong)."""
    threads = Contact.objects.filter(id__in=_pingpong_ids(viewer=viewer, filters=filters))
    if waiting:
        threads = threads_needing_call(threads)
    return threads.annotate(thread_customer_messages=_customer_messages()).order_by(
        "-occurred_at", "-id"
    )


def pingpong_counts(*, viewer: User, filters: RollupFilters) -> dict[str, Any]:
    """``threads`` (email contacts of the period), ``pingpong`` (the customer wrote three
    times or more) and ``waiting`` (of those, still waiting for a call). Three queries."""
    return {
        "threads": email_threads(viewer=viewer, filters=filters).count(),
        "pingpong": _pingpong_ids(viewer=viewer, filters=filters).count(),
        "waiting": threads_needing_call(
            Contact.objects.filter(id__in=_pingpong_ids(viewer=viewer, filters=filters))
        ).count(),
    }
