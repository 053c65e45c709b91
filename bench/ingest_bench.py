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
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import BENCH_DATABASE_URL, ROOT, Timer, function_clock, make_rows, setup_django

BATCH = 5000


def truncate_contacts() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE contacts_message, contacts_contact, contacts_contactrollup, "
            "contacts_customer, contacts_customerevent RESTART IDENTITY CASCADE"
        )


TABLES = ("contacts_customer", "contacts_contact", "contacts_message")


def stored_rows(folder: Path) -> dict[str, Path]:
    """Dump the customers, contacts and messages that ingestion stored (``COPY … TO``), so the
    baseline can load exactly the same rows: every column, foreign keys included."""
    from django.db import connection

    paths = {}
    with connection.cursor() as cursor:
        for table in TABLES:
            paths[table] = Path(folder) / f"{table}.copy"
            with paths[table].open("w") as handle:
                cursor.cursor.copy_expert(f"COPY {table} TO STDOUT", handle)
    return paths


def raw_copy(paths: dict[str, Path]) -> float:
    """COPY the same contact and message rows straight into the same tables: the ceiling.

    The rows are the ones the import stored (customer, rep, team, reason and repeat links
    included, so the COPY pays the same foreign-key checks at commit). Their customers are
    loaded before the clock starts; contacts and messages are copied and committed in it."""
    from django.db import connection, transaction

    truncate_contacts()
    with connection.cursor() as cursor, paths["contacts_customer"].open() as handle:
        cursor.cursor.copy_expert("COPY contacts_customer FROM STDIN", handle)
    timer = Timer()
    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("contacts_contact", "contacts_message"):
            with paths[table].open() as handle:
                cursor.cursor.copy_expert(f"COPY {table} FROM STDIN", handle)
    seconds = timer.seconds
    with connection.cursor() as cursor:  # the copied ids were not drawn from the sequences
        for table in TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
            )
    return seconds


@contextlib.contextmanager
def upkeep_clock():
    """Seconds spent in rollup upkeep (computing contributions, applying deltas) and in repeat
    links while the block runs, by wrapping those functions where the service calls them."""
    from contacts import changes, rollups
    from contacts.ingest import service

    patches = [
        (changes, "contribution_rows", "rollups"),
        (service, "repeats_link_ahead", "repeats"),
        (service, "repeats_save_links", "repeats"),
        (service, "repeats_relink_spans", "repeats"),
        (rollups.RollupDelta, "add_rows", "rollups"),
        (rollups.RollupDelta, "apply", "rollups"),
    ]
    seconds = {}
    with function_clock(patches) as spent:
        yield seconds
    seconds.update({label: total for label, (total, _) in spent.items()})


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
    summary = import_file(path=path, started_by="bench")  # its default batch: 10,000 rows
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
    from contacts.rollups import rollup_snapshot, rollups_rebuild

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
        "setup_django(fresh=False); from contacts.services.sentiment import contact_sentiment_update; "
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
    parser.add_argument(
        "--without-search-index",
        action="store_true",
        help="drop the messages' full-text column and GIN index first (the contacts-only schema)",
    )
    args = parser.parse_args()
    setup_django()
    from contacts.models import ContactReason  # noqa: F401  (apps are ready)

    if args.without_search_index:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX IF EXISTS message_search")
            cursor.execute("ALTER TABLE contacts_message DROP COLUMN IF EXISTS search_vector")
    print(
        "schema: "
        + ("without the full-text index" if args.without_search_index else "full-text index on"),
        file=sys.stderr,
    )

    n = args.rows
    rows = make_rows(n)
    # The reasons exist, as in production: an import does not create the taxonomy.
    from contacts.demo import REASONS
    from contacts.models import ContactReason as Reason

    for spec in REASONS:
        parent, _ = Reason.objects.get_or_create(name=spec[1], parent=None)
        Reason.objects.get_or_create(name=spec[2], parent=parent)

    cpu: dict[str, tuple[float, float]] = {}  # measurement → CPU seconds (python, postgresql)

    class Results(list):
        def append(self, item) -> None:  # progress while the run goes on
            super().append(item)
            if not item[0].startswith("sentiment"):  # its processes have connections of their own
                cpu[item[0]] = Timer.last_cpu
            print(f"done: {item[0]}: {item[2]:.1f} s {item[3]}", file=sys.stderr, flush=True)

    results = Results()

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
        stored = stored_rows(folder)  # what the import wrote: the baseline copies the same
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
        copy_seconds = raw_copy(stored)
        print(f"done: raw COPY: {copy_seconds:.1f} s", file=sys.stderr, flush=True)
        copy_name = "raw COPY (contacts + messages, same tables and indexes)"
        cpu[copy_name] = Timer.last_cpu
        results.insert(0, (copy_name, n, copy_seconds, ""))

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
    print(
        "| measurement | rows | seconds | rows/s | × raw COPY | CPU s: Python + PostgreSQL "
        "| CPU µs a row | notes |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    copy_rate = n / copy_seconds
    for name, count, seconds, notes in results:
        rate = count / seconds if seconds else 0
        comparable = name.startswith(("import", "re-import", "live", "bulk API"))
        ratio_text = f"{rate / copy_rate:.3f}" if comparable else ""
        python_cpu, pg_cpu = cpu.get(name, (0.0, 0.0))
        cpu_text = f"{python_cpu:.1f} + {pg_cpu:.1f}" if name in cpu else ""
        per_row = f"{(python_cpu + pg_cpu) / count * 1e6:,.0f}" if name in cpu and count else ""
        print(
            f"| {name} | {count:,} | {seconds:.1f} | {rate:,.0f} | {ratio_text} | {cpu_text} "
            f"| {per_row} | {notes} |"
        )


if __name__ == "__main__":
    main()
