"""Email ping-pong over a period, for the dashboard (seed 003): of the email threads opened in
the period (the contacts the rollup filters select, on the email channel), those in which the
customer wrote three times or more, and those of them still waiting for a call now
(contacts.pingpong: no resolution, nobody has called the customer since the third message).

The email threads are counted from the rollups; the ping-pong ones are read through the
partial index of email contacts with three customer messages or more (Contact.
customer_messages, kept by every path that writes messages), never by grouping the period's
messages.
"""

from dataclasses import replace
from typing import Any

from django.db.models import F, QuerySet

from contacts.models import Channel, Contact
from contacts.pingpong import CUSTOMER_MESSAGES, threads_needing_call
from contacts.reporting import RollupFilters, rollup_contacts, rollup_totals
from voc.people.models import User


def email_threads(*, viewer: User, filters: RollupFilters) -> QuerySet[Contact]:
    """The email contacts of the period the viewer may see."""
    return rollup_contacts(viewer=viewer, filters=filters).filter(channel=Channel.EMAIL)


def _pingpong(*, viewer: User, filters: RollupFilters) -> QuerySet[Contact]:
    """The period's email threads with three customer messages or more, through the partial
    index of such threads (contact_pingpong_time)."""
    return email_threads(viewer=viewer, filters=filters).filter(
        customer_messages__gte=CUSTOMER_MESSAGES
    )


def _email_thread_count(*, viewer: User, filters: RollupFilters) -> int:
    """How many email contacts the period has for the viewer, from the rollups."""
    if filters.channels and Channel.EMAIL not in filters.channels:
        return 0
    email_only = replace(filters, channels=frozenset({Channel.EMAIL.value}))
    (totals,) = rollup_totals(viewer=viewer, filters=email_only, columns=["contacts"])
    return totals["contacts"]


def pingpong_longest(*, viewer: User, filters: RollupFilters, limit: int) -> list[Contact]:
    """The ping-pong threads in which the customer wrote most (then the newest), each with
    ``thread_customer_messages``. One query: the grouped pass picks the ids, so the count is
    read again for those rows only."""
    # The ids first (from the ping-pong index alone), then those few rows with their team
    # and customer, rather than joining every ping-pong thread of the period before sorting.
    top = _pingpong(viewer=viewer, filters=filters).order_by("-customer_messages", "-id")
    return list(
        Contact.objects.filter(id__in=top.values("id")[:limit])
        .select_related("team", "customer")
        .annotate(thread_customer_messages=F("customer_messages"))
        .order_by("-customer_messages", "-id")
    )


def pingpong_threads(
    *, viewer: User, filters: RollupFilters, waiting: bool = False
) -> QuerySet[Contact]:
    """The period's email threads in which the customer wrote three times or more, newest
    first, each with ``thread_customer_messages``; with ``waiting``, only those still waiting
    for a call (contacts.pingpong)."""
    threads = _pingpong(viewer=viewer, filters=filters)
    if waiting:
        threads = threads_needing_call(threads)
    return threads.annotate(thread_customer_messages=F("customer_messages")).order_by(
        "-occurred_at", "-id"
    )


def pingpong_counts(*, viewer: User, filters: RollupFilters) -> dict[str, Any]:
    """``threads`` (email contacts of the period), ``pingpong`` (the customer wrote three
    times or more) and ``waiting`` (of those, still waiting for a call). Three queries."""
    pingpong = _pingpong(viewer=viewer, filters=filters)
    return {
        "threads": _email_thread_count(viewer=viewer, filters=filters),
        "pingpong": pingpong.count(),
        "waiting": threads_needing_call(pingpong).count(),
    }
