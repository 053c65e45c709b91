import contextlib
import csv
import gzip
import inspect
import io
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import OperationalError
from django.db.models import F
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from contacts.ingest import imports
from contacts.ingest.imports import CONTACT_MAPPINGS, import_file
from contacts.ingest.mapping import CONTACT_FIELDS
from contacts.ingest.records import FIELDS, ParseOptions, RowError, parse_row
from contacts.ingest.service import contacts_ingest as real_contacts_ingest
from contacts.models import (
    Contact,
    ContactReason,
    ContactRollup,
    Customer,
    ImportMapping,
    ImportRun,
    Message,
)
from voc.core.imports import files
from voc.core.imports.files import FIELD_LIMIT, FORMATS, FileError, FileRow, read_rows
from voc.core.imports.mapper import RowMapper
from voc.core.imports.mapping import MappingError, mapping_load, mapping_validate
from voc.core.imports.runner import ImportFailed, ImportInterrupted

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
REGULATOR_MAPPING = Path(settings.BASE_DIR) / "docs" / "mappings" / "regulator-complaints.toml"
NEW_YORK = ZoneInfo("America/New_York")
HEADER = "source,external_id,channel,occurred_at,customer_email,text\n"


@pytest.fixture
def reasons(cast):
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a)
    return {
        "double": ContactReason.objects.create(
            name="Double charge", parent=billing, department=cast.dept_a
        ),
        "outage": ContactReason.objects.create(name="Outage", department=cast.dept_b),
    }


@pytest.fixture
def no_sentiment_tasks(monkeypatch):
    """Committed batches would queue sentiment tasks on the test broker; these tests are about
    the import, not the worker."""
    monkeypatch.setattr("contacts.queue.enqueue_sentiment", lambda ids: None)


def fixture_copy(name: str, folder: Path) -> Path:
    """A copy in tmp_path, so the error report written next to it stays out of the repo."""
    return Path(shutil.copy(FIXTURES / name, folder / name))


def write(folder: Path, name: str, content: str | bytes) -> Path:
    path = folder / name
    if isinstance(content, str):
        content = content.encode()
    path.write_bytes(content)
    return path


def numbered_csv(folder: Path, count: int, *, name: str = "numbered.csv", start: int = 1) -> Path:
    lines = [HEADER] + [
        f"crm,ticket-{n},email,2026-11-0{1 + n % 7}T10:00:00Z,c{n % 3}@example.com,Ticket {n}\n"
        for n in range(start, start + count)
    ]
    return write(folder, name, "".join(lines))


def report_rows(summary) -> list[tuple[int, str, str]]:
    with summary.error_report.open(newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["line", "field", "reason"]
    return [(int(line), field, reason) for line, field, reason in rows[1:]]


def assert_rollups_match_rebuild():
    out = io.StringIO()
    call_command("rebuild_rollups", "--check", stdout=out)
    assert "match a rebuild" in out.getvalue()


# --- Files in VoC's own field names ---------------------------------------------------------


def test_a_csv_in_voc_field_names_needs_no_mapping(cast, reasons, tmp_path):
    path = fixture_copy("voc-contacts.csv", tmp_path)

    summary = import_file(path=path, started_by="ops")

    assert summary.counts() == {
        "read": 4,
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
    }
    assert summary.warnings == ["ignored fields that are not VoC fields: colour"]
    first = Contact.objects.get(source="genesys", external_id="call-1")
    assert first.reason == reasons["double"]
    assert first.tags == ["billing", "repeat"]
    assert (first.handle_seconds, first.outcome, first.road) == (300, "resolved", 2)
    assert first.customer.phone == "+14155550101"
    second = Contact.objects.get(external_id="call-2")
    assert (
        second.messages.get().text
        == "The line has been dead since Sunday.\nThe engineer never came."
    )
    third = Contact.objects.get(external_id="call-3")
    assert third.customer == first.customer  # matched on customer_ref
    assert third.occurred_at == datetime(2026, 11, 2, 10, 0, tzinfo=UTC)
    fourth = Contact.objects.get(external_id="call-4")
    assert fourth.messages.get().direction == Message.Direction.OUTGOING

    run = ImportRun.objects.get()
    assert (run.status, run.started_by, run.file_name) == ("finished", "ops", str(path))
    assert (run.rows_read, run.created, run.rejected) == (4, 4, 0)
    assert run.duration is not None
    assert run.error_report == "" and summary.error_report is None
    assert not (tmp_path / "voc-contacts.csv.errors.csv").exists()  # nothing rejected
    assert_rollups_match_rebuild()


def test_an_ndjson_file_may_carry_messages(cast, reasons, tmp_path):
    path = fixture_copy("voc-contacts.ndjson", tmp_path)

    summary = import_file(path=path)

    assert summary.counts() == {
        "read": 3,
        "created": 3,
        "updated": 0,
        "unchanged": 0,
        "rejected": 0,
    }
    assert summary.warnings == ["ignored fields that are not VoC fields: priority"]
    ticket = Contact.objects.get(source="zendesk", external_id="t-100")
    assert ticket.reason == reasons["double"]
    assert list(ticket.messages.values_list("direction", "author", "text")) == [
        ("incoming", "Ada", "Still charged twice."),
        ("outgoing", "Sam", "Refund sent today."),
    ]
    assert Contact.objects.get(external_id="t-101").first_contact_resolution is True


def test_a_gzip_compressed_file_is_read_as_well(cast, reasons, tmp_path):
    path = tmp_path / "contacts.csv.gz"
    path.write_bytes(gzip.compress((FIXTURES / "voc-contacts.csv").read_bytes()))

    summary = import_file(path=path)

    assert summary.created == 4
    assert Message.objects.filter(text__startswith="The line has been dead").exists()


def test_the_format_comes_from_the_flag_when_the_extension_says_nothing(cast, tmp_path):
    path = write(tmp_path, "export.txt", (FIXTURES / "voc-contacts.ndjson").read_text())
    with pytest.raises(ImportFailed, match="give --format csv or --format ndjson"):
        import_file(path=path)
    assert import_file(path=path, file_format="ndjson").rows_read == 3


def test_occurred_at_defaults_to_the_time_of_the_import(cast, tmp_path):
    path = write(tmp_path, "no-dates.csv", "external_id,channel,text\nw-1,web_form,Hello\n")
    now = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    with time_machine.travel(now, tick=False):
        summary = import_file(path=path, source="website")
    assert summary.created == 1
    assert Contact.objects.get().occurred_at == now
    assert Contact.objects.get().source == "website"


def test_source_from_the_command_line_wins_over_the_file(cast, reasons, tmp_path):
    import_file(path=fixture_copy("voc-contacts.csv", tmp_path), source="legacy-pbx")
    assert set(Contact.objects.values_list("source", flat=True)) == {"legacy-pbx"}


# --- A regulator's export through a mapping -------------------------------------------------


def test_a_regulator_export_imports_through_its_mapping(cast, tmp_path):
    credit_card = ContactReason.objects.create(name="Credit card", department=cast.dept_a)
    fees = ContactReason.objects.create(name="Fees or interest", parent=credit_card)
    path = fixture_copy("regulator-complaints.csv", tmp_path)

    summary = import_file(path=path, mapping=str(REGULATOR_MAPPING))

    assert summary.counts() == {
        "read": 15,
        "created": 13,
        "updated": 0,
        "unchanged": 0,
        "rejected": 2,
    }
    complaints = {c.external_id: c for c in Contact.objects.filter(source="regulator")}
    assert len(complaints) == 13
    channels = {ref: c.channel for ref, c in complaints.items()}
    assert channels["7001001"] == "web_form"
    assert channels["7001002"] == "phone"
    assert channels["7001004"] == "letter"
    assert channels["7001005"] == "email"
    assert channels["7001008"] == "other"  # Referral
    assert channels["7001013"] == "other"  # not in the value map: "*"
    # Reasons: Product › Issue, the existing ones reused, the missing ones created.
    assert complaints["7001012"].reason == fees
    assert complaints["7001010"].reason == fees
    purchase = complaints["7001001"].reason
    assert (purchase.parent, purchase.name) == (
        credit_card,
        "Problem with a purchase shown on your statement",
    )
    account = complaints["7001003"].reason
    assert (account.parent.name, account.name) == (
        "Checking or savings account",
        "Managing an account",
    )
    assert complaints["7001015"].reason.parent == account.parent
    assert complaints["7001001"].subject.startswith("Credit card company isn't resolving")
    assert (complaints["7001005"].outcome, complaints["7001008"].outcome) == ("open", "unresolved")
    # Dates in each of the mapping's formats and ISO: days without a time, kept as days (noon
    # UTC, flagged), whatever the mapping's or the reporting time zone.
    assert complaints["7001001"].occurred_at == datetime(2023, 3, 1, 12, tzinfo=UTC)
    assert complaints["7001003"].occurred_at == datetime(2023, 3, 2, 12, tzinfo=UTC)
    assert complaints["7001004"].occurred_at == datetime(2023, 3, 2, 12, tzinfo=UTC)
    assert all(c.occurred_date_only for c in complaints.values())
    # Redaction before storage; other text stored as written (it is escaped on output).
    card = complaints["7001004"].messages.get().text
    assert "[card number redacted]" in card and "4111" not in card
    assert not Message.objects.filter(text__contains="1111 1111").exists()
    assert complaints["7001005"].messages.get().text.startswith("<script>alert('xss')</script>")
    assert not complaints["7001002"].messages.exists()  # no narrative

    # The multi-line narrative on lines 4-6 does not shift the line numbers that follow.
    assert report_rows(summary) == [
        (
            9,
            "occurred_at (Date received)",
            "is not a date in the format “%m/%d/%y” or “%m/%d/%Y” or ISO 8601",
        ),
        (10, "external_id (Complaint ID)", "is required"),
    ]
    assert summary.error_report == tmp_path / "regulator-complaints.csv.errors.csv"
    assert "yesterday" not in summary.error_report.read_text()
    run = ImportRun.objects.get()
    assert (run.mapping_name, run.rejected) == ("regulator-complaints.toml", 2)
    assert run.error_report == str(summary.error_report)
    assert_rollups_match_rebuild()


def test_importing_the_same_file_again_creates_and_changes_nothing(cast, tmp_path):
    path = fixture_copy("regulator-complaints.csv", tmp_path)
    import_file(path=path, mapping=str(REGULATOR_MAPPING))
    counts = (Contact.objects.count(), Message.objects.count(), ContactReason.objects.count())

    again = import_file(path=path, mapping=str(REGULATOR_MAPPING))

    assert again.counts() == {
        "read": 15,
        "created": 0,
        "updated": 0,
        "unchanged": 13,
        "rejected": 2,
    }
    assert (
        Contact.objects.count(),
        Message.objects.count(),
        ContactReason.objects.count(),
    ) == counts
    assert_rollups_match_rebuild()


def test_a_row_repeated_in_one_batch_names_the_line_of_the_first(cast, tmp_path):
    path = write(
        tmp_path,
        "twice.csv",
        HEADER
        + "crm,t-1,email,2026-11-01T10:00:00Z,,One\n\ncrm,t-1,email,2026-11-01T10:00:00Z,,Two\n",
    )
    summary = import_file(path=path)
    assert summary.created == 1
    assert report_rows(summary) == [(4, "external_id", "repeats the contact of line 2")]


# --- Batches, streaming and interruptions ---------------------------------------------------


def test_rows_are_ingested_in_batches_while_the_file_is_read(cast, tmp_path, monkeypatch):
    path = numbered_csv(tmp_path, 10)
    batches = []

    def spy(*, rows, **kwargs):
        batches.append(len(rows))
        return real_contacts_ingest(rows=rows, **kwargs)

    monkeypatch.setattr(imports, "contacts_ingest", spy)

    summary = import_file(path=path, batch_size=2)

    assert batches == [2, 2, 2, 2, 2]
    assert summary.created == 10


def test_the_reader_streams_and_holds_one_row_at_a_time(tmp_path):
    path = numbered_csv(tmp_path, 3000)
    size = path.stat().st_size
    with path.open("rb") as stream:
        rows = iter(read_rows(stream, file_format="csv"))
        assert inspect.isgenerator(rows)
        assert next(rows).values["external_id"] == "ticket-1"
        # After one row only a buffer's worth of the file has been read, not the file.
        assert stream.tell() < size / 4
        assert next(rows).line == 3
        assert sum(1 for _ in rows) == 2998


def test_a_line_over_the_limit_is_skipped_unread_and_rejected(cast, tmp_path, monkeypatch):
    monkeypatch.setattr(files, "LINE_LIMIT", 200)
    long = "z" * 1000
    path = write(
        tmp_path,
        "long-lines.csv",
        HEADER
        + "crm,l-1,email,2026-11-01T10:00:00Z,,short\n"
        + f"crm,l-2,email,2026-11-01T10:00:00Z,,{long}\n"
        + f'crm,l-3,email,2026-11-01T10:00:00Z,,"first line\n{long}\nlast line"\n'
        + "crm,l-4,email,2026-11-01T10:00:00Z,,short again\n",
    )
    summary = import_file(path=path)
    assert sorted(Contact.objects.values_list("external_id", flat=True)) == ["l-1", "l-4"]
    assert report_rows(summary) == [
        (3, "row", "is longer than 200 characters"),
        (4, "row", "is longer than 200 characters"),
    ]

    lines = [
        json.dumps({"source": "crm", "external_id": f"n-{n}", "channel": "chat"}) for n in (1, 3)
    ]
    path = write(tmp_path, "long.ndjson", f"{lines[0]}\n{long}\n{lines[1]}\n")
    summary = import_file(path=path)
    assert summary.created == 2
    assert report_rows(summary) == [(2, "row", "is longer than 200 characters")]


def test_progress_follows_the_bytes_read(cast, tmp_path):
    path = numbered_csv(tmp_path, 3000)
    positions = []

    import_file(path=path, batch_size=500, progress=positions.append)

    assert len(positions) == 7  # six batches and the final flush
    assert positions == sorted(positions)
    assert positions[0] < path.stat().st_size / 2
    assert positions[-1] == path.stat().st_size


@pytest.mark.django_db(transaction=True)
def test_an_interrupted_import_keeps_its_batches_and_a_rerun_finishes_it(
    tmp_path, monkeypatch, no_sentiment_tasks
):
    path = numbered_csv(tmp_path, 10)
    calls = []

    def interrupted_on_the_second_batch(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_contacts_ingest(**kwargs)

    monkeypatch.setattr(imports, "contacts_ingest", interrupted_on_the_second_batch)
    with pytest.raises(ImportInterrupted) as interrupted:
        import_file(path=path, batch_size=4)

    assert interrupted.value.summary.created == 4
    run = ImportRun.objects.get()
    assert (run.status, run.created, run.finished_at is not None) == ("interrupted", 4, True)
    assert Contact.objects.count() == 4  # batch 1 committed, batch 2 rolled back

    monkeypatch.setattr(imports, "contacts_ingest", real_contacts_ingest)
    rerun = import_file(path=path, batch_size=4)

    assert (rerun.created, rerun.unchanged) == (6, 4)
    assert Contact.objects.count() == 10
    assert Contact.objects.values("source", "external_id").distinct().count() == 10
    assert ImportRun.objects.filter(status="finished").count() == 1
    assert_rollups_match_rebuild()


@pytest.mark.django_db(transaction=True)
def test_a_failure_half_way_is_recorded_and_raised(tmp_path, monkeypatch, no_sentiment_tasks):
    path = numbered_csv(tmp_path, 6)
    calls = []

    def broken_on_the_second_batch(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real_contacts_ingest(**kwargs)

    monkeypatch.setattr(imports, "contacts_ingest", broken_on_the_second_batch)
    with pytest.raises(RuntimeError):
        import_file(path=path, batch_size=3)

    run = ImportRun.objects.get()
    assert (run.status, run.created) == ("failed", 3)
    assert run.error == "RuntimeError: the database went away"
    assert Contact.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_lost_database_connection_says_to_run_the_import_again(
    tmp_path, monkeypatch, no_sentiment_tasks
):
    path = numbered_csv(tmp_path, 6)
    calls = []

    def connection_lost_on_the_second_batch(**kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("server closed the connection unexpectedly\nmore detail")
        return real_contacts_ingest(**kwargs)

    monkeypatch.setattr(imports, "contacts_ingest", connection_lost_on_the_second_batch)
    out = io.StringIO()
    with pytest.raises(CommandError) as error:
        call_command("import_contacts", str(path), "--batch-size", "3", stdout=out)

    expected = (
        "the database failed during the import (OperationalError: server closed the "
        "connection unexpectedly); the batches committed before it are kept: run the same "
        "command again to finish (nothing is imported twice)"
    )
    assert str(error.value) == f"{path}: {expected}"
    assert error.value.returncode == 1
    assert "Failed after reading 6 rows: 3 created" in out.getvalue()
    run = ImportRun.objects.get()
    assert (run.status, run.created, run.error) == ("failed", 3, expected)

    monkeypatch.setattr(imports, "contacts_ingest", real_contacts_ingest)
    call_command("import_contacts", str(path), "--batch-size", "3", stdout=out)
    assert Contact.objects.values("source", "external_id").distinct().count() == 6
    assert Contact.objects.count() == 6


def test_the_command_reports_an_interruption_and_exits_130(cast, tmp_path, monkeypatch):
    path = numbered_csv(tmp_path, 4)

    def interrupt(**kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(imports, "contacts_ingest", interrupt)
    out = io.StringIO()
    with pytest.raises(CommandError, match="run the same command again") as error:
        call_command("import_contacts", str(path), "--no-progress", stdout=out)
    assert error.value.returncode == 130
    assert "Interrupted after reading 4 rows: 0 created" in out.getvalue()
    assert ImportRun.objects.get().status == "interrupted"


# --- Malformed input ------------------------------------------------------------------------

SECRET = "4111 1111 1111 1111"


def test_the_error_report_never_contains_the_rejected_values(cast, tmp_path):
    rows = [
        {"source": "crm", "external_id": "ok-1", "channel": "email", "text": "fine"},
        {"source": "crm", "external_id": "bad-1", "channel": SECRET},
        {"source": "crm", "external_id": "bad-2", "channel": "email", "customer_email": SECRET},
        {"source": "crm", "external_id": "bad-3", "channel": "email", "occurred_at": SECRET},
        {"source": "crm", "external_id": "bad-4", "channel": "email", "handle_seconds": SECRET},
        {"source": "crm", "external_id": "bad-5", "channel": "email", "customer_phone": SECRET},
        {"source": "crm", "external_id": "bad-6", "channel": "email", "road": SECRET},
        {"source": "crm", "external_id": "bad-7", "channel": "email", "rep": SECRET},
        {"source": "crm", "external_id": "bad-8", "channel": "email", "outcome": SECRET},
        {"source": "crm", "external_id": "bad-9", "channel": "email", "tags": {SECRET: 1}},
        {"source": "crm", "external_id": "bad-10", "channel": "email", "messages": [SECRET]},
        {"source": "crm", "external_id": SECRET, "channel": "email", "reason": "x › y › " + SECRET},
    ]
    path = write(tmp_path, "secrets.ndjson", "\n".join(json.dumps(row) for row in rows) + "\n")
    out = io.StringIO()

    call_command("import_contacts", str(path), "--no-progress", stdout=out, stderr=out)

    report = (tmp_path / "secrets.ndjson.errors.csv").read_text()
    assert len(report.splitlines()) == 1 + 11
    digits = SECRET.replace(" ", "")
    for text in (report, out.getvalue(), *ImportRun.objects.values_list("error", flat=True)):
        assert "4111" not in text and digits not in text
    assert Contact.objects.count() == 1


def test_bytes_that_are_not_valid_in_the_encoding_reject_only_their_row(cast, tmp_path):
    content = (
        HEADER.encode()
        + b"crm,e-1,email,2026-11-01T10:00:00Z,,caf\xc3\xa9\n"
        + b"crm,e-2,email,2026-11-01T10:00:00Z,,caf\xe9 latin-1\n"
        + b"crm,e-3,email,2026-11-01T10:00:00Z,,plain\n"
    )
    path = write(tmp_path, "mixed.csv", content)

    summary = import_file(path=path)

    assert summary.created == 2
    assert report_rows(summary) == [(3, "text", "is not valid utf-8")]
    assert Message.objects.get(contact__external_id="e-1").text == "café"
    # The same file read as latin-1 is all valid (if not all as meant).
    assert import_file(path=path, encoding="latin-1").rejected == 0


def test_an_unknown_encoding_fails_the_file(cast, tmp_path):
    path = numbered_csv(tmp_path, 1)
    with pytest.raises(ImportFailed, match="unknown encoding 'klingon'"):
        import_file(path=path, encoding="klingon")
    with pytest.raises(ImportFailed, match="not a text encoding"):
        import_file(path=path, encoding="base64")


def test_a_byte_order_mark_is_no_part_of_the_header(cast, tmp_path):
    text = HEADER + "crm,b-1,email,2026-11-01T10:00:00Z,,Hello\n"
    with_bom = write(tmp_path, "bom.csv", "\ufeff" + text)
    assert import_file(path=with_bom).created == 1
    utf16 = write(tmp_path, "utf16.csv", text.replace("b-1", "b-2").encode("utf-16"))
    assert import_file(path=utf16, encoding="utf-16").created == 1


def test_fields_too_long_nul_bytes_and_missing_values_are_rejected_rows(cast, tmp_path):
    huge = "x" * (FIELD_LIMIT + 1)
    long_text = "y" * 100_001
    content = (
        HEADER
        + f'crm,h-1,email,2026-11-01T10:00:00Z,,"{huge}"\n'
        + f"crm,h-2,email,2026-11-01T10:00:00Z,,{long_text}\n"
        + "crm,h-3,email,2026-11-01T10:00:00Z,,nul \x00 byte\n"
        + "crm,h-4,,2026-11-01T10:00:00Z,,no channel\n"
        + "crm,,email,2026-11-01T10:00:00Z,,no id\n"
        + "crm,h-6,email,2026-11-01T10:00:00Z,new@example.com,one value too many,x\n"
        + "crm,h-7,email,2026-11-01T10:00:00Z,,fine\n"
        + 'crm,h-8,email,2026-11-01T10:00:00Z,,"never closed\n'
    )
    path = write(tmp_path, "malformed.csv", content)

    summary = import_file(path=path)

    assert summary.created == 1
    assert report_rows(summary) == [
        (2, "text", f"is longer than {FIELD_LIMIT:,} characters"),
        (3, "messages[0].text", "is longer than 100000 characters"),
        (4, "messages[0].text", "contains a NUL character"),
        (5, "channel", "is required"),
        (6, "external_id", "is required"),
        (7, "row", "has 7 values; the header has 6 columns"),
        (9, "row", "is not valid CSV: unexpected end of data"),
    ]
    assert not Customer.objects.exists()  # nothing of a rejected row is stored


def test_wrong_types_and_broken_json_lines_are_rejected_rows(cast, tmp_path):
    base = {"source": "crm", "channel": "chat", "occurred_at": "2026-11-01T10:00:00Z"}
    lines = [
        json.dumps({**base, "external_id": "j-1", "handle_seconds": "soon"}),
        json.dumps({**base, "external_id": "j-2", "tags": 5}),
        json.dumps({**base, "external_id": "j-3", "messages": "hello"}),
        json.dumps({**base, "external_id": "j-4", "first_contact_resolution": "maybe"}),
        '{"source": "crm", "external_id": "j-5",',
        json.dumps([base]),
        "[" * 100_000 + "]" * 100_000,
        '{"source": "crm", "external_id": "j-8", "channel": "chat", "text": "\\udc00"}',
        '{"source": "crm", "external_id": "j-9", "channel": "chat", "handle_seconds": NaN}',
        json.dumps({**base, "external_id": "j-10", "customer_email": "new@example.com"}),
    ]
    path = write(tmp_path, "broken.ndjson", "\n".join(lines) + "\n")

    summary = import_file(path=path)

    assert summary.created == 1
    rejected = report_rows(summary)
    assert rejected[:4] == [
        (1, "handle_seconds", "must be a whole number"),
        (2, "tags", "must be a list of text or comma-separated text"),
        (3, "messages", "must be a list"),
        (4, "first_contact_resolution", "must be true or false"),
    ]
    assert [(line, field) for line, field, _ in rejected[4:]] == [
        (5, "row"),
        (6, "row"),
        (7, "row"),
        (8, "messages[0].text"),  # parse_row's name for the text of a row without messages
        (9, "row"),
    ]
    assert rejected[4][2].startswith("is not valid JSON")
    assert rejected[5][2] == "must be a JSON object"


def test_a_lone_surrogate_escape_is_a_rejected_row_with_its_field_and_line(cast, tmp_path):
    base = {"source": "crm", "channel": "chat", "occurred_at": "2026-11-01T10:00:00Z"}
    bad = "4111 1111 1111 1111 \ud800"  # json.dumps writes the surrogate as a \\ud800 escape
    lines = [
        json.dumps({**base, "external_id": "s-1", "text": "fine"}),
        json.dumps({**base, "external_id": "s-2", "tags": ["vip", bad]}),
        "",
        json.dumps({**base, "external_id": "s-4", "reason": f"Billing › {bad}"}),
        json.dumps({**base, "external_id": "s-5", "messages": [{"text": "hi"}, {"text": bad}]}),
        json.dumps({**base, "external_id": "s-6", "tags": "vip, 😀"}),  # a pair escape: text
        json.dumps({**base, "external_id": "s-7", "crm_note": bad}),  # ignored, yet not text
        json.dumps({**base, "external_id": "s-8", "\udc00": "x"}),  # a name that isn't text
    ]
    body = "\n".join(lines) + "\n"
    assert "\\ud800" in body and "\\ud83d\\ude00" in body
    path = write(tmp_path, "surrogates.ndjson", body)

    summary = import_file(path=path)

    assert summary.created == 2
    not_text = "contains an unpaired surrogate (\\ud800-\\udfff), which is not text"
    not_unicode = "contains a character that is not valid Unicode"
    assert report_rows(summary) == [
        (2, "tags", not_text),
        (4, "reason", not_text),
        (5, "messages[1].text", not_text),
        (7, "row", not_unicode),
        (8, "row", not_unicode),
    ]
    assert "4111" not in summary.error_report.read_text(encoding="utf-8")
    assert set(Contact.objects.values_list("external_id", flat=True)) == {"s-1", "s-6"}
    assert Contact.objects.get(external_id="s-6").tags == ["vip", "😀"]


def test_a_csv_without_a_header_or_without_anything_fails_the_file(cast, tmp_path):
    headless = write(tmp_path, "headless.csv", "crm,x-1,email,2026-11-01T10:00:00Z,,Hello\n")
    with pytest.raises(ImportFailed, match="the first row is not a header of VoC field names"):
        import_file(path=headless)
    empty = write(tmp_path, "empty.csv", "")
    with pytest.raises(ImportFailed, match="the file is empty"):
        import_file(path=empty)
    no_id = write(tmp_path, "no-id.csv", "source,channel,text\ncrm,email,Hello\n")
    with pytest.raises(ImportFailed, match="the header has no external_id column"):
        import_file(path=no_id)
    no_source = write(tmp_path, "no-source.csv", "external_id,channel\nx-1,email\n")
    with pytest.raises(ImportFailed, match=r"no source column \(or give --source\)"):
        import_file(path=no_source)
    messages = write(tmp_path, "messages.csv", "source,external_id,channel,messages\n")
    with pytest.raises(ImportFailed, match="only possible in NDJSON"):
        import_file(path=messages)
    assert list(ImportRun.objects.values_list("status", flat=True)) == ["failed"] * 5
    assert not Contact.objects.exists()


def test_an_empty_ndjson_file_is_an_import_of_nothing(cast, tmp_path):
    summary = import_file(path=write(tmp_path, "nothing.ndjson", "\n\n"))
    assert summary.counts()["read"] == 0
    assert ImportRun.objects.get().status == "finished"


def test_an_unreadable_file_fails_with_exit_code_1(cast, tmp_path):
    with pytest.raises(CommandError, match="cannot be opened") as error:
        call_command("import_contacts", str(tmp_path / "missing.csv"), "--no-progress")
    assert error.value.returncode == 1
    run = ImportRun.objects.get()
    assert run.status == "failed" and "cannot be opened" in run.error


def test_the_report_goes_to_var_when_the_files_folder_is_read_only(
    cast, tmp_path, monkeypatch, settings
):
    settings.VAR_DIR = tmp_path / "var"
    path = write(tmp_path, "ro.csv", HEADER + "crm,r-1,pigeon,2026-11-01T10:00:00Z,,Hi\n")
    monkeypatch.setattr("voc.core.imports.report.os.access", lambda folder, mode: False)

    summary = import_file(path=path)

    run = ImportRun.objects.get()
    assert summary.error_report == tmp_path / "var" / "imports" / f"ro.csv.run-{run.pk}.errors.csv"
    assert report_rows(summary) == [
        (
            2,
            "channel",
            "must be one of phone, email, chat, social, web_form, letter, walk_in, other",
        )
    ]
    assert run.error_report == str(summary.error_report)


def test_the_command_prints_a_summary_and_where_the_report_is(cast, tmp_path):
    path = fixture_copy("regulator-complaints.csv", tmp_path)
    out = io.StringIO()
    call_command(
        "import_contacts",
        str(path),
        "--mapping",
        str(REGULATOR_MAPPING),
        "--no-progress",
        "--user",
        "alice",
        "--errors",
        str(tmp_path / "report.csv"),
        stdout=out,
    )
    output = out.getvalue()
    assert "Read 15 rows: 13 created, 0 updated, 0 unchanged, 2 rejected" in output
    assert f"listed in {tmp_path / 'report.csv'}" in output
    assert ImportRun.objects.get().started_by == "alice"


# --- Mappings -------------------------------------------------------------------------------

GOOD = {
    "columns": {"ID": "external_id", "Via": "channel", "When": "occurred_at"},
    "constants": {"source": "partner"},
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"columns": {"ID": "complaint_id", "Via": "channel"}},
            "“ID” maps to “complaint_id”, which is not a VoC field",
        ),
        ({"colour": "blue"}, "unknown key “colour”"),
        (
            {"time_zone": "Mars/Olympus_Mons"},
            "time_zone “Mars/Olympus_Mons” is not a time zone name",
        ),
        ({"date_format": "%Q-%m"}, "date_format “%Q-%m” is not a valid format"),
        ({"date_format": "%H:%M"}, "date_format “%H:%M” must give a year, a month and a day"),
        ({"date_format": "03/05/2023"}, "has no % directives"),
        (
            {"values": {"channel": {"Fax": "fax"}}},
            "values.channel: “Fax” → “fax”: channel must be one of",
        ),
        ({"values": {"outcome": {"Closed": "resolved"}}}, "values: no column maps to outcome"),
        (
            {"constants": {"source": "partner", "channel": "phone"}},
            "constants: channel is also mapped",
        ),
        (
            {"constants": {"source": "x", "external_id": "1"}},
            "constants: external_id must come from the file",
        ),
        (
            {"defaults": {"handle_seconds": "long"}},
            "defaults.handle_seconds: handle_seconds must be a whole number",
        ),
        ({"reason": {"parent": "Product", "kid": "Issue"}}, "reason: unknown key “kid”"),
        (
            {"reason": {"create_missing": True}},
            "reason: give a parent column, a child column or both",
        ),
        (
            {"columns": {"ID": "external_id", "A": "channel", "B": "channel"}},
            "“A” and “B” both map to channel",
        ),
        ({"columns": {"Via": "channel"}}, "no column maps to external_id"),
    ],
)
def test_a_mapping_is_validated_with_clear_errors(change, message):
    with pytest.raises(MappingError) as error:
        mapping_validate({**GOOD, **change}, schema=CONTACT_FIELDS)
    assert message in str(error.value)


def test_every_problem_of_a_mapping_is_reported_at_once():
    with pytest.raises(MappingError) as error:
        mapping_validate(
            {**GOOD, "colour": 1, "time_zone": "Nowhere/Town", "date_format": "%Q"},
            schema=CONTACT_FIELDS,
        )
    assert len(error.value.problems) == 3


def test_a_bad_mapping_fails_the_import_before_any_row_is_read(cast, tmp_path, monkeypatch):
    path = fixture_copy("regulator-complaints.csv", tmp_path)
    mapping = write(tmp_path, "bad.json", json.dumps({**GOOD, "time_zone": "Nowhere/Town"}))
    monkeypatch.setattr(imports, "read_rows", None)  # reading rows would fail differently

    with pytest.raises(CommandError, match="time_zone “Nowhere/Town”") as error:
        call_command("import_contacts", str(path), "--mapping", str(mapping), "--no-progress")

    assert error.value.returncode == 1
    run = ImportRun.objects.get()
    assert (run.status, run.rows_read, run.mapping_name) == ("failed", 0, "bad.json")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("broken.toml", "[columns\n", "is not valid TOML"),
        ("broken.json", '{"columns": ', "is not valid JSON"),
        ("list.json", "[1, 2]", "a mapping is an object"),
    ],
)
def test_a_mapping_file_that_does_not_parse_says_so(tmp_path, name, content, message):
    with pytest.raises(MappingError, match=message):
        mapping_load(
            str(write(tmp_path, name, content)), schema=CONTACT_FIELDS, saved=CONTACT_MAPPINGS
        )


def test_a_mapping_that_is_neither_a_file_nor_saved_says_so(cast):
    ImportMapping.objects.create(name="partner", config=GOOD)
    with pytest.raises(MappingError, match="no mapping file or saved mapping named “regulator”"):
        mapping_load("regulator", schema=CONTACT_FIELDS, saved=CONTACT_MAPPINGS)


def test_a_mapping_whose_columns_are_not_in_the_file_fails_the_file(cast, tmp_path):
    path = fixture_copy("voc-contacts.csv", tmp_path)
    with pytest.raises(ImportFailed, match="the header has no column “Complaint ID”"):
        import_file(path=path, mapping=str(REGULATOR_MAPPING))


def test_a_mapping_can_be_saved_and_reused_by_name(cast, tmp_path):
    first = fixture_copy("regulator-complaints.csv", tmp_path)
    call_command(
        "import_contacts",
        str(first),
        "--mapping",
        str(REGULATOR_MAPPING),
        "--save-mapping",
        "regulator",
        "--no-progress",
        stdout=io.StringIO(),
    )
    saved = ImportMapping.objects.get(name="regulator")
    assert saved.config["constants"]["source"] == "regulator"

    header = first.read_text().splitlines()[0]
    later = write(
        tmp_path,
        "april.csv",
        header + "\n04/02/23,Credit card,,Fees or interest,,Late fee again.,Northwind Bank,"
        "NY,10001,Postal mail,In progress,Yes,N/A,7002001\n",
    )
    summary = import_file(path=later, mapping="regulator")

    assert summary.created == 1
    assert Contact.objects.get(external_id="7002001").channel == "letter"
    assert ImportRun.objects.order_by("id").last().mapping_name == "regulator"


def test_a_value_map_ignores_case_and_spaces_and_defaults_fill_gaps(cast, tmp_path):
    mapping = mapping_validate(
        {
            "columns": {"ID": "external_id", "Via": "channel", "Team": "team"},
            "values": {"channel": {"Live Chat": "chat"}},
            "constants": {"source": "partner"},
            "defaults": {"channel": "other", "team": cast.team_a.name},
        },
        schema=CONTACT_FIELDS,
        name="inline",
    )
    path = write(tmp_path, "partner.csv", "ID,Via,Team\np-1,  live chat ,\np-2,,\n")

    import_file(path=path, mapping=mapping)

    assert dict(Contact.objects.values_list("external_id", "channel")) == {
        "p-1": "chat",
        "p-2": "other",
    }
    assert set(Contact.objects.values_list("team", flat=True)) == {cast.team_a.id}


def test_a_reason_that_is_not_created_must_exist(cast, tmp_path):
    mapping = mapping_validate(
        {
            "columns": {"ID": "external_id"},
            "constants": {"source": "partner", "channel": "phone"},
            "reason": {"parent": "Area", "child": "Topic"},
        },
        schema=CONTACT_FIELDS,
    )
    ContactReason.objects.create(name="Known", parent=ContactReason.objects.create(name="Area 1"))
    path = write(tmp_path, "p.csv", "ID,Area,Topic\np-1,Area 1,Known\np-2,Area 1,Unknown\n")

    summary = import_file(path=path, mapping=mapping)

    assert summary.created == 1
    assert report_rows(summary) == [
        (3, "reason (Area › Topic)", "is not in the contact-reason taxonomy")
    ]
    assert ContactReason.objects.count() == 2


# --- Rollups --------------------------------------------------------------------------------


def test_rebuild_rollups_check_finds_a_difference_and_changes_nothing(cast, tmp_path):
    import_file(
        path=fixture_copy("regulator-complaints.csv", tmp_path), mapping=str(REGULATOR_MAPPING)
    )
    assert_rollups_match_rebuild()
    tampered = ContactRollup.objects.order_by("day", "reason_id").first()
    ContactRollup.objects.filter(pk=tampered.pk).update(contacts=F("contacts") + 5)

    out = io.StringIO()
    with pytest.raises(CommandError, match="differ from a rebuild") as error:
        call_command("rebuild_rollups", "--check", stdout=out)

    assert error.value.returncode == 1
    assert (
        f"{tampered.day.isoformat()} reason={tampered.reason_id} {tampered.channel}"
        in out.getvalue()
    )
    assert ContactRollup.objects.get(pk=tampered.pk).contacts == tampered.contacts + 5
    out = io.StringIO()
    call_command("rebuild_rollups", stdout=out)
    assert "Rebuilt the contact rollups" in out.getvalue()
    assert_rollups_match_rebuild()


# --- The parser never crashes ---------------------------------------------------------------

REGULATOR = mapping_load(str(REGULATOR_MAPPING), schema=CONTACT_FIELDS, saved=CONTACT_MAPPINGS)
OPTIONS = ParseOptions(default_occurred_at=datetime(2026, 11, 1, tzinfo=UTC), strict_fields=False)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(sorted(FIELDS | {"x"})), children, max_size=3)
    ),
    max_leaves=8,
)


def parse_everything(data: bytes, file_format: str, mapping, encoding: str = "utf-8") -> int:
    """Read, map and parse every row. Only FileError or MappingError (the whole file: no
    header, a broken gzip stream) or RowError (one row) may come out. Returns the rows seen."""
    seen = 0
    try:
        reader = read_rows(io.BytesIO(data), file_format=file_format, encoding=encoding)
        mapper = RowMapper(
            mapping,
            schema=CONTACT_FIELDS,
            file_format=file_format,
            encoding=encoding,
            header=getattr(reader, "header", None),
            source="fuzz",
        )
        for item in reader:
            assert isinstance(item, FileRow) and item.line >= 1
            assert (item.values is None) != (item.error is None)
            seen += 1
            if item.error is not None:
                continue
            with contextlib.suppress(RowError):
                parse_row(mapper.to_row(item.values, suspect=item.suspect), OPTIONS)
    except (FileError, MappingError):
        pass
    return seen


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    data=st.binary(max_size=400),
    file_format=st.sampled_from(FORMATS),
    mapped=st.booleans(),
    encoding=st.sampled_from(["utf-8", "utf-16", "cp1252"]),
)
def test_the_parser_never_crashes_on_arbitrary_bytes(data, file_format, mapped, encoding):
    parse_everything(data, file_format, REGULATOR if mapped else None, encoding)


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    header=st.lists(
        st.sampled_from(
            [
                *sorted(FIELDS),
                "Complaint ID",
                "Date received",
                "Submitted via",
                "Product",
                "Issue",
                "junk",
            ]
        ),
        min_size=1,
        max_size=8,
    ),
    rows=st.lists(st.lists(st.text(max_size=20), max_size=9), max_size=5),
    mapped=st.booleans(),
    separator=st.sampled_from(["\n", "\r\n", "\r"]),
)
def test_the_parser_never_crashes_on_arbitrary_csv(header, rows, mapped, separator):
    out = io.StringIO()
    csv.writer(out, lineterminator=separator).writerows([header, *rows])
    parse_everything(
        out.getvalue().encode("utf-8", "surrogatepass"), "csv", REGULATOR if mapped else None
    )


@hypothesis_settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    rows=st.lists(
        st.dictionaries(
            st.sampled_from([*sorted(FIELDS), "Complaint ID", "Date received", "Product"]),
            json_values,
        )
        | json_values,
        max_size=5,
    ),
    mapped=st.booleans(),
)
def test_the_parser_never_crashes_on_arbitrary_json_lines(rows, mapped):
    text = "\n".join(json.dumps(row) for row in rows)
    seen = parse_everything(
        text.encode("utf-8", "surrogatepass"), "ndjson", REGULATOR if mapped else None
    )
    assert seen == len(rows)
