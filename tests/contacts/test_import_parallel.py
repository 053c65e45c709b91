"""The file import with its reading and parsing in a second process (as for every file from
``PARALLEL_MIN_BYTES`` on): the same tests as for the import in one process, and the same
results: batches, line numbers, error reports, interruptions and re-runs."""

import gzip
import json
import threading

import pytest

from contacts.ingest import imports, parsing
from contacts.ingest.imports import import_file
from contacts.models import Contact, ImportRun
from tests.contacts.test_import import (  # noqa: F401  (collected again here, forked)
    HEADER,
    assert_rollups_match_rebuild,
    no_sentiment_tasks,
    reasons,
    report_rows,
    test_a_csv_in_voc_field_names_needs_no_mapping,
    test_a_failure_half_way_is_recorded_and_raised,
    test_a_gzip_compressed_file_is_read_as_well,
    test_a_line_over_the_limit_is_skipped_unread_and_rejected,
    test_a_reason_that_is_not_created_must_exist,
    test_a_regulator_export_imports_through_its_mapping,
    test_a_row_repeated_in_one_batch_names_the_line_of_the_first,
    test_a_value_map_ignores_case_and_spaces_and_defaults_fill_gaps,
    test_an_empty_ndjson_file_is_an_import_of_nothing,
    test_an_interrupted_import_keeps_its_batches_and_a_rerun_finishes_it,
    test_an_ndjson_file_may_carry_messages,
    test_bytes_that_are_not_valid_in_the_encoding_reject_only_their_row,
    test_fields_too_long_nul_bytes_and_missing_values_are_rejected_rows,
    test_importing_the_same_file_again_creates_and_changes_nothing,
    test_occurred_at_defaults_to_the_time_of_the_import,
    test_progress_follows_the_bytes_read,
    test_rows_are_ingested_in_batches_while_the_file_is_read,
    test_source_from_the_command_line_wins_over_the_file,
    test_the_command_prints_a_summary_and_where_the_report_is,
    test_the_command_reports_an_interruption_and_exits_130,
    test_the_error_report_never_contains_the_rejected_values,
    test_wrong_types_and_broken_json_lines_are_rejected_rows,
    write,
)
from voc.core.imports.runner import ImportFailed

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(not parsing.fork_available(), reason="needs the fork start method"),
]


@pytest.fixture(autouse=True)
def forked(monkeypatch):
    """Every import in this module reads and parses in a second process."""
    monkeypatch.setattr(imports, "PARALLEL_MIN_BYTES", 0)
    started = []
    real = parsing.ForkedBatches.__init__

    def counting(self, *args, **kwargs):
        started.append(1)
        real(self, *args, **kwargs)

    monkeypatch.setattr(parsing.ForkedBatches, "__init__", counting)
    yield started


def test_the_second_process_is_used(cast, forked, tmp_path):
    lines = [f"crm,t-{n},email,2026-11-01T10:00:00Z,,Ticket {n}\n" for n in range(7)]
    summary = import_file(path=write(tmp_path, "t.csv", HEADER + "".join(lines)), batch_size=3)
    assert forked == [1]
    assert summary.created == 7
    assert sorted(Contact.objects.values_list("external_id", flat=True)) == sorted(
        f"t-{n}" for n in range(7)
    )


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("no_sentiment_tasks")
def test_a_file_that_breaks_off_keeps_the_batches_before_and_fails(cast, tmp_path):
    lines = "".join(
        f"crm,g-{n},email,2026-11-01T10:00:00Z,,Ticket number {n} {'x' * 50}\n" for n in range(3000)
    )
    whole = gzip.compress((HEADER + lines).encode())
    path = write(tmp_path, "broken.csv.gz", whole[: len(whole) * 3 // 4])  # a truncated stream

    with pytest.raises(ImportFailed, match="cannot be read to the end"):
        import_file(path=path, batch_size=500)

    run = ImportRun.objects.get()
    assert run.status == "failed"
    stored = Contact.objects.count()
    assert stored and stored % 500 == 0 and stored == run.created  # whole batches only
    assert_rollups_match_rebuild()


def test_rejected_rows_and_unknown_fields_of_every_batch_are_reported(cast, forked, tmp_path):
    def line(n: int, **extra) -> str:
        row = {"source": "crm", "external_id": f"n-{n}", "channel": "chat", "text": f"hi {n}"}
        return json.dumps({**row, **extra})

    lines = [
        line(1),
        line(2),
        "{not json",
        line(4, mood="calm"),
        line(5, channel="carrier pigeon"),
        line(6, shoe_size=9),
        "",  # blank lines are no rows
        line(8),
        line(9, mood="tense"),
    ]
    path = write(tmp_path, "rows.ndjson", "\n".join(lines) + "\n")

    summary = import_file(path=path, batch_size=2)

    assert forked == [1]
    assert summary.counts() == {
        "read": 8, "created": 6, "updated": 0, "unchanged": 0, "rejected": 2,
    }  # fmt: skip
    assert report_rows(summary) == [
        (3, "row", "is not valid JSON: Expecting property name enclosed in double quotes"),
        (5, "channel", "must be one of phone, email, chat, social, web_form, letter, walk_in, other"),
    ]  # fmt: skip
    assert summary.warnings == ["ignored fields that are not VoC fields: mood, shoe_size"]
    assert sorted(Contact.objects.values_list("external_id", flat=True)) == [
        "n-1", "n-2", "n-4", "n-6", "n-8", "n-9",
    ]  # fmt: skip


def test_a_writing_failure_stops_the_processes_and_the_receiving_thread(
    cast, forked, tmp_path, monkeypatch
):
    # Batch 2 is being received and unpacked in a thread when batch 1 fails to be written.
    lines = [f"crm,w-{n},email,2026-11-01T10:00:00Z,,Ticket {n}\n" for n in range(12)]
    path = write(tmp_path, "w.csv", HEADER + "".join(lines))

    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(imports, "contacts_ingest", broken)
    with pytest.raises(RuntimeError, match="went away"):
        import_file(path=path, batch_size=3)

    assert forked == [1]
    assert ImportRun.objects.get().status == "failed"
    receiving = [t for t in threading.enumerate() if t.name.startswith("voc-batches")]
    for thread in receiving:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in receiving)
