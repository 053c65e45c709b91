"""The per-row error report of a file import: a CSV of line, field and reason."""

import csv
import os
from collections.abc import Callable
from pathlib import Path

from django.conf import settings

from voc.core.imports.files import FileError

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


class ErrorReport:
    """The per-row error report: a CSV of line, field and reason. The values it is given are
    field names and fixed reasons, never data from the row; cells are still redacted
    (``redact``: the import's redaction) and guarded against spreadsheet formulas."""

    def __init__(
        self, path: Path, *, redact: Callable[[str], str], keep_empty: bool = False
    ) -> None:
        self.path = path
        self.keep_empty = keep_empty  # a report asked for by name is kept even when empty
        self.count = 0
        self._redact = redact
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
            self._writer.writerow([line, self._cell(field_name), self._cell(reason)])
        self.count += len(errors)
        errors.clear()
        self._file.flush()

    def _cell(self, text: str) -> str:
        text = self._redact(text)  # belt and braces: a field name comes from a mapping or a file
        return "'" + text if text.startswith(_FORMULA_START) else text

    def close(self) -> None:
        self._file.close()


def default_error_report(path: Path, run_id: int, *, redact: Callable[[str], str]) -> ErrorReport:
    """Next to the file when that can be written, else under VOC_VAR_DIR/imports/."""
    beside = path.resolve().parent / f"{path.name}.errors.csv"
    if os.access(beside.parent, os.W_OK):
        try:
            return ErrorReport(beside, redact=redact)
        except FileError:
            pass  # e.g. a read-only report of someone else's run: fall back to var/
    return ErrorReport(
        Path(settings.VAR_DIR) / "imports" / f"{path.name}.run-{run_id}.errors.csv", redact=redact
    )
