"""Feedback rollups: per reporting day × kind × band × reason × channel × team × customer
segment, counting items, the sum of their scores and how many had one, and negative
sentiment (the columns of FeedbackRollup).

Every write path (feedback/items/services.py: one item, a bulk batch, an import) computes each
touched item's contribution before and after and applies the difference with one upsert that
adds to the stored counts, in the transaction that writes the items. ``feedback_rollups_rebuild``
recomputes everything from the items; ``feedback_rollups_differences`` compares the two.
The reporting day is the item's ``received_at`` in ``VOC_REPORTING_TIME_ZONE``, as for contacts.
"""

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from contacts.rollups import reporting_tz
from feedback.models import FeedbackItem, FeedbackRollup
from voc.core.dataversion import data_version_bump
from voc.core.pg import array_literal

# day, kind, band, reason_id (0 = none), channel, team_id (0 = none), segment
Key = tuple[date, str, str, int, str, int, str]
KEY_COLUMNS = ("day", "kind", "band", "reason_id", "channel", "team_id", "segment")
COLUMNS = ("items", "score_sum", "scored_items", "negative_sentiment")
# What an item's contribution is made of, as ``.values()`` reads it.
CONTRIBUTION_FIELDS = (
    "id", "received_at", "kind", "band", "reason_id", "channel", "team_id",
    "customer_segment", "score", "sentiment",
)  # fmt: skip
APPLY_CHUNK = 1000  # keys per upsert statement
STAGED_APPLY = 500  # keys above which PostgreSQL applies a delta as arrays (unnest)


class FeedbackDelta:
    """Accumulates +/- contributions and writes them in a few statements."""

    def __init__(self) -> None:
        self.changes: dict[Key, list[int]] = {}

    def add_rows(self, rows: Iterable[Mapping[str, Any]], sign: int = 1) -> None:
        tz = reporting_tz()
        negative = settings.VOC_NEGATIVE_SENTIMENT
        changes = self.changes
        for row in rows:
            key = (
                row["received_at"].astimezone(tz).date(), row["kind"], row["band"] or "",
                row["reason_id"] or 0, row["channel"] or "", row["team_id"] or 0,
                row["customer_segment"] or "",
            )  # fmt: skip
            totals = changes.get(key)
            if totals is None:
                totals = changes[key] = [0, 0, 0, 0]
            totals[0] += sign
            score = row["score"]
            if score is not None:
                totals[1] += sign * score
                totals[2] += sign
            sentiment = row["sentiment"]
            if sentiment is not None and sentiment <= negative:
                totals[3] += sign

    def apply(self) -> int:
        """Upsert the non-zero changes in key order (concurrent writers lock keys in the same
        order and cannot deadlock); returns how many keys changed."""
        changed = sorted((key, totals) for key, totals in self.changes.items() if any(totals))
        self.changes.clear()
        if not changed:
            return 0
        data_version_bump()  # cached dashboard figures are out of date once this commits
        table = FeedbackRollup._meta.db_table
        keys = ", ".join(KEY_COLUMNS)
        updates = ", ".join(f"{c} = {table}.{c} + excluded.{c}" for c in COLUMNS)
        width = len(KEY_COLUMNS) + len(COLUMNS)
        if connection.vendor == "postgresql" and len(changed) > STAGED_APPLY:
            _apply_staged(changed, keys, updates)
            changed_chunks: list = []
        else:
            changed_chunks = changed
        with connection.cursor() as cursor:
            for start in range(0, len(changed_chunks), APPLY_CHUNK):
                chunk = changed_chunks[start : start + APPLY_CHUNK]
                row = "(" + ", ".join(["%s"] * width) + ")"
                cursor.execute(
                    f"INSERT INTO {table} ({keys}, {', '.join(COLUMNS)}) "  # noqa: S608
                    f"VALUES {', '.join([row] * len(chunk))} "
                    f"ON CONFLICT ({keys}) DO UPDATE SET {updates}",
                    [value for key, totals in chunk for value in (*key, *totals)],
                )
            # Only a key whose count went down can have reached zero.
            emptied = [key for key, totals in changed if totals[0] < 0]
            for start in range(0, len(emptied), 200):
                chunk = emptied[start : start + 200]
                row = "(" + ", ".join(["%s"] * len(KEY_COLUMNS)) + ")"
                cursor.execute(
                    f"DELETE FROM {table} WHERE items = 0 "  # noqa: S608
                    f"AND ({keys}) IN (VALUES {', '.join([row] * len(chunk))})",
                    [value for key in chunk for value in key],
                )
        return len(changed)


# The PostgreSQL types of KEY_COLUMNS and COLUMNS, for the arrays of _apply_staged.
_ARRAY_TYPES = (
    "date", "text", "text", "integer", "text", "integer", "text",
    "integer", "bigint", "integer", "integer",
)  # fmt: skip


def _apply_staged(changed: list, keys: str, updates: str) -> None:
    """PostgreSQL, many keys: one upsert from one array parameter a column (``unnest``), in
    key order, instead of one VALUES list of parameters a key (as contacts.rollups) or a
    temporary table to COPY into (five round trips)."""
    table = FeedbackRollup._meta.db_table
    columns = (*KEY_COLUMNS, *COLUMNS)
    arrays = [
        array_literal([key[0].isoformat() for key, _ in changed]),
        *(array_literal([key[k] for key, _ in changed]) for k in range(1, len(KEY_COLUMNS))),
        *(array_literal([totals[k] for _, totals in changed]) for k in range(len(COLUMNS))),
    ]
    unnest = ", ".join(f"%s::{kind}[]" for kind in _ARRAY_TYPES)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
            f"SELECT * FROM unnest({unnest}) AS delta ({', '.join(columns)}) "
            'ORDER BY day, kind COLLATE "C", band COLLATE "C", reason_id, channel COLLATE "C", '
            'team_id, segment COLLATE "C" '
            f"ON CONFLICT ({keys}) DO UPDATE SET {updates}",
            arrays,
        )


def feedback_rollups_apply(
    *, before: Iterable[Mapping[str, Any]] = (), after: Iterable[Mapping[str, Any]] = ()
) -> int:
    """Take away what ``before`` rows contributed and add what ``after`` rows contribute (dicts
    of CONTRIBUTION_FIELDS, e.g. an item's values before and after a change, or the items an
    erasure deletes as ``before``). Call it inside the transaction that writes the items."""
    delta = FeedbackDelta()
    delta.add_rows(before, sign=-1)
    delta.add_rows(after)
    return delta.apply()


def contribution(item: FeedbackItem) -> dict[str, Any]:
    return {name: getattr(item, name) for name in CONTRIBUTION_FIELDS}


def _lock_rollups() -> None:
    """Keep writers out while rollups are rebuilt or compared: every write path changes the
    rollups in the transaction that writes the items."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {FeedbackRollup._meta.db_table} IN EXCLUSIVE MODE")


def _rebuild(batch_size: int) -> None:
    FeedbackRollup.objects.all().delete()
    data_version_bump()
    delta = FeedbackDelta()
    last_id = 0
    while True:
        rows = list(
            FeedbackItem.objects.filter(id__gt=last_id)
            .order_by("id")
            .values(*CONTRIBUTION_FIELDS)[:batch_size]
        )
        if not rows:
            break
        delta.add_rows(rows)
        last_id = rows[-1]["id"]
    delta.apply()


def feedback_rollups_rebuild(*, batch_size: int = 20_000) -> int:
    """Recompute every feedback rollup from the items. Returns the number of rollup rows."""
    with transaction.atomic():
        _lock_rollups()
        _rebuild(batch_size)
        return FeedbackRollup.objects.count()


def feedback_rollup_snapshot() -> dict[Key, tuple[int, ...]]:
    return {
        tuple(values[: len(KEY_COLUMNS)]): tuple(values[len(KEY_COLUMNS) :])
        for values in FeedbackRollup.objects.values_list(*KEY_COLUMNS, *COLUMNS)
    }


def feedback_rollups_differences() -> dict[
    Key, tuple[tuple[int, ...] | None, tuple[int, ...] | None]
]:
    """The keys where the stored rollups differ from a recount: {key: (kept, recounted)}.
    Changes nothing (the rebuild is rolled back)."""
    with transaction.atomic():
        _lock_rollups()
        kept = feedback_rollup_snapshot()
        _rebuild(20_000)
        rebuilt = feedback_rollup_snapshot()
        transaction.set_rollback(True)
    return {
        key: (kept.get(key), rebuilt.get(key))
        for key in sorted(kept.keys() | rebuilt.keys())
        if kept.get(key) != rebuilt.get(key)
    }
