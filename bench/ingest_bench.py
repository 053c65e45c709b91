"""Contact ingestion on PostgreSQL: file import and bulk API against a raw COPY baseline.

    .venv/bin/python bench/ingest_bench.py --rows 100000

Each measurement starts from empty contact tables with the schema's indexes, in a dedicated
database (VOC_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/voc_bench, dropped
and recreated). Rows carry a ~300-character message, a customer reference, a reason and a rep;
redaction, idempotency, repeat linking and rollups are on; sentiment is deferred (its tasks are
not run) and measured on its own at the end. Results go to stdout as a Markdown table.
"""

import argparse
import contextlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import BENCH_DATABASE_URL, ROOT, Timer, make_rows, setup_django

BATCH = 5000


def truncate_contacts() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE contacts_message, contacts_contact, contacts_contactrollup, "
            "contacts_customer, contacts_customerevent RESTART IDENTITY CASCADE"
        )


def raw_copy(rows: list[dict]) -> float:
    """COPY the same contact and message rows straight into the same tables: the ceiling."""
    from django.db import connection

    truncate_contacts()
    contacts = io.StringIO()
    messages = io.StringIO()
    for number, row in enumerate(rows, start=1):
        contacts.write(
            f"{number}\tbench\t{row['external_id']}\t{row['channel']}\tinbound\t"
            f"{row['occurred_at']}\t{row['handle_seconds']}\t[]\t\t\t\t\tnow\tnow\n"
        )
        messages.write(f"{number}\t{number}\t0\t0\tincoming\t\t{row['text']}\n")
    contacts.seek(0)
    messages.seek(0)
    timer = Timer()
    with connection.cursor() as cursor:
        raw = cursor.cursor
        raw.copy_expert(
            "COPY contacts_contact (id, source, external_id, channel, direction, occurred_at, "
            "handle_seconds, tags, subject, notes, outcome, content_hash, created_at, updated_at) "
            "FROM STDIN",
            contacts,
        )
        raw.copy_expert(
            "COPY contacts_message (id, contact_id, external_id, position, direction, author, text) "
            "FROM STDIN",
            messages,
        )
    return timer.seconds


@contextlib.contextmanager
def upkeep_clock():
    """Time spent in rollup upkeep (computing contributions, applying deltas) and in repeat
    relinking while the block runs, by wrapping those functions where the service calls them."""
    from contacts.ingest import rollups, service

    spent = {"rollups": 0.0, "repeats": 0.0}

    def timed(function, bucket):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[bucket] += time.perf_counter() - started

        return wrapper

    patches = [
        (service, "contribution_rows", "rollups"),
        (service, "repeats_relink", "repeats"),
        (rollups.RollupDelta, "add_rows", "rollups"),
        (rollups.RollupDelta, "apply", "rollups"),
    ]
    originals = [(owner, name, getattr(owner, name)) for owner, name, _ in patches]
    for owner, name, bucket in patches:
        setattr(owner, name, timed(getattr(owner, name), bucket))
    try:
        yield spent
    finally:
        for owner, name, original in originals:
            setattr(owner, name, original)


def live_batches(rows: list[dict]) -> tuple[float, dict, dict]:
    """Ingest recent-day rows in batches through the service, on top of what is stored."""
    from contacts.ingest.service import contacts_ingest, parse_options

    options = parse_options()
    totals = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    with upkeep_clock() as spent:
        timer = Timer()
        for start in range(0, len(rows), BATCH):
            counts = contacts_ingest(rows=rows[start : start + BATCH], options=options).counts()
            for name in totals:
                totals[name] += counts[name]
        seconds = timer.seconds
    return seconds, totals, dict(spent)


def share(spent: dict, seconds: float) -> str:
    return (
        f"rollup upkeep {spent['rollups'] / seconds:.1%} of the time, "
        f"repeat relinking {spent['repeats'] / seconds:.1%}"
    )


def file_import(path: Path) -> tuple[float, dict]:
    from contacts.ingest.imports import import_file

    timer = Timer()
    summary = import_file(path=path, batch_size=BATCH, started_by="bench")
    return timer.seconds, summary.counts()


def bulk_api(rows: list[dict]) -> tuple[float, dict]:
    """POST NDJSON batches of 10,000 rows to the bulk endpoint through Django's WSGI handler."""
    from django.test import Client

    from contacts.ingest.tokens import ingest_token_create

    _, key = ingest_token_create(name="bench", source="bench", by=None)
    client = Client(HTTP_HOST="localhost")  # an allowed host outside the test runner
    totals = {"created": 0, "updated": 0, "unchanged": 0, "rejected": 0}
    timer = Timer()
    for start in range(0, len(rows), 10_000):
        body = "\n".join(json.dumps(row) for row in rows[start : start + 10_000])
        response = client.post(
            "/api/v1/contacts/bulk/",
            body,
            content_type="application/x-ndjson",
            HTTP_AUTHORIZATION=f"Ingest {key}",
        )
        assert response.status_code == 200, response.content[:500]
        for name in totals:
            totals[name] += response.json()[name]
    return timer.seconds, totals


def rollup_check() -> tuple[float, bool]:
    from contacts.ingest.rollups import rollup_snapshot, rollups_rebuild

    kept = rollup_snapshot()
    timer = Timer()
    rollups_rebuild()
    return timer.seconds, rollup_snapshot() == kept


def sentiment_backfill(workers: int) -> tuple[float, int]:
    """Score every contact with ``workers`` processes, each taking its share of the ids."""
    from contacts.models import Contact

    ids = list(Contact.objects.order_by("id").values_list("id", flat=True))
    code = (
        "import sys,json; sys.path.insert(0, 'bench'); from common import setup_django; "
        "setup_django(fresh=False); from contacts.services import contact_sentiment_update; "
        "ids=json.load(sys.stdin); "
        "[contact_sentiment_update(contact_ids=ids[i:i+1000]) for i in range(0, len(ids), 1000)]"
    )
    timer = Timer()
    processes = []
    for worker in range(workers):
        share = ids[worker::workers]
        process = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, cwd=ROOT, env=os.environ.copy()
        )
        process.stdin.write(json.dumps(share).encode())
        process.stdin.close()
        processes.append(process)
    for process in processes:
        assert process.wait() == 0
    return timer.seconds, len(ids)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--skip-api", action="store_true")
    parser.add_argument("--skip-sentiment", action="store_true")
    parser.add_argument(
        "--live-rows", type=int, default=20_000, help="recent-day rows ingested after the import"
    )
    args = parser.parse_args()
    setup_django()
    from contacts.models import ContactReason  # noqa: F401  (apps are ready)

    n = args.rows
    rows = make_rows(n)
    # The reasons exist, as in production: an import does not create the taxonomy.
    from contacts.demo import REASONS
    from contacts.models import ContactReason as Reason

    for spec in REASONS:
        parent, _ = Reason.objects.get_or_create(name=spec[1], parent=None)
        Reason.objects.get_or_create(name=spec[2], parent=parent)

    class Results(list):
        def append(self, item) -> None:  # progress while the run goes on
            super().append(item)
            print(f"done: {item[0]}: {item[2]:.1f} s {item[3]}", file=sys.stderr, flush=True)

    results = Results()
    copy_seconds = raw_copy(rows)
    results.append(("raw COPY (contacts + messages, same tables and indexes)", n, copy_seconds, ""))

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "contacts.ndjson"
        with path.open("w") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")
        truncate_contacts()
        with upkeep_clock() as spent:
            seconds, counts = file_import(path)
        results.append(
            ("import_contacts (NDJSON file, 365 days of history)", n, seconds,
             f"{counts}; {share(spent, seconds)}")
        )  # fmt: skip
        rebuild_seconds, identical = rollup_check()
        results.append(
            ("rollups rebuild after import", n, rebuild_seconds, f"identical: {identical}")
        )
        seconds, counts = file_import(path)
        results.append(("re-import of the same file", n, seconds, counts))
        live = make_rows(args.live_rows, seed=2, days=1, customers=max(1, n // 3), prefix="live")
        seconds, counts, spent = live_batches(live)
        results.append(
            (f"live batches of {BATCH:,} (last 24 h, on top of the import)", len(live), seconds,
             f"{counts}; {share(spent, seconds)}")
        )  # fmt: skip

    if not args.skip_api:
        truncate_contacts()
        seconds, counts = bulk_api(rows)
        results.append(("bulk API (NDJSON, 10,000 rows a request)", n, seconds, counts))

    if not args.skip_sentiment:
        seconds, scored = sentiment_backfill(2)
        results.append(("sentiment backfill, 2 processes", scored, seconds, ""))

    print(
        f"\nPostgreSQL at {BENCH_DATABASE_URL.rsplit('@', 1)[-1]}, {n:,} rows, {time.strftime('%Y-%m-%d')}\n"
    )
    print("| measurement | rows | seconds | rows/s | × raw COPY | notes |")
    print("|---|---:|---:|---:|---:|---|")
    copy_rate = n / copy_seconds
    for name, count, seconds, notes in results:
        rate = count / seconds if seconds else 0
        comparable = name.startswith(("import", "re-import", "live", "bulk API"))
        ratio_text = f"{rate / copy_rate:.3f}" if comparable else ""
        print(f"| {name} | {count:,} | {seconds:.1f} | {rate:,.0f} | {ratio_text} | {notes} |")


if __name__ == "__main__":
    main()
