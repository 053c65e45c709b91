"""Contact rollups: per day (reporting time zone) × reason × channel × team.

Every write path computes each touched contact's contribution before and after, and applies
the difference with one upsert that adds to the stored counts (the same SQL on PostgreSQL and
SQLite; on PostgreSQL a large delta is first copied into a temporary table). ``rollups_rebuild`` recomputes everything from the contacts; the two must agree.
"""

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime
from typing import NotRequired, TypedDict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

from contacts.models import Contact, ContactRollup
from voc.core.pg import copy_lines

Key = tuple[date, int, str, int]  # day, reason_id (0 = none), channel, team_id (0 = none)
STAGED_APPLY = 500  # keys above which PostgreSQL applies a delta through COPY
COLUMNS = ("contacts", "handle_seconds", "repeat_contacts", "negative_contacts")
CONTRIBUTION_FIELDS = (
    "id", "occurred_at", "reason_id", "channel", "team_id", "handle_seconds", "repeat_of_id",
    "sentiment",
)  # fmt: skip


class ContributionRow(TypedDict):
    """A contact's CONTRIBUTION_FIELDS, as ``.values()`` reads them. ``id`` may be missing from
    the rows a write path builds itself (the delta does not need it)."""

    id: NotRequired[int]
    occurred_at: datetime
    reason_id: int | None
    channel: str
    team_id: int | None
    handle_seconds: int | None
    repeat_of_id: int | None
    sentiment: float | None


def reporting_tz() -> ZoneInfo:
    return ZoneInfo(settings.VOC_REPORTING_TIME_ZONE)


def is_negative(sentiment: float | None) -> bool:
    return sentiment is not None and sentiment <= settings.VOC_NEGATIVE_SENTIMENT


class RollupDelta:
    """Accumulates +/- contributions and writes them in one statement."""

    def __init__(self) -> None:
        self.changes: dict[Key, list[int]] = defaultdict(lambda: [0, 0, 0, 0])

    def add_rows(self, rows: Iterable[ContributionRow], sign: int = 1) -> None:
        """Add (or, with sign=-1, take away) what each contact (a dict of CONTRIBUTION_FIELDS)
        contributes. Written as one loop: a backfill adds every row."""
        tz = reporting_tz()
        negative = settings.VOC_NEGATIVE_SENTIMENT
        changes = self.changes
        for row in rows:
            day = row["occurred_at"].astimezone(tz).date()
            totals = changes[(day, row["reason_id"] or 0, row["channel"], row["team_id"] or 0)]
            sentiment = row["sentiment"]
            totals[0] += sign
            totals[1] += sign * (row["handle_seconds"] or 0)
            if row["repeat_of_id"]:
                totals[2] += sign
            if sentiment is not None and sentiment <= negative:
                totals[3] += sign

    def apply(self) -> int:
        """Upsert the non-zero changes; returns how many keys changed."""
        zero = [0, 0, 0, 0]
        changed = [(key, totals) for key, totals in self.changes.items() if totals != zero]
        if not changed:
            return 0
        table = ContactRollup._meta.db_table
        updates = ", ".join(
            f"{column} = {table}.{column} + excluded.{column}" for column in COLUMNS
        )
        upsert = (
            f"INSERT INTO {table} (day, reason_id, channel, team_id, {', '.join(COLUMNS)}) "
            f"%s ON CONFLICT (day, reason_id, channel, team_id) DO UPDATE SET {updates}"
        )
        # Keys are written in sorted order, so concurrent batches lock them in the same order
        # and cannot deadlock: sorted here, or by PostgreSQL in the same order (channels
        # compared as bytes, as Python compares them).
        if connection.vendor == "postgresql" and len(changed) > STAGED_APPLY:
            _apply_staged(upsert, changed)
        else:
            changed.sort()
            placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s, %s, %s)"] * len(changed))
            params: list[date | int | str] = []
            for key, totals in changed:
                params.extend([*key, *totals])
            with connection.cursor() as cursor:
                cursor.execute(upsert.replace("%s", f"VALUES {placeholders}", 1), params)
        # Only a key whose count went down can have reached zero: look at those alone (a
        # backfill that only adds touches thousands of keys and need not look at any).
        emptied = sorted(key for key, totals in changed if totals[0] < 0)
        for start in range(0, len(emptied), 200):
            _delete_empty(emptied[start : start + 200])
        self.changes.clear()
        return len(changed)


def _delete_empty(keys: list[Key]) -> None:
    table = ContactRollup._meta.db_table
    rows = ", ".join(["(%s, %s, %s, %s)"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE contacts = 0 "  # noqa: S608
            f"AND (day, reason_id, channel, team_id) IN (VALUES {rows})",
            [value for key in keys for value in key],
        )


def _apply_staged(upsert: str, changed: list[tuple[Key, list[int]]]) -> None:
    """PostgreSQL, many keys (a backfill): COPY the changes into a temporary table and upsert
    from it in key order, instead of one VALUES list of 8 parameters a key."""

    staging = "voc_rollup_delta"
    select = (
        f"SELECT day, reason_id, channel, team_id, {', '.join(COLUMNS)} "  # noqa: S608
        f'FROM {staging} ORDER BY day, reason_id, channel COLLATE "C", team_id'
    )
    with transaction.atomic():  # the temporary rows live until commit
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS "  # noqa: S608
                f"SELECT day, reason_id, channel, team_id, {', '.join(COLUMNS)} "
                f"FROM {ContactRollup._meta.db_table} WITH NO DATA"
            )
            cursor.execute(f"TRUNCATE {staging}")
        # Keys and totals are dates, integers and channel choices: written without escaping.
        days = {day: day.isoformat() for day in {key[0] for key, _ in changed}}
        copy_lines(
            staging,
            ["day", "reason_id", "channel", "team_id", *COLUMNS],
            [
                f"{days[day]}\t{reason}\t{channel}\t{team}\t{a}\t{b}\t{c}\t{d}\n"
                for (day, reason, channel, team), (a, b, c, d) in changed
            ],
        )
        with connection.cursor() as cursor:
            cursor.execute(upsert.replace("%s", select, 1))
            cursor.execute(f"TRUNCATE {staging}")


def contribution_rows(contact_ids: Iterable[int]) -> list[ContributionRow]:
    ids = list(contact_ids)
    rows: list[ContributionRow] = []
    for start in range(0, len(ids), 5000):
        rows.extend(
            Contact.objects.filter(id__in=ids[start : start + 5000]).values(*CONTRIBUTION_FIELDS)
        )
    return rows


@transaction.atomic
def rollups_rebuild(*, batch_size: int = 20_000) -> int:
    """Recompute every rollup from the contacts. Returns the number of rollup rows."""
    ContactRollup.objects.all().delete()
    delta = RollupDelta()
    last_id = 0
    while True:
        rows: list[ContributionRow] = list(
            Contact.objects.filter(id__gt=last_id)
            .order_by("id")
            .values(*CONTRIBUTION_FIELDS)[:batch_size]
        )
        if not rows:
            break
        delta.add_rows(rows)
        last_id = rows[-1]["id"]
    delta.apply()
    return ContactRollup.objects.count()


def rollup_snapshot() -> dict[Key, tuple[int, int, int, int]]:
    """All rollups as a dict, to compare a kept-current state with a rebuild."""
    return {
        (row.day, row.reason_id, row.channel, row.team_id): (
            row.contacts,
            row.handle_seconds,
            row.repeat_contacts,
            row.negative_contacts,
        )
        for row in ContactRollup.objects.all()
    }
