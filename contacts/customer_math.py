"""Customer math (seed 001): customers lost, gained and won back in a period, the net, and the
reasons behind the losses, within the viewer's row scope.

Lifecycle events carry a day, not an instant: an event belongs to the period that holds its
day, in no time zone. The figures count distinct customers, not events:

- **lost**: the customers lost at least once in the period (one lost twice counts once);
  **gained** and **won back** likewise; **net** = gained + won back − lost.
- A customer lost and won back (or gained again) in the same period counts once in each
  figure, so their net is 0: they left and came back, and they are still a customer at the
  end. A customer gained and lost in the period likewise nets 0. Only a customer with three
  events in one period (lost, won back, lost again) nets 0 while they end it gone: the
  figures say who moved, not how often.
- Losses per reason count the customers lost for that reason; one lost twice for two
  reasons counts under each, so the reasons may add up to more than the lost figure.

A figure's drill-down (``customers_counted``) lists each customer it counts once, at their
latest event of that kind in the period. Merged customers' events moved to the customer they
were merged into; erased customers' events stay (counts survive an erasure, the identity does
not).

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


def customers_counted(
    *,
    viewer: User,
    start: date,
    end: date,
    kind: str,
    segments: Collection[str] = (),
    reason_id: int | None = None,
) -> QuerySet[CustomerEvent]:
    """The customers a figure counts, one row each: the visible customers with a ``kind``
    event in [start, end] (for ``reason_id`` when given, 0 for none from the taxonomy), each
    as their latest such event (latest day, then the latest recorded). As many rows as
    customer_counts or losses_by_reason gives for the same figure."""
    of_reason = Q()
    if reason_id is not None:
        of_reason = Q(reason__isnull=True) if reason_id == 0 else Q(reason_id=reason_id)
    events = customer_events_between(
        viewer=viewer, start=start, end=end, segments=segments, kinds=[kind]
    ).filter(of_reason)
    # Scope and segment are the customer's, so the customer's other events of the figure are
    # in them too: only the day and id decide which one stands for the customer.
    later = CustomerEvent.objects.filter(
        of_reason,
        Q(kind=kind, occurred_on__gte=start, occurred_on__lte=end),
        Q(occurred_on__gt=OuterRef("occurred_on"))
        | Q(occurred_on=OuterRef("occurred_on"), id__gt=OuterRef("id")),
        customer_id=OuterRef("customer_id"),
    )
    return events.filter(~Exists(later))


@dataclass(frozen=True)
class CustomerCounts:
    """Distinct customers gained, lost and won back in a period (see the module docstring)."""

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
    """The customers gained, lost and won back in each of ``periods`` (each [start, end],
    days included; each customer once per figure), in one query whatever the number of
    periods."""
    periods = list(periods)
    if not periods:
        return []
    first = min(start for start, _ in periods)
    last = max(end for _, end in periods)
    events = customer_events_between(viewer=viewer, start=first, end=last, segments=segments)
    figures = {
        f"{kind}_{n}": Count(
            "customer_id",
            distinct=True,
            filter=Q(kind=kind, occurred_on__gte=start, occurred_on__lte=end),
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
    """The customers lost in [start, end] per reason id (0: no reason from the taxonomy, only
    a free text or nothing), each once per reason. One query."""
    rows = (
        customer_events_between(
            viewer=viewer, start=start, end=end, segments=segments, kinds=[CustomerEvent.Kind.LOST]
        )
        .order_by()
        .values("reason_id")
        .annotate(n=Count("customer_id", distinct=True))
    )
    return {row["reason_id"] or 0: row["n"] for row in rows}
