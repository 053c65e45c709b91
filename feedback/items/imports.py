"""Importing a CSV or NDJSON file of feedback items: ``feedback_import_file``, behind
``manage.py import_feedback``.

It runs on the contacts import's machinery: the streaming readers (contacts/ingest/files.py:
CSV and NDJSON, gzip or not, bad bytes and broken lines reported per row), the mapping file
reader (contacts/ingest/mapping.py), the error report and the ``ImportRun`` record
(contacts/ingest/imports.py). Rows go to ``feedback_items_ingest`` in batches, each committed
on its own: an interrupted import keeps its batches and running it again creates nothing twice.
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

import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from contacts.ingest.files import FileError, detect_format, field_problem, read_rows
from contacts.ingest.imports import (
    DATABASE_FAILURES,
    ErrorReport,
    ImportFailed,
    ImportSummary,
    default_error_report,
)
from contacts.ingest.mapping import MappingError, mapping_document_read
from contacts.ingest.records import RowError
from contacts.ingest.service import MAX_BATCH, parse_options
from contacts.models import ImportRun
from feedback.items.records import FIELDS, parse_item_row
from feedback.items.services import feedback_items_ingest
from voc.core.audit import SystemActor

DEFAULT_BATCH = 5_000
KEYS = ("columns", "constants", "defaults", "values", "date_format", "time_zone", "description")
NOT_CONSTANT = {"external_id", "verbatim"}


@dataclass(frozen=True)
class FeedbackMapping:
    name: str
    columns: dict[str, str]  # column → field
    constants: dict[str, Any]
    defaults: dict[str, Any]
    values: dict[str, dict[str, Any]]  # field → {casefolded value in the file: value}
    date_formats: tuple[str, ...] = ()
    time_zone: tzinfo | None = None


def _plain(value: Any) -> bool:
    return isinstance(value, str | int) and not isinstance(value, bool)


def feedback_mapping_validate(config: Any, *, name: str = "") -> FeedbackMapping:
    """A FeedbackMapping, or MappingError listing every problem found."""
    if not isinstance(config, dict):
        raise MappingError(["a mapping is an object (a JSON object or a TOML document)"])
    problems = [
        f"unknown key “{key}” (known keys: {', '.join(KEYS)})" for key in config if key not in KEYS
    ]
    columns: dict[str, str] = {}
    raw = config.get("columns", {})
    if not isinstance(raw, dict):
        problems.append("columns must be a table of column name → feedback field")
        raw = {}
    for column, target in raw.items():
        if target not in FIELDS:
            problems.append(
                f"columns: “{column}” maps to “{target}”, which is not a feedback field"
            )
        elif target in columns.values():
            problems.append(f"columns: two columns map to {target}; map one")
        else:
            columns[column.strip()] = target
    fixed: dict[str, dict[str, Any]] = {}
    for section in ("constants", "defaults"):
        fixed[section] = {}
        table = config.get(section, {})
        if not isinstance(table, dict):
            problems.append(f"{section} must be a table of feedback field → value")
            continue
        for target, value in table.items():
            if target not in FIELDS:
                problems.append(f"{section}: “{target}” is not a feedback field")
            elif target in NOT_CONSTANT:
                problems.append(f"{section}: {target} must come from the file")
            elif section == "constants" and target in columns.values():
                problems.append(f"constants: {target} is also mapped from a column; use defaults")
            elif not _plain(value):
                problems.append(f"{section}.{target} must be text or a number")
            else:
                fixed[section][target] = value
    value_maps: dict[str, dict[str, Any]] = {}
    raw_values = config.get("values", {})
    if not isinstance(raw_values, dict):
        problems.append("values must be a table of feedback field → {value in the file: value}")
        raw_values = {}
    for target, table in raw_values.items():
        if target not in columns.values():
            problems.append(f"values: no column maps to {target}")
        elif not isinstance(table, dict) or not all(_plain(v) for v in table.values()):
            problems.append(f"values.{target} must be a table of value in the file → value")
        else:
            value_maps[target] = {str(k).strip().casefold(): v for k, v in table.items()}
    formats = config.get("date_format", [])
    formats = [formats] if isinstance(formats, str) else formats
    if not isinstance(formats, list) or not all(isinstance(f, str) and "%" in f for f in formats):
        problems.append("date_format must be a format such as “%d/%m/%Y %H:%M” or a list of them")
        formats = []
    zone = None
    if config.get("time_zone") is not None:
        try:
            zone = ZoneInfo(str(config["time_zone"]).strip())
        except (ZoneInfoNotFoundError, ValueError):
            problems.append("time_zone is not a time zone name (e.g. Europe/Paris, UTC)")
    if "external_id" not in columns.values():
        problems.append("columns: no column maps to external_id, which every row needs")
    if not ({"kind"} & {*columns.values(), *fixed["constants"], *fixed["defaults"]}):
        problems.append("no column, constant or default gives kind, which every row needs")
    if problems:
        raise MappingError(problems)
    return FeedbackMapping(
        name=name, columns=columns, constants=fixed["constants"], defaults=fixed["defaults"],
        values=value_maps, date_formats=tuple(formats), time_zone=zone,
    )  # fmt: skip


def feedback_mapping_load(path: Path | str) -> FeedbackMapping:
    path = Path(path)
    if not path.is_file():
        raise MappingError([f"no mapping file {path}"])
    return feedback_mapping_validate(mapping_document_read(path), name=path.name)


class _Mapper:
    """File values → a row of feedback fields (RowError for a value that can't be used)."""

    def __init__(self, mapping: FeedbackMapping | None, encoding: str) -> None:
        self.mapping = mapping
        self.encoding = encoding
        self.ignored: set[str] = set()

    def _check(self, name: str, value: Any) -> None:
        if isinstance(value, str):
            problem = field_problem(value, self.encoding)
            if problem:
                raise RowError(name, problem)

    def to_row(self, values: Mapping[str, Any]) -> dict[str, Any]:
        mapping = self.mapping
        if mapping is None:
            row = {}
            for key, value in values.items():
                if key in FIELDS:
                    self._check(key, value)
                    row[key] = value
                elif len(self.ignored) < 100:
                    self.ignored.add(key)
            return row
        row = {}
        for column, target in mapping.columns.items():
            value = values.get(column)
            if value is None or value == "":
                continue
            self._check(target, value)
            table = mapping.values.get(target)
            if table and isinstance(value, str | int):
                value = table.get(str(value).strip().casefold(), table.get("*", value))
            row[target] = value
        row.update(mapping.constants)
        for target, value in mapping.defaults.items():
            if row.get(target) in (None, ""):
                row[target] = value
        received = row.get("received_at")
        if mapping.date_formats and isinstance(received, str) and received.strip():
            row["received_at"] = self._iso(received.strip(), mapping.date_formats)
        return row

    @staticmethod
    def _iso(value: str, formats: tuple[str, ...]) -> str:
        for fmt in formats:
            try:
                return datetime.strptime(value, fmt).isoformat()  # noqa: DTZ007 (naive_tz applies)
            except ValueError:
                continue
        return value  # parse_item_row says what is wrong with it


def feedback_import_file(
    *,
    path: Path | str,
    mapping: str | Path | FeedbackMapping | None = None,
    source: str = "",
    file_format: str | None = None,
    encoding: str = "utf-8",
    batch_size: int = DEFAULT_BATCH,
    errors_path: Path | str | None = None,
    started_by: str = "",
) -> ImportSummary:
    """Import one file of feedback items; returns the summary (counts, the error report's
    path) and records an ImportRun. ImportFailed for a problem with the whole file (it can't
    be opened, the mapping is invalid, no source)."""
    if not 1 <= batch_size <= MAX_BATCH:
        raise ValueError(f"the batch size must be between 1 and {MAX_BATCH}")
    path = Path(path)
    source = source.strip()
    mapping_name = (
        mapping.name if isinstance(mapping, FeedbackMapping) else Path(mapping or "").name
    )
    run = ImportRun.objects.create(
        file_name=f"feedback: {path}"[:500], mapping_name=mapping_name[:100],
        started_by=started_by[:150],
    )  # fmt: skip
    summary = ImportSummary(run=run)
    started = time.monotonic()
    report: ErrorReport | None = None
    stream = None
    try:
        file_format = detect_format(path, file_format)
        if mapping is not None and not isinstance(mapping, FeedbackMapping):
            mapping = feedback_mapping_load(mapping)
        source = source or str((mapping.constants.get("source") if mapping else "") or "")
        try:
            stream = path.open("rb")
        except OSError as error:
            raise FileError(f"{path} cannot be opened ({error.strerror})") from None
        reader = read_rows(stream, file_format=file_format, encoding=encoding)
        header = getattr(reader, "header", None)
        if header is not None and mapping is None and "external_id" not in header:
            raise FileError("the header has no external_id column (or give --mapping)")
        rows_carry_source = mapping is None and (header is None or "source" in header)
        if not source and not rows_carry_source:
            raise FileError("no source: give --source, or a constant source in the mapping")
        report = ErrorReport(Path(errors_path), keep_empty=True) if errors_path else (
            default_error_report(path, run.id)
        )  # fmt: skip
        summary.error_report = report.path
        options = parse_options(
            source=source or None,
            default_occurred_at=timezone.now(),
            naive_tz=mapping.time_zone if mapping else None,
            strict_fields=False,
        )
        mapper = _Mapper(mapping, encoding)
        by = SystemActor(f"import:{source or 'file'}")
        batch: list[tuple[int, Any]] = []
        errors: list[tuple[int, str, str]] = []
        for file_row in reader:
            summary.rows_read += 1
            if file_row.error is not None:
                errors.append((file_row.line, file_row.error.field, file_row.error.reason))
            else:
                try:
                    row = mapper.to_row(file_row.values or {})
                    batch.append((file_row.line, parse_item_row(row, options)))
                except RowError as error:
                    errors.append((file_row.line, error.field, error.reason))
            if len(batch) >= batch_size:
                _write(batch, errors, summary, report, by)
        _write(batch, errors, summary, report, by)
        if mapper.ignored:
            summary.warnings.append(
                f"ignored {len(mapper.ignored)} column(s) that are not feedback fields"
            )
        _finish(summary, ImportRun.Status.FINISHED, started, report)
        return summary
    except KeyboardInterrupt:
        _finish(summary, ImportRun.Status.INTERRUPTED, started, report)
        raise
    except (FileError, MappingError) as error:
        _finish(summary, ImportRun.Status.FAILED, started, report, error=str(error))
        raise ImportFailed(str(error), summary) from None
    except DATABASE_FAILURES:
        with contextlib.suppress(*DATABASE_FAILURES):
            _finish(summary, ImportRun.Status.FAILED, started, report, error="database failure")
        raise
    finally:
        if stream is not None:
            stream.close()


def _write(batch, errors, summary: ImportSummary, report: ErrorReport, by) -> None:
    lines = [line for line, _ in batch]
    if batch:
        result = feedback_items_ingest(rows=[record for _, record in batch], by=by)
        for rejected in result.rejected:
            reason = rejected.reason
            if reason.startswith("repeats the item of row "):
                reason = f"repeats the item of line {lines[int(reason.rsplit(' ', 1)[1])]}"
            errors.append((lines[rejected.index], rejected.field, reason))
        summary.created += result.created
        summary.updated += result.updated
        summary.unchanged += result.unchanged
    summary.rejected += len(errors)
    report.write(errors)
    batch.clear()
    ImportRun.objects.filter(pk=summary.run.pk).update(
        rows_read=summary.rows_read, created=summary.created, updated=summary.updated,
        unchanged=summary.unchanged, rejected=summary.rejected,
    )  # fmt: skip


def _finish(summary, status, started, report, *, error: str = "") -> None:
    summary.seconds = time.monotonic() - started
    report_path = ""
    if report is not None:
        report.close()
        if report.count or report.keep_empty:
            report_path = str(report.path)
        else:
            report.path.unlink(missing_ok=True)
            summary.error_report = None
    run = summary.run
    run.status = status
    run.finished_at = timezone.now()
    run.rows_read, run.created, run.updated = summary.rows_read, summary.created, summary.updated
    run.unchanged, run.rejected = summary.unchanged, summary.rejected
    run.error_report = report_path[:500]
    run.error = error
    run.save()
