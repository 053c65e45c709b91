"""The batch loop of a file import.

``parsed_batches`` reads a file's rows (a reader from voc/core/imports/files.py), maps them
(``RowMapper``) and parses them (the import's ``parse``), and yields one ``ParsedBatch`` every
``batch_size`` rows: the records, the file line of each, and the rows rejected on the way
(line, field, reason). ``batches_write`` writes each batch with the import's ``write`` (one
transaction each, so an interrupted import keeps what it committed), adds the rows the writer
rejected, writes the error report and records the counts on the run: malformed rows are
reported by line and reason while the good rows are kept.
"""

import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from voc.core.imports.files import CsvReader, NdjsonReader
from voc.core.imports.mapper import RowMapper
from voc.core.imports.report import ErrorReport
from voc.core.imports.rows import RowError
from voc.core.imports.runs import ImportSummary, RunLog

# A writer names the earlier row a duplicate repeats by its index in the batch; the report
# names its line in the file.
_REPEATED_ROW = re.compile(r"^repeats the (.+) of row (\d+)$")


@dataclass
class ParsedBatch:
    rows_read: int  # rows of the file read for this batch (accepted or not)
    records: list[Any] = field(default_factory=list)
    lines: list[int] = field(default_factory=list)  # the file line of each record
    errors: list[tuple[int, str, str]] = field(default_factory=list)  # (line, field, reason)
    position: int = 0  # bytes of the file read so far


def parsed_batches(
    reader: CsvReader | NdjsonReader,
    mapper: RowMapper,
    *,
    parse: Callable[[dict[str, Any]], Any],
    batch_size: int,
    position: Callable[[], int],
    share: tuple[int, int] = (0, 1),
) -> Iterator[ParsedBatch]:
    """Batches of ``batch_size`` rows of the file (fewer records when some are rejected); the
    last one may be empty. ``parse`` turns a mapped row into a record or raises RowError.

    ``share`` (i, n): only batches i, i + n, i + 2n… are parsed and yielded; the rows of the
    others are only counted (an NDJSON reader does not even decode them): how contacts'
    parsing processes split a file (contacts/ingest/parsing.py)."""
    mine, every = share
    number = 0
    batch = ParsedBatch(0)
    # An NDJSON reader can count the rows of the batches this share skips without decoding.
    counting_only = reader if isinstance(reader, NdjsonReader) else None
    if counting_only is not None:
        counting_only.decode = mine == 0
    to_row, label = mapper.to_row, mapper.label
    for item in reader:
        batch.rows_read += 1
        if number % every == mine:
            if item.error is not None:
                batch.errors.append((item.line, item.error.field, item.error.reason))
            else:
                try:
                    row = to_row(item.values or {}, suspect=item.suspect)
                except RowError as error:  # its field already names the column
                    batch.errors.append((item.line, error.field, error.reason))
                else:
                    try:
                        record = parse(row)
                    except RowError as error:
                        batch.errors.append((item.line, label(error.field), error.reason))
                    else:
                        batch.records.append(record)
                        batch.lines.append(item.line)
        if batch.rows_read >= batch_size:
            if number % every == mine:
                batch.position = position()
                yield batch
            number += 1
            batch = ParsedBatch(0)
            if counting_only is not None:
                counting_only.decode = number % every == mine
    if number % every == mine:
        batch.position = position()
        yield batch


class Rejected(Protocol):
    @property
    def index(self) -> int:  # the row's position in the batch, from 0
        ...

    @property
    def field(self) -> str: ...

    @property
    def reason(self) -> str: ...


class WriteResult(Protocol):
    """What a writer answers for a batch (contacts' and feedback's IngestResult)."""

    @property
    def created(self) -> int: ...

    @property
    def updated(self) -> int: ...

    @property
    def unchanged(self) -> int: ...

    @property
    def rejected(self) -> Sequence[Rejected]: ...


def batches_write(
    batches: Iterable[ParsedBatch],
    *,
    write: Callable[[list[Any]], WriteResult],
    mapper: RowMapper,
    summary: ImportSummary,
    report: ErrorReport,
    runs: RunLog,
    progress: Callable[[int], None] | None = None,
) -> None:
    """Write each batch (``write(records)``, counting its rows from 0), report its rejected
    rows by file line, count, and record the counts on the run."""
    for batch in batches:
        summary.rows_read += batch.rows_read
        errors = batch.errors
        if batch.records:
            lines = batch.lines
            result = write(batch.records)
            for rejected in result.rejected:
                reason = rejected.reason
                repeated = _REPEATED_ROW.match(reason)
                if repeated:  # the writer counts rows from 0 here: name the file line
                    reason = (
                        f"repeats the {repeated.group(1)} of line {lines[int(repeated.group(2))]}"
                    )
                errors.append((lines[rejected.index], mapper.label(rejected.field), reason))
            summary.created += result.created
            summary.updated += result.updated
            summary.unchanged += result.unchanged
        summary.rejected += len(errors)
        report.write(errors)
        runs.progress(summary)
        if progress is not None:
            progress(batch.position)
