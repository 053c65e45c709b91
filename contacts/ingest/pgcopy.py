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
    from contacts.ingest.records import MessageRecord

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _field(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
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
        return json.dumps(value).translate(_ESCAPES)
    raise TypeError(f"cannot COPY a {type(value).__name__}")


def _escape(value: str) -> str:
    return value.translate(_ESCAPES)


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
    list: lambda value: json.dumps(value).translate(_ESCAPES),
}


def copy_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> None:
    """COPY rows (sequences in the order of ``columns``) into ``table``."""
    buffer = io.StringIO()
    write = buffer.write
    by_type = _BY_TYPE.get
    for row in rows:
        write("\t".join([(by_type(type(value)) or _field)(value) for value in row]))
        write("\n")
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


def next_ids(table: str, count: int) -> list[int]:
    """Draw ``count`` ids from the sequence behind ``table``.id."""
    if not count:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [table, count],
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


class CopyWriter:
    """The ingest writer for PostgreSQL (see contacts.ingest.service.Writer)."""

    # sentiment and repeat_of start empty (NULL): sentiment is computed after commit, repeat
    # links are set by the relinking that follows.
    CONTACT_COLUMNS = (
        "id", "source", "external_id", "customer_id", "channel", "direction", "occurred_at",
        "rep_id", "team_id", "reason_id", "tags", "subject", "notes", "handle_seconds",
        "outcome", "first_contact_resolution", "road", "content_hash",
    )  # fmt: skip
    MESSAGE_COLUMNS = (
        "contact_id", "external_id", "position", "direction", "author", "sent_at", "text",
    )  # fmt: skip
    CUSTOMER_COLUMNS = ("id", "external_ref", "name", "email", "phone", "segment")

    def create_customers(self, customers: list[Customer]) -> None:
        now = timezone.now()
        for customer, new_id in zip(
            customers, next_ids(Customer._meta.db_table, len(customers)), strict=True
        ):
            customer.id = new_id
            customer.created_at = customer.updated_at = now
        copy_rows(
            Customer._meta.db_table,
            [*self.CUSTOMER_COLUMNS, "merged_into_id", "created_at", "updated_at"],
            (
                [*(getattr(customer, name) for name in self.CUSTOMER_COLUMNS), None, now, now]
                for customer in customers
            ),
        )

    def create_contacts(self, rows: list[dict]) -> None:
        if not rows:
            return
        now = timezone.now()
        for values, new_id in zip(rows, next_ids(Contact._meta.db_table, len(rows)), strict=True):
            values["id"] = new_id
        columns = self.CONTACT_COLUMNS
        copy_rows(
            Contact._meta.db_table,
            [*columns, "created_at", "updated_at"],
            ([*(values[name] for name in columns), now, now] for values in rows),
        )

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
                f"DELETE FROM {Message._meta.db_table} WHERE contact_id = ANY(%s)",  # noqa: S608
                [list(contact_ids)],
            )

    def create_messages(self, items: Iterable[tuple[int, "MessageRecord"]]) -> None:
        copy_rows(
            Message._meta.db_table,
            self.MESSAGE_COLUMNS,
            (
                (contact_id, m.external_id, m.position, m.direction, m.author, m.sent_at, m.text)
                for contact_id, m in items
            ),
        )
