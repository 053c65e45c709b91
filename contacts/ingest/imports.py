"""Importing a CSV or NDJSON file of contacts: ``import_file``, behind ``manage.py import_contacts``.

The import runs on voc/core/imports/: the file is streamed by its readers, a ``RowMapper``
turns each row into VoC's field names (``CONTACT_FIELDS``, contacts/ingest/mapping.py), and
every ``batch_size`` rows go to ``contacts_ingest``, which commits each batch on its own. An
interrupted import therefore keeps the batches it committed, and running it again creates
nothing twice (contacts are unique on source and external id). From ``PARALLEL_MIN_BYTES``
on, the reading, mapping and parsing happen in ``PARSE_PROCESSES`` further processes while
this one writes (contacts/ingest/parsing.py).

Rows that cannot be imported are written to an error report (CSV: line, field, reason; never
the rejected value) and counted; only a problem with the whole file (it cannot be opened, the
mapping is invalid, the header is missing) fails the import. Every run is recorded as an
``ImportRun`` of kind ``contacts``.
"""

from collections.abc import Callable
from pathlib import Path
from typing import Unpack

from django.db import connection
from django.utils import timezone

from contacts.ingest.mapping import CONTACT_FIELDS
from contacts.ingest.parsing import ForkedBatches, fork_available, record_parser
from contacts.ingest.records import ContactRecord
from contacts.ingest.runs import ImportRunLog, SavedMappings
from contacts.ingest.service import (
    MAX_BATCH,
    IngestResult,
    contacts_ingest,
    fewer_gc_passes,
    parse_options,
)
from contacts.models import ImportKind
from contacts.tombstones import tombstones_exist
from voc.core.imports.batches import parsed_batches
from voc.core.imports.files import CsvReader, NdjsonReader, read_rows
from voc.core.imports.runner import FileImportKind, ImportOptions, OpenedImport, file_import
from voc.core.imports.runs import ImportSummary

DEFAULT_BATCH = 10_000
# Files from this size on are read and parsed in a second process while this one writes
# (contacts/ingest/parsing.py); for smaller ones starting it would cost more than it saves.
PARALLEL_MIN_BYTES = 1_000_000
PARSE_PROCESSES = 2  # each reads the whole file and parses every second batch
CONTACT_RUNS = ImportRunLog(ImportKind.CONTACTS)
CONTACT_MAPPINGS = SavedMappings(ImportKind.CONTACTS)


def import_file(path: Path | str, **options: Unpack[ImportOptions]) -> ImportSummary:
    """Import one file; returns the summary, raises ImportFailed for a whole-file failure and
    ImportInterrupted on Ctrl-C (voc.core.imports.runner). ``mapping`` is a mapping file, a
    saved mapping's name or an already loaded mapping; ``progress`` is called after every
    batch with the bytes read."""
    return file_import(CONTACT_IMPORT, path=path, **options)


def _ingest(opened: OpenedImport) -> None:
    mapping = opened.mapping
    # A collection walks every young object still alive, i.e. the batch in hand, however
    # often it runs; a run every million new objects instead of every 50,000 leaves most
    # of that time to the import (a few percent at a million rows).
    with fewer_gc_passes(threshold=1_000_000):
        options = parse_options(
            source=opened.source or (mapping.source if mapping else "") or None,
            default_occurred_at=timezone.now(),
            naive_tz=mapping.time_zone if mapping else None,
            strict_fields=False,
        )
        create_reasons = bool(mapping and mapping.reason and mapping.reason.create_missing)

        def write(records: list[ContactRecord]) -> IngestResult:
            return contacts_ingest(
                rows=records, options=options, create_reasons=create_reasons, first_index=0
            )

        # Erasure keys are hashed while parsing only if a customer has been erased already;
        # if one is erased during the import, the service hashes the rows it must check then.
        parse = record_parser(
            options,
            erasure_keys=tombstones_exist(),
            copy_text=connection.vendor == "postgresql",  # the writer that will use it
        )
        if opened.size >= PARALLEL_MIN_BYTES and PARSE_PROCESSES and fork_available():
            path, file_format, encoding = opened.path, opened.file_format, opened.encoding

            def reopen() -> tuple[CsvReader | NdjsonReader, Callable[[], int]]:
                """A reader of its own for a parsing process, and its position in the file."""
                stream = path.open("rb")
                reader = read_rows(
                    stream,
                    file_format=file_format,
                    encoding=encoding,
                    known_fields=CONTACT_FIELDS.fields,
                )
                return reader, stream.tell

            with ForkedBatches(
                reopen,
                opened.mapper,
                processes=PARSE_PROCESSES,
                parse=parse,
                batch_size=opened.batch_size,
            ) as batches:
                opened.write_batches(batches, write)
                opened.summary.warnings = batches.warnings
        else:
            parsed = parsed_batches(
                opened.reader,
                opened.mapper,
                parse=parse,
                batch_size=opened.batch_size,
                position=opened.position,
            )
            opened.write_batches(parsed, write)
            opened.summary.warnings = opened.mapper.warnings


CONTACT_IMPORT = FileImportKind(
    ingest=_ingest,
    schema=CONTACT_FIELDS,
    runs=CONTACT_RUNS,
    saved=CONTACT_MAPPINGS,
    max_batch=MAX_BATCH,
    default_batch=DEFAULT_BATCH,
)
