"""Importing feedback items from CSV and NDJSON files, with and without a mapping, on the file
import machinery contacts use (voc/core/imports/): malformed rows reported with line and
reason while good rows are kept, saved mappings of their own, runs recorded with their kind."""

import csv
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from contacts.ingest.imports import import_file
from contacts.models import ContactReason, ImportKind, ImportMapping, ImportRun
from feedback.items import imports as feedback_imports
from feedback.items.imports import FEEDBACK_FIELDS, FEEDBACK_MAPPINGS, feedback_import_file
from feedback.items.rollups import feedback_rollups_differences
from feedback.items.services import feedback_items_ingest as real_feedback_items_ingest
from feedback.models import FeedbackItem, TopicRule
from tests.factories import CustomerFactory
from voc.core.imports.mapping import MappingError, mapping_load, mapping_validate
from voc.core.imports.runner import ImportFailed, ImportInterrupted

pytestmark = pytest.mark.django_db
CARD = "4111 1111 1111 1111"
KINDS = "nps, csat, ces, complaint, compliment, review, social"
QUALTRICS = (
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
QUALTRICS_HEADER = "Response ID,Type,Rating,Comment,Submitted\n"


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
        ["7", "kind", f"Choose one of: {KINDS}."],
    ]
    assert FeedbackItem.objects.get(external_id="3").verbatim == (
        "charged twice on [card number redacted]"
    )
    assert set(FeedbackItem.objects.values_list("source", flat=True)) == {"survey"}
    run = ImportRun.objects.get()
    assert (run.kind, run.status, run.created, run.rejected) == ("feedback", "finished", 2, 4)
    assert run.file_name == str(file)  # no prefix: the kind says what was imported
    # Again: nothing twice.
    again = feedback_import_file(path=file, source="survey", errors_path=tmp_path / "e2.csv")
    assert (again.created, again.unchanged) == (0, 2)
    assert feedback_rollups_differences() == {}


def test_an_ndjson_file_through_a_mapping_with_topics_by_rule(tmp_path):
    refunds = ContactReason.objects.create(name="Refunds")
    TopicRule.objects.create(name="refunds", keywords="refund", reason=refunds)
    mapping = tmp_path / "qualtrics.toml"
    mapping.write_text(QUALTRICS)
    rows = [
        {"Response ID": "r1", "Type": "Net Promoter", "Rating": 3, "Comment": "I want a refund",
         "Submitted": "23/11/2026 23:30"},
        {"Response ID": "r2", "Type": "Satisfaction", "Rating": "5", "Comment": "fine",
         "Submitted": "24/11/2026 09:00"},
        {"Response ID": "r3", "Type": "Net Promoter", "Rating": 9, "Submitted": "someday"},
    ]  # fmt: skip
    file = tmp_path / "export.ndjson"
    file.write_text("\n".join(json.dumps(row) for row in rows) + "\nnot json\n")
    summary = feedback_import_file(path=file, mapping=str(mapping), errors_path=tmp_path / "e.csv")
    assert (summary.created, summary.rejected) == (2, 2)
    assert _report(tmp_path / "e.csv")[1:] == [
        [
            "3",
            "received_at (Submitted)",  # the column it came from, as contacts' report says
            "is not a date in the format “%d/%m/%Y %H:%M” or ISO 8601",
        ],
        ["4", "row", "is not valid JSON: Expecting value"],
    ]
    first = FeedbackItem.objects.get(external_id="r1")
    assert (first.source, first.kind, first.band) == ("qualtrics", "nps", "negative")
    assert (first.reason_id, first.topic_source) == (refunds.id, "rule")
    assert first.received_at.isoformat() == "2026-11-23T22:30:00+00:00"  # Paris → UTC
    assert FeedbackItem.objects.get(external_id="r2").score == 5
    assert ImportRun.objects.get().mapping_name == "qualtrics.toml"
    assert feedback_rollups_differences() == {}


def test_a_malformed_row_is_reported_by_line_and_reason_and_the_good_rows_are_kept(tmp_path):
    """Through the command and a mapping: broken quoting, a missing value, a score out of
    range, an unknown kind and a repeated id each reject their own row only."""
    mapping = tmp_path / "qualtrics.toml"
    mapping.write_text(QUALTRICS)
    file = tmp_path / "export.csv"
    file.write_text(
        QUALTRICS_HEADER
        + "a1,Net Promoter,9,Great,23/11/2026 10:00\n"  # line 2: kept
        + 'a2,Net Promoter,"8,Broken quote,23/11/2026 10:00\n'  # line 3: runs to the end
    )
    # Broken quoting swallows the rest of the file: test the other problems in a file of
    # their own, then the quoting.
    other = tmp_path / "other.csv"
    other.write_text(
        QUALTRICS_HEADER
        + "b1,Net Promoter,9,Great,23/11/2026 10:00\n"  # line 2: kept
        + "b2,Net Promoter,11,Too high,23/11/2026 10:00\n"  # line 3: out of range
        + "b3,Mood,,,23/11/2026 10:00\n"  # line 4: no such kind
        + "b4,Satisfaction,4\n"  # line 5: too few values
        + "b1,Net Promoter,10,Again,23/11/2026 10:00\n"  # line 6: repeats line 2
        + "b5,Satisfaction,4,Fine,24/11/2026 10:00\n"  # line 7: kept
    )
    out = io.StringIO()
    call_command(
        "import_feedback", str(other), "--mapping", str(mapping), "--no-progress",
        "--errors", str(tmp_path / "other.errors.csv"), stdout=out,
    )  # fmt: skip
    assert "Read 6 rows: 2 created, 0 updated, 0 unchanged, 4 rejected" in out.getvalue()
    assert f"listed in {tmp_path / 'other.errors.csv'}" in out.getvalue()
    assert _report(tmp_path / "other.errors.csv") == [
        ["line", "field", "reason"],
        ["3", "score (Rating)", "Give a score from 0 to 10."],
        ["4", "kind (Type)", f"Choose one of: {KINDS}."],
        ["5", "row", "has 3 values; the header has 5 columns"],
        ["6", "external_id (Response ID)", "repeats the item of line 2"],
    ]
    assert set(FeedbackItem.objects.values_list("external_id", flat=True)) == {"b1", "b5"}

    summary = feedback_import_file(path=file, mapping=str(mapping), errors_path=tmp_path / "e.csv")
    assert (summary.rows_read, summary.created, summary.rejected) == (2, 1, 1)
    assert _report(tmp_path / "e.csv")[1:] == [
        ["3", "row", "is not valid CSV: unexpected end of data"]
    ]
    assert FeedbackItem.objects.filter(external_id="a1").exists()
    assert feedback_rollups_differences() == {}


def test_a_feedback_mapping_is_saved_and_reused_by_name_apart_from_contacts(tmp_path):
    mapping = tmp_path / "qualtrics.toml"
    mapping.write_text(QUALTRICS)
    first = tmp_path / "november.csv"
    first.write_text(QUALTRICS_HEADER + "n1,Net Promoter,9,Great,23/11/2026 10:00\n")
    call_command(
        "import_feedback", str(first), "--mapping", str(mapping), "--save-mapping", "qualtrics",
        "--no-progress", stdout=io.StringIO(),
    )  # fmt: skip
    saved = ImportMapping.objects.get()
    assert (saved.kind, saved.name) == ("feedback", "qualtrics")
    assert saved.config["constants"]["source"] == "qualtrics"

    later = tmp_path / "december.csv"
    later.write_text(QUALTRICS_HEADER + "d1,Satisfaction,2,Slow,01/12/2026 09:15\n")
    out = io.StringIO()
    call_command(
        "import_feedback", str(later), "--mapping", "qualtrics", "--no-progress", stdout=out
    )
    assert "Read 1 row: 1 created" in out.getvalue()
    item = FeedbackItem.objects.get(external_id="d1")
    assert (item.source, item.kind, item.score) == ("qualtrics", "csat", 2)
    assert item.received_at.isoformat() == "2026-12-01T08:15:00+00:00"
    runs = list(ImportRun.objects.order_by("id").values_list("kind", "mapping_name"))
    assert runs == [("feedback", "qualtrics"), ("feedback", "qualtrics")]

    # Contacts neither see nor use it: the same name is free for a contacts mapping.
    contacts_file = tmp_path / "calls.csv"
    contacts_file.write_text("external_id,channel\nc-1,phone\n")
    with pytest.raises(ImportFailed, match="no mapping file or saved mapping named “qualtrics”"):
        import_file(path=contacts_file, mapping="qualtrics", source="crm")
    ImportMapping.objects.create(
        kind=ImportKind.CONTACTS,
        name="qualtrics",
        config={"columns": {"ID": "external_id"}, "constants": {"channel": "phone"}},
    )
    loaded = mapping_load("qualtrics", schema=FEEDBACK_FIELDS, saved=FEEDBACK_MAPPINGS)
    assert loaded.constants == {"source": "qualtrics"}
    assert ImportMapping.objects.count() == 2


def test_a_saved_mapping_of_another_kind_is_not_offered(tmp_path):
    ImportMapping.objects.create(
        kind=ImportKind.CONTACTS, name="regulator", config={"columns": {"ID": "external_id"}}
    )
    ImportMapping.objects.create(kind=ImportKind.FEEDBACK, name="medallia", config={})
    with pytest.raises(MappingError) as error:
        mapping_load("regulator", schema=FEEDBACK_FIELDS, saved=FEEDBACK_MAPPINGS)
    assert str(error.value) == (
        "the mapping is not valid: no mapping file or saved mapping named “regulator” "
        "(saved mappings: medallia)"
    )


def test_save_mapping_without_a_mapping_is_refused(tmp_path):
    file = tmp_path / "a.csv"
    file.write_text("external_id,kind\n1,review\n")
    with pytest.raises(CommandError, match="--save-mapping needs --mapping"):
        call_command("import_feedback", str(file), "--save-mapping", "x", "--source", "s")
    assert not ImportRun.objects.exists()


GOOD = {
    "columns": {"ID": "external_id", "Type": "kind", "Rating": "score"},
    "constants": {"source": "partner"},
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"reason": {"parent": "Product"}},
            "unknown key “reason” (known keys: columns, values, constants, defaults, "
            "date_format, time_zone, description)",
        ),
        (
            {"columns": {"ID": "external_id", "Type": "kind", "Colour": "colour"}},
            "columns: “Colour” maps to “colour”, which is not a feedback field "
            "(see docs/feedback-items.md: channel, contact_external_id, contact_source, "
            "customer_email, customer_ref, external_id, kind, reason, received_at, score, "
            "source, verbatim)",
        ),
        ({"columns": {"Type": "kind"}}, "columns: no column maps to external_id"),
        (
            {"columns": {"ID": "external_id"}},
            "no column, constant or default gives kind, which every row needs",
        ),
        (
            {"constants": {"source": "x", "verbatim": "Same words"}},
            "constants: verbatim must come from the file",
        ),
        ({"defaults": {"external_id": "1"}}, "defaults: external_id must come from the file"),
        ({"constants": {"source": "x", "kind": "nps"}}, "constants: kind is also mapped"),
        (
            {"values": {"kind": {"Mood": "mood"}}},
            f"values.kind: “Mood” → “mood”: kind must be one of {KINDS}",
        ),
        ({"defaults": {"score": 11}}, "defaults.score: score must be between 0 and 10"),
        ({"defaults": {"score": -1}}, "defaults.score: score must be between 0 and 10"),
        ({"defaults": {"score": "lots"}}, "defaults.score: score must be a whole number"),
        ({"defaults": {"score": True}}, "defaults.score: score must be a whole number"),
        (
            {"defaults": {"channel": "fax"}},
            "defaults.channel: channel must be one of phone, email, chat",
        ),
        ({"date_format": "%H:%M"}, "date_format “%H:%M” must give a year, a month and a day"),
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone “Mars/Olympus_Mons” is not a time"),
    ],
)
def test_a_feedback_mapping_is_checked_with_the_contacts_import_messages(change, message):
    with pytest.raises(MappingError) as error:
        mapping_validate({**GOOD, **change}, schema=FEEDBACK_FIELDS)
    assert message in str(error.value)


@pytest.mark.parametrize("score", [0, 10, "7", " 9 "])
def test_a_score_any_kind_takes_is_a_valid_default(score):
    mapping = mapping_validate({**GOOD, "defaults": {"score": score}}, schema=FEEDBACK_FIELDS)
    assert mapping.defaults == {"score": score}


def test_days_without_a_time_are_received_at_midnight_in_the_mapping_time_zone(tmp_path):
    mapping = tmp_path / "days.json"
    mapping.write_text(
        json.dumps(
            {
                "columns": {"ID": "external_id", "Day": "received_at"},
                "constants": {"source": "paper", "kind": "compliment"},
                "date_format": "%d.%m.%Y",
                "time_zone": "Europe/Berlin",
            }
        )
    )
    file = tmp_path / "cards.csv"
    file.write_text("ID,Day\np1,23.11.2026\np2,2026-11-24\np3,24/11/2026\n")
    summary = feedback_import_file(path=file, mapping=str(mapping), errors_path=tmp_path / "e")
    received = dict(FeedbackItem.objects.values_list("external_id", "received_at"))
    assert {key: value.isoformat() for key, value in received.items()} == {
        "p1": "2026-11-22T23:00:00+00:00",
        "p2": "2026-11-23T23:00:00+00:00",  # ISO 8601 is always read as well
    }
    assert _report(summary.error_report)[1:] == [
        ["4", "received_at (Day)", "is not a date in the format “%d.%m.%Y” or ISO 8601"]
    ]


def test_whole_file_problems_fail_the_import(tmp_path):
    file = tmp_path / "a.csv"
    file.write_text("kind,score\nnps,9\n")
    with pytest.raises(ImportFailed, match=r"the header has no external_id column$"):
        feedback_import_file(path=file, source="s")
    bad_mapping = tmp_path / "m.json"
    bad_mapping.write_text(json.dumps({"columns": {"A": "colour"}}))
    with pytest.raises(ImportFailed, match="not a feedback field"):
        feedback_import_file(path=file, mapping=str(bad_mapping), source="s")
    (tmp_path / "b.csv").write_text("external_id,kind\n1,review\n")
    with pytest.raises(ImportFailed, match=r"the header has no source column \(or give --source"):
        feedback_import_file(path=tmp_path / "b.csv")
    (tmp_path / "c.csv").write_text("id,colour\n1,red\n")
    with pytest.raises(ImportFailed, match="not a header of feedback field names"):
        feedback_import_file(path=tmp_path / "c.csv", source="s")
    with pytest.raises(ImportFailed, match="no mapping file or saved mapping named “nothing”"):
        feedback_import_file(path=tmp_path / "b.csv", mapping="nothing", source="s")
    runs = ImportRun.objects.values_list("kind", "status")
    assert list(runs) == [("feedback", "failed")] * 5


def test_fields_that_are_not_feedback_fields_are_named_once(tmp_path):
    file = tmp_path / "a.ndjson"
    file.write_text(
        '{"external_id": "1", "kind": "review", "colour": "red"}\n'
        '{"external_id": "2", "kind": "review", "colour": "blue", "4111111111111111": 1}\n'
    )
    summary = feedback_import_file(path=file, source="s")
    assert summary.created == 2
    assert summary.warnings == [
        "ignored fields that are not feedback fields: colour and 1 whose name holds digits "
        "or symbols (not repeated here)"
    ]


def test_an_interrupted_import_keeps_its_batches(tmp_path, monkeypatch):
    file = tmp_path / "a.csv"
    file.write_text("external_id,kind\n1,review\n2,review\n3,review\n")
    calls = []

    def interrupted_on_the_second_batch(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_feedback_items_ingest(**kwargs)

    monkeypatch.setattr(feedback_imports, "feedback_items_ingest", interrupted_on_the_second_batch)
    with pytest.raises(ImportInterrupted):
        feedback_import_file(path=file, source="s", batch_size=2)
    run = ImportRun.objects.get()
    # The rows of the batch in hand were read; its items were rolled back.
    assert (run.kind, run.status, run.rows_read, run.created) == ("feedback", "interrupted", 3, 2)
    assert FeedbackItem.objects.count() == 2
    monkeypatch.setattr(feedback_imports, "feedback_items_ingest", real_feedback_items_ingest)
    again = feedback_import_file(path=file, source="s", batch_size=2)
    assert (again.created, again.unchanged) == (1, 2)


def test_each_import_records_its_own_kind(tmp_path):
    contacts_file = tmp_path / "calls.csv"
    contacts_file.write_text("external_id,channel\nc-1,phone\n")
    import_file(path=contacts_file, source="crm")
    feedback_file = tmp_path / "answers.csv"
    feedback_file.write_text("external_id,kind\nf-1,review\n")
    feedback_import_file(path=feedback_file, source="reviews")
    runs = ImportRun.objects.order_by("id").values_list("kind", "file_name", "created")
    assert list(runs) == [
        ("contacts", str(contacts_file), 1),
        ("feedback", str(feedback_file), 1),
    ]


def test_the_command_mirrors_import_contacts(tmp_path, capsys):
    from contacts.management.commands.import_contacts import Command as ContactsCommand
    from feedback.management.commands.import_feedback import Command as FeedbackCommand

    def options(command) -> list[list[str]]:
        parser = command.create_parser("manage.py", "import")
        return [action.option_strings for action in parser._actions]

    assert options(FeedbackCommand()) == options(ContactsCommand())
    file = tmp_path / "a.csv"
    file.write_text("external_id,kind,score\n1,nps,9\n2,nps,x\n")
    call_command("import_feedback", str(file), "--source", "s", "--errors", str(tmp_path / "e"))
    out = capsys.readouterr().out
    assert "Read 2 rows: 1 created, 0 updated, 0 unchanged, 1 rejected" in out
    assert f"Recorded as import run {ImportRun.objects.get().pk}." in out
    with pytest.raises(CommandError):
        call_command("import_feedback", str(tmp_path / "missing.csv"), "--source", "s")


@pytest.mark.parametrize(
    ("size", "accepted"), [(0, False), (1, True), (10_000, True), (10_001, False)]
)
def test_the_batch_size_is_between_1_and_10000(tmp_path, size, accepted):
    file = tmp_path / "a.csv"
    file.write_text("external_id,kind\n1,review\n")
    arguments = ["import_feedback", str(file), "--source", "s", "--batch-size", str(size)]
    if accepted:
        call_command(*arguments, stdout=io.StringIO())
        assert FeedbackItem.objects.count() == 1
    else:
        with pytest.raises(CommandError, match="--batch-size must be between 1 and 10000"):
            call_command(*arguments)
        assert not ImportRun.objects.exists()


@pytest.mark.parametrize(
    ("role", "status"),
    [("rep", 403), ("manager", 403), ("executive", 403), ("admin", 200), ("anonymous", 302)],
)
def test_admins_find_feedback_runs_and_mappings_by_kind_in_the_admin(client, cast, role, status):
    """Runs and saved mappings of both imports are read where contacts' always were, by the
    same role only: admins."""
    ImportRun.objects.create(kind=ImportKind.CONTACTS, file_name="/data/calls-<b>.csv")
    ImportRun.objects.create(kind=ImportKind.FEEDBACK, file_name="/data/answers-<i>.csv")
    ImportMapping.objects.create(kind=ImportKind.CONTACTS, name="regulator", config={})
    ImportMapping.objects.create(kind=ImportKind.FEEDBACK, name="qualtrics", config={})
    if role != "anonymous":
        client.force_login(getattr(cast, role))
    runs = client.get(reverse("admin:contacts_importrun_changelist"), {"kind": "feedback"})
    mappings = client.get(reverse("admin:contacts_importmapping_changelist"), {"kind": "feedback"})
    assert (runs.status_code, mappings.status_code) == (status, status)
    if status != 200:
        return
    page = runs.content.decode()
    assert "/data/answers-&lt;i&gt;.csv" in page and "calls-" not in page
    assert "Feedback items" in page  # the kind column and filter
    page = mappings.content.decode()
    assert "qualtrics" in page and "regulator" not in page
