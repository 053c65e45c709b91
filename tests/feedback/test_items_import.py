"""Importing feedback items from CSV and NDJSON files, with and without a mapping, on the
contacts import's readers: malformed rows reported with line and reason, good rows kept."""

import csv
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from contacts.ingest.imports import ImportFailed
from contacts.models import ContactReason, ImportRun
from feedback.items.imports import feedback_import_file
from feedback.items.rollups import feedback_rollups_differences
from feedback.models import FeedbackItem, TopicRule
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
CARD = "4111 1111 1111 1111"


def _report(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as report:
        return list(csv.reader(report))


def test_a_csv_in_feedback_field_names(tmp_path):
    CustomerFactory(external_ref="C-1")
    file = tmp_path / "answers.csv"
    file.write_text(
        "external_id,kind,score,verbatim,customer_ref,received_at\n"
        f"1,nps,10,Lovely,C-1,2026-11-23T10:00:00Z\n"
        f"2,nps,11,Too high,,2026-11-23T10:00:00Z\n"
        f'3,csat,2,"charged twice on {CARD}",,2026-11-23T10:00:00Z\n'
        "4,ces,5,missing,C-404,2026-11-23T10:00:00Z\n"
        "5,ces\n"
        "6,mood,,,,\n"
    )
    summary = feedback_import_file(path=file, source="survey", errors_path=tmp_path / "e.csv")
    assert summary.counts() == {
        "read": 6, "created": 2, "updated": 0, "unchanged": 0, "rejected": 4,
    }  # fmt: skip
    assert _report(tmp_path / "e.csv") == [
        ["line", "field", "reason"],
        ["3", "score", "Give a score from 0 to 10."],
        ["5", "customer_ref", "is not a known customer"],
        ["6", "row", "has 2 values; the header has 6 columns"],
        ["7", "kind", "Choose one of: nps, csat, ces, complaint, compliment, review, social."],
    ]
    assert FeedbackItem.objects.get(external_id="3").verbatim == (
        "charged twice on [card number redacted]"
    )
    assert set(FeedbackItem.objects.values_list("source", flat=True)) == {"survey"}
    run = ImportRun.objects.get()
    assert (run.status, run.created, run.rejected) == ("finished", 2, 4)
    # Again: nothing twice.
    again = feedback_import_file(path=file, source="survey", errors_path=tmp_path / "e2.csv")
    assert (again.created, again.unchanged) == (0, 2)
    assert feedback_rollups_differences() == {}


def test_an_ndjson_file_through_a_mapping_with_topics_by_rule(tmp_path):
    refunds = ContactReason.objects.create(name="Refunds")
    TopicRule.objects.create(name="refunds", keywords="refund", reason=refunds)
    mapping = tmp_path / "qualtrics.toml"
    mapping.write_text(
        'date_format = "%d/%m/%Y %H:%M"\n'
        'time_zone = "Europe/Paris"\n'
        "[columns]\n"
        '"Response ID" = "external_id"\n"Type" = "kind"\n"Rating" = "score"\n'
        '"Comment" = "verbatim"\n"Submitted" = "received_at"\n'
        "[constants]\n"
        'source = "qualtrics"\n'
        "[values.kind]\n"
        '"Net Promoter" = "nps"\n"Satisfaction" = "csat"\n'
    )
    rows = [
        {"Response ID": "r1", "Type": "Net Promoter", "Rating": 3, "Comment": "I want a refund",
         "Submitted": "23/11/2026 23:30"},
        {"Response ID": "r2", "Type": "Satisfaction", "Rating": "5", "Comment": "fine",
         "Submitted": "24/11/2026 09:00"},
        {"Response ID": "r3", "Type": "Net Promoter", "Rating": 9, "Submitted": "someday"},
    ]  # fmt: skip
    file = tmp_path / "export.ndjson"
    file.write_text("\n".join(json.dumps(row) for row in rows) + "\nnot json\n")
    summary = feedback_import_file(path=file, mapping=mapping, errors_path=tmp_path / "e.csv")
    assert (summary.created, summary.rejected) == (2, 2)
    report = _report(tmp_path / "e.csv")
    assert [row[:2] for row in report[1:]] == [["3", "received_at"], ["4", "row"]]
    first = FeedbackItem.objects.get(external_id="r1")
    assert (first.source, first.kind, first.band) == ("qualtrics", "nps", "negative")
    assert (first.reason_id, first.topic_source) == (refunds.id, "rule")
    assert first.received_at.isoformat() == "2026-11-23T22:30:00+00:00"  # Paris → UTC
    assert FeedbackItem.objects.get(external_id="r2").score == 5
    assert feedback_rollups_differences() == {}


def test_whole_file_problems_fail_the_import(tmp_path):
    file = tmp_path / "a.csv"
    file.write_text("kind,score\nnps,9\n")
    with pytest.raises(ImportFailed, match="no external_id column"):
        feedback_import_file(path=file, source="s")
    bad_mapping = tmp_path / "m.json"
    bad_mapping.write_text(json.dumps({"columns": {"A": "colour"}}))
    with pytest.raises(ImportFailed, match="not a feedback field"):
        feedback_import_file(path=file, mapping=bad_mapping, source="s")
    with pytest.raises(ImportFailed, match="no source"):
        (tmp_path / "b.csv").write_text("external_id,kind\n1,review\n")
        feedback_import_file(path=tmp_path / "b.csv")
    assert set(ImportRun.objects.values_list("status", flat=True)) == {"failed"}


def test_the_management_command(tmp_path, capsys):
    file = tmp_path / "a.csv"
    file.write_text("external_id,kind,score\n1,nps,9\n2,nps,x\n")
    call_command("import_feedback", str(file), "--source", "s", "--errors", str(tmp_path / "e"))
    out = capsys.readouterr().out
    assert "1 created" in out and "1 rejected" in out
    with pytest.raises(CommandError):
        call_command("import_feedback", str(tmp_path / "missing.csv"), "--source", "s")
