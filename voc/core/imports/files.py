"""Streaming readers for import files: CSV and NDJSON, plain or gzip-compressed.

A reader turns a binary stream into ``FileRow`` items, one per data row, each carrying the line
of the file where the row starts and either its values (column or key → value) or a
``RowError``. Nothing is read ahead beyond the current row, so a file of any size is processed
in constant memory; the import service groups rows into batches.

A problem with the whole file (an unknown encoding, a CSV without a header, an empty CSV, a
broken gzip stream) raises ``FileError``; a problem with one row (bytes that are not valid in
the file's encoding, a field over ``FIELD_LIMIT``, a line over ``LINE_LIMIT``, invalid JSON or
CSV quoting, the wrong number of values) becomes a row error, and reading goes on with the next
row. Row errors never include the rejected value.
"""

import codecs
import csv
import gzip
import io
import json
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NoReturn

from voc.core.imports.rows import RowError

FIELD_LIMIT = 1_000_000  # characters in one CSV field before its row is rejected
LINE_LIMIT = 16_000_000  # characters in one physical line; the rest of it is skipped unread
FORMATS = ("csv", "ndjson")
EXTENSIONS = {".csv": "csv", ".ndjson": "ndjson", ".jsonl": "ndjson", ".json": "ndjson"}

# Bytes that are not valid in the file's encoding are decoded to this lone surrogate, which no
# valid decoding produces, so a row containing it can be rejected without stopping the file.
INVALID = "\udfff"
_INVALID_HANDLER = "voc-import-invalid"
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_SURROGATE = re.compile(r"\\u[dD][89a-fA-F]")  # how JSON writes one


def _mark_invalid(error: UnicodeError) -> tuple[str, int]:
    if isinstance(error, UnicodeDecodeError):
        return INVALID, error.end
    raise error


codecs.register_error(_INVALID_HANDLER, _mark_invalid)


class FileError(Exception):
    """The file as a whole cannot be imported."""


@dataclass(slots=True)
class FileRow:
    line: int  # the file line where the row starts, counting from 1
    values: dict[str, Any] | None = None
    error: RowError | None = None
    # The row has undecodable bytes or is long enough for a field over FIELD_LIMIT: its values
    # must be checked one by one (``field_problem``). Most rows are not, and skip that cost.
    suspect: bool = False


def detect_format(path: Path | str, explicit: str | None = None) -> str:
    """``csv`` or ``ndjson``, from the flag or the file name (``.gz`` is looked through)."""
    if explicit:
        if explicit not in FORMATS:
            raise FileError(f"unknown format {explicit!r}: use csv or ndjson")
        return explicit
    suffixes = [suffix.lower() for suffix in Path(path).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes.pop()
    if suffixes and suffixes[-1] in EXTENSIONS:
        return EXTENSIONS[suffixes[-1]]
    raise FileError(
        "cannot tell the format from the file name: give --format csv or --format ndjson"
    )


def check_encoding(encoding: str) -> str:
    """The codec's canonical name, or FileError for a name Python does not know as text."""
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise FileError(f"unknown encoding {encoding!r}") from None
    try:
        io.TextIOWrapper(io.BytesIO(), encoding=info.name)
    except LookupError:
        raise FileError(f"{encoding!r} is not a text encoding") from None
    return info.name


def open_binary(stream: BinaryIO) -> BinaryIO:
    """The stream itself, or a decompressing view of it when it starts with the gzip magic."""
    # The io and gzip classes are binary streams, but not typing.BinaryIO by name.
    if not hasattr(stream, "peek"):
        stream = io.BufferedReader(stream)  # type: ignore[type-var]
    head = stream.peek(2)[:2]
    if head == b"\x1f\x8b":
        return gzip.GzipFile(fileobj=stream, mode="rb")  # type: ignore[return-value]
    return stream


class Lines:
    """Decoded physical lines of a binary stream (split on ``\\n`` only; ``\\r\\n`` stays whole,
    as the csv module wants). Undecodable bytes become ``INVALID``; a line longer than
    ``LINE_LIMIT`` is skipped (read in pieces, never held whole) and yielded as an empty line,
    its number kept in ``overlong``. ``number`` is the line last yielded, ``chars`` the
    characters yielded so far and ``last_invalid`` the last line with undecodable bytes."""

    def __init__(self, stream: BinaryIO, encoding: str) -> None:
        name = check_encoding(encoding)
        self.encoding = encoding
        if name == "utf-8":
            name = "utf-8-sig"  # drops a byte-order mark at the start
        self._text = io.TextIOWrapper(stream, encoding=name, errors=_INVALID_HANDLER, newline="\n")
        self.number = 0
        self.chars = 0
        self.last_invalid = 0
        self.overlong: set[int] = set()

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        try:
            line = self._text.readline(LINE_LIMIT)
            if not line:
                raise StopIteration
            self.number += 1
            if self.number == 1 and line.startswith("\ufeff"):
                line = line[1:]  # a byte-order mark in encodings that keep it (cp1252, ...)
            if len(line) >= LINE_LIMIT and not line.endswith("\n"):
                self.overlong.add(self.number)
                while True:
                    rest = self._text.readline(LINE_LIMIT)
                    if not rest or rest.endswith("\n"):
                        break
                return "\n"
            if INVALID in line:
                self.last_invalid = self.number
            self.chars += len(line)
            return line
        except (OSError, EOFError, zlib.error) as error:
            # gzip.BadGzipFile is an OSError; a truncated gzip stream raises EOFError.
            raise FileError(f"the file cannot be read to the end ({error})") from None
        except UnicodeError as error:
            # Undecodable bytes are marked, not raised; this is the codec refusing the file
            # (e.g. "UTF-16 stream does not start with BOM").
            raise FileError(f"the file is not {self.encoding} text ({error})") from None


def _invalid_reason(encoding: str) -> str:
    return f"is not valid {encoding}"


def field_problem(value: str, encoding: str) -> str | None:
    """Why a value cannot be used (undecodable bytes, too long), or None."""
    if INVALID in value:
        return _invalid_reason(encoding)
    if len(value) > FIELD_LIMIT:
        return f"is longer than {FIELD_LIMIT:,} characters"
    if _SURROGATE.search(value):
        return "contains a character that is not valid Unicode"
    return None


class CsvReader:
    """Rows of a CSV file whose first row is its header.

    ``header`` is read on construction (FileError if the file is empty). Each row becomes a dict
    of header name → text; a row with another number of values than the header, broken quoting
    or a problem in a field is a row error."""

    def __init__(self, stream: BinaryIO, *, encoding: str = "utf-8") -> None:
        # The csv module's own limit only guards memory; FIELD_LIMIT is checked per field so a
        # long field rejects its row cleanly instead of desynchronising the parser.
        if csv.field_size_limit() < LINE_LIMIT:
            csv.field_size_limit(LINE_LIMIT)
        self.encoding = encoding
        self.lines = Lines(stream, encoding)
        self._reader = csv.reader(self.lines, strict=True)
        self.header = self._read_header()

    def _read_header(self) -> list[str]:
        while True:
            try:
                names = next(self._reader)
            except StopIteration:
                raise FileError("the file is empty: a CSV file starts with a header row") from None
            except csv.Error as error:
                raise FileError(
                    f"the header row (line {self._reader.line_num}) is not valid CSV: {error}"
                ) from None
            if self.lines.overlong:
                raise FileError(f"the header row is longer than {LINE_LIMIT:,} characters")
            if any(name.strip() for name in names):
                break
        header = [name.strip() for name in names]
        for name in header:
            if INVALID in name or _SURROGATE.search(name):
                raise FileError(f"the header row is not valid {self.encoding}: check --encoding")
        return header

    def __iter__(self) -> Iterator[FileRow]:
        reader, lines, header = self._reader, self.lines, self.header
        width = len(header)
        while True:
            start = reader.line_num + 1
            chars = lines.chars
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                # The csv module's messages describe the problem, never the data.
                yield FileRow(start, error=RowError("row", f"is not valid CSV: {error}"))
                continue
            end = reader.line_num
            if lines.overlong:
                overlong = any(start <= n <= end for n in lines.overlong)
                lines.overlong = {n for n in lines.overlong if n > end}
                if overlong:
                    yield FileRow(
                        start,
                        error=RowError("row", f"is longer than {LINE_LIMIT:,} characters"),
                    )
                    continue
            if not "".join(values).strip():
                continue  # a blank line, or only separators
            if len(values) != width:
                yield FileRow(
                    start,
                    error=RowError(
                        "row", f"has {len(values)} values; the header has {width} columns"
                    ),
                )
                continue
            suspect = lines.last_invalid >= start or lines.chars - chars > FIELD_LIMIT
            yield FileRow(start, dict(zip(header, values, strict=True)), None, suspect)


class NdjsonReader:
    """Rows of an NDJSON file: one JSON object a line; blank lines are skipped."""

    def __init__(
        self,
        stream: BinaryIO,
        *,
        encoding: str = "utf-8",
        known_fields: frozenset[str] | set[str] = frozenset(),
    ) -> None:
        self.encoding = encoding
        self.lines = Lines(stream, encoding)
        # The fields the import's parser reads: it checks their values itself.
        self.known_fields = known_fields
        # False: rows are counted, not decoded (FileRow without values or error), for a
        # process that parses only some of the batches (voc/core/imports/batches.py).
        self.decode = True

    def __iter__(self) -> Iterator[FileRow]:
        for line in self.lines:
            number = self.lines.number
            if number in self.lines.overlong:
                self.lines.overlong.discard(number)
                yield FileRow(
                    number, error=RowError("row", f"is longer than {LINE_LIMIT:,} characters")
                )
                continue
            if not line.strip():
                continue
            if not self.decode:
                yield FileRow(number)
                continue
            if INVALID in line:
                yield FileRow(number, error=RowError("row", _invalid_reason(self.encoding)))
                continue
            try:
                values = _json_loads(line)
            except json.JSONDecodeError as error:
                # Its message gives the position of the problem, not the text.
                yield FileRow(number, error=RowError("row", f"is not valid JSON: {error.msg}"))
                continue
            except (ValueError, RecursionError):
                yield FileRow(number, error=RowError("row", "is not valid JSON"))
                continue
            if not isinstance(values, dict):
                yield FileRow(number, error=RowError("row", "must be a JSON object"))
                continue
            problem = (
                _json_problem(values, self.known_fields)
                if _ESCAPED_SURROGATE.search(line)
                else None
            )
            if problem:
                yield FileRow(number, error=RowError(*problem))
                continue
            yield FileRow(number, values=values, suspect=len(line) > FIELD_LIMIT)


def _refuse_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not a number VoC accepts")


# One decoder for every line: json.loads with an option builds a new one each call.
_DECODER = json.JSONDecoder(parse_constant=_refuse_constant)


def _json_loads(line: str) -> Any:  # JSON: whatever the line holds
    """json.loads(line, parse_constant=_refuse_constant), with the decoder made once."""
    if line.startswith("\ufeff"):  # as json.loads says it
        raise json.JSONDecodeError("Unexpected UTF-8 BOM (decode using utf-8-sig)", line, 0)
    return _DECODER.decode(line)


def _json_problem(
    values: dict[str, Any], known_fields: frozenset[str] | set[str]
) -> tuple[str, str] | None:
    """A lone surrogate (from a ``\\udXXX`` escape) cannot be stored as text. The import's own
    fields are left to its parser (contacts' parse_row), which checks every value it reads and
    names the field precisely (``messages[0].text``); this catches the rest, the names of
    ignored keys included (they are reported as warnings), as "row" (a key may be anything)."""
    for key, value in values.items():
        if key in known_fields:
            continue
        stack = [key, value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                if _SURROGATE.search(item):
                    return "row", "contains a character that is not valid Unicode"
            elif isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return None


def read_rows(
    stream: BinaryIO,
    *,
    file_format: str,
    encoding: str = "utf-8",
    known_fields: frozenset[str] | set[str] = frozenset(),
) -> CsvReader | NdjsonReader:
    """A reader (``CsvReader`` or ``NdjsonReader``) over a binary stream, gzip or not.
    ``known_fields``: the fields whose values the import's parser checks (see _json_problem)."""
    stream = open_binary(stream)
    if file_format == "csv":
        return CsvReader(stream, encoding=encoding)
    if file_format == "ndjson":
        return NdjsonReader(stream, encoding=encoding, known_fields=known_fields)
    raise FileError(f"unknown format {file_format!r}: use csv or ndjson")
