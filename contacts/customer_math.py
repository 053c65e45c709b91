"""Customer math (seed 001): customers lost, gained and won back in a period, the net, and the
reasons behind the losses, within the viewer's row scope.

Lifecycle events carry a day, not an instant: an event belongs to the period that holds its
day, in no time zone. The figures count events (a customer lost, won back and lost again in
one period is two losses), so a figure is exactly the rows its drill-down lists. Merged
customers' events moved to the customer they were merged into; erased customers' events stay
(counts survive an erasure, the identity does not).

Scope is the customers' (contacts.selectors.customer_list_visible): executives and admins
all, others the customers with a contact they may see.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from contacts.models import Contact, CustomerEvent
from contacts.selectors import CONTACT_SCOPE
from voc.people.access import scope_for
from voc.people.models import User

KINDS = tuple(CustomerEvent.Kind.values)


def customer_events_visible(*, viewer: User) -> QuerySet[CustomerEvent]:
    """The lifecycle events of the customers the viewer may see (those of
    contacts.selectors.customer_list_visible)."""
    scope = scope_for(viewer)
    events = CustomerEvent.objects.filter(customer__merged_into__isnull=True)
    if scope.everything:
        return events
    # Probed per event through the contacts' (customer, …) index, rather than the set of
    # every customer with a contact in scope built for each read.
    in_scope = Contact.objects.filter(scope.q(**CONTACT_SCOPE), customer_id=OuterRef("customer_id"))
    return events.filter(Exists(in_scope))


def customer_events_between(
    *,
    viewer: User,
    start: date,
    end: date,
    segments: Collection[str] = (),
    kinds: Collection[str] = (),
) -> QuerySet[CustomerEvent]:
    """The visible events on a day in [start, end], of customers in ``segments`` (all when
    empty; "" is "no customer", which no event has) and of ``kinds`` (all when empty)."""
    events = customer_events_visible(viewer=viewer).filter(
        occurred_on__gte=start, occurred_on__lte=end
    )
    if segments:
        events = events.filter(customer__segment__in=segments)
    if kinds:
        events = events.filter(kind__in=kinds)
    return events


@dataclass(frozen=True)
class CustomerCounts:
    gained: int
    lost: int
    won_back: int

    @property
    def net(self) -> int:
        """Customers gained and won back, less those lost."""
        return self.gained + self.won_back - self.lost


def customer_counts(
    *,
    viewer: User,
    periods: Collection[tuple[date, date]],
    segments: Collection[str] = (),
) -> list[CustomerCounts]:
    """Gained, lost and won back in each of ``periods`` (each [start, end], days included),
    in one query whatever the number of periods."""
    periods = list(periods)
    if not periods:
        return []
    first = min(start for start, _ in periods)
    last = max(end for _, end in periods)
    events = customer_events_between(viewer=viewer, start=first, end=last, segments=segments)
    figures = {
        f"{kind}_{n}": Count(
            "id", filter=Q(kind=kind, occurred_on__gte=start, occurred_on__lte=end)
        )
        for n, (start, end) in enumerate(periods)
        for kind in KINDS
    }
    row = events.aggregate(**figures)
    return [
        CustomerCounts(
            gained=row[f"gained_{n}"], lost=row[f"lost_{n}"], won_back=row[f"won_back_{n}"]
        )
        for n in range(len(periods))
    ]


def losses_by_reason(
    *, viewer: User, start: date, end: date, segments: Collection[str] = ()
) -> dict[int, int]:
    """Customers lost in [start, end] per reason id (0: no reason from the taxonomy, only a
    free text or nothing). One query."""
    rows = (
        customer_events_between(
            viewer=viewer, start=start, end=end, segments=segments, kinds=[CustomerEvent.Kind.LOST]
        )
        .order_by()
        .values("reason_id")
        .annotate(n=Count("id"))
    )
    return {row["reason_id"] or 0: row["n"] for row in rows}
