"""The bcc digests: daily subscriptions over a day of messages, from the beat tick to the
last digest handed to the email backend, with real Celery worker processes.

    .venv/bin/python bench/digests_bench.py --subscriptions 1000 --contacts-per-day 14500

In a dedicated PostgreSQL database (dropped and recreated: VOC_BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/voc_digests_bench) with the demo's people, reasons and
teams, it builds in SQL three days of contacts before today 00:00 UTC (the period, the period
before it, and one more), ``contacts-per-day`` a day: five channels, every reason of the demo
taxonomy, every team, sentiment uniform in [-1, 1], one in ten tagged "vip". Three in ten are
imported calls (one message, no time of its own: they take the contact's time); the others
are threads of 2 to 7 messages, incoming and outgoing in turn, 7 minutes apart. Texts are
~300 characters of support vocabulary. 14,500 contacts a day (the default) make ~50,000
messages a day; 58,000 make ~200,000.

Subscriptions (daily at 00:00 UTC, their cursor at yesterday 00:00, so each has exactly
yesterday due) go round-robin to the demo's executives, managers and reps (each receives
only their own row scope), with this mix of filters, by subscription number modulo 10:
0-1 a top-level reason (its sub-reasons included), 2-3 a department, 4 keywords (full text),
5 sentiment at most -0.5, 6 a sub-reason without our replies, 7 a team, 8 email at or below
sentiment 0, 9 the "vip" tag.

Then (1) the time per digest and SQL queries per digest in this process, for a sample; (2)
the job as in production: ``loops.digests_due`` sent to the broker (Redis, database
VOC_BENCH_BROKER_URL, default 9, flushed first) and a Celery worker with ``--workers``
processes (default 2) consuming it and the send-once emails, to the database outbox; timed
from the send to the last email recorded sent. Results go to stdout as Markdown.
"""

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault(
    "VOC_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voc_digests_bench"
)
os.environ.setdefault("VOC_BENCH_BROKER_URL", "redis://127.0.0.1:6379/9")
os.environ["CELERY_BROKER_URL"] = os.environ["VOC_BENCH_BROKER_URL"]
from common import (
    BENCH_DATABASE_URL,
    ROOT,
    WORDS,
    Timer,
    database_cpu,
    group_cpu,
    setup_django,
)

BROKER_URL = os.environ["VOC_BENCH_BROKER_URL"]

TODAY = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
PERIOD_START = TODAY - timedelta(days=1)
DAYS = 3
KEYWORDS = ["refund", "router", '"charged twice"', "outage -thanks", "technician appointment"]


def build(contacts_per_day: int) -> dict[str, int]:
    from django.db import connection

    from contacts.demo import REASONS
    from contacts.models import ContactReason
    from voc.people.models import Department

    for department_name, parent_name, name, *_ in REASONS:  # the demo's taxonomy
        department = Department.objects.filter(name=department_name).first()
        parent, _ = ContactReason.objects.get_or_create(
            name=parent_name, parent=None, defaults={"department": department}
        )
        ContactReason.objects.get_or_create(
            name=name, parent=parent, defaults={"department": department}
        )
    rng = random.Random(7)
    texts = [" ".join(rng.choices(WORDS, k=55))[:300] for _ in range(400)]
    statements = [
        """TRUNCATE loops_digest, loops_digestsubscription, loops_digestsubscription_reasons,
                    loops_digestsubscription_departments, loops_digestsubscription_teams,
                    core_sendonce, core_outboxmessage, contacts_message, contacts_contact
           RESTART IDENTITY CASCADE""",
        """INSERT INTO contacts_contact
               (source, external_id, channel, direction, occurred_at, occurred_date_only,
                team_id, reason_id, tags, subject, notes, outcome, content_hash,
                customer_segment, sentiment, created_at, updated_at)
           SELECT 'bench', 'd-' || k,
                  (ARRAY['phone','email','chat','social','web_form'])[1 + k %% 5], 'inbound',
                  %(start)s + (random() * %(days)s * 86400) * interval '1 second', false,
                  (SELECT array_agg(id ORDER BY id) FROM people_team)[1 + k %% %(teams)s],
                  (SELECT array_agg(id ORDER BY id) FROM contacts_contactreason
                   WHERE parent_id IS NOT NULL)[1 + (k / 7) %% %(reasons)s],
                  CASE WHEN k %% 10 = 3 THEN '["vip"]'::jsonb ELSE '[]'::jsonb END,
                  '', '', 'resolved', '', '', random() * 2 - 1, %(now)s, %(now)s
           FROM generate_series(1, %(contacts)s) AS k""",
        # Imported calls: one message, no time of its own.
        """INSERT INTO contacts_message (contact_id, external_id, position, direction, author,
                                         sent_at, text)
           SELECT id, 'text', 0, 'incoming', '', NULL, (%(texts)s)[1 + id %% 400]
           FROM contacts_contact WHERE id %% 10 < 3""",
        # Threads: 2-7 messages, in turn, 7 minutes apart.
        """INSERT INTO contacts_message (contact_id, external_id, position, direction, author,
                                         sent_at, text)
           SELECT c.id, 'm' || p, p,
                  CASE WHEN p %% 2 = 0 THEN 'incoming' ELSE 'outgoing' END, '',
                  c.occurred_at + p * interval '7 minutes', (%(texts)s)[1 + (c.id + p) %% 400]
           FROM contacts_contact c, generate_series(0, 6) AS p
           WHERE c.id %% 10 >= 3 AND p < 2 + c.id %% 6""",
        "VACUUM ANALYZE contacts_contact",
        "VACUUM ANALYZE contacts_message",
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute("SELECT count(*) FROM people_team")
        teams = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM contacts_contactreason WHERE parent_id IS NOT NULL")
        reasons = cursor.fetchone()[0]
        params = {
            "start": TODAY - timedelta(days=DAYS),
            "days": DAYS,
            "contacts": contacts_per_day * DAYS,
            "teams": teams,
            "reasons": reasons,
            "texts": texts,
            "now": TODAY,
        }
        for statement in statements:
            cursor.execute(statement, params if "%(" in statement else None)
        cursor.execute(
            "SELECT count(*) FROM contacts_message m JOIN contacts_contact c "
            "ON c.id = m.contact_id WHERE coalesce(m.sent_at, c.occurred_at) >= %s "
            "AND coalesce(m.sent_at, c.occurred_at) < %s",
            [PERIOD_START, TODAY],
        )
        in_period = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM contacts_message")
        messages = cursor.fetchone()[0]
    return {"messages": messages, "in_period": in_period}


def subscribe(count: int) -> None:
    from django.db import transaction

    from contacts.models import ContactReason
    from loops.models import DigestSubscription
    from voc.people.models import Department, Team, User

    users = list(
        User.objects.filter(role__in=["executive", "manager", "rep"], is_active=True).order_by(
            "role", "id"
        )
    )
    User.objects.update(time_zone="UTC")
    parents = list(ContactReason.objects.filter(parent__isnull=True).order_by("id"))
    children = list(ContactReason.objects.filter(parent__isnull=False).order_by("id"))
    departments = list(Department.objects.order_by("id"))
    teams = list(Team.objects.order_by("id"))
    with transaction.atomic():
        for n in range(count):
            kind = n % 10
            fields: dict = {}
            if kind == 4:
                fields["keywords"] = KEYWORDS[n // 10 % len(KEYWORDS)]
            elif kind == 5:
                fields["sentiment_at_most"] = -0.5
            elif kind == 6:
                fields["include_outgoing"] = False
            elif kind == 8:
                fields |= {"channels": ["email"], "sentiment_at_most": 0.0}
            elif kind == 9:
                fields["tags"] = ["vip"]
            subscription = DigestSubscription.objects.create(
                user=users[n % len(users)],
                name=f"Bench {n}",
                frequency="daily",
                hour=0,
                created_at=PERIOD_START - timedelta(days=1),
                sent_until=PERIOD_START,
                **fields,
            )
            if kind in (0, 1):
                subscription.reasons.set([parents[n % len(parents)]])
            elif kind in (2, 3):
                subscription.departments.set([departments[n % len(departments)]])
            elif kind == 6:
                subscription.reasons.set([children[n % len(children)]])
            elif kind == 7:
                subscription.teams.set([teams[n % len(teams)]])


def reset_digests() -> None:
    from loops.models import Digest, DigestPeriod, DigestPeriodTexts, DigestSubscription
    from voc.core.models import OutboxMessage, SendOnce

    # The period summaries and texts go too, so every run pays for building its own.
    DigestPeriod.objects.all().delete()
    DigestPeriodTexts.objects.all().delete()
    Digest.objects.all().delete()
    SendOnce.objects.all().delete()
    OutboxMessage.objects.all().delete()
    DigestSubscription.objects.update(sent_until=PERIOD_START)


def in_process(sample: int) -> str:
    """Seconds and queries per digest for the first ``sample`` subscriptions, one by one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from loops.digests.services import digests_build
    from loops.models import Digest, DigestSubscription

    now = TODAY + timedelta(minutes=1)
    ids = list(DigestSubscription.objects.order_by("id").values_list("id", flat=True)[:sample])
    keyword_ids = set(
        DigestSubscription.objects.filter(id__in=ids)
        .exclude(keywords="")
        .values_list("id", flat=True)
    )
    queries, seconds = [], []
    cpu: dict[bool, list[tuple[float, float]]] = {True: [], False: []}  # keywords or not
    for subscription_id in ids:
        connection.queries_log.clear()
        timer = Timer()
        with CaptureQueriesContext(connection) as captured:
            digests_build(subscription_ids=[subscription_id], now=now)
        seconds.append(timer.seconds)
        queries.append(len(captured))
        cpu[subscription_id in keyword_ids].append(Timer.last_cpu)

    def per_digest(kind: bool) -> str:
        spent = cpu[kind][1:] if not kind else cpu[kind]  # the first builds the summaries
        python = 1000 * sum(p for p, _ in spent) / max(len(spent), 1)
        database = 1000 * sum(d for _, d in spent) / max(len(spent), 1)
        return f"{python:.0f} ms Python + {database:.0f} ms PostgreSQL"

    digests = list(Digest.objects.filter(subscription_id__in=ids).order_by("subscription_id"))
    threads = [d.thread_count for d in digests]
    messages = [d.message_count for d in digests]
    by_size = sorted(zip(messages, queries, strict=True))
    reset_digests()
    return (
        f"| in this process, {len(ids)} subscriptions one by one | {sum(seconds):.1f} s "
        f"({1000 * sum(seconds) / len(ids):.0f} ms a digest, slowest "
        f"{1000 * max(seconds):.0f} ms; CPU a digest: keywords ({len(cpu[True])}) "
        f"{per_digest(True)}, the others (after the first) {per_digest(False)}; load average "
        f"{os.getloadavg()[0]:.1f}) | queries per digest: {min(queries)}-{max(queries)} "
        f"(fewest matching messages {by_size[0][0]:,}: {by_size[0][1]}; most "
        f"{by_size[-1][0]:,}: {by_size[-1][1]}) | threads per digest {min(threads)}-"
        f"{max(threads):,}, messages {min(messages)}-{max(messages):,} |"
    )


def with_workers(workers: int, timeout: float) -> str:
    import redis
    from celery import current_app

    from loops.digests.services import digests_due_ids
    from loops.models import Digest
    from voc.core.models import SendOnce

    due = len(digests_due_ids())
    redis.Redis.from_url(BROKER_URL).flushdb()
    log = Path(tempfile.gettempdir()) / f"digests-bench-worker-{os.getpid()}.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "voc.settings",
        "DATABASE_URL": BENCH_DATABASE_URL,
        "CELERY_BROKER_URL": BROKER_URL,
        "EMAIL_BACKEND": "voc.core.mail.OutboxBackend",
        "VOC_ENV": "development",
        # One connection per process for the whole run, so its server process's CPU is read.
        "DB_CONN_MAX_AGE": "3600",
    }
    env.pop("REDIS_URL", None)
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [
                str(Path(sys.prefix) / "bin" / "celery"),
                "-A",
                "voc",
                "worker",
                f"--concurrency={workers}",
                "--loglevel=WARNING",
                "--without-gossip",
                "--without-mingle",
                "--prefetch-multiplier=1",
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        time.sleep(8)  # the worker's processes start (Django set up in each)
        starting_cpu = group_cpu(worker.pid)  # what starting up cost, not the digests
        started = time.perf_counter()
        tick = datetime.now(UTC)
        load_before = os.getloadavg()[0]
        current_app.send_task("loops.digests_due")
        while True:
            built = Digest.objects.exclude(status="building").count()
            queued = Digest.objects.filter(status="queued").count()
            sent = SendOnce.objects.filter(status="sent").count()
            if built >= due and sent >= queued:
                break
            if time.perf_counter() - started > timeout:
                raise SystemExit(f"gave up after {timeout} s: {built}/{due} built, {sent} sent")
            time.sleep(0.25)
        last = SendOnce.objects.order_by("-sent_at").values_list("sent_at", flat=True).first()
        seconds = (last - tick).total_seconds() if last else time.perf_counter() - started
        empty = Digest.objects.filter(status="empty").count()
        failed = SendOnce.objects.exclude(status="sent").count()
        workers_cpu = group_cpu(worker.pid)
        server_cpu = database_cpu(BENCH_DATABASE_URL.rsplit("/", 1)[1])
    finally:
        os.killpg(worker.pid, 15)
        worker.wait(timeout=60)
    return (
        f"| beat tick to last email handed over, {workers} worker processes | "
        f"**{seconds:.1f} s** | {due:,} due: {queued:,} sent, {empty:,} empty, {failed} not sent "
        f"| CPU: workers {workers_cpu:.1f} s ({starting_cpu:.1f} s of it starting up; "
        f"{1000 * (workers_cpu - starting_cpu) / max(due, 1):.0f} ms a digest after that), "
        f"PostgreSQL {server_cpu:.1f} s (the server processes still connected at the end); "
        f"load average {load_before:.1f} at the tick, {os.getloadavg()[0]:.1f} at the end |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--contacts-per-day", type=int, default=14500)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sample", type=int, default=50)
    parser.add_argument("--timeout", type=float, default=900)
    parser.add_argument("--reuse", action="store_true", help="keep the database as it is")
    args = parser.parse_args()
    setup_django(fresh=not args.reuse)
    if not args.reuse:
        timer = Timer()
        sizes = build(args.contacts_per_day)
        subscribe(args.subscriptions)
        print(
            f"Built in {timer.seconds:.0f} s: {sizes['messages']:,} messages, "
            f"{sizes['in_period']:,} in the period, {args.subscriptions:,} subscriptions.\n"
        )
    else:
        reset_digests()
    print("| measurement | time | queries / outcome | sizes |")
    print("|---|---:|---|---|")
    print(in_process(args.sample), flush=True)
    print(with_workers(args.workers, args.timeout), flush=True)


if __name__ == "__main__":
    main()
