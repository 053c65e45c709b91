"""``RowMapper``: a row of a file as a row of the import's field names, through a mapping
(voc/core/imports/mapping.py) or, for a file already in those names, without one. A value
that cannot be used raises ``RowError`` with the field and, where there is one, the column it
came from; problems with the whole file (the header) raise ``FileError`` or ``MappingError``.
Messages never include a value from the file.
"""

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from django.utils.dateparse import parse_date, parse_datetime

from voc.core.imports.files import INVALID, FileError, field_problem
from voc.core.imports.mapping import (
    WILDCARD,
    ImportMappingConfig,
    MappingError,
    day_only,
    value_key,
)
from voc.core.imports.rows import RowError
from voc.core.imports.schema import FieldSchema

MAX_UNKNOWN_REPORTED = 100
# Plain letters and underscores: a name that can be repeated in a message (as in
# contacts.ingest.records).
_PLAIN_NAME = re.compile(r"[A-Za-z_]{1,64}")


class RowMapper:
    """Turns a reader's row values into a row of the schema's field names for its parser.

    With a mapping: mapped columns only (others are ignored), value maps, the reason from its
    columns, constants and defaults, and dates in the mapping's formats converted to ISO 8601.
    Without: the file already uses the field names; columns that are not fields are ignored
    and reported once in ``warnings``."""

    def __init__(
        self,
        mapping: ImportMappingConfig | None,
        *,
        schema: FieldSchema,
        file_format: str,
        encoding: str,
        header: list[str] | None = None,
        source: str = "",
    ) -> None:
        self.mapping = mapping
        self.schema = schema
        self.encoding = encoding
        self._fields = schema.fields
        self._warnings: list[str] = []
        self._unknown: dict[str, None] = {}  # names not fields, in the order first seen
        self._header_positions: dict[str, int] = {}  # a CSV header's names → column number
        self._labels: dict[str, str] = {}
        self._header_fields: list[str] | None = None
        if mapping is not None:
            if file_format == "csv":
                for name, mapped_message, _ in schema.ndjson_only:
                    if name in mapping.columns.values():
                        raise MappingError([mapped_message])
            for column, target in mapping.columns.items():
                if column != target:
                    self._labels[target] = f"{target} ({column})"
            if mapping.reason:
                columns = " › ".join(c for c in (mapping.reason.parent, mapping.reason.child) if c)
                self._labels["reason"] = f"reason ({columns})"
        if header is not None:
            self._check_header(header, source=source)

    def _check_header(self, header: list[str], *, source: str) -> None:
        schema = self.schema
        present = set(header)
        duplicated = {name for name, count in Counter(header).items() if count > 1}
        if self.mapping is None:
            for name, _, header_message in schema.ndjson_only:
                if name in present:
                    raise FileError(header_message)
            used = present & schema.fields
            if not used:
                raise FileError(
                    f"the first row is not a header of {schema.noun} names (see {schema.docs}), "
                    "or the file needs --mapping"
                )
            missing = [name for name in schema.required if name not in present]
            if not source and "source" not in present:
                missing.append("source")
            if missing:
                raise FileError(
                    f"the header has no {', '.join(missing)} column"
                    + ("s" if len(missing) > 1 else "")
                    + (" (or give --source)" if "source" in missing else "")
                )
            for position, name in enumerate(header, start=1):
                self._header_positions.setdefault(name, position)
            self._warn_unknown(name for name in header if name and name not in schema.fields)
            self._header_fields = [name for name in dict.fromkeys(header) if name in schema.fields]
        else:
            used = set(self.mapping.used_columns)
            absent = [column for column in self.mapping.used_columns if column not in present]
            supplied = {*self.mapping.constants, *self.mapping.defaults}
            if source:
                supplied.add("source")
            needed = [
                column
                for column, target in self.mapping.columns.items()
                if column in absent
                and (
                    target == schema.key
                    or (target in (*schema.given, "source") and target not in supplied)
                )
            ]
            if needed or len(absent) == len(self.mapping.used_columns):
                names = ", ".join(f"“{c}”" for c in (needed or absent))
                raise FileError(
                    f"the header has no column {names} named in the mapping: is this the "
                    "file the mapping is for, and does it start with its header row?"
                )
            if absent:
                self._warnings.append(
                    "columns of the mapping missing from the file (left empty): "
                    + ", ".join(f"“{c}”" for c in absent)
                )
        for name in sorted(duplicated & used):
            raise FileError(f"the header names column “{self._safe_name(name)}” twice")

    def _safe_name(self, name: str) -> str:
        """A column or key name from a file, fit for a message: redacted and shortened."""
        name = self.schema.redact(name.replace(INVALID, "?"))
        return name if len(name) <= 60 else name[:57] + "..."

    def _warn_unknown(self, names: Iterable[str]) -> None:
        for name in names:
            if len(self._unknown) >= MAX_UNKNOWN_REPORTED:
                return  # keys of a malformed NDJSON file may all differ: memory stays bounded
            self._unknown.setdefault(name)

    def unknown_fields(self) -> list[str]:
        """The names ignored so far as not fields, in the order first seen."""
        return list(self._unknown)

    def note_unknown_fields(self, names: Iterable[str]) -> None:
        """Add names another reader of the same file ignored (see contacts/ingest/parsing.py)."""
        self._warn_unknown(names)

    @property
    def warnings(self) -> list[str]:
        """What the person running the import should know, each said once."""
        warnings = list(self._warnings)
        if self._unknown:
            # A name is repeated only when it is a plain word (a misspelt field), as the API
            # does (contacts.ingest.records); any other could hold a card number or other
            # customer data, so a CSV column is named by its position and an NDJSON key
            # only counted.
            described = [self._unknown_description(name) for name in self._unknown]
            named = [text for text in described if text is not None]
            unnamed = len(described) - len(named)
            shown = ", ".join(named[:10])
            if len(named) > 10:
                shown += f" and more ({len(named) - 10}+)"
            if unnamed:
                shown += " and " if shown else ""
                shown += (
                    f"{unnamed} whose name{'s hold' if unnamed > 1 else ' holds'} digits or "
                    "symbols (not repeated here)"
                )
            warnings.append(f"ignored fields that are not {self.schema.noun}s: {shown}")
        return warnings

    def _unknown_description(self, name: str) -> str | None:
        if _PLAIN_NAME.fullmatch(name):
            return name
        if name in self._header_positions:
            return f"column {self._header_positions[name]}"
        return None

    def label(self, field_name: str) -> str:
        """The field as shown in an error: with its column when it came from one."""
        return self._labels.get(field_name, field_name)

    def _check(self, target: str, value: Any) -> None:
        if isinstance(value, str):
            problem = field_problem(value, self.encoding)
            if problem:
                raise RowError(self.label(target), problem)

    def to_row(self, values: Mapping[str, Any], *, suspect: bool = True) -> dict[str, Any]:
        """A row of the schema's field names, or RowError. With ``suspect`` (see FileRow) each
        value used is checked for undecodable bytes and length first."""
        row: dict[str, Any]
        if self.mapping is None:
            fields = self._fields
            if self._header_fields is not None:  # CSV: the header said which columns count
                row = {key: values[key] for key in self._header_fields}
            elif values.keys() <= fields:  # the common case: nothing to leave out
                row = dict(values)
            else:
                self._warn_unknown(sorted(values.keys() - fields))
                row = {key: value for key, value in values.items() if key in fields}
            if suspect:
                for key, value in row.items():
                    self._check(key, value)
            return row
        mapping = self.mapping
        row = {}
        for column, target in mapping.columns.items():
            value = values.get(column)
            if value is None or value == "":
                continue
            if suspect:
                self._check(target, value)
            table = mapping.values.get(target)
            if table and isinstance(value, str | int | float) and not isinstance(value, bool):
                key = value_key(value)
                if key in table:
                    value = table[key]
                elif WILDCARD in table:
                    value = table[WILDCARD]
            row[target] = value
        if mapping.reason:
            parts = []
            for column in (mapping.reason.parent, mapping.reason.child):
                if not column:
                    continue
                value = values.get(column)
                if value is None or value == "":
                    continue
                if not isinstance(value, str):
                    raise RowError(self.label("reason"), "must be text")
                if suspect:
                    self._check("reason", value)
                value = value.strip()
                if value:
                    parts.append(value)
            if parts:
                row["reason"] = parts
        row.update(mapping.constants)
        for target, value in mapping.defaults.items():
            if row.get(target) in (None, ""):
                row[target] = value
        date_field = self.schema.date_field
        when = row.get(date_field) if date_field else None
        if isinstance(when, str) and when.strip():
            row[date_field] = self._iso_date(when.strip(), mapping.date_formats)
        return row

    def _iso_date(self, value: str, date_formats: tuple[str, ...]) -> str:
        """ISO 8601 for the parser: a date and time, or only a day when the value gives no
        time and the parser keeps days (a day keeps its calendar date whatever the reporting
        time zone); else that day's midnight."""
        keep_days = self.schema.day_only_dates
        for fmt in date_formats:
            try:
                parsed = datetime.strptime(value, fmt)  # noqa: DTZ007 (naive_tz applies)
            except ValueError:
                continue
            return parsed.date().isoformat() if keep_days and day_only(fmt) else parsed.isoformat()
        try:
            if parse_datetime(value):
                return value
            day = parse_date(value)
        except ValueError:
            day = None
        if day is not None:
            return day.isoformat() if keep_days else f"{day.isoformat()}T00:00:00"
        formats = " or ".join(f"“{fmt}”" for fmt in date_formats)
        expected = f"{formats} or ISO 8601" if formats else "ISO 8601 (2026-11-23T14:05:00Z)"
        raise RowError(
            self.label(self.schema.date_field), f"is not a date in the format {expected}"
        )
