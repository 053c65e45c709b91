"""Contacts as a file import sees them: ``CONTACT_FIELDS``, the schema the mapping validation
and the row mapper of voc/core/imports/ apply to contact files (docs/ingest.md)."""

from typing import Any
from zoneinfo import ZoneInfo

from contacts.ingest.records import FIELDS, REQUIRED, ParseOptions, RowError, parse_row
from contacts.redaction import redact_text
from voc.core.imports.mapping import SAMPLE_TIME
from voc.core.imports.schema import FieldSchema


def _check_field_value(name: str, value: Any) -> str | None:
    """Why parse_row would refuse ``value`` for field ``name``, or None. The rules are the
    parser's own: a sample row carrying the value is parsed."""
    sample = {"source": "mapping", "external_id": "mapping-check", "channel": "other"}
    sample[name] = value
    options = ParseOptions(
        default_occurred_at=SAMPLE_TIME.replace(tzinfo=ZoneInfo("UTC")),
        strict_fields=False,
    )
    try:
        parse_row(sample, options)
    except RowError as error:  # the rest of the sample is valid, so the value is the problem
        return error.reason
    return None


CONTACT_FIELDS = FieldSchema(
    fields=frozenset(FIELDS),
    required=REQUIRED,
    noun="VoC field",
    docs="docs/ingest.md",
    check_value=_check_field_value,
    redact=redact_text,
    key="external_id",
    # Every row would be the same contact, or a list of messages is not a constant.
    not_constant=frozenset({"external_id", "messages"}),
    given=("channel",),
    date_field="occurred_at",
    day_only_dates=True,  # occurred_date_only: a day keeps its calendar date
    reason_table=True,
    ndjson_only=(
        (
            "messages",
            "columns: messages (a list) is only for NDJSON; map a CSV column to text",
            "a CSV file gives the text of a contact in a text column; a list of messages is "
            "only possible in NDJSON",
        ),
    ),
)
