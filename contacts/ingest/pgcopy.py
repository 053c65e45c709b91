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
from typing import TYPE_CHECKING, Any, Protocol

from django.db import connection
from django.utils import timezone

from contacts.ingest.records import CONTACT_UPDATE_FIELDS
from contacts.models import Contact, Customer, Message
from voc.core.pg import (
    array_literal,
    copy_bool_or_null,
    copy_buffer,
    copy_datetime,
    copy_datetime_or_null,
    copy_escape,
    copy_field,
    copy_int_or_null,
    copy_lines,
    copy_text_or_null,
    next_ids,
    update_via_staging,
)

if TYPE_CHECKING:
    from contacts.ingest.records import ContactRecord


class NewCustomer(Protocol):
    """A customer the ingest service is about to create (contacts.ingest.service._NewCustomer);
    create_customers sets its pk."""

    pk: int | None
    external_ref: str | None
    name: str
    email: str
    phone: str
    segment: str


# The columns of a new contact that come from its record alone, in COPY order: the parsing
# processes of a file import format them ahead (ContactRecord.copy_text), so the writing
# process only adds the id and the references it resolves.
CONTACT_RECORD_COLUMNS = (
    "source", "external_id", "channel", "direction", "occurred_at", "tags", "subject", "notes",
    "handle_seconds", "outcome", "first_contact_resolution", "road", "content_hash",
    "wait_seconds", "occurred_date_only", "customer_messages",
)  # fmt: skip
MESSAGE_RECORD_COLUMNS = ("external_id", "position", "direction", "author", "sent_at", "text")


def record_copy_text(record: "ContactRecord") -> tuple[str, tuple[str, ...]]:
    """A new contact's CONTACT_RECORD_COLUMNS as COPY text, and each of its messages'
    MESSAGE_RECORD_COLUMNS as a line to put after its contact id. channel, direction and
    outcome are choices parse_row checked and content_hash is hex: none of them can hold a
    character COPY escapes."""
    tags = record.tags
    contact = (
        f"{copy_escape(record.source)}\t{copy_escape(record.external_id)}\t"
        f"{record.channel}\t{record.direction}\t{copy_datetime(record.occurred_at)}\t"
        f"{copy_escape(json.dumps(tags)) if tags else '[]'}\t"
        f"{copy_escape(record.subject)}\t{copy_escape(record.notes)}\t"
        f"{copy_int_or_null(record.handle_seconds)}\t{record.outcome}\t"
        f"{copy_bool_or_null(record.first_contact_resolution)}\t{copy_int_or_null(record.road)}\t"
        f"{record.content_hash()}\t{copy_int_or_null(record.wait_seconds)}\t"
        f"{'t' if record.occurred_date_only else 'f'}\t{record.customer_messages}"
    )
    messages = tuple(
        f"\t{copy_escape(m.external_id)}\t{m.position}\t{m.direction}\t"
        f"{copy_escape(m.author)}\t{copy_datetime_or_null(m.sent_at)}\t"
        f"{copy_escape(m.text)}\n"
        for m in record.messages
    )  # direction is a choice: nothing to escape
    return contact, messages


class CopyWriter:
    """The ingest writer for PostgreSQL (see contacts.ingest.service.Writer)."""

    # sentiment starts empty (NULL): it is computed after commit. repeat_of is set when the
    # service knows it already, else by the relinking that follows.
    CONTACT_COLUMNS = (
        "id", "customer_id", "rep_id", "team_id", "reason_id", "repeat_of_id",
        *CONTACT_RECORD_COLUMNS, "customer_segment", "created_at", "updated_at",
    )  # fmt: skip
    MESSAGE_COLUMNS = ("contact_id", *MESSAGE_RECORD_COLUMNS)
    CUSTOMER_COLUMNS = ("id", "external_ref", "name", "email", "phone", "segment")

    def create_customers(self, customers: Sequence[NewCustomer]) -> None:
        now = copy_field(timezone.now())
        for customer, new_id in zip(
            customers, next_ids(Customer._meta.db_table, len(customers)), strict=True
        ):
            customer.pk = new_id
        copy_lines(
            Customer._meta.db_table,
            [*self.CUSTOMER_COLUMNS, "merged_into_id", "created_at", "updated_at"],
            [
                f"{c.pk}\t{copy_text_or_null(c.external_ref)}\t{copy_escape(c.name)}\t"
                f"{copy_escape(c.email)}\t{copy_escape(c.phone)}\t{c.segment}\t"
                f"\\N\t{now}\t{now}\n"
                for c in customers
            ],  # segment is a choice: nothing to escape
        )

    def assign_contact_ids(self, rows: list[dict[str, Any]]) -> bool:
        for values, new_id in zip(rows, next_ids(Contact._meta.db_table, len(rows)), strict=True):
            values["id"] = new_id
        return True

    def create_contacts(
        self, rows: list[dict[str, Any]], records: Sequence["ContactRecord"]
    ) -> None:
        if not rows:
            return
        if "id" not in rows[0]:
            self.assign_contact_ids(rows)
        now = copy_field(timezone.now())
        # The record's columns as the parsing formatted them, or formatted now; the columns
        # resolved here are ids.
        buffer = io.StringIO()
        write = buffer.write
        for v, record in zip(rows, records, strict=True):
            text = (record.copy_text or record_copy_text(record))[0]
            write(
                f"{v['id']}\t{copy_int_or_null(v['customer_id'])}\t{copy_int_or_null(v['rep_id'])}\t"
                f"{copy_int_or_null(v['team_id'])}\t{copy_int_or_null(v['reason_id'])}\t"
                f"{copy_int_or_null(v.get('repeat_of_id'))}\t{text}\t"
                f"{v['customer_segment']}\t{now}\t{now}\n"
            )
        copy_buffer(Contact._meta.db_table, self.CONTACT_COLUMNS, buffer)

    def update_contacts(self, rows: list[dict[str, Any]]) -> None:
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
        copy_buffer(Message._meta.db_table, self.MESSAGE_COLUMNS, buffer)
