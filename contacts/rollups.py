"""Contact rollups: per day (reporting time zone) × reason × channel × team × customer segment,
counting contacts, handle and wait time, repeats, negative sentiment, roads, first-contact
resolution and outcomes (the columns of ContactRollup).

Every write path computes each touched contact's contribution before and after, and applies
the difference with one upsert that adds to the stored counts (the same SQL on PostgreSQL and
SQLite; on PostgreSQL a large delta is first copied into a temporary table), and the same
difference added up by week to the weekly rollups (ContactWeekRollup), which long periods
read. ``rollups_rebuild`` recomputes both from the contacts; the three must agree.
"""

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import NotRequired, TypedDict
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction

from contacts.models import Contact, ContactRollup, ContactWeekRollup, Message
from voc.core.dataversion import data_version_bump
from voc.core.pg import copy_lines

# day, reason_id (0 = none), channel, team_id (0 = none), customer segment ("" = no customer)
Key = tuple[date, int, str, int, str]
KEY_COLUMNS = ("day", "reason_id", "channel", "team_id", "segment")
STAGED_APPLY = 500  # keys above which PostgreSQL applies a delta through COPY

# The counted columns, in the order of a delta's totals.
ROAD_COLUMNS = ("road_1", "road_2", "road_3", "road_4")
OUTCOME_COLUMNS = {outcome: f"outcome_{outcome}" for outcome in Contact.Outcome.values}
COLUMNS = (
    "contacts", "handle_seconds", "handled_contacts", "wait_seconds", "waited_contacts",
    "repeat_contacts", "negative_contacts", *ROAD_COLUMNS, "fcr_yes", "fcr_no",
    *OUTCOME_COLUMNS.values(),
)  # fmt: skip
_AT = {column: position for position, column in enumerate(COLUMNS)}
_HANDLE, _HANDLED = _AT["handle_seconds"], _AT["handled_contacts"]
_WAIT, _WAITED = _AT["wait_seconds"], _AT["waited_contacts"]
_REPEAT, _NEGATIVE = _AT["repeat_contacts"], _AT["negative_contacts"]
_ROAD = {road: _AT[column] for road, column in enumerate(ROAD_COLUMNS, start=1)}
_FCR = {True: _AT["fcr_yes"], False: _AT["fcr_no"]}
_OUTCOME = {outcome: _AT[column] for outcome, column in OUTCOME_COLUMNS.items()}

CONTRIBUTION_FIELDS = (
    "id", "occurred_at", "occurred_date_only", "reason_id", "channel", "team_id",
    "customer_segment", "handle_seconds", "wait_seconds", "repeat_of_id", "sentiment", "road",
    "first_contact_resolution", "outcome",
)  # fmt: skip


class ContributionRow(TypedDict):
    """A contact's CONTRIBUTION_FIELDS, as ``.values()`` reads them. ``id`` may be missing from
    the rows a write path builds itself (the delta does not need it)."""

    id: NotRequired[int]
    occurred_at: datetime
    occurred_date_only: bool
    reason_id: int | None
    channel: str
    team_id: int | None
    customer_segment: str
    handle_seconds: int | None
    wait_seconds: int | None
    repeat_of_id: int | None
    sentiment: float | None
    road: int | None
    first_contact_resolution: bool | None
    outcome: str


def reporting_tz() -> ZoneInfo:
    return ZoneInfo(settings.VOC_REPORTING_TIME_ZONE)


def reporting_day(occurred_at: datetime, *, date_only: bool, tz: ZoneInfo) -> date:
    """The day a contact counts on: its calendar day in the reporting time zone, or, for a
    day given without a time (stored at noon UTC), that day itself in every time zone."""
    if date_only:
        return occurred_at.astimezone(UTC).date()
    return occurred_at.astimezone(tz).date()


def is_negative(sentiment: float | None) -> bool:
    return sentiment is not None and sentiment <= settings.VOC_NEGATIVE_SENTIMENT


class RollupDelta:
    """Accumulates +/- contributions and writes them in one statement."""

    def __init__(self) -> None:
        self.changes: dict[Key, list[int]] = {}

    def add_rows(self, rows: Iterable[ContributionRow], sign: int = 1) -> None:
        """Add (or, with sign=-1, take away) what each contact (a dict of CONTRIBUTION_FIELDS)
        contributes. Written as one loop: a backfill adds every row."""
        tz = reporting_tz()
        negative = settings.VOC_NEGATIVE_SENTIMENT
        changes = self.changes
        width = len(COLUMNS)
        for row in rows:
            at = row["occurred_at"]
            day = (
                at.astimezone(UTC).date() if row["occurred_date_only"] else at.astimezone(tz).date()
            )
            key = (
                day, row["reason_id"] or 0, row["channel"], row["team_id"] or 0,
                row["customer_segment"],
            )  # fmt: skip
            totals = changes.get(key)
            if totals is None:
                totals = changes[key] = [0] * width
            totals[0] += sign
            seconds = row["handle_seconds"]
            if seconds is not None:
                totals[_HANDLE] += sign * seconds
                totals[_HANDLED] += sign
            seconds = row["wait_seconds"]
            if seconds is not None:
                totals[_WAIT] += sign * seconds
                totals[_WAITED] += sign
            if row["repeat_of_id"]:
                totals[_REPEAT] += sign
            sentiment = row["sentiment"]
            if sentiment is not None and sentiment <= negative:
                totals[_NEGATIVE] += sign
            road = row["road"]
            if road:
                totals[_ROAD[road]] += sign
            resolved = row["first_contact_resolution"]
            if resolved is not None:
                totals[_FCR[resolved]] += sign
            outcome = row["outcome"]
            if outcome:
                totals[_OUTCOME[outcome]] += sign

    def apply(self) -> int:
        """Upsert the non-zero changes into the daily rollups and, added up by week, into the
        weekly ones; returns how many daily keys changed."""
        changed = [(key, totals) for key, totals in self.changes.items() if any(totals)]
        if not changed:
            return 0
        data_version_bump()  # cached dashboard figures are out of date once this commits
        _upsert(ContactRollup, "day", changed)
        _upsert(ContactWeekRollup, "week", by_week(changed))
        self.changes.clear()
        return len(changed)


def week_of(day: date) -> date:
    """The Monday of the day's week: the key of the weekly rollups."""
    return day - timedelta(days=day.weekday())


def by_week(changed: Iterable[tuple[Key, list[int]]]) -> list[tuple[Key, list[int]]]:
    """Daily changes added up by week; a week whose changes cancel out (a contact moved to
    another day of the same week) is left out."""
    weeks: dict[Key, list[int]] = {}
    for (day, reason_id, channel, team_id, segment), totals in changed:
        key = (week_of(day), reason_id, channel, team_id, segment)
        summed = weeks.get(key)
        if summed is None:
            weeks[key] = list(totals)
        else:
            for position, count in enumerate(totals):
                summed[position] += count
    return [(key, totals) for key, totals in weeks.items() if any(totals)]


def _upsert(
    model: type[ContactRollup] | type[ContactWeekRollup],
    period_column: str,
    changed: list[tuple[Key, list[int]]],
) -> None:
    """Add ``changed`` to ``model``'s rows (keyed by ``period_column`` and the rest of the
    key) in one statement, then delete the rows it emptied."""
    if not changed:
        return
    table = model._meta.db_table
    key_columns = (period_column, *KEY_COLUMNS[1:])
    keys = ", ".join(key_columns)
    updates = ", ".join(f"{column} = {table}.{column} + excluded.{column}" for column in COLUMNS)
    upsert = (
        f"INSERT INTO {table} ({keys}, {', '.join(COLUMNS)}) "
        f"%s ON CONFLICT ({keys}) DO UPDATE SET {updates}"
    )
    # Keys are written in sorted order, so concurrent batches lock them in the same order
    # and cannot deadlock: sorted here, or by PostgreSQL in the same order (channels and
    # segments compared as bytes, as Python compares them). Daily rows are always written
    # before weekly ones, so the two tables are locked in the same order too.
    if connection.vendor == "postgresql" and len(changed) > STAGED_APPLY:
        _apply_staged(model, key_columns, upsert, changed)
    else:
        changed.sort()
        row = "(" + ", ".join(["%s"] * (len(KEY_COLUMNS) + len(COLUMNS))) + ")"
        placeholders = ", ".join([row] * len(changed))
        params: list[date | int | str] = []
        for key, totals in changed:
            params.extend([*key, *totals])
        with connection.cursor() as cursor:
            cursor.execute(upsert.replace("%s", f"VALUES {placeholders}", 1), params)
    # Only a key whose count went down can have reached zero: look at those alone (a
    # backfill that only adds touches thousands of keys and need not look at any).
    emptied = sorted(key for key, totals in changed if totals[0] < 0)
    for start in range(0, len(emptied), 200):
        _delete_empty(table, key_columns, emptied[start : start + 200])


def _delete_empty(table: str, key_columns: tuple[str, ...], keys: list[Key]) -> None:
    rows = ", ".join(["(%s, %s, %s, %s, %s)"] * len(keys))
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE contacts = 0 "  # noqa: S608
            f"AND ({', '.join(key_columns)}) IN (VALUES {rows})",
            [value for key in keys for value in key],
        )


def _apply_staged(
    model: type[ContactRollup] | type[ContactWeekRollup],
    key_columns: tuple[str, ...],
    upsert: str,
    changed: list[tuple[Key, list[int]]],
) -> None:
    """PostgreSQL, many keys (a backfill): COPY the changes into a temporary table and upsert
    from it in key order, instead of one VALUES list of parameters a key."""

    staging = f"voc_{key_columns[0]}_rollup_delta"
    columns = ", ".join((*key_columns, *COLUMNS))
    select = (
        f"SELECT {columns} FROM {staging} "  # noqa: S608
        f'ORDER BY {key_columns[0]}, reason_id, channel COLLATE "C", team_id, segment COLLATE "C"'
    )
    with transaction.atomic():  # the temporary rows live until commit
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS "  # noqa: S608
                f"SELECT {columns} FROM {model._meta.db_table} WITH NO DATA"
            )
            cursor.execute(f"TRUNCATE {staging}")
        # Keys and totals are dates, integers, channel and segment choices: written without
        # escaping.
        days = {day: day.isoformat() for day in {key[0] for key, _ in changed}}
        copy_lines(
            staging,
            [*key_columns, *COLUMNS],
            [
                f"{days[day]}\t{reason}\t{channel}\t{team}\t{segment}\t"
                + "\t".join(map(str, totals))
                + "\n"
                for (day, reason, channel, team, segment), totals in changed
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


def _counted_customer_messages() -> str:
    contacts, messages = Contact._meta.db_table, Message._meta.db_table
    return (
        f"(SELECT count(*) FROM {messages} m WHERE m.contact_id = {contacts}.id "  # noqa: S608
        "AND m.direction = 'incoming')"
    )


def customer_messages_wrong() -> int:
    """How many contacts' customer_messages differ from counting their messages."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {Contact._meta.db_table} "  # noqa: S608
            f"WHERE customer_messages <> {_counted_customer_messages()}"
        )
        (wrong,) = cursor.fetchone()
        return int(wrong)


def customer_messages_recount() -> int:
    """Count every contact's customer messages again (Contact.customer_messages); returns how
    many contacts had a wrong count."""
    counted = _counted_customer_messages()
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Contact._meta.db_table} SET customer_messages = {counted} "  # noqa: S608
            f"WHERE customer_messages <> {counted}"
        )
        return int(cursor.rowcount)


@transaction.atomic
def rollups_rebuild(*, batch_size: int = 20_000) -> int:
    """Recompute every rollup, daily and weekly, from the contacts, and the contacts' counts
    of customer messages from their messages. Returns the number of daily rollup rows."""
    customer_messages_recount()
    ContactRollup.objects.all().delete()
    ContactWeekRollup.objects.all().delete()
    data_version_bump()
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


def rollup_snapshot(
    model: type[ContactRollup] | type[ContactWeekRollup] = ContactRollup,
) -> dict[Key, tuple[int, ...]]:
    """All daily (or weekly) rollups as a dict, to compare a kept-current state with a
    rebuild."""
    period = "day" if model is ContactRollup else "week"
    return {
        tuple(values[: len(KEY_COLUMNS)]): tuple(values[len(KEY_COLUMNS) :])
        for values in model.objects.values_list(period, *KEY_COLUMNS[1:], *COLUMNS)
    }
