"""The PostgreSQL writer of the ingest service: COPY instead of row-by-row ORM inserts.

``contacts_ingest`` decides what to write (created, updated, unchanged; customers; messages;
rollup deltas) the same way on every database; only the writes differ. On PostgreSQL new rows
are streamed with ``COPY`` (their ids drawn from the table's sequence first, so the messages can
point at them), updated contacts are copied into a temporary table and applied with one
``UPDATE … FROM``, and id-keyed updates use ``UPDATE … FROM (VALUES …)``. Everything runs on
Django's connection, inside the caller's transaction.

The text handed to COPY is already redacted: ``parse_row`` redacts before anything is written,
so no raw card number reaches a table, temporary ones included.
"""

import io
import json
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from django.db import connection, transaction
from django.utils import timezone
from psycopg2.extras import execute_values

from contacts.models import Contact, Customer, Message

if TYPE_CHECKING:
    from contacts.ingest.records import ContactRecord

COPY_CHUNK = 1 << 20  # characters handed to COPY at a time

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _field(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return _escape(value)
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
        return _escape(json.dumps(value))
    raise TypeError(f"cannot COPY a {type(value).__name__}")


def _escape(value: str) -> str:
    # Most text holds none of the four characters: four scans for them cost a tenth of a
    # translate() that looks up every character (a microsecond for a 300-character message).
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        return value.translate(_ESCAPES)
    return value


# The common exact types, converted without the isinstance chain (subclasses, such as the
# members of a TextChoices, take the chain in _field).
_BY_TYPE = {
    str: _escape,
    int: str,
    float: str,
    type(None): lambda _value: "\\N",
    bool: lambda value: "t" if value else "f",
    datetime: lambda value: _field(value),  # aware ones in UTC: see _field
    date: date.isoformat,
    list: lambda value: _escape(json.dumps(value)),
}


def _int_or_null(value: int | None) -> str:
    return "\\N" if value is None else str(value)


def _text_or_null(value: str | None) -> str:
    return "\\N" if value is None else _escape(value)


def _bool_or_null(value: bool | None) -> str:
    return "\\N" if value is None else ("t" if value else "f")


def _datetime(value: datetime) -> str:
    return value.isoformat() if value.tzinfo is UTC else _field(value)


def _datetime_or_null(value: datetime | None) -> str:
    return "\\N" if value is None else _datetime(value)


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
    if all(type(value) is str for value in values):
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


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """COPY rows (sequences in the order of ``columns``) into ``table``."""
    buffer = io.StringIO()
    write = buffer.write
    by_type = _BY_TYPE.get
    for row in rows:
        write("\t".join([(by_type(type(value)) or _field)(value) for value in row]))
        write("\n")
    _copy_buffer(table, columns, buffer)


def copy_lines(table: str, columns: Sequence[str], lines: list[str]) -> None:
    """COPY lines already in COPY's text format (each ending in a newline) into ``table``."""
    _copy_buffer(table, columns, io.StringIO("".join(lines)))


def _copy_buffer(table: str, columns: Sequence[str], buffer: io.StringIO) -> None:
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
        # The sequence's name first: looked up inside the SELECT it would cost once a row.
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [table])
        (sequence,) = cursor.fetchone()
        cursor.execute(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, count]
        )
        return [row[0] for row in cursor.fetchall()]


def update_from_values(
    table: str, columns: Sequence[str], types: Sequence[str], rows: Sequence[Sequence]
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
    table: str, columns: Sequence[str], rows: Sequence[Sequence], *, staging: str
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


# The columns of a new contact that come from its record alone, in COPY order: the parsing
# processes of a file import format them ahead (ContactRecord.copy_text), so the writing
# process only adds the id and the references it resolves.
CONTACT_RECORD_COLUMNS = (
    "source", "external_id", "channel", "direction", "occurred_at", "tags", "subject", "notes",
    "handle_seconds", "outcome", "first_contact_resolution", "road", "content_hash",
)  # fmt: skip
MESSAGE_RECORD_COLUMNS = ("external_id", "position", "direction", "author", "sent_at", "text")


def record_copy_text(record: "ContactRecord") -> tuple[str, tuple[str, ...]]:
    """A new contact's CONTACT_RECORD_COLUMNS as COPY text, and each of its messages'
    MESSAGE_RECORD_COLUMNS as a line to put after its contact id. channel, direction and
    outcome are choices parse_row checked and content_hash is hex: none of them can hold a
    character COPY escapes."""
    tags = record.tags
    contact = (
        f"{_escape(record.source)}\t{_escape(record.external_id)}\t"
        f"{record.channel}\t{record.direction}\t{_datetime(record.occurred_at)}\t"
        f"{_escape(json.dumps(tags)) if tags else '[]'}\t"
        f"{_escape(record.subject)}\t{_escape(record.notes)}\t"
        f"{_int_or_null(record.handle_seconds)}\t{record.outcome}\t"
        f"{_bool_or_null(record.first_contact_resolution)}\t{_int_or_null(record.road)}\t"
        f"{record.content_hash()}"
    )
    messages = tuple(
        f"\t{_escape(m.external_id)}\t{m.position}\t{m.direction}\t"
        f"{_escape(m.author)}\t{_datetime_or_null(m.sent_at)}\t"
        f"{_escape(m.text)}\n"
        for m in record.messages
    )  # direction is a choice: nothing to escape
    return contact, messages


class CopyWriter:
    """The ingest writer for PostgreSQL (see contacts.ingest.service.Writer)."""

    # sentiment starts empty (NULL): it is computed after commit. repeat_of is set when the
    # service knows it already, else by the relinking that follows.
    CONTACT_COLUMNS = (
        "id", "customer_id", "rep_id", "team_id", "reason_id", "repeat_of_id",
        *CONTACT_RECORD_COLUMNS, "created_at", "updated_at",
    )  # fmt: skip
    MESSAGE_COLUMNS = ("contact_id", *MESSAGE_RECORD_COLUMNS)
    CUSTOMER_COLUMNS = ("id", "external_ref", "name", "email", "phone", "segment")

    def create_customers(self, customers: list) -> None:
        now = _field(timezone.now())
        for customer, new_id in zip(
            customers, next_ids(Customer._meta.db_table, len(customers)), strict=True
        ):
            customer.pk = new_id
        copy_lines(
            Customer._meta.db_table,
            [*self.CUSTOMER_COLUMNS, "merged_into_id", "created_at", "updated_at"],
            [
                f"{c.pk}\t{_text_or_null(c.external_ref)}\t{_escape(c.name)}\t"
                f"{_escape(c.email)}\t{_escape(c.phone)}\t{c.segment}\t"
                f"\\N\t{now}\t{now}\n"
                for c in customers
            ],  # segment is a choice: nothing to escape
        )

    def assign_contact_ids(self, rows: list[dict]) -> bool:
        for values, new_id in zip(rows, next_ids(Contact._meta.db_table, len(rows)), strict=True):
            values["id"] = new_id
        return True

    def create_contacts(self, rows: list[dict], records: Sequence["ContactRecord"]) -> None:
        if not rows:
            return
        if "id" not in rows[0]:
            self.assign_contact_ids(rows)
        now = _field(timezone.now())
        # The record's columns as the parsing formatted them, or formatted now; the columns
        # resolved here are ids.
        buffer = io.StringIO()
        write = buffer.write
        for v, record in zip(rows, records, strict=True):
            text = (record.copy_text or record_copy_text(record))[0]
            write(
                f"{v['id']}\t{_int_or_null(v['customer_id'])}\t{_int_or_null(v['rep_id'])}\t"
                f"{_int_or_null(v['team_id'])}\t{_int_or_null(v['reason_id'])}\t"
                f"{_int_or_null(v.get('repeat_of_id'))}\t{text}\t"
                f"{now}\t{now}\n"
            )
        _copy_buffer(Contact._meta.db_table, self.CONTACT_COLUMNS, buffer)

    def update_contacts(self, rows: list[dict]) -> None:
        from contacts.ingest.service import CONTACT_UPDATE_FIELDS

        update_via_staging(
            Contact._meta.db_table,
            CONTACT_UPDATE_FIELDS,
            [[values["id"], *(values[name] for name in CONTACT_UPDATE_FIELDS)] for values in rows],
            staging="voc_ingest_contact_update",
        )

    def delete_messages(self, contact_ids: list[int]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {Message._meta.db_table} WHERE contact_id = ANY(%s::bigint[])",  # noqa: S608
                [array_literal(contact_ids)],
            )

    def create_messages(self, items: Iterable[tuple[int, "ContactRecord"]]) -> None:
        buffer = io.StringIO()
        write = buffer.write
        for contact_id, record in items:
            prefix = str(contact_id)
            for line in (record.copy_text or record_copy_text(record))[1]:
                write(prefix)
                write(line)
        _copy_buffer(Message._meta.db_table, self.MESSAGE_COLUMNS, buffer)
