"""One file import from start to end: ``file_import`` of a ``FileImportKind``.

It records the run (``RunLog.start``), finds the format, loads and checks the mapping, opens
the file and checks its header, saves the mapping when asked, opens the error report, hands
all that to the import's ``ingest`` step as an ``OpenedImport`` (which writes the batches, in
general through ``OpenedImport.write_batches``) and records how it ended. Only a problem with
the whole file (it cannot be opened, the mapping is invalid, the header is missing, no source)
fails the import (``ImportFailed``); a row that cannot be imported goes to the error report.
Ctrl-C raises ``ImportInterrupted`` and a database that fails during the import
``ImportDatabaseFailed``, both after the batches committed so far (running the same import
again finishes the file without duplicates, the writers being idempotent).
"""

import contextlib
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, TypedDict, Unpack

from django.db import InterfaceError, OperationalError, connection

from voc.core.imports.batches import ParsedBatch, WriteResult, batches_write
from voc.core.imports.files import CsvReader, FileError, NdjsonReader, detect_format, read_rows
from voc.core.imports.mapper import RowMapper
from voc.core.imports.mapping import (
    ImportMappingConfig,
    MappingError,
    MappingStore,
    mapping_load,
    mapping_save,
)
from voc.core.imports.report import ErrorReport, default_error_report
from voc.core.imports.runs import FAILED, FINISHED, INTERRUPTED, ImportSummary, RunLog
from voc.core.imports.schema import FieldSchema


def _database_failures() -> tuple[type[Exception], ...]:
    """A lost connection or a server that went away. A COPY writer raises psycopg2's own."""
    errors: list[type[Exception]] = [OperationalError, InterfaceError]
    try:
        import psycopg2

        errors += [psycopg2.OperationalError, psycopg2.InterfaceError]
    except ImportError:  # pragma: no cover - psycopg2 is a dependency
        pass
    return tuple(errors)


DATABASE_FAILURES = _database_failures()


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


@dataclass
class OpenedImport:
    """A file ready to import: what ``file_import`` hands to the import's ``ingest`` step."""

    path: Path
    file_format: str
    encoding: str
    stream: BinaryIO
    reader: CsvReader | NdjsonReader
    mapper: RowMapper
    mapping: ImportMappingConfig | None
    source: str  # --source ("" when not given)
    batch_size: int
    summary: ImportSummary
    report: ErrorReport
    runs: RunLog
    progress: Callable[[int], None] | None

    @property
    def size(self) -> int:
        """Bytes of the file (compressed bytes for a .gz file)."""
        return os.fstat(self.stream.fileno()).st_size

    def position(self) -> int:
        """Bytes of the file read so far."""
        return self.stream.tell()

    def write_batches(
        self, batches: Iterable[ParsedBatch], write: Callable[[list[Any]], WriteResult]
    ) -> None:
        """``batches_write`` with this import's mapper, summary, report, run and progress."""
        batches_write(
            batches,
            write=write,
            mapper=self.mapper,
            summary=self.summary,
            report=self.report,
            runs=self.runs,
            progress=self.progress,
        )


class ImportOptions(TypedDict, total=False):
    """What a person chooses for one file import (the import commands' options)."""

    mapping: str | Path | ImportMappingConfig | None  # a file, a saved mapping's name, or loaded
    save_mapping: str
    file_format: str | None
    source: str
    batch_size: int
    errors_path: Path | str | None
    encoding: str
    started_by: str
    progress: Callable[[int], None] | None  # called after every batch with the bytes read


@dataclass(frozen=True)
class FileImportKind:
    """What one kind of file import (contacts, feedback) brings to ``file_import``: its fields,
    where its runs and saved mappings are kept, and its ``ingest`` step."""

    ingest: Callable[[OpenedImport], None]
    schema: FieldSchema
    runs: RunLog
    saved: MappingStore
    max_batch: int
    default_batch: int


def file_import(
    kind: FileImportKind, *, path: Path | str, **options: Unpack[ImportOptions]
) -> ImportSummary:
    """Import one file of ``kind``; returns the summary, raises ImportFailed for a whole-file
    failure and ImportInterrupted on Ctrl-C. ``mapping`` is a mapping file, a saved mapping's
    name (in ``kind.saved``) or an already loaded mapping."""
    schema, runs, max_batch = kind.schema, kind.runs, kind.max_batch
    mapping = options.get("mapping")
    save_mapping = options.get("save_mapping", "")
    file_format = options.get("file_format")
    source = options.get("source", "")
    batch_size = options.get("batch_size", kind.default_batch)
    errors_path = options.get("errors_path")
    encoding = options.get("encoding", "utf-8")
    started_by = options.get("started_by", "")
    progress = options.get("progress")
    if not 1 <= batch_size <= max_batch:
        raise ValueError(f"the batch size must be between 1 and {max_batch}")
    if save_mapping and mapping is None:
        raise ValueError("--save-mapping needs --mapping: the mapping to save")
    path = Path(path)
    source = (source or "").strip()
    mapping_name = save_mapping or (
        mapping.name if isinstance(mapping, ImportMappingConfig) else Path(mapping or "").name
    )
    run = runs.start(file_name=str(path), mapping_name=mapping_name, started_by=started_by)
    summary = ImportSummary(run=run)
    started = time.monotonic()
    report: ErrorReport | None = None
    stream = None
    try:
        file_format = detect_format(path, file_format)
        if isinstance(mapping, str | Path):
            mapping = mapping_load(str(mapping), schema=schema, saved=kind.saved)
        try:
            stream = path.open("rb")
        except OSError as error:
            raise FileError(f"{path} cannot be opened ({error.strerror})") from None
        reader = read_rows(
            stream, file_format=file_format, encoding=encoding, known_fields=schema.fields
        )
        mapper = RowMapper(
            mapping,
            schema=schema,
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
            mapping_save(name=save_mapping, mapping=mapping, saved=kind.saved)
        if errors_path:
            report = ErrorReport(Path(errors_path), redact=schema.redact, keep_empty=True)
        else:
            report = default_error_report(path, run.pk, redact=schema.redact)
        summary.error_report = report.path
        kind.ingest(
            OpenedImport(
                path=path,
                file_format=file_format,
                encoding=encoding,
                stream=stream,
                reader=reader,
                mapper=mapper,
                mapping=mapping,
                source=source,
                batch_size=batch_size,
                summary=summary,
                report=report,
                runs=runs,
                progress=progress,
            )
        )
        _finish(summary, runs, FINISHED, started, report)
        return summary
    except KeyboardInterrupt:
        _finish(summary, runs, INTERRUPTED, started, report)
        raise ImportInterrupted(summary) from None
    except (FileError, MappingError) as error:
        _finish(summary, runs, FAILED, started, report, error=str(error))
        raise ImportFailed(str(error), summary) from None
    except DATABASE_FAILURES as error:
        # The server restarted or the connection broke: the batch in hand was rolled back.
        # The broken connection must not be reused; the next query opens a new one.
        connection.close()
        failure = (
            f"the database failed during the import ({_first_line(error, schema)}); the "
            "batches committed before it are kept: run the same command again to finish "
            "(nothing is imported twice)"
        )
        recorded = False
        with contextlib.suppress(*DATABASE_FAILURES):
            _finish(summary, runs, FAILED, started, report, error=failure)
            recorded = True
        if not recorded:  # still unreachable: the run stays "running" in the list
            connection.close()
            failure += f"; import run {run.pk} could not be marked failed"
        raise ImportDatabaseFailed(failure, summary) from None
    except Exception as error:
        # Not the file's fault (a bug): record it and let it surface.
        _finish(summary, runs, FAILED, started, report, error=_first_line(error, schema))
        raise
    finally:
        if stream is not None:
            stream.close()


def _first_line(error: Exception, schema: FieldSchema) -> str:
    """The error's type and the first line of its message, redacted: a database error may
    quote a value."""
    message = str(error).splitlines()[0][:500] if str(error) else ""
    return f"{type(error).__name__}: {schema.redact(message)}"


def _finish(
    summary: ImportSummary,
    runs: RunLog,
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
    runs.finish(summary, status=status, error_report=report_path, error=error)
