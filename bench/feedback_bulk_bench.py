"""Feedback items on PostgreSQL: the bulk API (NDJSON batches of 10,000 through Django's WSGI
handler, with an ingest token) against a raw COPY of the same rows into the same table.

    .venv/bin/python bench/feedback_bulk_bench.py --rows 20000

The database is ``VOC_BENCH_DATABASE_URL`` (default: voc_feedback_bench on 127.0.0.1),
dropped and created again. The rows link to customers by external ref, about a third carry a
verbatim that a keyword rule gives a topic, and each holds ~150 characters of text; the
stored rows are dumped with COPY TO and copied back in one transaction for the baseline (with
the same indexes and foreign keys, rollups not included: COPY does not keep them).
"""

import argparse
import json
import os
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault(
    "VOC_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voc_feedback_bench"
)

from common import WORDS, Timer, setup_django

TABLE = "feedback_feedbackitem"
KINDS = [("nps", 0, 10), ("csat", 1, 5), ("ces", 1, 7), ("complaint", None, None),
         ("review", None, None)]  # fmt: skip


def make_rows(count: int, customers: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    rows = []
    for n in range(count):
        kind, low, high = KINDS[n % len(KINDS)]
        words = rng.choices(WORDS, k=rng.randint(15, 35))
        row = {
            "external_id": f"fb-{n}",
            "kind": kind,
            "verbatim": " ".join(words),
            "customer_ref": f"FB-C{rng.randrange(customers)}",
            "received_at": (start + timedelta(minutes=rng.randrange(525_600))).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            ),
            "channel": rng.choice(["email", "web_form", "phone"]),
        }
        if low is not None:
            row["score"] = rng.randint(low, high)
        rows.append(row)
    return rows


def prepare(customers: int) -> None:
    from contacts.models import ContactReason, Customer
    from feedback.models import TopicRule

    Customer.objects.bulk_create(
        [Customer(external_ref=f"FB-C{n}", name=f"Customer {n}") for n in range(customers)],
        batch_size=5000,
    )
    reason, _ = ContactReason.objects.get_or_create(name="Refunds")
    TopicRule.objects.create(name="refunds", keywords="refund\ncharged twice", reason=reason)
    outage, _ = ContactReason.objects.get_or_create(name="Outage")
    TopicRule.objects.create(name="outage", keywords="outage\ninternet down", reason=outage)


def bulk_api(rows: list[dict]) -> tuple[float, dict]:
    from django.test import Client

    from contacts.ingest.tokens import ingest_token_create

    _, key = ingest_token_create(name="bench", source="bench", by=None)
    client = Client(HTTP_HOST="localhost")
    totals = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    # Warm up first, as a running server is: the first request imports the URLs and views.
    warm = client.post(
        "/api/v1/feedback/bulk/", "{}", content_type="application/x-ndjson",
        HTTP_AUTHORIZATION=f"Ingest {key}",
    )  # fmt: skip
    assert warm.status_code == 200, warm.content[:200]
    timer = Timer()
    for start in range(0, len(rows), 10_000):
        body = "\n".join(json.dumps(row) for row in rows[start : start + 10_000])
        response = client.post(
            "/api/v1/feedback/bulk/", body, content_type="application/x-ndjson",
            HTTP_AUTHORIZATION=f"Ingest {key}",
        )  # fmt: skip
        assert response.status_code == 200, response.content[:500]
        for name in totals:
            totals[name] += response.json()[name]
    return timer.seconds, totals


def raw_copy(folder: Path) -> float:
    from django.db import connection, transaction

    path = folder / "items.copy"
    with connection.cursor() as cursor, path.open("w") as handle:
        cursor.cursor.copy_expert(f"COPY {TABLE} TO STDOUT", handle)
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {TABLE} RESTART IDENTITY CASCADE")
    timer = Timer()
    with transaction.atomic(), connection.cursor() as cursor, path.open() as handle:
        cursor.cursor.copy_expert(f"COPY {TABLE} FROM STDIN", handle)
    return timer.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=5_000)
    parser.add_argument("--repeat", type=int, default=2, help="runs of each measurement")
    args = parser.parse_args()
    setup_django(fresh=True)
    from feedback.items.rollups import feedback_rollups_differences
    from feedback.models import FeedbackItem, FeedbackRollup

    prepare(args.customers)
    rows = make_rows(args.rows, args.customers)
    lines = []
    for run in range(1, args.repeat + 1):
        FeedbackItem.objects.all().delete()
        FeedbackRollup.objects.all().delete()
        api_seconds, counts = bulk_api(rows)
        api_cpu = Timer.last_cpu
        assert counts["created"] == args.rows and counts["rejected"] == 0, counts
        assert feedback_rollups_differences() == {}
        resend_seconds, resend = bulk_api(rows)
        assert resend["unchanged"] == args.rows, resend
        with tempfile.TemporaryDirectory() as folder:
            copy_seconds = raw_copy(Path(folder))
        copy_cpu = Timer.last_cpu
        ratio = copy_seconds / api_seconds
        lines += [
            f"| bulk API, run {run} | {args.rows:,} | {api_seconds:.1f} | "
            f"{args.rows / api_seconds:,.0f} | {ratio:.3f} | "
            f"{api_cpu[0]:.1f} + {api_cpu[1]:.1f} | created {counts['created']:,} |",
            f"| same batches again, run {run} | {args.rows:,} | {resend_seconds:.1f} | "
            f"{args.rows / resend_seconds:,.0f} | {copy_seconds / resend_seconds:.3f} | — | "
            f"unchanged {resend['unchanged']:,} |",
            f"| raw COPY, run {run} | {args.rows:,} | {copy_seconds:.2f} | "
            f"{args.rows / copy_seconds:,.0f} | 1 | {copy_cpu[0]:.1f} + {copy_cpu[1]:.1f} | "
            "same rows, same table |",
        ]
        print(f"run {run}: api {api_seconds:.1f} s, copy {copy_seconds:.2f} s", file=sys.stderr)
    print(
        "| measurement | rows | seconds | rows/s | × raw COPY | CPU s: Python + PostgreSQL | notes |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- |")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
