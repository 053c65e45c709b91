"""The one table writer: CSV streamed, xlsx in write-only mode, formulas neutralised in both,
numbers kept numeric."""

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.http import FileResponse, StreamingHttpResponse
from openpyxl import load_workbook

from voc.core.exports import (
    Column,
    ExportFormatError,
    csv_lines,
    export_response,
    neutralise,
    xlsx_file,
)

COLUMNS = [Column("Name", lambda row: row[0]), Column("Value", lambda row: row[1])]
DANGEROUS = ["=1+2", "+1", "-1", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://evil")']


@pytest.mark.parametrize("text", DANGEROUS)
def test_text_a_spreadsheet_would_run_is_written_behind_a_quote(text):
    assert neutralise(text) == "'" + text


@pytest.mark.parametrize("text", ["plain", "a=b", " =1", "1-2", "", "'quoted"])
def test_other_text_is_written_as_it_is(text):
    assert neutralise(text) == text


@pytest.mark.parametrize("number", [-5, -0.5, Decimal("-12.50"), 0, 7, 3.25])
def test_numbers_stay_numbers_even_when_negative(number):
    assert neutralise(number) is number


def test_none_is_an_empty_cell():
    assert neutralise(None) == ""


def read_csv(lines) -> list[list[str]]:
    text = "".join(lines)
    assert text.startswith("\ufeff")  # Excel reads the file as UTF-8
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_neutralises_formulas_and_keeps_numbers_and_dates():
    rows = [
        ("=1+2", -5),
        ("-1", Decimal("-12.50")),
        ("ok", None),
        ('Ünïcode, "quoted"\nline', date(2026, 11, 2)),
        ("when", datetime(2026, 11, 2, 9, 30, tzinfo=UTC)),
    ]
    assert read_csv(csv_lines(rows, COLUMNS)) == [
        ["Name", "Value"],
        ["'=1+2", "-5"],
        ["'-1", "-12.50"],
        ["ok", ""],
        ['Ünïcode, "quoted"\nline', "2026-11-02"],
        ["when", "2026-11-02T09:30:00+00:00"],
    ]


def test_xlsx_keeps_numbers_numeric_and_formulas_as_text():
    rows = [
        ("=1+2", -5),
        ("+1", -0.5),
        ("@SUM(A1)", Decimal("3.5")),
        ("\tx", 0),
        ("bell\x07 removed", datetime(2026, 11, 2, 9, 30, tzinfo=UTC)),
    ]
    workbook = load_workbook(xlsx_file(rows, COLUMNS, title="a/b:c"))
    sheet = workbook.active
    assert sheet.title == "a b c"
    cells = [list(row) for row in sheet.iter_rows(min_row=2)]
    assert [row[0].value for row in cells] == ["'=1+2", "'+1", "'@SUM(A1)", "'\tx", "bell removed"]
    assert all(row[0].data_type == "s" for row in cells)  # never "f" (formula)
    assert [row[1].value for row in cells[:4]] == [-5, -0.5, 3.5, 0]
    assert [row[1].data_type for row in cells[:4]] == ["n", "n", "n", "n"]
    assert cells[4][1].value == datetime(2026, 11, 2, 9, 30)  # naive, in the current zone (UTC)


def test_the_csv_response_streams_and_is_named():
    response = export_response(
        rows=iter([("a", 1)]), columns=COLUMNS, filename="contacts-2026-11-02", file_format="csv"
    )
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="contacts-2026-11-02.csv"'
    body = b"".join(response.streaming_content).decode()
    assert read_csv([body]) == [["Name", "Value"], ["a", "1"]]


def test_the_xlsx_response_is_a_workbook_download():
    response = export_response(
        rows=[("a", 1)], columns=COLUMNS, filename="contacts", file_format="xlsx"
    )
    assert isinstance(response, FileResponse)
    assert response["Content-Disposition"] == 'attachment; filename="contacts.xlsx"'
    workbook = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert list(workbook.active.values) == [("Name", "Value"), ("a", 1)]


def test_an_unknown_format_is_refused():
    with pytest.raises(ExportFormatError, match="csv, xlsx"):
        export_response(rows=[], columns=COLUMNS, filename="x", file_format="pdf")
