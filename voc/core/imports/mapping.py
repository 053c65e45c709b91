"""Import mappings: how another system's export becomes rows of an import's field names.

A mapping is a JSON or TOML document (format in docs/ingest.md), a file or saved under a name
(contacts' ``ImportMapping``, one list per kind of import, behind a ``MappingStore``).
``mapping_load`` reads and fully validates one against the import's ``FieldSchema`` before a
single row is read; ``voc.core.imports.mapper.RowMapper`` applies it. Errors never include a
value from a file.
"""

import json
import math
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from voc.core.imports.schema import FieldSchema

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
WILDCARD = "*"  # in a value map: the value for anything the map does not list
SAMPLE_TIME = datetime(2001, 2, 3, 4, 5, 6)  # noqa: DTZ001 (only checks that a format round-trips)


class MappingError(Exception):
    """The mapping cannot be used; ``problems`` lists every reason found."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))

    def __str__(self) -> str:
        if len(self.problems) == 1:
            return f"the mapping is not valid: {self.problems[0]}"
        return "the mapping is not valid:\n" + "\n".join(f"  - {p}" for p in self.problems)


class MappingStore(Protocol):
    """Where an import's mappings are saved by name (contacts.ingest.runs.SavedMappings)."""

    def get(self, name: str) -> Any | None:  # the saved document, or None
        ...

    def names(self) -> list[str]:  # a few saved names, for a message
        ...

    def save(self, name: str, config: dict[str, Any]) -> None: ...


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
    columns: dict[str, str] = field(default_factory=dict)  # column → field
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


def value_key(value: Any) -> str:
    """How a value in a file is looked up in a value map: case and outer spaces ignored."""
    return str(value).strip().casefold()


def _plain(value: Any) -> bool:
    """Text, a number, true/false or a list of text: what a field takes and JSON can store."""
    if isinstance(value, float):
        return math.isfinite(value)  # TOML's nan and inf cannot be saved as JSON
    if isinstance(value, str | int | bool):
        return True
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def day_only(fmt: str) -> bool:
    """Whether a date format gives no time of day."""
    return not re.search(r"%[HIMSfpXcT]", fmt)


def _check_date_format(fmt: Any) -> str | None:
    if not isinstance(fmt, str) or not fmt.strip():
        return "date_format must be a format such as “%m/%d/%Y” or a list of them"
    if "%" not in fmt:
        return f"date_format “{fmt}” has no % directives (e.g. %m/%d/%Y)"
    try:
        parsed = datetime.strptime(SAMPLE_TIME.strftime(fmt), fmt)  # noqa: DTZ007
    except ValueError as error:
        return f"date_format “{fmt}” is not a valid format: {error}"
    if (parsed.year % 100, parsed.month, parsed.day) != (1, 2, 3):
        return f"date_format “{fmt}” must give a year, a month and a day"
    return None


def mapping_validate(config: Any, *, schema: FieldSchema, name: str = "") -> ImportMappingConfig:
    """An ImportMappingConfig, or MappingError listing every problem found (each section is
    checked even when another has problems, so one run names them all)."""
    if not isinstance(config, dict):
        raise MappingError(["a mapping is an object (a JSON object or a TOML document)"])
    keys = KEYS if schema.reason_table else tuple(key for key in KEYS if key != "reason")
    problems: list[str] = [
        f"unknown key “{key}” (known keys: {', '.join(keys)})" for key in config if key not in keys
    ]
    columns, targets = _check_columns(config, schema, problems)
    reason = _check_reason(config, targets, problems) if schema.reason_table else None
    value_maps = _check_value_maps(config, schema, targets, problems)
    fixed = {
        section: _check_fixed(config, schema, section, targets, reason, problems)
        for section in ("constants", "defaults")
    }
    date_formats = _check_date_formats(config, problems)
    time_zone = _check_time_zone(config, problems)
    if not isinstance(config.get("description", ""), str):
        problems.append("description must be text")
    _check_required(config, schema, columns, targets, reason, problems)
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
    config: dict[str, Any], schema: FieldSchema, problems: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """{column: field} and its inverse {field: column}."""
    columns: dict[str, str] = {}
    raw_columns = config.get("columns", {})
    if not isinstance(raw_columns, dict):
        problems.append(f"columns must be a table of column name → {schema.noun}")
        raw_columns = {}
    targets: dict[str, str] = {}
    for column, target in raw_columns.items():
        if not isinstance(target, str) or target not in schema.fields:
            problems.append(
                f"columns: “{column}” maps to “{target}”, which is not a {schema.noun} "
                f"(see {schema.docs}: {', '.join(sorted(schema.fields))})"
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
) -> ReasonSpec | None:
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
    config: dict[str, Any], schema: FieldSchema, targets: dict[str, str], problems: list[str]
) -> dict[str, dict[str, Any]]:
    value_maps: dict[str, dict[str, Any]] = {}
    raw_values = config.get("values", {})
    if not isinstance(raw_values, dict):
        problems.append(
            f"values must be a table of {schema.noun} → {{value in the file: VoC value}}"
        )
        return value_maps
    for target, table in raw_values.items():
        if target not in schema.fields:
            problems.append(f"values: “{target}” is not a {schema.noun}")
            continue
        if target not in targets:
            problems.append(f"values: no column maps to {target}, so its value map is never used")
            continue
        if not isinstance(table, dict) or not table:
            problems.append(f"values.{target} must be a table of value in the file → VoC value")
            continue
        mapped: dict[str, Any] = {}
        for given, wanted in table.items():
            key = value_key(given)
            if not _plain(wanted):
                problems.append(
                    f"values.{target}: “{given}” must map to text, a number or true/false"
                )
                continue
            problem = schema.check_value(target, wanted)
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
    schema: FieldSchema,
    section: str,
    targets: dict[str, str],
    reason: ReasonSpec | None,
    problems: list[str],
) -> dict[str, Any]:
    """The constants or the defaults section: {field: value}."""
    fixed: dict[str, Any] = {}
    raw = config.get(section, {})
    if not isinstance(raw, dict):
        problems.append(f"{section} must be a table of {schema.noun} → value")
        return fixed
    for target, value in raw.items():
        if target not in schema.fields:
            problems.append(f"{section}: “{target}” is not a {schema.noun}")
            continue
        if target in schema.not_constant:
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
        problem = schema.check_value(target, value)
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
    schema: FieldSchema,
    columns: dict[str, str],
    targets: dict[str, str],
    reason: ReasonSpec | None,
    problems: list[str],
) -> None:
    """What every row needs: its key from a column, the schema's ``given`` from somewhere."""
    if not columns and reason is None:
        problems.append(f"columns: map at least one column to a {schema.noun}")
    if schema.key not in targets and columns:
        problems.append(f"columns: no column maps to {schema.key}, which every row needs")
    given = set(targets)
    for section in ("constants", "defaults"):
        if isinstance(config.get(section), dict):
            given |= set(config[section])
    for name in schema.given:
        if name not in given:
            problems.append(f"no column, constant or default gives {name}, which every row needs")


def mapping_load(spec: str, *, schema: FieldSchema, saved: MappingStore) -> ImportMappingConfig:
    """A mapping from a file (JSON or TOML, by extension or by trying both) or, when no such
    file exists, the mapping saved under that name. Raises MappingError."""
    path = Path(spec)
    if path.is_file():
        return mapping_validate(mapping_document_read(path), schema=schema, name=path.name)
    config = saved.get(spec)
    if config is None:
        names = ", ".join(saved.names()) or "none"
        raise MappingError(
            [f"no mapping file or saved mapping named “{spec}” (saved mappings: {names})"]
        )
    return mapping_validate(config, schema=schema, name=spec)


def mapping_document_read(path: Path) -> Any:
    """The document in a mapping file (JSON or TOML, by extension or by trying both), not yet
    validated; MappingError when it cannot be read or parsed."""
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


def mapping_save(*, name: str, mapping: ImportMappingConfig, saved: MappingStore) -> None:
    """Save (or replace) a validated mapping under ``name`` for ``--mapping NAME``."""
    name = name.strip()
    if not name or len(name) > 100:
        raise MappingError(["a saved mapping needs a name of 1 to 100 characters"])
    if Path(name).suffix.lower() in {".json", ".toml"}:
        raise MappingError([f"“{name}” looks like a file name; give the mapping a plain name"])
    saved.save(name, mapping.config)
