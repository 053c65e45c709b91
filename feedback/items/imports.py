"""Importing a CSV or NDJSON file of feedback items: ``feedback_import_file``, behind
``manage.py import_feedback``.

It is the contacts import's machinery (voc/core/imports/) with feedback's fields
(``FEEDBACK_FIELDS``): the same readers (CSV and NDJSON, gzip or not, bad bytes and broken
lines reported per row), the same mapping format and checks, saved mappings of their own
(``--save-mapping NAME``, then ``--mapping NAME``), the same error report and an ``ImportRun``
of kind ``feedback``. Rows go to ``feedback_items_ingest`` in batches, each committed on its
own: an interrupted import keeps its batches and running it again creates nothing twice.
Malformed rows are written to the error report (line, field, reason; never the value) and the
good rows are kept.

A mapping (JSON or TOML) turns another system's columns into feedback fields:

    columns = {"Response ID" = "external_id", "Score" = "score", "Comment" = "verbatim"}
    constants = {kind = "nps"}
    defaults = {channel = "web_form"}
    values = {kind = {"Net Promoter" = "nps"}}
    date_format = "%d/%m/%Y %H:%M"
    time_zone = "Europe/Paris"
"""

import re
from pathlib import Path
from typing import Any, Unpack
from zoneinfo import ZoneInfo

from django.utils import timezone

from contacts.ingest.records import ParseOptions, RowError
from contacts.ingest.runs import ImportRunLog, SavedMappings
from contacts.ingest.service import MAX_BATCH, parse_options
from contacts.models import ImportKind
from contacts.redaction import redact_text
from feedback.items.records import FIELDS, KINDS, REQUIRED, ItemRecord, parse_item_row
from feedback.items.services import IngestResult, feedback_items_ingest
from feedback.models import FeedbackItem
from voc.core.audit import SystemActor
from voc.core.imports.batches import parsed_batches
from voc.core.imports.mapping import SAMPLE_TIME
from voc.core.imports.runner import FileImportKind, ImportOptions, OpenedImport, file_import
from voc.core.imports.runs import ImportSummary
from voc.core.imports.schema import FieldSchema

DEFAULT_BATCH = 5_000
FEEDBACK_RUNS = ImportRunLog(ImportKind.FEEDBACK)
FEEDBACK_MAPPINGS = SavedMappings(ImportKind.FEEDBACK)
_WHOLE_NUMBER = re.compile(r"\s*[0-9]{1,3}\s*")  # as parse_item_row reads a score
# A score fits some kind when it is within the widest range (NPS's 0-10); the row's kind
# decides the rest.
_LOWEST = min(low for low, _ in FeedbackItem.SCORE_RANGES.values())
_HIGHEST = max(high for _, high in FeedbackItem.SCORE_RANGES.values())


def _check_field_value(name: str, value: Any) -> str | None:
    """Why parse_item_row would refuse ``value`` for field ``name`` in a mapping (a constant,
    a default, a value map's target), or None. A kind must be one of the kinds and a score a
    whole number some kind takes; any other field is checked by parsing a sample row."""
    if name == "kind":
        known = isinstance(value, str) and value.strip().lower() in KINDS
        return None if known else f"must be one of {', '.join(KINDS)}"
    if name == "score":
        if isinstance(value, bool) or not (
            isinstance(value, int) or (isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value))
        ):
            return "must be a whole number"
        if not _LOWEST <= int(value) <= _HIGHEST:
            return f"must be between {_LOWEST} and {_HIGHEST}"
        return None
    sample = {"kind": "complaint", "source": "mapping", "external_id": "mapping-check"}
    sample[name] = value
    options = ParseOptions(
        default_occurred_at=SAMPLE_TIME.replace(tzinfo=ZoneInfo("UTC")), strict_fields=False
    )
    try:
        parse_item_row(sample, options)
    except RowError as error:  # the rest of the sample is valid, so the value is the problem
        return error.reason
    return None


FEEDBACK_FIELDS = FieldSchema(
    fields=FIELDS,
    required=REQUIRED,
    noun="feedback field",
    docs="docs/feedback-items.md",
    check_value=_check_field_value,
    redact=redact_text,
    key="external_id",
    # Every row would be the same item, or every customer would have said the same words.
    not_constant=frozenset({"external_id", "verbatim"}),
    given=("kind",),
    date_field="received_at",
    day_only_dates=False,  # a day alone is received at its midnight (in time_zone)
)


def feedback_import_file(path: Path | str, **options: Unpack[ImportOptions]) -> ImportSummary:
    """Import one file of feedback items, as contacts' ``import_file`` does contacts: returns
    the summary (counts, the error report's path) and records an ImportRun of kind feedback;
    ImportFailed for a problem with the whole file (it can't be opened, the mapping is
    invalid, the header lacks a required column, no source), ImportInterrupted on Ctrl-C.
    ``mapping`` is a mapping file, the name of a saved feedback mapping or a loaded one."""
    return file_import(FEEDBACK_IMPORT, path=path, **options)


def _ingest(opened: OpenedImport) -> None:
    mapping = opened.mapping
    source = opened.source or (mapping.source if mapping else "")
    options = parse_options(
        source=source or None,
        default_occurred_at=timezone.now(),
        naive_tz=mapping.time_zone if mapping else None,
        strict_fields=False,
    )
    by = SystemActor(f"import:{source or 'file'}")

    def parse(row: dict[str, Any]) -> ItemRecord:
        return parse_item_row(row, options)

    def write(records: list[ItemRecord]) -> IngestResult:
        return feedback_items_ingest(rows=records, by=by, options=options)

    batches = parsed_batches(
        opened.reader,
        opened.mapper,
        parse=parse,
        batch_size=opened.batch_size,
        position=opened.position,
    )
    opened.write_batches(batches, write)
    opened.summary.warnings = opened.mapper.warnings


FEEDBACK_IMPORT = FileImportKind(
    ingest=_ingest,
    schema=FEEDBACK_FIELDS,
    runs=FEEDBACK_RUNS,
    saved=FEEDBACK_MAPPINGS,
    max_batch=MAX_BATCH,
    default_batch=DEFAULT_BATCH,
)
