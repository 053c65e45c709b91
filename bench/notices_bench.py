"""Fix notices to N customers (default 20,000) with two real Celery workers on PostgreSQL.

    .venv/bin/python bench/notices_bench.py --customers 20000 --workers 2

1. **queries**: in this process, without workers, the queries of sending a notice are counted
   for 1,000 and for N customers: the plan (recipients inserted, chunks queued), every chunk
   (budget claimed, send-once rows asked for, recipients written) and, on a sample of 50,
   send-once's chunked delivery (``core.send_once_batch``), per email. Queries per notice must
   not grow with the customers beyond one chunk per 500 and the emails' own.
2. **with workers**: a fresh notice for N customers is approved; the clock runs from the
   approval's commit until every email is in the outbox (the embedded backend, one row per
   email) and the notice is marked sent. Two workers do the plan, the chunks and the emails,
   each with Celery's default pool (as many processes as CPUs, as docker-compose runs it;
   ``--concurrency`` changes it).

The benchmark recreates its own database (``VOC_BENCH_DATABASE_URL``) and flushes its own
Redis database (``VOC_BENCH_BROKER_URL``, default db 7), starts and stops its own workers.
Do not run tests on the same Redis database meanwhile. Results go to stdout as Markdown.
"""

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from common import BENCH_DATABASE_URL, ROOT, Timer, group_cpu, setup_django

BROKER_URL = os.environ.get("VOC_BENCH_BROKER_URL", "redis://127.0.0.1:6379/7")
GOAL_SECONDS = 60.0


def make_world(customers: int, tag: str):
    """A fixed issue of a department, owned by its head, reported by ``customers`` customers
    (one contact of evidence each), all written in bulk."""
    from datetime import UTC, datetime

    from contacts.models import Contact, ContactReason, Customer
    from loops.models import EvidenceKind, IssueEvidence
    from loops.services.issues import issue_open, issue_recount_evidence, issue_transition
    from voc.people.models import Department, User
    from voc.people.roles import Role

    department = Department.objects.create(name=f"Billing {tag}")
    head = User.objects.create_user(
        username=f"head-{tag}", password=None, role=Role.MANAGER, department=department
    )
    department.head = head
    department.save()
    reason = ContactReason.objects.create(name=f"Double charge {tag}", department=department)
    people = Customer.objects.bulk_create(
        Customer(
            external_ref=f"N{tag}-{n:07d}", name=f"Customer {n}", email=f"c{n}.{tag}@x.example"
        )
        for n in range(customers)
    )
    at = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
    contacts = Contact.objects.bulk_create(
        Contact(source="bench", external_id=f"n{tag}-{c.pk}", channel="phone", occurred_at=at,
                reason=reason, customer=c)
        for c in people
    )  # fmt: skip
    issue = issue_open(title=f"Double charge {tag}", reasons=[reason], owner=head, by=head)
    IssueEvidence.objects.bulk_create(
        IssueEvidence(issue=issue, kind=EvidenceKind.CONTACT, contact=c, customer_id=c.customer_id,
                      occurred_at=at)
        for c in contacts
    )  # fmt: skip
    issue_recount_evidence(issue_ids=[issue.pk])
    for status in ("assigned", "in_progress", "fixed"):
        issue = issue_transition(issue=issue, to=status, by=head)
    return issue, head


def count_queries(customers: int) -> dict:
    """The queries of one notice to ``customers`` customers, by step, in this process."""
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from loops.models import NoticeRecipient
    from loops.notices import services
    from voc.core.models import SendOnce
    from voc.core.sendonce import send_once_deliver_many

    issue, head = make_world(customers, f"q{customers}")
    notice = services.notice_draft(issue=issue, by=head)
    with transaction.atomic():
        services.notice_approve(notice=notice, by=head)
    chunks: list[tuple[int, int, int]] = []
    original = services.enqueue_on_commit

    def capture(name, *args, catch_up):
        if name == services.CHUNK_TASK:
            chunks.append(args)

    services.enqueue_on_commit = capture
    try:
        with CaptureQueriesContext(connection) as plan:
            services.notice_plan(notice_id=notice.pk)
    finally:
        services.enqueue_on_commit = original
    chunk_queries = []
    for notice_id, first, last in chunks:
        with CaptureQueriesContext(connection) as chunk:
            services.notice_send_chunk(notice_id=notice_id, first_id=first, last_id=last)
        chunk_queries.append(len(chunk))
    sample = list(
        SendOnce.objects.filter(
            purpose=services.SEND_ONCE_PURPOSE, key__startswith=f"issue:{issue.pk}:"
        ).values_list("id", flat=True)[:50]
    )
    with CaptureQueriesContext(connection) as delivery:
        send_once_deliver_many(email_ids=sample)  # what core.send_once_batch does
    per_email = len(delivery) / max(1, len(sample))
    assert NoticeRecipient.objects.filter(notice=notice).count() == customers
    orchestration = len(plan) + sum(chunk_queries)
    return {
        "customers": customers,
        "plan": len(plan),
        "chunks": len(chunk_queries),
        "per_chunk": sorted(set(chunk_queries)),
        "orchestration": orchestration,
        "per_email": per_email,
        "per_customer": (orchestration + per_email * customers) / customers,
    }


def start_worker(number: int, logs: Path, concurrency: int) -> subprocess.Popen:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "voc.settings",
        "DATABASE_URL": BENCH_DATABASE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "EMAIL_BACKEND": "voc.core.mail.OutboxBackend",
        "VOC_ENV": "development",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("REDIS_URL", None)
    log = (logs / f"worker-{number}.log").open("wb")
    return subprocess.Popen(
        [str(Path(sys.prefix) / "bin" / "celery"), "-A", "voc", "worker",
         f"--concurrency={concurrency}",
         "--without-gossip", "--without-mingle", "--loglevel=WARNING",
         "--hostname", f"notices-bench-{number}@localhost"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True,
    )  # fmt: skip


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_until(condition, *, timeout: float, what: str, poll: float = 0.25):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(poll)
    raise SystemExit(f"gave up waiting for {what}")


def with_workers(customers: int, workers: int, concurrency: int) -> dict:
    from django.db import transaction

    from loops.models import FixNotice
    from loops.notices import services
    from voc.celery import app
    from voc.core.models import OutboxMessage, SendOnce

    issue, head = make_world(customers, f"w{customers}")
    notice = services.notice_draft(issue=issue, by=head)
    logs = ROOT / "var" / "bench-notices"
    logs.mkdir(parents=True, exist_ok=True)
    processes = [start_worker(n, logs, concurrency) for n in range(workers)]
    try:
        names = {f"notices-bench-{n}@localhost" for n in range(workers)}
        wait_until(
            lambda: names <= {k for reply in app.control.ping(timeout=0.5) for k in reply},
            timeout=60,
            what=f"{workers} workers ({logs})",
        )
        outbox_before = OutboxMessage.objects.count()
        timer = Timer()
        with transaction.atomic():
            services.notice_approve(notice=notice, by=head)
        emails = SendOnce.objects.filter(
            purpose=services.SEND_ONCE_PURPOSE, key__startswith=f"issue:{issue.pk}:"
        )
        wait_until(
            lambda: emails.filter(status=SendOnce.Status.SENT).count() == customers,
            timeout=1800,
            what="every email sent",
        )
        services.notices_reconcile()  # what beat runs every minute, here at once
        notice.refresh_from_db()
        seconds = timer.seconds
        cpu = Timer.last_cpu
        assert notice.status == FixNotice.Status.SENT, notice.status
        assert OutboxMessage.objects.count() - outbox_before == customers
        workers_cpu = sum(group_cpu(process.pid) for process in processes)
    finally:
        for process in processes:
            stop(process)
    return {
        "customers": customers,
        "workers": workers,
        "concurrency": concurrency,
        "seconds": seconds,
        "cpu": cpu,
        "workers_cpu": workers_cpu,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=os.cpu_count() or 2,
        help="pool processes per worker (Celery's default, as docker-compose runs it: the CPUs)",
    )
    parser.add_argument("--skip-queries", action="store_true")
    args = parser.parse_args()

    import redis

    os.environ["CELERY_BROKER_URL"] = BROKER_URL
    setup_django(fresh=True)
    redis.Redis.from_url(BROKER_URL).flushdb()

    print("| measurement | customers | figure |")
    print("|---|---|---|")
    if not args.skip_queries:
        for size in (1000, args.customers):
            q = count_queries(size)
            print(
                f"| queries: plan / chunks × queries each / orchestration total | {size:,} | "
                f"{q['plan']} / {q['chunks']} × {q['per_chunk']} / {q['orchestration']} |"
            )
            print(
                f"| queries: send-once delivery per email; per customer in all | {size:,} | "
                f"{q['per_email']:.1f}; {q['per_customer']:.2f} |"
            )
    # The query runs queued their emails' tasks: the workers must not send those too.
    redis.Redis.from_url(BROKER_URL).flushdb()
    run = with_workers(args.customers, args.workers, args.concurrency)
    met = "met" if run["seconds"] <= GOAL_SECONDS else "NOT met"
    print(
        f"| approve → every email in the outbox and the notice sent, {run['workers']} workers "
        f"× {run['concurrency']} processes | "
        f"{run['customers']:,} | {run['seconds']:.1f} s ({run['customers'] / run['seconds']:.0f} "
        f"emails/s; the workers' CPU {run['workers_cpu']:.1f} s, with their start-up); "
        f"goal ≤ {GOAL_SECONDS:.0f} s: "
        f"{met} |"
    )


if __name__ == "__main__":
    main()
