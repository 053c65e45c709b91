"""Import mappings: how another system's export becomes rows of VoC's field names.

A mapping is a JSON or TOML document (format in docs/ingest.md), a file or saved as an
``ImportMapping`` under a name. ``mapping_load`` reads and fully validates one before a single
row is read; ``RowMapper`` applies it (or, for a file already in VoC's field names, no mapping)
to each row a reader yields, and raises ``RowError`` with the VoC field and, where there is
one, the column it came from. Errors never include the rejected value.
"""

import json
import math
import re
import tomllib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.dateparse import parse_date, parse_datetime

from contacts.ingest.files import INVALID, FileError, field_problem
from contacts.ingest.records import FIELDS, REQUIRED, ParseOptions, RowError, parse_row
from contacts.models import ImportMapping
from contacts.redaction import redact_text

KEYS = (
    "columns",
    "values",
    "constants",
    "defaults",
    "reason",
    "date_format",
    "time_zone",
    "description",
)
REASON_KEYS = ("parent", "child", "create_missing")
# Fields a constant or a default cannot give: every row would be the same contact, or a list
# of messages is not a constant.
NOT_CONSTANT = {"external_id", "messages"}
MAX_UNKNOWN_REPORTED = 100
WILDCARD = "*"  # in a value map: the value for anything the map does not list
_SAMPLE_TIME = datetime(2001, 2, 3, 4, 5, 6)  # noqa: DTZ001 (only checks that a format round-trips)


class MappingError(Exception):
    """The mapping cannot be used; ``problems`` lists every reason found."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return f"the mapping is not valid: {self.problems[0]}"
        return "the mapping is not valid:\n" + "\n".join(f"  - {p}" for p in self.problems)


@dataclass(frozen=True)
class ReasonSpec:
    parent: str = ""
    child: str = ""
    create_missing: bool = False


@dataclass(frozen=True)
class ImportMappingConfig:
    """A validated mapping. ``config`` is the document it came from (saved as is)."""

    name: str
    config: dict[str, Any]
    columns: dict[str, str] = field(default_factory=dict)  # column → VoC field
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # field → {casefolded: value}
    constants: dict[str, Any] = field(default_factory=dict)
    defaults: dict[str, Any] = field(default_factory=dict)
    reason: ReasonSpec | None = None
    date_formats: tuple[str, ...] = ()
    time_zone: ZoneInfo | None = None

    @property
    def source(self) -> str:
        value = self.constants.get("source")
        return str(value) if value not in (None, "") else ""

    @property
    def used_columns(self) -> list[str]:
        columns = list(self.columns)
        if self.reason:
            columns += [c for c in (self.reason.parent, self.reason.child) if c]
        return columns


def _value_key(value: Any) -> str:
    return str(value).strip().casefold()


def _check_field_value(name: str, value: Any) -> str | None:
    """Why parse_row would refuse ``value`` for field ``name``, or None. The rules are the
    parser's own: a sample row carrying the value is parsed."""
    sample = {"source": "mapping", "external_id": "mapping-check", "channel": "other"}
    sample[name] = value
    options = ParseOptions(
        default_occurred_at=_SAMPLE_TIME.replace(tzinfo=ZoneInfo("UTC")),
        strict_fields=False,
    )
    try:
        parse_row(sample, options)
    except RowError as error:  # the rest of the sample is valid, so the value is the problem
        return error.reason
    return None


def _plain(value: Any) -> bool:
    """Text, a number, true/false or a list of text: what a field takes and JSON can store."""
    if isinstance(value, float):
        return math.isfinite(value)  # TOML's nan and inf cannot be saved as JSON
    if isinstance(value, str | int | bool):
        return True
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _day_only(fmt: str) -> bool:
    """Whether a date format gives no time of day."""
    return not re.search(r"%[HIMSfpXcT]", fmt)


def _check_date_format(fmt: Any) -> str | None:
    if not isinstance(fmt, str) or not fmt.strip():
        return "date_format must be a format such as “%m/%d/%Y” or a list of them"
    if "%" not in fmt:
        return f"date_format “{fmt}” has no % directives (e.g. %m/%d/%Y)"
    try:
        parsed = datetime.strptime(_SAMPLE_TIME.strftime(fmt), fmt)  # noqa: DTZ007
    except ValueError as error:
        return f"date_format “{fmt}” is not a valid format: {error}"
    if (parsed.year % 100, parsed.month, parsed.day) != (1, 2, 3):
        return f"date_format “{fmt}” must give a year, a month and a day"
    return None


def mapping_validate(config: Any, *, name: str = "") -> ImportMappingConfig:
    """An ImportMappingConfig, or MappingError listing every problem found (each section is
    checked even when another has problems, so one run names them all)."""
    if not isinstance(config, dict):
        raise MappingError(["a mapping is an object (a JSON object or a TOML document)"])
    problems: list[str] = [
        f"unknown key “{key}” (known keys: {', '.join(KEYS)})" for key in config if key not in KEYS
    ]
    columns, targets = _check_columns(config, problems)
    reason = _check_reason(config, targets, problems)
    value_maps = _check_value_maps(config, targets, problems)
    fixed = {
        section: _check_fixed(config, section, targets, reason, problems)
        for section in ("constants", "defaults")
    }
    date_formats = _check_date_formats(config, problems)
    time_zone = _check_time_zone(config, problems)
    if not isinstance(config.get("description", ""), str):
        problems.append("description must be text")
    _check_required(config, columns, targets, reason, problems)
    if problems:
        raise MappingError(problems)
    return ImportMappingConfig(
        name=name,
        config=config,
        columns=columns,
        values=value_maps,
        constants=fixed["constants"],
        defaults=fixed["defaults"],
        reason=reason,
        date_formats=date_formats,
        time_zone=time_zone,
    )


def _check_columns(
    config: dict[str, Any], problems: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """{column: field} and its inverse {field: column}."""
    columns: dict[str, str] = {}
    raw_columns = config.get("columns", {})
    if not isinstance(raw_columns, dict):
        problems.append("columns must be a table of column name → VoC field")
        raw_columns = {}
    targets: dict[str, str] = {}
    for column, target in raw_columns.items():
        if not isinstance(target, str) or target not in FIELDS:
            problems.append(
                f"columns: “{column}” maps to “{target}”, which is not a VoC field "
                f"(see docs/ingest.md: {', '.join(sorted(FIELDS))})"
            )
            continue
        column = column.strip()  # header names are read trimmed
        if not column:
            problems.append("columns: a column name is empty")
            continue
        if target in targets:
            problems.append(
                f"columns: “{targets[target]}” and “{column}” both map to {target}; map one"
            )
            continue
        targets[target] = column
        columns[column] = target
    return columns, targets


def _check_reason(
    config: dict[str, Any], targets: dict[str, str], problems: list[str]
) -> "ReasonSpec | None":
    raw_reason = config.get("reason")
    if raw_reason is None:
        return None
    if not isinstance(raw_reason, dict):
        problems.append("reason must be a table with parent and/or child column names")
        return None
    reason = None
    for key in raw_reason:
        if key not in REASON_KEYS:
            problems.append(f"reason: unknown key “{key}” (known keys: {', '.join(REASON_KEYS)})")
    parent, child = raw_reason.get("parent", ""), raw_reason.get("child", "")
    create = raw_reason.get("create_missing", False)
    if not isinstance(parent, str) or not isinstance(child, str):
        problems.append("reason: parent and child are column names")
    elif not (parent.strip() or child.strip()):
        problems.append("reason: give a parent column, a child column or both")
    elif not isinstance(create, bool):
        problems.append("reason: create_missing is true or false")
    else:
        reason = ReasonSpec(parent.strip(), child.strip(), create)
    if "reason" in targets:
        problems.append(
            f"reason is built from columns, so column “{targets['reason']}” cannot "
            "also map to reason"
        )
    return reason


def _check_value_maps(
    config: dict[str, Any], targets: dict[str, str], problems: list[str]
) -> dict[str, dict[str, Any]]:
    value_maps: dict[str, dict[str, Any]] = {}
    raw_values = config.get("values", {})
    if not isinstance(raw_values, dict):
        problems.append("values must be a table of VoC field → {value in the file: VoC value}")
        return value_maps
    for target, table in raw_values.items():
        if target not in FIELDS:
            problems.append(f"values: “{target}” is not a VoC field")
            continue
        if target not in targets:
            problems.append(f"values: no column maps to {target}, so its value map is never used")
            continue
        if not isinstance(table, dict) or not table:
            problems.append(f"values.{target} must be a table of value in the file → VoC value")
            continue
        mapped: dict[str, Any] = {}
        for given, wanted in table.items():
            key = _value_key(given)
            if not _plain(wanted):
                problems.append(
                    f"values.{target}: “{given}” must map to text, a number or true/false"
                )
                continue
            problem = _check_field_value(target, wanted)
            if problem:
                problems.append(f"values.{target}: “{given}” → “{wanted}”: {target} {problem}")
                continue
            if key in mapped and mapped[key] != wanted:
                problems.append(f"values.{target}: “{given}” is listed twice with different values")
                continue
            mapped[key] = wanted
        value_maps[target] = mapped
    return value_maps


def _check_fixed(
    config: dict[str, Any],
    section: str,
    targets: dict[str, str],
    reason: "ReasonSpec | None",
    problems: list[str],
) -> dict[str, Any]:
    """The constants or the defaults section: {field: value}."""
    fixed: dict[str, Any] = {}
    raw = config.get(section, {})
    if not isinstance(raw, dict):
        problems.append(f"{section} must be a table of VoC field → value")
        return fixed
    for target, value in raw.items():
        if target not in FIELDS:
            problems.append(f"{section}: “{target}” is not a VoC field")
            continue
        if target in NOT_CONSTANT:
            problems.append(f"{section}: {target} must come from the file")
            continue
        if section == "constants" and target in targets:
            problems.append(
                f"constants: {target} is also mapped from column “{targets[target]}”; "
                "use defaults for a value the column may leave empty"
            )
            continue
        if target == "reason" and reason is not None:
            problems.append(f"{section}: reason is built from columns by the reason table")
            continue
        if not _plain(value):
            problems.append(f"{section}.{target} must be text, a number or true/false")
            continue
        problem = _check_field_value(target, value)
        if problem:
            problems.append(f"{section}.{target}: {target} {problem}")
            continue
        fixed[target] = value
    return fixed


def _check_date_formats(config: dict[str, Any], problems: list[str]) -> tuple[str, ...]:
    raw_formats = config.get("date_format")
    if raw_formats is None:
        return ()
    formats = raw_formats if isinstance(raw_formats, list) else [raw_formats]
    if not formats:
        problems.append("date_format must be a format such as “%m/%d/%Y” or a list of them")
    for fmt in formats:
        problem = _check_date_format(fmt)
        if problem:
            problems.append(problem)
    return tuple(f for f in formats if isinstance(f, str))


def _check_time_zone(config: dict[str, Any], problems: list[str]) -> ZoneInfo | None:
    raw_zone = config.get("time_zone")
    if raw_zone is None:
        return None
    try:
        if not isinstance(raw_zone, str) or not raw_zone.strip():
            raise ValueError
        return ZoneInfo(raw_zone.strip())
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        problems.append(
            f"time_zone “{raw_zone}” is not a time zone name (e.g. America/New_York, UTC)"
        )
        return None


def _check_required(
    config: dict[str, Any],
    columns: dict[str, str],
    targets: dict[str, str],
    reason: "ReasonSpec | None",
    problems: list[str],
) -> None:
    """What every row needs: an external id from a column, a channel from somewhere."""
    if not columns and reason is None:
        problems.append("columns: map at least one column to a VoC field")
    if "external_id" not in targets and columns:
        problems.append("columns: no column maps to external_id, which every row needs")
    given = set(targets)
    for section in ("constants", "defaults"):
        if isinstance(config.get(section), dict):
            given |= set(config[section])
    if "channel" not in given:
        problems.append("no column, constant or default gives channel, which every row needs")


def mapping_load(spec: str) -> ImportMappingConfig:
    """A mapping from a file (JSON or TOML, by extension or by trying both) or, when no such
    file exists, the ImportMapping saved under that name. Raises MappingError."""
    path = Path(spec)
    if path.is_file():
        return mapping_validate(mapping_document_read(path), name=path.name)
    saved = ImportMapping.objects.filter(name=spec).first()
    if saved is None:
        names = ", ".join(ImportMapping.objects.values_list("name", flat=True)[:20]) or "none"
        raise MappingError(
            [f"no mapping file or saved mapping named “{spec}” (saved mappings: {names})"]
        )
    return mapping_validate(saved.config, name=saved.name)


def mapping_document_read(path: Path) -> Any:
    """The document in a mapping file (JSON or TOML, by extension or by trying both), not yet
    validated; MappingError when it cannot be read or parsed. Shared by every import that
    takes a mapping file (contacts, feedback items)."""
    try:
        data = path.read_bytes()
    except OSError as error:
        raise MappingError([f"the mapping file {path} cannot be read ({error.strerror})"]) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MappingError([f"the mapping file {path} is not UTF-8 text"]) from None
    return _parse_document(text, path)


def _parse_document(text: str, path: Path) -> Any:
    suffix = path.suffix.lower()
    if suffix == ".toml":
        return _toml(text, path)
    if suffix == ".json":
        return _json(text, path)
    try:
        return json.loads(text)
    except ValueError:
        return _toml(text, path)


def _toml(text: str, path: Path) -> Any:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise MappingError([f"the mapping file {path.name} is not valid TOML: {error}"]) from None


def _json(text: str, path: Path) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as error:
        raise MappingError([f"the mapping file {path.name} is not valid JSON: {error}"]) from None


def import_mapping_save(*, name: str, mapping: ImportMappingConfig) -> ImportMapping:
    """Save (or replace) a validated mapping under ``name`` for ``--mapping NAME``."""
    name = name.strip()
    if not name or len(name) > 100:
        raise MappingError(["a saved mapping needs a name of 1 to 100 characters"])
    if Path(name).suffix.lower() in {".json", ".toml"}:
        raise MappingError([f"“{name}” looks like a file name; give the mapping a plain name"])
    saved, _ = ImportMapping.objects.update_or_create(
        name=name, defaults={"config": mapping.config}
    )
    return saved


# Plain letters and underscores: a name that can be repeated in a message (as in
# contacts.ingest.records).
_PLAIN_NAME = re.compile(r"[A-Za-z_]{1,64}")


def _safe_name(name: str) -> str:
    """A column or key name from a file, fit for a message: redacted and shortened."""
    name = redact_text(name.replace(INVALID, "?"))
    return name if len(name) <= 60 else name[:57] + "..."


class RowMapper:
    """Turns a reader's row values into a row of VoC's field names for ``parse_row``.

    With a mapping: mapped columns only (others are ignored), value maps, the reason from its
    columns, constants and defaults, and dates in the mapping's formats converted to ISO 8601.
    Without: the file already uses VoC's field names; columns that are not VoC fields are
    ignored and reported once in ``warnings``."""

    def __init__(
        self,
        mapping: ImportMappingConfig | None,
        *,
        file_format: str,
        encoding: str,
        header: list[str] | None = None,
        source: str = "",
    ) -> None:
        self.mapping = mapping
        self.encoding = encoding
        self._warnings: list[str] = []
        self._unknown: dict[str, None] = {}  # names not VoC fields, in the order first seen
        self._header_positions: dict[str, int] = {}  # a CSV header's names → column number
        self._labels: dict[str, str] = {}
        self._header_fields: list[str] | None = None
        if mapping is not None:
            if file_format == "csv" and "messages" in mapping.columns.values():
                raise MappingError(
                    ["columns: messages (a list) is only for NDJSON; map a CSV column to text"]
                )
            for column, target in mapping.columns.items():
                if column != target:
                    self._labels[target] = f"{target} ({column})"
            if mapping.reason:
                columns = " › ".join(c for c in (mapping.reason.parent, mapping.reason.child) if c)
                self._labels["reason"] = f"reason ({columns})"
        if header is not None:
            self._check_header(header, source=source)

    def _check_header(self, header: list[str], *, source: str) -> None:
        present = set(header)
        duplicated = {name for name, count in Counter(header).items() if count > 1}
        if self.mapping is None:
            if "messages" in present:
                raise FileError(
                    "a CSV file gives the text of a contact in a text column; a list of "
                    "messages is only possible in NDJSON"
                )
            used = present & FIELDS
            if not used:
                raise FileError(
                    "the first row is not a header of VoC field names (see docs/ingest.md), "
                    "or the file needs --mapping"
                )
            missing = [name for name in REQUIRED if name not in present]
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
            self._warn_unknown(name for name in header if name and name not in FIELDS)
            self._header_fields = [name for name in dict.fromkeys(header) if name in FIELDS]
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
                    target == "external_id"
                    or (target in ("channel", "source") and target not in supplied)
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
            raise FileError(f"the header names column “{_safe_name(name)}” twice")

    def _warn_unknown(self, names: Iterable[str]) -> None:
        for name in names:
            if len(self._unknown) >= MAX_UNKNOWN_REPORTED:
                return  # keys of a malformed NDJSON file may all differ: memory stays bounded
            self._unknown.setdefault(name)

    def unknown_fields(self) -> list[str]:
        """The names ignored so far as not VoC fields, in the order first seen."""
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
            warnings.append(f"ignored fields that are not VoC fields: {shown}")
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
        """A row of VoC field names, or RowError. With ``suspect`` (see FileRow) each value
        used is checked for undecodable bytes and length first."""
        row: dict[str, Any]
        if self.mapping is None:
            if self._header_fields is not None:  # CSV: the header said which columns count
                row = {key: values[key] for key in self._header_fields}
            elif values.keys() <= FIELDS:  # the common case: nothing to leave out
                row = dict(values)
            else:
                self._warn_unknown(sorted(values.keys() - FIELDS))
                row = {key: value for key, value in values.items() if key in FIELDS}
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
                key = _value_key(value)
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
        occurred = row.get("occurred_at")
        if isinstance(occurred, str) and occurred.strip():
            row["occurred_at"] = self._iso_date(occurred.strip(), mapping.date_formats)
        return row

    def _iso_date(self, value: str, date_formats: tuple[str, ...]) -> str:
        """ISO 8601 for parse_row: a date and time, or only a day when the value gives no time
        (a day keeps its calendar date whatever the reporting time zone)."""
        for fmt in date_formats:
            try:
                parsed = datetime.strptime(value, fmt)  # noqa: DTZ007 (naive_tz applies)
            except ValueError:
                continue
            return parsed.date().isoformat() if _day_only(fmt) else parsed.isoformat()
        try:
            if parse_datetime(value):
                return value
            day = parse_date(value)
        except ValueError:
            day = None
        if day is not None:
            return day.isoformat()
        formats = " or ".join(f"“{fmt}”" for fmt in date_formats)
        expected = f"{formats} or ISO 8601" if formats else "ISO 8601 (2026-11-23T14:05:00Z)"
        raise RowError(self.label("occurred_at"), f"is not a date in the format {expected}")
