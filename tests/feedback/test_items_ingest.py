"""The feedback items write path: bands, score ranges, idempotency, redaction, topics, and the
rollups kept in step by every write (single, bulk, update)."""

from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum
from django.test.utils import CaptureQueriesContext

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason, Customer
from feedback.items.records import score_band
from feedback.items.rollups import feedback_rollup_snapshot, feedback_rollups_differences
from feedback.items.services import (
    feedback_item_record,
    feedback_item_submit,
    feedback_items_ingest,
)
from feedback.models import FeedbackItem, FeedbackRollup, TopicRule
from tests.factories import CustomerFactory
from voc.core.audit import INGEST
from voc.core.models import AuditEntry

pytestmark = pytest.mark.django_db
CARD = "4111 1111 1111 1111"
WHEN = "2026-11-23T14:05:00Z"


@pytest.mark.parametrize(
    ("kind", "score", "band"),
    [
        ("nps", 0, "negative"), ("nps", 6, "negative"), ("nps", 7, "neutral"),
        ("nps", 8, "neutral"), ("nps", 9, "positive"), ("nps", 10, "positive"),
        ("csat", 1, "negative"), ("csat", 2, "negative"), ("csat", 3, "neutral"),
        ("csat", 4, "positive"), ("csat", 5, "positive"),
        ("ces", 1, "negative"), ("ces", 3, "negative"), ("ces", 4, "neutral"),
        ("ces", 5, "positive"), ("ces", 7, "positive"),
        ("complaint", None, ""), ("review", None, ""),
    ],
)  # fmt: skip
def test_bands_at_every_boundary(kind, score, band):
    assert score_band(kind, score) == band
    result = feedback_items_ingest(
        rows=[{"source": "s", "external_id": "1", "kind": kind, "score": score}], by=INGEST
    )
    assert result.counts()["created"] == 1
    assert FeedbackItem.objects.get().band == band


@pytest.mark.parametrize(
    ("kind", "score"),
    [("nps", -1), ("nps", 11), ("csat", 0), ("csat", 6), ("ces", 0), ("ces", 8), ("nps", None),
     ("complaint", 3)],
)  # fmt: skip
def test_scores_out_of_range_are_refused_everywhere(kind, score):
    with pytest.raises(ValidationError) as refused:
        feedback_item_record(kind=kind, score=score, source="s", by=INGEST)
    assert "score" in refused.value.message_dict
    result = feedback_items_ingest(
        rows=[{"source": "s", "external_id": "1", "kind": kind, "score": score}], by=INGEST
    )
    assert [(r.index, r.field) for r in result.rejected] == [(0, "score")]
    assert not FeedbackItem.objects.exists()
    assert not FeedbackRollup.objects.exists()


def test_a_resent_batch_creates_nothing_twice_and_updates_what_changed():
    rows = [
        {"source": "survey", "external_id": f"r{n}", "kind": "nps", "score": n, "received_at": WHEN}
        for n in range(5)
    ]
    assert feedback_items_ingest(rows=rows, by=INGEST).counts() == {
        "created": 5, "updated": 0, "unchanged": 0, "rejected": 0,
    }  # fmt: skip
    rows[2] = {**rows[2], "score": 10}
    assert feedback_items_ingest(rows=rows, by=INGEST).counts() == {
        "created": 0, "updated": 1, "unchanged": 4, "rejected": 0,
    }  # fmt: skip
    assert FeedbackItem.objects.count() == 5
    item = FeedbackItem.objects.get(external_id="r2")
    assert (item.score, item.band) == (10, "positive")
    assert feedback_rollups_differences() == {}
    assert AuditEntry.objects.filter(action="feedback.ingest").count() == 2


def test_a_row_repeated_in_a_batch_is_rejected_and_the_others_kept():
    rows = [
        {"source": "s", "external_id": "a", "kind": "csat", "score": 4},
        {"source": "s", "external_id": "a", "kind": "csat", "score": 5},
        {"source": "s", "external_id": "b", "kind": "compliment"},
        "not an object",
    ]
    result = feedback_items_ingest(rows=rows, by=INGEST)
    assert [r.as_dict() for r in result.rejected] == [
        {"index": 1, "field": "external_id", "reason": "repeats the item of row 0"},
        {"index": 3, "field": "row", "reason": "must be a JSON object"},
    ]
    assert result.created == 2


def test_single_items_are_idempotent_on_source_and_external_id():
    first = feedback_item_record(kind="csat", score=2, source="s", external_id="x", by=INGEST)
    again = feedback_item_record(kind="csat", score=5, source="s", external_id="x", by=INGEST)
    assert first.created and not again.created
    assert again.item.id == first.item.id
    assert FeedbackItem.objects.get().band == "positive"
    assert feedback_rollups_differences() == {}


def test_a_card_number_in_a_verbatim_is_redacted_in_every_path():
    feedback_item_record(kind="complaint", source="s", verbatim=f"card {CARD} charged", by=INGEST)
    feedback_items_ingest(
        rows=[{"source": "s", "external_id": CARD, "kind": "complaint", "verbatim": f"my {CARD}"}],
        by=INGEST,
    )
    verbatims = sorted(FeedbackItem.objects.values_list("verbatim", flat=True))
    assert verbatims == ["card [card number redacted] charged", "my [card number redacted]"]
    stored_id = FeedbackItem.objects.get(source="s", external_id__startswith="hash-").external_id
    assert "4111" not in stored_id
    # A re-send finds the item again through its stand-in.
    again = feedback_items_ingest(
        rows=[{"source": "s", "external_id": CARD, "kind": "complaint", "verbatim": f"my {CARD}"}],
        by=INGEST,
    )
    assert again.unchanged == 1


def test_topic_precedence_hand_then_contact_then_rule(cast):
    billing = ContactReason.objects.create(name="Billing")
    outage = ContactReason.objects.create(name="Outage")
    refunds = ContactReason.objects.create(name="Refunds")
    TopicRule.objects.create(name="r", keywords="refund", reason=refunds)
    contacts_ingest(
        rows=[{"source": "crm", "external_id": "c1", "channel": "phone", "reason": "Outage",
               "team": cast.team_a.name, "occurred_at": WHEN}]
    )  # fmt: skip
    contact = Contact.objects.get()
    text = "I want a refund"
    by_hand = feedback_item_record(
        kind="complaint", source="s", verbatim=text, reason=billing, contact=contact, by=INGEST
    ).item
    from_contact = feedback_item_record(
        kind="complaint", source="s", verbatim=text, contact=contact, by=INGEST
    ).item
    by_rule = feedback_item_record(kind="complaint", source="s", verbatim=text, by=INGEST).item
    nothing = feedback_item_record(kind="complaint", source="s", verbatim="fine", by=INGEST).item
    assert (by_hand.reason_id, by_hand.topic_source) == (billing.id, "hand")
    assert (from_contact.reason_id, from_contact.topic_source) == (outage.id, "contact")
    assert from_contact.team_id == cast.team_a.id
    assert (by_rule.reason_id, by_rule.topic_source) == (refunds.id, "rule")
    assert (nothing.reason_id, nothing.topic_source) == (None, "")
    # The same precedence in a batch.
    rows = [
        {"source": "b", "external_id": "1", "kind": "complaint", "verbatim": text,
         "reason": "Billing", "contact_source": "crm", "contact_external_id": "c1"},
        {"source": "b", "external_id": "2", "kind": "complaint", "verbatim": text,
         "contact_source": "crm", "contact_external_id": "c1"},
        {"source": "b", "external_id": "3", "kind": "complaint", "verbatim": text},
    ]  # fmt: skip
    assert feedback_items_ingest(rows=rows, by=INGEST).created == 3
    got = dict(FeedbackItem.objects.filter(source="b").values_list("external_id", "topic_source"))
    assert got == {"1": "hand", "2": "contact", "3": "rule"}
    assert FeedbackItem.objects.get(source="b", external_id="2").reason_id == outage.id


def test_a_disabled_rule_gives_no_topic():
    reason = ContactReason.objects.create(name="Refunds")
    TopicRule.objects.create(name="r", keywords="refund", reason=reason, enabled=False)
    item = feedback_item_record(kind="complaint", source="s", verbatim="refund", by=INGEST).item
    assert item.reason_id is None


def test_links_by_customer_ref_and_contact_and_unknown_ones_are_rejected(cast):
    customer = CustomerFactory(external_ref="CRM-1", segment="enterprise")
    result = feedback_items_ingest(
        rows=[
            {"source": "s", "external_id": "1", "kind": "nps", "score": 9, "customer_ref": "CRM-1"},
            {"source": "s", "external_id": "2", "kind": "nps", "score": 9, "customer_ref": "nope"},
            {"source": "s", "external_id": "3", "kind": "nps", "score": 9,
             "contact_external_id": "missing"},
        ],
        by=INGEST,
    )  # fmt: skip
    assert [(r.index, r.field) for r in result.rejected] == [
        (1, "customer_ref"), (2, "contact_external_id"),
    ]  # fmt: skip
    item = FeedbackItem.objects.get()
    assert (item.customer_id, item.customer_segment) == (customer.id, "enterprise")
    with pytest.raises(ValidationError) as refused:
        feedback_item_submit(row={"kind": "nps", "score": 3, "customer_ref": "nope"},
                             source="api", by=cast.admin)  # fmt: skip
    assert refused.value.message_dict == {"customer_ref": ["is not a known customer"]}


def test_rollups_equal_a_recount_after_single_bulk_and_updates_that_move_keys(cast):
    reason = ContactReason.objects.create(name="Refunds")
    TopicRule.objects.create(name="r", keywords="refund", reason=reason)
    rows = [
        {"source": "s", "external_id": str(n), "kind": kind, "score": score,
         "verbatim": "refund please" if n % 2 else "terrible, awful service",
         "received_at": f"2026-11-{10 + n % 3}T23:30:00Z", "channel": "email"}
        for n, (kind, score) in enumerate(
            [("nps", 0), ("nps", 9), ("csat", 3), ("ces", 6), ("complaint", None)] * 4
        )
    ]  # fmt: skip
    feedback_items_ingest(rows=rows, by=INGEST)
    feedback_item_record(kind="nps", score=7, source="s", by=cast.admin)
    assert feedback_rollups_differences() == {}
    kept = feedback_rollup_snapshot()
    # Move items between keys: another day, band, topic and kind.
    rows[0] = {**rows[0], "score": 10, "received_at": "2026-12-01T10:00:00Z"}
    rows[1] = {**rows[1], "verbatim": "all good"}
    rows[4] = {**rows[4], "kind": "compliment"}
    assert feedback_items_ingest(rows=rows, by=INGEST).updated == 3
    feedback_item_record(kind="csat", score=1, source="s", external_id="7", by=INGEST)
    assert feedback_rollup_snapshot() != kept
    assert feedback_rollups_differences() == {}
    assert sum(r.items for r in FeedbackRollup.objects.all()) == FeedbackItem.objects.count()


def test_the_reporting_day_is_the_reporting_time_zone(settings):
    settings.VOC_REPORTING_TIME_ZONE = "America/New_York"
    feedback_item_record(
        kind="nps", score=9, source="s", by=INGEST,
        received_at=datetime(2026, 11, 24, 3, 0, tzinfo=UTC),
    )  # fmt: skip
    assert FeedbackRollup.objects.get().day.isoformat() == "2026-11-23"


def _batch(prefix: str, count: int, customer_refs: list[str]) -> list[dict]:
    return [
        {"source": "q", "external_id": f"{prefix}{n}", "kind": "nps", "score": n % 11,
         "verbatim": f"answer {n}", "customer_ref": customer_refs[n % len(customer_refs)],
         "received_at": f"2026-11-{1 + n % 28:02d}T10:00:00Z"}
        for n in range(count)
    ]  # fmt: skip


def test_bulk_queries_do_not_grow_with_rows():
    refs = [CustomerFactory(external_ref=f"C{n}").external_ref for n in range(5)]
    counts = []
    for prefix, size in (("a", 10), ("b", 400)):
        with CaptureQueriesContext(connection) as queries:
            result = feedback_items_ingest(rows=_batch(prefix, size, refs), by=INGEST)
        assert result.created == size
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[1] <= 12
    # Re-sending with changes: updates, still the same number of queries for 10 and 400 rows.
    updates = []
    for prefix, size in (("a", 10), ("b", 400)):
        rows = [{**row, "score": 10} for row in _batch(prefix, size, refs)]
        with CaptureQueriesContext(connection) as queries:
            feedback_items_ingest(rows=rows, by=INGEST)
        updates.append(len(queries))
    assert updates[0] == updates[1]
    assert feedback_rollups_differences() == {}


def test_a_batch_scores_sentiment_after_commit_and_the_rollups_follow(
    django_capture_on_commit_callbacks, monkeypatch
):
    from feedback.items import services
    from feedback.tasks import feedback_items_sentiment_sweep

    queued = []
    monkeypatch.setattr(services, "enqueue", lambda *args, **kwargs: queued.append(args) or True)
    rows = [
        {"source": "s", "external_id": "1", "kind": "complaint", "verbatim": "terrible, awful"},
        {"source": "s", "external_id": "2", "kind": "compliment", "verbatim": "great, thanks"},
        {"source": "s", "external_id": "3", "kind": "nps", "score": 8},  # no text: no score
    ]
    with django_capture_on_commit_callbacks(execute=True):
        feedback_items_ingest(rows=rows, by=INGEST)
    ids = list(FeedbackItem.objects.order_by("id").values_list("id", flat=True))
    assert queued == [(services.SENTIMENT_TASK, ids[:2])]
    assert FeedbackRollup.objects.aggregate(n=Sum("negative_sentiment"))["n"] == 0
    assert feedback_items_sentiment_sweep() == 2  # the task was lost: the sweep scores them
    assert feedback_items_sentiment_sweep() == 0
    assert FeedbackRollup.objects.aggregate(n=Sum("negative_sentiment"))["n"] == 1
    assert feedback_rollups_differences() == {}
    # A re-send with the same text keeps the score; a new text is scored again.
    rows[1] = {**rows[1], "verbatim": "awful, terrible, never again"}
    rows[0] = {**rows[0], "kind": "review"}
    with django_capture_on_commit_callbacks(execute=True):
        assert feedback_items_ingest(rows=rows, by=INGEST).updated == 2
    assert FeedbackItem.objects.get(external_id="1").sentiment is not None
    assert FeedbackItem.objects.get(external_id="2").sentiment is None
    assert services.feedback_items_score_sentiment(item_ids=[ids[1]]) == 1
    assert FeedbackRollup.objects.aggregate(n=Sum("negative_sentiment"))["n"] == 2
    assert feedback_rollups_differences() == {}


def test_the_demo_seeds_items_through_the_write_path():
    from django.core.management import call_command

    call_command("seed_demo", customers=50, contacts=0)
    # two items a customer (the demo adds a few named customers to the 50), at most 240
    customers = Customer.objects.filter(erased_at=None, merged_into=None).count()
    assert customers >= 50
    assert FeedbackItem.objects.filter(source="demo").count() == min(240, 2 * customers)
    assert not FeedbackItem.objects.exclude(verbatim="").filter(sentiment=None).exists()
    assert feedback_rollups_differences() == {}
