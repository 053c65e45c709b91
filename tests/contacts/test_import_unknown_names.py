"""A file's unknown column or key names are reported without repeating any that could hold
customer data (a header may hold a card number): plain words by name, other CSV columns by
position, other NDJSON keys counted."""

import json

import pytest

from contacts.ingest.imports import import_file
from contacts.ingest.mapping import CONTACT_FIELDS
from voc.core.imports.mapper import RowMapper

pytestmark = pytest.mark.django_db

CARD = "4111 1111 1111 1111"


def test_a_csv_header_holding_a_card_number_is_named_by_its_position(tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text(
        f"external_id,channel,source,{CARD},colour,ACCT-99887766\nc-1,phone,crm,x,red,y\n",
        encoding="utf-8",
    )
    summary = import_file(path=path, started_by="ops")
    assert summary.warnings == [
        "ignored fields that are not VoC fields: column 4, colour, column 6"
    ]
    text = json.dumps(summary.warnings)
    assert "4111" not in text and "99887766" not in text


def test_ndjson_keys_with_digits_or_symbols_are_counted_not_named(tmp_path):
    path = tmp_path / "calls.ndjson"
    rows = [
        {"external_id": "n-1", "channel": "chat", "source": "crm", CARD: 1, "mood": "ok"},
        {"external_id": "n-2", "channel": "chat", "source": "crm", CARD: 2, "x-1": 3},
    ]
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    summary = import_file(path=path, started_by="ops")
    assert summary.warnings == [
        "ignored fields that are not VoC fields: mood and 2 whose names hold digits or "
        "symbols (not repeated here)"
    ]


def test_many_plain_names_are_cut_after_ten():
    header = ["external_id", "channel", "source", *(f"extra_{chr(97 + n)}" for n in range(12))]
    mapper = RowMapper(
        None, schema=CONTACT_FIELDS, file_format="csv", encoding="utf-8", header=header
    )
    assert mapper.warnings == [
        "ignored fields that are not VoC fields: "
        + ", ".join(f"extra_{chr(97 + n)}" for n in range(10))
        + " and more (2+)"
    ]


def test_a_single_unnamed_field_reads_as_one():
    mapper = RowMapper(None, schema=CONTACT_FIELDS, file_format="ndjson", encoding="utf-8")
    mapper.note_unknown_fields(["4111-1111"])
    assert mapper.warnings == [
        "ignored fields that are not VoC fields: 1 whose name holds digits or symbols "
        "(not repeated here)"
    ]
