"""Importing a CSV or NDJSON file of contacts: ``import_file``, behind ``manage.py import_contacts``.

The file is streamed: a reader (contacts/ingest/files.py) yields one row at a time, a
``RowMapper`` (contacts/ingest/mapping.py) turns it into VoC's field names, and every
``batch_size`` rows go to ``contacts_ingest``, which commits each batch on its own. An
interrupted import therefore keeps the batches it committed, and running it again creates
nothing twice (contacts are unique on source and external id). From ``PARALLEL_MIN_BYTES``
on, the reading, mapping and parsing happen in ``PARSE_PROCESSES`` further processes while
this one writes (contacts/ingest/parsing.py).

Rows that cannot be imported are written to an error report (CSV: line, field, reason; never
the rejected value) and counted; only a problem with the whole file (it cannot be opened, the
mapping is invalid, the header is missing) fails the import. Every run is recorded as an
``ImportRun``.
"""

import contextlib
import csv
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection
from django.utils import timezone

from contacts.ingest.files import FileError, detect_format, read_rows
from contacts.ingest.mapping import (
    ImportMappingConfig,
    MappingError,
    RowMapper,
    import_mapping_save,
    mapping_load,
)
from contacts.ingest.parsing import ForkedBatches, fork_available, parsed_batches
from contacts.ingest.service import MAX_BATCH, contacts_ingest, fewer_gc_passes, parse_options
from contacts.models import ImportRun
from contacts.redaction import redact_text
from contacts.tombstones import tombstones_exist

logger = logging.getLogger(__name__)

DEFAULT_BATCH = 10_000
# Files from this size on are read and parsed in a second process while this one writes
# (contacts/ingest/parsing.py); for smaller ones starting it would cost more than it saves.
PARALLEL_MIN_BYTES = 1_000_000
PARSE_PROCESSES = 2  # each reads the whole file and parses every second batch
_REPEATED_ROW = re.compile(r"^repeats the contact of row (\d+)$")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _database_failures() -> tuple[type[Exception], ...]:
    """A lost connection or a server that went away. The COPY writer raises psycopg2's own."""
    errors: list[type[Exception]] = [OperationalError, InterfaceError]
    try:
        import psycopg2

        errors += [psycopg2.OperationalError, psycopg2.InterfaceError]
    except ImportError:  # pragma: no cover - psycopg2 is a dependency
        pass
    return tuple(errors)


DATABASE_FAILURES = _database_failures()


@dataclass
class ImportSummary:
    run: ImportRun
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    error_report: Path | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0

    def counts(self) -> dict:
        return {
            "read": self.rows_read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


class ImportFailed(Exception):
    """The file as a whole could not be imported (the run is recorded as failed)."""

    def __init__(self, message: str, summary: ImportSummary):
        super().__init__(message)
        self.summary = summary


class ImportDatabaseFailed(ImportFailed):
    """The database failed during the import (a lost connection, a restarted server): the
    batches committed before it are kept, the one in hand was rolled back, and running the
    import again finishes the file without duplicates."""


class ImportInterrupted(KeyboardInterrupt):
    """Ctrl-C during an import: the committed batches stay; the run is marked interrupted."""

    def __init__(self, summary: ImportSummary):
        super().__init__()
        self.summary = summary


class ErrorReport:
    """The per-row error report: a CSV of line, field and reason. The values it is given are
    field names and fixed reasons, never data from the row; cells are still guarded against
    spreadsheet formulas."""

    def __init__(self, path: Path, *, keep_empty: bool = False) -> None:
        self.path = path
        self.keep_empty = keep_empty  # a report asked for by name is kept even when empty
        self.count = 0
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._file = path.open("w", newline="", encoding="utf-8")
        except OSError as error:
            raise FileError(
                f"the error report {path} cannot be written ({error.strerror})"
            ) from None
        self._writer = csv.writer(self._file)
        self._writer.writerow(["line", "field", "reason"])

    def write(self, errors: list[tuple[int, str, str]]) -> None:
        errors.sort(key=lambda error: error[0])
        for line, field_name, reason in errors:
            self._writer.writerow([line, _cell(field_name), _cell(reason)])
        self.count += len(errors)
        errors.clear()
        self._file.flush()

    def close(self) -> None:
        self._file.close()


def _cell(text: str) -> str:
    text = redact_text(text)  # belt and braces: a field name comes from a mapping or a file
    return "'" + text if text.startswith(_FORMULA_START) else text


def default_error_report(path: Path, run_id: int) -> ErrorReport:
    """Next to the file when that can be written, else under VOC_VAR_DIR/imports/."""
    beside = path.resolve().parent / f"{path.name}.errors.csv"
    if os.access(beside.parent, os.W_OK):
        try:
            return ErrorReport(beside)
        except FileError:
            pass  # e.g. a read-only report of someone else's run: fall back to var/
    return ErrorReport(Path(settings.VAR_DIR) / "imports" / f"{path.name}.run-{run_id}.errors.csv")


def import_file(
    *,
    path: Path | str,
    mapping: str | ImportMappingConfig | None = None,
    save_mapping: str = "",
    file_format: str | None = None,
    source: str = "",
    batch_size: int = DEFAULT_BATCH,
    errors_path: Path | str | None = None,
    encoding: str = "utf-8",
    started_by: str = "",
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Import one file; returns the summary, raises ImportFailed for a whole-file failure and
    ImportInterrupted on Ctrl-C. ``mapping`` is a mapping file, a saved mapping's name or an
    already loaded mapping; ``progress`` is called after every batch with the bytes read."""
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"the batch size must be between 1 and {MAX_BATCH}")
    if save_mapping and mapping is None:
        raise ValueError("--save-mapping needs --mapping: the mapping to save")
    path = Path(path)
    source = (source or "").strip()
    mapping_name = save_mapping or (
        mapping.name if isinstance(mapping, ImportMappingConfig) else Path(mapping or "").name
    )
    run = ImportRun.objects.create(
        file_name=str(path)[:500], mapping_name=mapping_name[:100], started_by=started_by[:150]
    )
    summary = ImportSummary(run=run)
    started = time.monotonic()
    report: ErrorReport | None = None
    stream = None
    try:
        file_format = detect_format(path, file_format)
        if isinstance(mapping, str):
            mapping = mapping_load(mapping)
        try:
            stream = path.open("rb")
        except OSError as error:
            raise FileError(f"{path} cannot be opened ({error.strerror})") from None
        reader = read_rows(stream, file_format=file_format, encoding=encoding)
        mapper = RowMapper(
            mapping,
            file_format=file_format,
            encoding=encoding,
            header=getattr(reader, "header", None),
            source=source,
        )
        if mapping is not None and not (
            source or mapping.source or "source" in mapping.columns.values()
        ):
            raise FileError("no source: give --source, or a constant source in the mapping")
        if save_mapping and mapping is not None:  # checked above; narrowed for the types
            import_mapping_save(name=save_mapping, mapping=mapping)
        if errors_path:
            report = ErrorReport(Path(errors_path), keep_empty=True)
        else:
            report = default_error_report(path, run.id)
        summary.error_report = report.path
        # A collection walks every young object still alive, i.e. the batch in hand, however
        # often it runs; a run every million new objects instead of every 50,000 leaves most
        # of that time to the import (a few percent at a million rows).
        with fewer_gc_passes(threshold=1_000_000):
            _ingest_rows(
                reader,
                mapper,
                summary=summary,
                report=report,
                batch_size=batch_size,
                options=parse_options(
                    source=source or (mapping.source if mapping else "") or None,
                    default_occurred_at=timezone.now(),
                    naive_tz=mapping.time_zone if mapping else None,
                    strict_fields=False,
                ),
                create_reasons=bool(mapping and mapping.reason and mapping.reason.create_missing),
                position=stream.tell,
                progress=progress,
                size=os.fstat(stream.fileno()).st_size,
                reopen=lambda: _reopen(path, file_format, encoding),
            )
        _finish(summary, ImportRun.Status.FINISHED, started, report)
        return summary
    except KeyboardInterrupt:
        _finish(summary, ImportRun.Status.INTERRUPTED, started, report)
        raise ImportInterrupted(summary) from None
    except (FileError, MappingError) as error:
        _finish(summary, ImportRun.Status.FAILED, started, report, error=str(error))
        raise ImportFailed(str(error), summary) from None
    except DATABASE_FAILURES as error:
        # The server restarted or the connection broke: the batch in hand was rolled back.
        # The broken connection must not be reused; the next query opens a new one.
        connection.close()
        failure = (
            f"the database failed during the import ({_first_line(error)}); the batches "
            "committed before it are kept: run the same command again to finish "
            "(nothing is imported twice)"
        )
        recorded = False
        with contextlib.suppress(*DATABASE_FAILURES):
            _finish(summary, ImportRun.Status.FAILED, started, report, error=failure)
            recorded = True
        if not recorded:  # still unreachable: the run stays "running" in the list
            connection.close()
            failure += f"; import run {run.pk} could not be marked failed"
        raise ImportDatabaseFailed(failure, summary) from None
    except Exception as error:
        # Not the file's fault (a bug): record it and let it surface.
        _finish(summary, ImportRun.Status.FAILED, started, report, error=_first_line(error))
        raise
    finally:
        if stream is not None:
            stream.close()


def _first_line(error: Exception) -> str:
    """The error's type and the first line of its message, redacted: a database error may
    quote a value."""
    message = str(error).splitlines()[0][:500] if str(error) else ""
    return f"{type(error).__name__}: {redact_text(message)}"


def _ingest_rows(
    reader,
    mapper: RowMapper,
    *,
    summary: ImportSummary,
    report: ErrorReport,
    batch_size: int,
    options,
    create_reasons: bool,
    position: Callable[[], int],
    progress: Callable[[int], None] | None,
    size: int,
    reopen: Callable[[], tuple],
) -> None:
    # Erasure keys are hashed while parsing only if a customer has been erased already; if
    # one is erased during the import, the service hashes the rows it must check then.
    arguments = {
        "options": options,
        "batch_size": batch_size,
        "erasure_keys": tombstones_exist(),
        "copy_text": connection.vendor == "postgresql",  # the writer that will use it
    }
    if size >= PARALLEL_MIN_BYTES and PARSE_PROCESSES and fork_available():
        with ForkedBatches(reopen, mapper, processes=PARSE_PROCESSES, **arguments) as batches:
            _write_batches(batches, mapper, summary, report, options, create_reasons, progress)
            summary.warnings = batches.warnings
    else:
        parsed = parsed_batches(reader, mapper, position=position, **arguments)
        _write_batches(parsed, mapper, summary, report, options, create_reasons, progress)
        summary.warnings = mapper.warnings


def _reopen(path: Path, file_format: str, encoding: str) -> tuple:
    """A reader of its own for a parsing process, and its position in the file."""
    stream = path.open("rb")
    return read_rows(stream, file_format=file_format, encoding=encoding), stream.tell


def _write_batches(batches, mapper, summary, report, options, create_reasons, progress) -> None:
    for batch in batches:
        summary.rows_read += batch.rows_read
        errors = batch.errors
        if batch.records:
            lines = batch.lines
            result = contacts_ingest(
                rows=batch.records, options=options, create_reasons=create_reasons, first_index=0
            )
            for rejected in result.rejected:
                reason = rejected.reason
                repeated = _REPEATED_ROW.match(reason)
                if repeated:  # the service counts rows from 0 here: name the file line
                    reason = f"repeats the contact of line {lines[int(repeated.group(1))]}"
                errors.append((lines[rejected.index], mapper.label(rejected.field), reason))
            summary.created += result.created
            summary.updated += result.updated
            summary.unchanged += result.unchanged
        summary.rejected += len(errors)
        report.write(errors)
        ImportRun.objects.filter(pk=summary.run.pk).update(
            rows_read=summary.rows_read,
            created=summary.created,
            updated=summary.updated,
            unchanged=summary.unchanged,
            rejected=summary.rejected,
        )
        if progress is not None:
            progress(batch.position)


def _finish(
    summary: ImportSummary,
    status: str,
    started: float,
    report: ErrorReport | None,
    *,
    error: str = "",
) -> None:
    summary.seconds = time.monotonic() - started
    report_path = ""
    if report is not None:
        report.close()
        if report.count or report.keep_empty:
            report_path = str(report.path)
        else:
            report.path.unlink(missing_ok=True)  # nothing rejected: no report, no stale one
            summary.error_report = None
    run = summary.run
    run.status = status
    run.finished_at = timezone.now()
    run.rows_read = summary.rows_read
    run.created = summary.created
    run.updated = summary.updated
    run.unchanged = summary.unchanged
    run.rejected = summary.rejected
    run.error_report = report_path[:500]
    run.error = error
    run.save()
