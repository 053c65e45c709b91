"""PostgreSQL helpers for bulk writes: COPY in text format, array parameters, ids drawn ahead
from a sequence, and id-keyed updates from VALUES or a staging table. Generic: they know tables
and columns, never a model. Everything runs on Django's connection, inside the caller's
transaction.
"""

import io
import json
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeGuard

from django.db import connection, transaction
from psycopg2.extras import execute_values

COPY_CHUNK = 1 << 20  # characters handed to COPY at a time

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_field(value: object) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return copy_escape(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, datetime) and value.tzinfo is not None:
        # In UTC: an offset PostgreSQL can't read (beyond ±15:59) is still a valid instant.
        return value.astimezone(UTC).isoformat()
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | dict):
        return copy_escape(json.dumps(value))
    raise TypeError(f"cannot COPY a {type(value).__name__}")


def copy_escape(value: str) -> str:
    # Most text holds none of the four characters: four scans for them cost a tenth of a
    # translate() that looks up every character (a microsecond for a 300-character message).
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


# The common exact types, converted without the isinstance chain (subclasses, such as the
# members of a TextChoices, take the chain in copy_field).
_BY_TYPE: dict[type, Callable[[Any], str]] = {
    str: copy_escape,
    int: str,
    float: str,
    type(None): lambda _value: "\\N",
    bool: lambda value: "t" if value else "f",
    datetime: lambda value: copy_field(value),  # aware ones in UTC: see copy_field
    date: date.isoformat,
    list: lambda value: copy_escape(json.dumps(value)),
}


def copy_int_or_null(value: int | None) -> str:
    return "\\N" if value is None else str(value)


def copy_text_or_null(value: str | None) -> str:
    return "\\N" if value is None else copy_escape(value)


def copy_bool_or_null(value: bool | None) -> str:
    return "\\N" if value is None else ("t" if value else "f")


def copy_datetime(value: datetime) -> str:
    return value.isoformat() if value.tzinfo is UTC else copy_field(value)


def copy_datetime_or_null(value: datetime | None) -> str:
    return "\\N" if value is None else copy_datetime(value)


def array_literal(values: Iterable[str | int | None]) -> str:
    """An array parameter as one literal (``'{1,2,NULL}'``, cast in the SQL, e.g. ``%s::bigint[]``).

    psycopg2 sends a Python list as ``ARRAY[…]`` with one quoted constant an element: for the
    thousands of ids a batch looks up, building that text took longer than the lookup, and
    PostgreSQL spent as long again planning the thousands of constants. Elements are quoted
    for the array's own text format, so any text round-trips."""
    values = values if isinstance(values, list | tuple) else list(values)
    # The usual arrays, ids or texts with nothing to escape, joined in one go.
    if all(type(value) is int for value in values):
        return "{" + ",".join(map(str, values)) + "}"
    if _all_text(values):
        joined = "".join(values)
        if '"' not in joined and "\\" not in joined:
            return '{"' + '","'.join(values) + '"}' if values else "{}"
    parts = []
    for value in values:
        if value is None:
            parts.append("NULL")
        elif isinstance(value, int):
            parts.append(str(value))
        else:
            parts.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(parts) + "}"


def _all_text(values: Sequence[str | int | None]) -> TypeGuard[Sequence[str]]:
    return all(type(value) is str for value in values)


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """COPY rows (sequences in the order of ``columns``) into ``table``."""
    buffer = io.StringIO()
    write = buffer.write
    by_type = _BY_TYPE.get
    for row in rows:
        write("\t".join([(by_type(type(value)) or copy_field)(value) for value in row]))
        write("\n")
    copy_buffer(table, columns, buffer)


def copy_lines(table: str, columns: Sequence[str], lines: list[str]) -> None:
    """COPY lines already in COPY's text format (each ending in a newline) into ``table``."""
    copy_buffer(table, columns, io.StringIO("".join(lines)))


def copy_buffer(table: str, columns: Sequence[str], buffer: io.StringIO) -> None:
    """COPY the text-format lines written to ``buffer`` into ``table``."""
    buffer.seek(0)
    with connection.cursor() as cursor:
        # Read in chunks of a megabyte: at psycopg2's default of 8 KB, the ten megabytes of a
        # batch's messages take a thousand round trips through Python.
        cursor.cursor.copy_expert(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer, size=COPY_CHUNK
        )


def next_ids(table: str, count: int) -> list[int]:
    """Draw ``count`` ids from the sequence behind ``table``.id."""
    if not count:
        return []
    with connection.cursor() as cursor:
        # The sequence's name looked up once, in a materialized CTE (inside the SELECT it
        # would cost once a row), in the same round trip as the ids.
        cursor.execute(
            "WITH sequence AS MATERIALIZED "
            "(SELECT pg_get_serial_sequence(%s, 'id')::regclass AS name) "
            "SELECT nextval(sequence.name) FROM sequence, generate_series(1, %s)",
            [table, count],
        )
        return [row[0] for row in cursor.fetchall()]


def update_from_values(
    table: str, columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence[object]]
) -> None:
    """``UPDATE table SET columns… FROM (VALUES (id, …), …) WHERE table.id = id`` in one
    statement per 5,000 rows. ``types`` casts each value column (e.g. ``bigint``)."""
    if not rows:
        return
    sets = ", ".join(
        f"{column} = v.{column}::{kind}" for column, kind in zip(columns, types, strict=True)
    )
    sql = (
        f"UPDATE {table} SET {sets} FROM (VALUES %s) AS v (id, {', '.join(columns)}) "  # noqa: S608
        f"WHERE {table}.id = v.id"
    )
    with connection.cursor() as cursor:
        execute_values(cursor.cursor, sql, rows, page_size=5000)


def update_via_staging(
    table: str, columns: Sequence[str], rows: Sequence[Sequence[object]], *, staging: str
) -> None:
    """Update many columns of many rows: COPY (id, columns…) into a temporary table with the
    types of those columns, then one ``UPDATE … FROM``. The temporary table lives for the
    session and is emptied before each use and at commit."""
    if not rows:
        return
    sets = ", ".join(f"{column} = s.{column}" for column in columns)
    with transaction.atomic():  # the temporary rows live until commit
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {staging} ON COMMIT DELETE ROWS AS "  # noqa: S608
                f"SELECT id, {', '.join(columns)} FROM {table} WITH NO DATA"
            )
            cursor.execute(f"TRUNCATE {staging}")
        copy_rows(staging, ["id", *columns], rows)
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET {sets} FROM {staging} AS s WHERE {table}.id = s.id"  # noqa: S608
            )
            cursor.execute(f"TRUNCATE {staging}")
