"""One writer for every table a page exports, as CSV or Excel (xlsx).

A view gives rows (any iterable: a queryset's ``.iterator()`` keeps memory flat) and columns
(a header and a function of the row)::

    COLUMNS = [Column("When", lambda c: c.occurred_at), Column("Subject", lambda c: c.subject)]
    return export_response(rows=contacts.iterator(chunk_size=2000), columns=COLUMNS,
                           filename="contacts", file_format=request.GET.get("format", "csv"))

Cells hold customer text, which is untrusted: a spreadsheet runs text that starts with ``=``,
``+``, ``-`` or ``@`` as a formula (and tab or carriage return lets such text hide behind one),
so those strings are written behind a ``'`` in both formats (OWASP's "CSV injection" advice),
and xlsx cells are forced to the string type. Numbers stay numbers: ``-5`` is a number, not a
formula, and must still add up in a sheet.
"""

import csv
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from tempfile import SpooledTemporaryFile
from typing import Any

from django.http import FileResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

EXPORT_FORMATS = ("csv", "xlsx")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Rows written to the xlsx file before it moves from memory to a temporary file on disk.
_XLSX_MEMORY_BYTES = 8 * 1024 * 1024


class ExportFormatError(ValueError):
    """An export asked for in a format we don't write (the view answers 400)."""


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Any], Any]


def neutralise(value: Any) -> Any:
    """The cell value to write: numbers and dates as they are, text that a spreadsheet would
    run as a formula behind a ``'``, None as an empty cell."""
    if value is None:
        return ""
    if isinstance(value, bool | int | float | Decimal | datetime | date):
        return value
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def export_response(
    *, rows: Iterable[Any], columns: Sequence[Column], filename: str, file_format: str
) -> StreamingHttpResponse | FileResponse:
    """A download of the table in ``file_format`` ("csv" or "xlsx"), named ``filename``."""
    if file_format == "csv":
        response = StreamingHttpResponse(
            csv_lines(rows, columns), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = content_disposition_header(
            as_attachment=True, filename=f"{filename}.csv"
        )
        return response
    if file_format == "xlsx":
        return FileResponse(
            xlsx_file(rows, columns, title=filename),
            as_attachment=True,
            filename=f"{filename}.xlsx",
            content_type=XLSX_CONTENT_TYPE,
        )
    raise ExportFormatError(f"Choose a format: {', '.join(EXPORT_FORMATS)}.")


class _Line:
    """A file-like object for csv.writer that hands back what it was given."""

    def write(self, text: str) -> str:
        return text


def csv_lines(rows: Iterable[Any], columns: Sequence[Column]) -> Iterator[str]:
    """The CSV, a line at a time. Starts with a byte order mark so Excel reads it as UTF-8."""
    writer = csv.writer(_Line())
    yield "\ufeff" + writer.writerow([column.header for column in columns])
    for row in rows:
        yield writer.writerow([_csv_value(neutralise(column.value(row))) for column in columns])


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return _local(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def xlsx_file(
    rows: Iterable[Any], columns: Sequence[Column], *, title: str
) -> SpooledTemporaryFile[bytes]:
    """The workbook as an open file, positioned at its start. openpyxl's write-only mode keeps
    rows out of memory as they are written; the zip it ends in is assembled when it is saved,
    so an xlsx download starts once the whole sheet is written."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=_sheet_title(title))
    sheet.append([column.header for column in columns])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, neutralise(column.value(row))) for column in columns])
    output = tempfile.SpooledTemporaryFile(max_size=_XLSX_MEMORY_BYTES)  # noqa: SIM115
    workbook.save(output)
    output.seek(0)
    return output


def _xlsx_cell(sheet: WriteOnlyWorksheet, value: Any) -> Any:
    if isinstance(value, datetime):
        return _local(value).replace(tzinfo=None)  # xlsx has no time zones: the reader's local
    if not isinstance(value, str):
        return value
    # openpyxl would store any text starting with "=" as a formula; make it a string cell.
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
    cell.data_type = "s"
    return cell


def _local(value: datetime) -> datetime:
    return timezone.localtime(value) if timezone.is_aware(value) else value


def _sheet_title(title: str) -> str:
    cleaned = "".join(" " if char in "[]:*?/\\" else char for char in title).strip()
    return (cleaned or "Export")[:31]
