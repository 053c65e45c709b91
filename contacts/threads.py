"""Email ping-pong over a period, for the dashboard (seed 003): of the email threads opened in
the period (the contacts the rollup filters select, on the email channel), those in which the
customer wrote three times or more, and those of them still waiting for a call now
(contacts.pingpong: no resolution, nobody has called the customer since the third message).

Read from the period's email contacts (the contact_time index) and their incoming messages,
not from the rollups, which do not count messages.
"""

from typing import Any

from django.db.models import Count, IntegerField, OuterRef, Q, QuerySet, Subquery
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
    """The email contacts of the period the viewer may see, newest first, each with
    ``thread_customer_messages``: how many times the customer wrote."""
    return (
        rollup_contacts(viewer=viewer, filters=filters)
        .filter(channel=Channel.EMAIL)
        .annotate(thread_customer_messages=_customer_messages())
    )


def pingpong_threads(
    *, viewer: User, filters: RollupFilters, waiting: bool = False
) -> QuerySet[Contact]:
    """The period's email threads in which the customer wrote three times or more, newest
    first; with ``waiting``, only those still waiting for a call (contacts.pingpong)."""
    if waiting:
        return threads_needing_call(rollup_contacts(viewer=viewer, filters=filters)).order_by(
            "-occurred_at", "-id"
        )
    # An annotation email_threads adds, which the model's stubs cannot know.
    return email_threads(viewer=viewer, filters=filters).filter(
        thread_customer_messages__gte=CUSTOMER_MESSAGES  # type: ignore[misc]
    )


def pingpong_counts(*, viewer: User, filters: RollupFilters) -> dict[str, Any]:
    """``threads`` (email contacts of the period), ``pingpong`` (the customer wrote three
    times or more) and ``waiting`` (of those, still waiting for a call). Two queries."""
    counts = email_threads(viewer=viewer, filters=filters).aggregate(
        threads=Count("id"),
        pingpong=Count("id", filter=Q(thread_customer_messages__gte=CUSTOMER_MESSAGES)),
    )
    counts["waiting"] = pingpong_threads(viewer=viewer, filters=filters, waiting=True).count()
    return counts
