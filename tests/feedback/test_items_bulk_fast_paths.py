"""The bulk write path's fast paths on PostgreSQL: new items written as COPY lines by hand, the
rollup delta of many keys applied as one upsert from arrays (``unnest``), NDJSON bodies cut
into lines in one go. Each must store exactly what the general path did."""

import json
from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from contacts.ingest.tokens import ingest_token_create
from contacts.models import Customer
from feedback.items import rollups
from feedback.items.rollups import feedback_rollup_snapshot, feedback_rollups_differences
from feedback.items.services import feedback_items_ingest
from feedback.models import FeedbackItem, FeedbackRollup
from voc.core.audit import INGEST

pytestmark = pytest.mark.django_db
BULK = "/api/v1/feedback/bulk/"
# Text that COPY's text format and the array literal must both escape.
AWKWARD = ['a "b" \\ c', "{x,y}", "NULL", "", "tab\there", "é ü"]


def _rows(count: int, *, days: int, refs: list[str] | None = None, prefix: str = "e") -> list[dict]:
    return [
        {"source": "s", "external_id": f"{prefix}{n}", "kind": "nps", "score": n % 11,
         "verbatim": f"answer {n}", "channel": "email",
         "received_at": f"{date.fromordinal(date(2025, 1, 1).toordinal() + n % days)}T12:00:00Z",
         **({"customer_ref": refs[n % len(refs)]} if refs else {})}
        for n in range(count)
    ]  # fmt: skip


def _unnest_statements(queries) -> int:
    return sum(1 for query in queries.captured_queries if "unnest(" in query["sql"])


@pytest.mark.parametrize(
    ("keys", "arrays"), [(rollups.STAGED_APPLY, 0), (rollups.STAGED_APPLY + 1, 1)]
)
def test_a_delta_past_the_threshold_goes_in_as_arrays_and_equals_a_recount(keys, arrays):
    # One NPS score a day: each item its own key (day × band).
    with CaptureQueriesContext(connection) as queries:
        result = feedback_items_ingest(rows=_rows(keys, days=keys), by=INGEST)
    assert result.created == keys
    assert _unnest_statements(queries) == arrays
    assert FeedbackRollup.objects.count() == keys
    assert feedback_rollups_differences() == {}


def test_array_keys_keep_awkward_text_exactly_and_updates_move_counts(monkeypatch):
    monkeypatch.setattr(rollups, "STAGED_APPLY", 0)  # every delta through the arrays
    Customer.objects.bulk_create(
        [
            Customer(external_ref=f"C{n}", name=f"c{n}", segment=text)
            for n, text in enumerate(AWKWARD)
        ]
    )
    rows = _rows(60, days=5, refs=[f"C{n}" for n in range(len(AWKWARD))])
    assert feedback_items_ingest(rows=rows, by=INGEST).created == 60
    assert {key[6] for key in feedback_rollup_snapshot()} == set(AWKWARD)
    assert feedback_rollups_differences() == {}
    # Changed scores: the old keys go down (some to zero and away), the new ones up.
    changed = [{**row, "score": 10} for row in rows]
    with CaptureQueriesContext(connection) as queries:
        # 5 of the 60 (n = 10, 21, 32, 43, 54) scored 10 already: unchanged
        assert feedback_items_ingest(rows=changed, by=INGEST).updated == 55
    assert _unnest_statements(queries) == 1
    assert feedback_rollups_differences() == {}
    assert set(FeedbackRollup.objects.values_list("band", flat=True)) == {"positive"}
    assert sum(FeedbackRollup.objects.values_list("items", flat=True)) == 60


def test_new_items_copied_by_hand_store_every_value_exactly(cast):
    Customer.objects.create(external_ref="C1", name="c", segment="smb")
    verbatim = "line one\nline\ttwo \\N back\\slash\r\nend é 😀"
    rows = [
        {"source": "s", "external_id": "tab", "kind": "complaint", "verbatim": verbatim,
         "customer_ref": "C1", "channel": "phone", "received_at": "2026-11-23T14:05:00+05:30"},
        {"source": "s", "external_id": "bare", "kind": "csat", "score": 4},
    ]  # fmt: skip
    before = FeedbackItem.objects.count()
    assert feedback_items_ingest(rows=rows, by=cast.admin).created == 2
    assert FeedbackItem.objects.count() == before + 2
    first = FeedbackItem.objects.get(external_id="tab")
    assert first.verbatim == verbatim.strip()
    assert (first.kind, first.score, first.band, first.channel) == ("complaint", None, "", "phone")
    assert first.customer.external_ref == "C1" and first.customer_segment == "smb"
    assert first.received_at.isoformat() == "2026-11-23T08:35:00+00:00"
    assert (first.created_by, first.sentiment, first.contact_id, first.team_id) == (
        cast.admin, None, None, None,
    )  # fmt: skip
    assert first.created_at == first.updated_at
    second = FeedbackItem.objects.get(external_id="bare")
    assert (second.score, second.band, second.verbatim, second.customer_id) == (
        4,
        "positive",
        "",
        None,
    )
    assert second.created_at == first.created_at
    assert feedback_rollups_differences() == {}


def test_bulk_ingest_of_new_items_takes_a_fixed_number_of_queries(django_assert_num_queries):
    Customer.objects.bulk_create([Customer(external_ref=f"C{n}", name="c") for n in range(3)])
    # The redaction patterns, the customers linked, the topic rules, the write lock, the
    # stored items, the new ids (with the sequence's name), the rollup upsert (one, as arrays
    # past 500 keys), the audit entry, and the savepoint's two; COPY is not counted by Django.
    with django_assert_num_queries(10):
        feedback_items_ingest(rows=_rows(600, days=600, refs=["C0", "C1", "C2"]), by=INGEST)
    with django_assert_num_queries(10):
        feedback_items_ingest(rows=_rows(20, days=20, refs=["C0"], prefix="f"), by=INGEST)


@pytest.fixture
def ingest_api(cast, throttle_cache):
    client = APIClient()
    _, key = ingest_token_create(name="survey tool", source="qualtrics", by=cast.admin)
    client.credentials(HTTP_AUTHORIZATION=f"Ingest {key}")
    return client


def test_ndjson_lines_with_crlf_blank_lines_a_bom_and_no_final_newline(ingest_api):
    def line(n, **extra):
        return json.dumps({"external_id": f"n{n}", "kind": "csat", "score": 5, **extra}).encode()

    body = (
        b"\xef\xbb\xbf" + line(1) + b"\r\n"
        + b"\r\n"  # a blank line (CRLF)
        + line(2, channel="fax") + b"\r\n"
        + b"   \n"
        + b'{"external_id": "n3", \r\n'  # cut short by the line break
        + line(4)  # the last line, without a newline
    )  # fmt: skip
    response = ingest_api.generic("POST", BULK, body, content_type="application/x-ndjson")
    assert response.status_code == 200, response.content
    result = response.json()
    assert (result["created"], result["rejected"]) == (2, 2)
    assert [(e["index"], e["line"], e["field"]) for e in result["errors"]] == [
        (1, 3, "channel"), (2, 5, "row"),
    ]  # fmt: skip
    assert set(FeedbackItem.objects.values_list("external_id", flat=True)) == {"n1", "n4"}
