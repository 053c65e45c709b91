"""Where a file import spends its time: the import of ingest_bench.py with a timer on each step
of the ingest service, then the same raw COPY baseline.

    .venv/bin/python bench/ingest_steps.py --rows 1000000

Same data, schema (without the full-text index) and baseline as
``ingest_bench.py --without-search-index``. The timers are wrappers around the service's
functions (they cost a little). Seconds are wall time in the writing process, so a step that
waits for PostgreSQL counts PostgreSQL's time; "waiting for a parsed batch" is the time the
writer had nothing to write. The PostgreSQL figures at the end are the server's counters for
the benchmark database over the import: pages found in shared buffers or read from the
operating system, and what the rollup upserts did to their table.
"""

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from common import Timer, function_clock, make_rows, setup_django
from ingest_bench import raw_copy, stored_rows, truncate_contacts

# (owner module path, attribute, label); nested steps are listed after the step they are in.
STEPS = (
    ("contacts.ingest.imports", "contacts_ingest", "one batch, in all"),
    ("contacts.ingest.service", "hold_erasure_lock_shared", "erasure lock"),
    ("contacts.ingest.service", "erased_rows", "erasure check"),
    ("contacts.ingest.service._Lookups", "__init__", "reasons, teams, reps"),
    ("contacts.ingest.service", "_existing_contacts", "existing contacts"),
    ("contacts.ingest.service", "_match_customers", "customers, in all"),
    ("contacts.ingest.service", "_find_customers", "  customer lookup"),
    ("contacts.ingest.pgcopy.CopyWriter", "create_customers", "  customer creation"),
    ("contacts.ingest.pgcopy.CopyWriter", "create_contacts", "contacts COPY"),
    ("contacts.ingest.pgcopy.CopyWriter", "update_contacts", "contacts update"),
    ("contacts.ingest.pgcopy.CopyWriter", "delete_messages", "messages delete"),
    ("contacts.ingest.pgcopy.CopyWriter", "create_messages", "messages COPY"),
    ("contacts.ingest.service", "repeats_link_ahead", "repeat links, before the writes"),
    ("contacts.ingest.service", "repeats_save_links", "repeat links of stored contacts"),
    ("contacts.ingest.service", "repeats_relink_spans", "repeat relinking after the writes"),
    ("contacts.rollups.RollupDelta", "add_rows", "rollup contributions"),
    ("contacts.rollups.RollupDelta", "apply", "rollup upsert"),
)


def _owner(path: str):
    import importlib

    module, _, attribute = path.rpartition(".")
    try:
        return importlib.import_module(path)
    except ModuleNotFoundError:
        return getattr(importlib.import_module(module), attribute)


def step_clock():
    """{label: [seconds, calls]} for STEPS and the commit, while the block runs."""
    from django.db import connection

    # The commit is what transaction.atomic calls on Django's connection object.
    patches = [(_owner(path), name, label) for path, name, label in STEPS]
    return function_clock([*patches, (connection, "commit", "commit")])


def _writer_cpu() -> float:
    """CPU seconds of this process alone (its threads included, the parsing processes not)."""
    times = os.times()
    return times.user + times.system


def server_counters() -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        # This process's counters reach the shared statistics when it is next idle.
        cursor.execute("SELECT pg_stat_force_next_flush()")
    time.sleep(0.5)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT blks_hit, blks_read FROM pg_stat_database WHERE datname = current_database()"
        )
        hit, read = cursor.fetchone()
        cursor.execute(
            "SELECT n_tup_ins, n_tup_upd, n_tup_hot_upd FROM pg_stat_user_tables "
            "WHERE relname = 'contacts_contactrollup'"
        )
        inserted, updated, hot = cursor.fetchone()
        cursor.execute(
            "SELECT buffers_backend, buffers_clean, checkpoints_timed + checkpoints_req "
            "FROM pg_stat_bgwriter"
        )
        backend_writes, cleaner_writes, checkpoints = cursor.fetchone()
        cursor.execute("SELECT wal_records, wal_fpi, wal_bytes FROM pg_stat_wal")
        wal_records, wal_fpi, wal_bytes = cursor.fetchone()
    return {
        "pages found in shared buffers": hit,
        "pages read from the operating system": read,
        "pages the server process wrote out itself": backend_writes,
        "pages the background writer wrote out": cleaner_writes,
        "checkpoints": checkpoints,
        "WAL records": wal_records,
        "WAL full-page images": wal_fpi,
        "WAL megabytes": int(wal_bytes) // 1_000_000,
        "rollup rows inserted": inserted,
        "rollup rows updated": updated,
        "  of which in place (HOT)": hot,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--no-baseline", action="store_true", help="skip the raw COPY")
    args = parser.parse_args()
    setup_django()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP INDEX IF EXISTS message_search")
        cursor.execute("ALTER TABLE contacts_message DROP COLUMN IF EXISTS search_vector")
        cursor.execute("SHOW shared_buffers")
        shared_buffers = cursor.fetchone()[0]
    from contacts.demo import REASONS
    from contacts.ingest.imports import import_file
    from contacts.models import ContactReason

    for spec in REASONS:
        parent, _ = ContactReason.objects.get_or_create(name=spec[1], parent=None)
        ContactReason.objects.get_or_create(name=spec[2], parent=parent)
    rows = make_rows(args.rows)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "contacts.ndjson"
        with path.open("w") as handle:
            for row in rows:
                handle.write(json.dumps(row) + "\n")
        del rows
        truncate_contacts()
        before = server_counters()
        with step_clock() as spent:
            writer_cpu = _writer_cpu()
            timer = Timer()
            summary = import_file(path=path, started_by="bench")
            seconds = timer.seconds
            writer_cpu = _writer_cpu() - writer_cpu
        python_cpu, pg_cpu = Timer.last_cpu
        after = server_counters()
        copy_seconds = None
        if not args.no_baseline:
            copy_seconds = raw_copy(stored_rows(folder))
            copy_cpu = Timer.last_cpu

    print(
        f"\n{args.rows:,} rows, shared_buffers = {shared_buffers}, {time.strftime('%Y-%m-%d')}: "
        f"{summary.counts()}\n"
    )
    print("| step | seconds | share of the import | calls |")
    print("|---|---:|---:|---:|")
    batches = spent["one batch, in all"][0]
    print(f"| import, in all | {seconds:.1f} | 100 % | |")
    print(
        f"| waiting for a parsed batch, progress, run record | {seconds - batches:.1f} "
        f"| {(seconds - batches) / seconds:.1%} | |"
    )
    for label, (step_seconds, calls) in spent.items():
        print(f"| {label} | {step_seconds:.1f} | {step_seconds / seconds:.1%} | {calls:,} |")
    print(
        f"\nCPU seconds of the import: Python {python_cpu:.1f} (of which the writing process "
        f"{writer_cpu:.1f}), PostgreSQL {pg_cpu:.1f}"
    )
    if copy_seconds is not None:
        print(
            f"raw COPY: {copy_seconds:.1f} s (PostgreSQL CPU {copy_cpu[1]:.1f} s); "
            f"the import at {args.rows / seconds:,.0f} rows/s is "
            f"{copy_seconds / seconds:.3f} × raw COPY"
        )
    print("\n| PostgreSQL during the import | count |\n|---|---:|")
    for name, value in after.items():
        print(f"| {name} | {value - before[name]:,} |")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
