"""Repeat contacts, a domain rule of contacts: a contact is a repeat when the same customer had an earlier contact within
the repeat window (settings.VOC_REPEAT_WINDOW_DAYS, default 7); ``repeat_of`` points at the
most recent such contact.

A contact added, moved or removed at time t can only change the links of that customer's
contacts in (t, t + window], so relinking looks at that span, plus one window before it for
the candidates. Ingestion on PostgreSQL computes a batch's links before it writes the batch
(``repeats_link_ahead``), so new rows are written with their links; everything else relinks
after its writes (``repeats_relink``, ``repeats_relink_spans``). Both give the same links.
"""

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection

from contacts.models import Contact
from contacts.rollups import CONTRIBUTION_FIELDS, ContributionRow
from voc.core.pg import array_literal

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def repeat_window() -> timedelta:
    return timedelta(days=settings.VOC_REPEAT_WINDOW_DAYS)


def repeat_of(
    previous: tuple[datetime, int] | None, occurred_at: datetime, window: timedelta
) -> int | None:
    """The repeat rule, per row: a contact repeats the same customer's previous contact (in
    (occurred_at, id) order), given as (occurred_at, id), when it came at most ``window``
    after it. The set-based form is the window query in _CHANGED_LINKS_SQL; a test checks the
    two agree on random data."""
    if previous is not None and occurred_at - previous[0] <= window:
        return previous[1]
    return None


@dataclass(frozen=True)
class Relink:
    contact_id: int
    old_repeat_of: int | None
    new_repeat_of: int | None
    # On PostgreSQL: the contact's CONTRIBUTION_FIELDS after the change (read in the same
    # statement), so callers can adjust rollups without reading it back. None elsewhere.
    row: ContributionRow | None = None


# PostgreSQL: each customer's contacts over its own span (one window either side), read with
# a LATERAL subquery, i.e. one walk of the (customer, occurred_at) index per customer,
# whatever the planner believes: in the middle of a large import the statistics are stale, and
# a plan that scans every contact in the time span costs a whole-table read. Spans are given
# in microseconds since the epoch (exact, and cheaper to pass than timestamps).
_SPANS = """
spans AS (
    SELECT customer_id,
           timestamptz 'epoch' + low * interval '1 microsecond' AS low,
           timestamptz 'epoch' + high * interval '1 microsecond' AS high
    FROM unnest(%(customers)s::bigint[], %(lows)s::bigint[], %(highs)s::bigint[])
        AS u (customer_id, low, high)
)"""
# What is read of each contact: its customer and what the rollups need (CONTRIBUTION_FIELDS).
_NEAR_COLUMNS = ("customer_id", *CONTRIBUTION_FIELDS)
_RETURNED_COLUMNS = ("new_repeat_of", *CONTRIBUTION_FIELDS)
_CONTACTS_IN_SPANS = f"""
    FROM spans AS s
    CROSS JOIN LATERAL (
        SELECT {", ".join(_NEAR_COLUMNS)}
        FROM {{table}}
        WHERE customer_id = s.customer_id
            AND occurred_at >= s.low - %(window)s AND occurred_at <= s.high + %(window)s
        OFFSET 0  -- kept a subquery: the planner would otherwise flatten it into a join
    ) AS t"""  # noqa: S608 (column names from the constants above)
# After the writes: the window function pairs each contact with the same customer's previous
# one in (occurred_at, id) order, exactly as the loop in repeats_relink does, and only the
# links that change come back, with what the rollups need of those contacts.
_CHANGED_LINKS_SQL = f"""
WITH {_SPANS}, ordered AS (
    SELECT t.*, s.low, lag(t.id) OVER w AS previous_id, lag(t.occurred_at) OVER w AS previous_at
    {_CONTACTS_IN_SPANS}
    WINDOW w AS (PARTITION BY t.customer_id ORDER BY t.occurred_at, t.id)
), expected AS (
    SELECT *,
           CASE WHEN occurred_at - previous_at <= %(window)s THEN previous_id END AS new_repeat_of
    FROM ordered
    WHERE occurred_at >= low
)
SELECT {", ".join(_RETURNED_COLUMNS)}
FROM expected
WHERE new_repeat_of IS DISTINCT FROM repeat_of_id
"""  # noqa: S608 (put together from the constants above)
# Before a batch's writes (repeats_link_ahead): the stored contacts themselves.
_STORED_NEAR_SQL = f"WITH {_SPANS} SELECT t.* {_CONTACTS_IN_SPANS}"
# Saved in a second statement: from arrays, whose length the planner knows, so it looks the
# contacts up by id (one statement with the query above misjudges how many links change and
# may scan the whole table to join them).
_SAVE_LINKS_SQL = """
UPDATE {table} AS c SET repeat_of_id = v.new_repeat_of
FROM unnest(%s::bigint[], %s::bigint[]) AS v (id, new_repeat_of)
WHERE c.id = v.id
"""


def repeats_relink(
    *, customer_ids: Iterable[int], since: datetime, until: datetime
) -> list[Relink]:
    """Recompute repeat_of for these customers' contacts in [since, until + window] and save
    the links that changed. Returns them (the caller adjusts rollups)."""
    return repeats_relink_spans(spans=dict.fromkeys(customer_ids, (since, until)))


def repeats_relink_spans(*, spans: Mapping[int, tuple[datetime, datetime]]) -> list[Relink]:
    """``repeats_relink`` with a span of its own for each customer: {customer id: (since,
    until)}, the earliest and latest time at which the caller added, moved or removed one of
    that customer's contacts. A batch spread over a year relinks each customer around its
    own contacts instead of over the whole year."""
    if not spans:
        return []
    window = repeat_window()
    if connection.vendor == "postgresql":
        return _relink_in_sql(spans, window)
    # Elsewhere, one span around all of them: a superset, so the same result.
    customer_ids = sorted(spans)
    since = min(low for low, _ in spans.values())
    until = max(high for _, high in spans.values())
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
    previous: tuple[datetime, int] | None = None
    previous_customer = None
    for contact_id, customer_id, occurred_at, repeat_of_id in rows.iterator(chunk_size=5000):
        if customer_id != previous_customer:
            previous, previous_customer = None, customer_id
        expected = repeat_of(previous, occurred_at, window)
        if occurred_at >= since and expected != repeat_of_id:
            changes.append(Relink(contact_id, repeat_of_id, expected))
        previous = (occurred_at, contact_id)
    if changes:
        Contact.objects.bulk_update(
            [
                Contact(id=change.contact_id, repeat_of_id=change.new_repeat_of)
                for change in changes
            ],
            ["repeat_of"],
            batch_size=1000,
        )
    return changes


class _NearRow(ContributionRow):
    """A stored contact near a batch's spans: its rollup fields and its customer."""

    customer_id: int


# (occurred_at, id, the batch's row or None, the stored contact or None).
_Nearby = tuple[datetime, int, dict[str, Any] | None, _NearRow | None]


def repeats_link_ahead(
    *,
    rows: Sequence[dict[str, Any]],
    spans: Mapping[int, tuple[datetime, datetime]],
    new_customers: Collection[int] = (),
) -> list[Relink]:
    """PostgreSQL: the repeat links a batch's writes will need, computed before them.

    ``rows`` are the contacts the batch is about to create or update, as they will be (dicts
    with "id", "customer_id" and "occurred_at"); ``spans`` is what repeats_relink_spans
    takes, for their customers and the customers updated contacts are leaving;
    ``new_customers`` were created by the batch and have no stored contacts to read. Sets
    each row's "repeat_of_id", and returns the stored contacts whose link must change (with
    their rollup fields in ``row``), for repeats_save_links once the rows are written: the
    same links repeats_relink_spans would leave after the writes, without reading back what
    the batch wrote or rewriting the rows it just wrote."""
    window = repeat_window()
    written = {values["id"] for values in rows}
    by_customer: dict[int, list[_Nearby]] = {}
    for values in rows:
        customer_id = values["customer_id"]
        if customer_id:
            by_customer.setdefault(customer_id, []).append(
                (values["occurred_at"], values["id"], values, None)
            )
        else:
            values["repeat_of_id"] = None  # no customer, no repeat
    to_read = sorted(customer_id for customer_id in spans if customer_id not in new_customers)
    if to_read:
        with connection.cursor() as cursor:
            cursor.execute(
                _STORED_NEAR_SQL.format(table=Contact._meta.db_table),
                # psycopg2 sends the window (a timedelta) as an interval; django-stubs'
                # parameter types leave timedelta out.
                _span_params(spans, to_read, window),  # type: ignore[arg-type]
            )
            for values in cursor.fetchall():
                stored: _NearRow = dict(zip(_NEAR_COLUMNS, values, strict=True))  # type: ignore[assignment]
                contact_id = stored["id"]
                if contact_id not in written:  # an updated contact counts as it will be
                    by_customer.setdefault(stored["customer_id"], []).append(
                        (stored["occurred_at"], contact_id, None, stored)
                    )
    changes: list[Relink] = []
    for customer_id, contacts in by_customer.items():
        low = spans[customer_id][0]
        contacts.sort(key=lambda item: (item[0], item[1]))
        previous: tuple[datetime, int] | None = None
        for occurred_at, contact_id, batch_row, near in contacts:
            if occurred_at >= low:  # earlier ones only lead to the span: their links stay
                expected = repeat_of(previous, occurred_at, window)
                if batch_row is not None:
                    batch_row["repeat_of_id"] = expected
                elif near is not None and expected != near["repeat_of_id"]:
                    old = near["repeat_of_id"]
                    near["repeat_of_id"] = expected
                    changes.append(Relink(contact_id, old, expected, near))
            previous = (occurred_at, contact_id)
    return changes


def repeats_save_links(changes: Sequence[Relink]) -> None:
    """Save the links repeats_link_ahead found changed (PostgreSQL)."""
    if changes:
        with connection.cursor() as cursor:
            cursor.execute(
                _SAVE_LINKS_SQL.format(table=Contact._meta.db_table),
                [
                    array_literal(change.contact_id for change in changes),
                    array_literal(change.new_repeat_of for change in changes),
                ],
            )


def _span_params(
    spans: Mapping[int, tuple[datetime, datetime]], customers: list[int], window: timedelta
) -> dict[str, str | timedelta]:
    """The parameters of _SPANS and _CONTACTS_IN_SPANS for these customers."""
    return {
        "customers": array_literal(customers),
        "lows": array_literal((spans[c][0] - _EPOCH) // _MICROSECOND for c in customers),
        "highs": array_literal((spans[c][1] - _EPOCH) // _MICROSECOND for c in customers),
        "window": window,
    }


def _relink_in_sql(
    spans: Mapping[int, tuple[datetime, datetime]], window: timedelta
) -> list[Relink]:
    params = _span_params(spans, sorted(spans), window)
    table = Contact._meta.db_table
    with connection.cursor() as cursor:
        # The window is a timedelta again (see repeats_link_ahead).
        cursor.execute(_CHANGED_LINKS_SQL.format(table=table), params)  # type: ignore[arg-type]
        returned = cursor.fetchall()
        if returned:
            cursor.execute(
                _SAVE_LINKS_SQL.format(table=table),
                [
                    array_literal(values[_RETURNED_COLUMNS.index("id")] for values in returned),
                    array_literal(values[0] for values in returned),
                ],
            )
    changes = []
    for values in returned:
        new, *contribution = values
        row: ContributionRow = dict(zip(CONTRIBUTION_FIELDS, contribution, strict=True))  # type: ignore[assignment]
        old = row["repeat_of_id"]
        row["repeat_of_id"] = new
        changes.append(Relink(row["id"], old, new, row))
    return changes
