"""Repeat contacts: a contact is a repeat when the same customer had an earlier contact within
the repeat window (settings.VOC_REPEAT_WINDOW_DAYS, default 7); ``repeat_of`` points at the
most recent such contact.

A contact added, moved or removed at time t can only change the links of that customer's
contacts in (t, t + window], so relinking looks at that span, plus one window before it for
the candidates.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection

from contacts.models import Contact


def repeat_window() -> timedelta:
    return timedelta(days=settings.VOC_REPEAT_WINDOW_DAYS)


@dataclass(frozen=True)
class Relink:
    contact_id: int
    old_repeat_of: int | None
    new_repeat_of: int | None


def repeats_relink(
    *, customer_ids: Iterable[int], since: datetime, until: datetime
) -> list[Relink]:
    """Recompute repeat_of for these customers' contacts in [since, until + window] and save
    the links that changed. Returns them (the caller adjusts rollups)."""
    customer_ids = sorted(set(customer_ids))
    if not customer_ids:
        return []
    window = repeat_window()
    rows = (
        Contact.objects.filter(
            customer_id__in=customer_ids,
            occurred_at__gte=since - window,
            occurred_at__lte=until + window,
        )
        .order_by("customer_id", "occurred_at", "id")
        .values_list("id", "customer_id", "occurred_at", "repeat_of_id")
    )
    changes: list[Relink] = []
    previous: tuple[int, int, datetime] | None = None  # (customer_id, contact_id, occurred_at)
    for contact_id, customer_id, occurred_at, repeat_of_id in rows.iterator(chunk_size=5000):
        expected = None
        if (
            previous is not None
            and previous[0] == customer_id
            and occurred_at - previous[2] <= window
        ):
            expected = previous[1]
        if occurred_at >= since and expected != repeat_of_id:
            changes.append(Relink(contact_id, repeat_of_id, expected))
        previous = (customer_id, contact_id, occurred_at)
    if changes and connection.vendor == "postgresql":
        from contacts.ingest.pgcopy import update_from_values

        update_from_values(
            Contact._meta.db_table,
            ["repeat_of_id"],
            ["bigint"],
            [(change.contact_id, change.new_repeat_of) for change in changes],
        )
    elif changes:
        Contact.objects.bulk_update(
            [
                Contact(id=change.contact_id, repeat_of_id=change.new_repeat_of)
                for change in changes
            ],
            ["repeat_of"],
            batch_size=1000,
        )
    return changes
