"""What a file import writes, as its mappings and files see it: ``FieldSchema``.

Each importing app declares one (contacts: ``contacts.ingest.mapping.CONTACT_FIELDS``,
feedback items: ``feedback.items.imports.FEEDBACK_FIELDS``); the mapping validation, the row
mapper and the import's messages read their rules from it, so every import checks mappings
and headers the same way and says so in the same words.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldSchema:
    """The fields of one kind of import and the rules its files and mappings follow.

    ``check_value(field, value)`` says why the app's parser would refuse a value (a constant,
    a default, the target of a value map), or None; ``redact`` is the app's redaction of
    anything from a file repeated in a message (a column name). ``source`` is always a field:
    ``--source`` gives it for a whole file."""

    fields: frozenset[str]
    # Columns a file in the fields' own names (without a mapping) must have; source too,
    # unless --source gives it.
    required: tuple[str, ...]
    noun: str  # "VoC field", "feedback field": how messages name a field
    docs: str  # the page that lists the fields, named in messages
    check_value: Callable[[str, Any], str | None]
    redact: Callable[[str], str]
    key: str = "external_id"  # identifies a row: mapped from a column, never a constant
    not_constant: frozenset[str] = frozenset({"external_id"})
    # What every row needs from a column, a constant or a default (source aside).
    given: tuple[str, ...] = ()
    date_field: str = ""  # the field ``date_format`` and ``time_zone`` apply to
    # True: the parser takes a day without a time (kept as that day); False: such a value is
    # given to it as midnight.
    day_only_dates: bool = False
    # The ``reason`` table (parent and child columns, create_missing) is allowed.
    reason_table: bool = False
    # Fields a CSV file cannot give (a list): (field, message when a mapping maps a CSV column
    # to it, message when a CSV header names it).
    ndjson_only: tuple[tuple[str, str, str], ...] = ()
