"""Contact budget: the set-based answer for 50,000 candidates, and the claim one at a time.

    .venv/bin/python bench/budget_bench.py --customers 200000 --candidates 50000

Builds, in a dedicated PostgreSQL database (dropped and recreated: VOC_BENCH_DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/voc_budget_bench), a year of history for
``--customers`` customers: three contacts each over 365 days (one in ten still open or waiting
for a callback, a third of those with ``outcome_set_at``), and the ledger a year of use leaves:
surveys for about half the customers (one to four each), callbacks, outreach calls, fix notices
for 300 issues, refusals, and opt-outs from 3 % of customers per purpose. Then it asks
``budget_allowed`` about ``--candidates`` random customers (a few of them unknown ids) for each
purpose, ``--runs`` times, counting the queries, and times ``--claims`` single claims.

Results go to stdout as Markdown.
"""

import argparse
import os
import random
import statistics
import time
from collections import Counter
from datetime import UTC, datetime

os.environ.setdefault(
    "VOC_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voc_budget_bench"
)
from common import Timer, setup_django

NOW = datetime.now(UTC)


def build(customers: int) -> dict[str, int]:
    """The history, in SQL (generate_series): seconds, not the ORM's minutes."""
    from django.db import connection

    statements = [
        # Customers.
        """INSERT INTO contacts_customer
               (external_ref, name, email, phone, segment, created_at, updated_at)
           SELECT 'BB-' || n, 'Customer ' || n, 'c' || n || '@mail.example', '', 'consumer',
                  %(now)s - interval '2 years', %(now)s
           FROM generate_series(1, %(customers)s) AS n""",
        # Three contacts each over a year; one in ten open or callback, a third of those with
        # outcome_set_at a few days after the contact.
        """INSERT INTO contacts_contact
               (source, external_id, customer_id, channel, direction, occurred_at, tags,
                subject, notes, outcome, outcome_set_at, content_hash, created_at, updated_at)
           SELECT 'bench', 'bb-' || c.id || '-' || k, c.id, 'phone', 'inbound',
                  %(now)s - (random() * 365) * interval '1 day', '[]', '', '',
                  CASE WHEN random() < 0.1
                       THEN (ARRAY['open', 'callback'])[1 + (random() < 0.5)::int]
                       ELSE 'resolved' END,
                  NULL, '', %(now)s, %(now)s
           FROM contacts_customer c, generate_series(1, 3) AS k""",
        """UPDATE contacts_contact SET outcome_set_at = occurred_at + random() * interval '5 days'
           WHERE outcome IN ('open', 'callback') AND random() < 0.33""",
        # Surveys: about half the customers, one to four in the year.
        """INSERT INTO contacts_budgettouch (customer_id, purpose, key, at, actor_name)
           SELECT c.id, 'survey', '', %(now)s - (random() * 365) * interval '1 day', 'sampler'
           FROM contacts_customer c, generate_series(1, 4) AS k
           WHERE random() < 0.5 / k""",
        """INSERT INTO contacts_budgettouch (customer_id, purpose, key, at, actor_name)
           SELECT c.id, 'callback', '', %(now)s - (random() * 365) * interval '1 day', 'rep'
           FROM contacts_customer c WHERE random() < 0.15""",
        """INSERT INTO contacts_budgettouch (customer_id, purpose, key, at, actor_name)
           SELECT c.id, 'outreach', '', %(now)s - (random() * 365) * interval '1 day', 'exec'
           FROM contacts_customer c WHERE random() < 0.05""",
        # Fix notices: 300 issues, each told to its reporters (about 22 % of customers).
        """INSERT INTO contacts_budgettouch (customer_id, purpose, key, at, actor_name)
           SELECT c.id, 'fix_notice', 'issue-' || (1 + (random() * 299)::int),
                  %(now)s - (random() * 365) * interval '1 day', 'notices'
           FROM contacts_customer c, generate_series(1, 2) AS k
           WHERE random() < 0.12
           ON CONFLICT DO NOTHING""",
        """INSERT INTO contacts_budgetrefusal (customer_id, purpose, key, reason, at, actor_name)
           SELECT c.id, 'survey', '', 'cool_down',
                  %(now)s - (random() * 365) * interval '1 day', 'sampler'
           FROM contacts_customer c WHERE random() < 0.25""",
        """INSERT INTO contacts_budgetoptout (customer_id, purpose, at, actor_name)
           SELECT c.id, p.purpose, %(now)s, 'rep'
           FROM contacts_customer c,
                (VALUES ('survey'), ('callback'), ('fix_notice'), ('outreach')) AS p(purpose)
           WHERE random() < 0.03""",
        # A year-old ledger has been vacuumed: its visibility map lets index-only scans skip
        # the table.
        "VACUUM ANALYZE",
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        for statement in statements:
            cursor.execute(statement, {"now": NOW, "customers": customers})
        counts = {}
        for table in ("customer", "contact", "budgettouch", "budgetrefusal", "budgetoptout"):
            cursor.execute(f"SELECT count(*) FROM contacts_{table}")
            counts[table] = cursor.fetchone()[0]
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--candidates", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--claims", type=int, default=500)
    parser.add_argument(
        "--reuse", action="store_true", help="measure the database the last run built again"
    )
    args = parser.parse_args()

    setup_django(fresh=not args.reuse)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contacts.budget.selectors import budget_allowed
    from contacts.budget.services import budget_claim
    from contacts.models import BudgetPurpose, Customer
    from voc.core.audit import SystemActor

    if not args.reuse:
        timer = Timer()
        counts = build(args.customers)
        print(f"history built in {timer.seconds:.1f} s: {counts}\n")

    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM contacts_customer")
        low, high = cursor.fetchone()
    rng = random.Random(7)
    candidates = rng.sample(range(low, high + 1), args.candidates - 100)
    candidates += list(range(high + 1, high + 101))  # a few unknown ids

    print(
        "| purpose | candidates | queries | seconds (median of runs) | slowest run | "
        "CPU s: Python + PostgreSQL | allowed | refused by reason |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|")
    for purpose in BudgetPurpose.values:
        seconds, cpu = [], []
        for _ in range(args.runs):
            timer = Timer()
            with CaptureQueriesContext(connection) as queries:
                answers = budget_allowed(
                    customer_ids=candidates, purpose=purpose, now=NOW, key="issue-17"
                )
            seconds.append(timer.seconds)
            cpu.append(Timer.last_cpu)
        reasons = Counter(answer.reason for answer in answers.values() if not answer.allowed)
        allowed = sum(answer.allowed for answer in answers.values())
        python_cpu, pg_cpu = cpu[len(cpu) // 2]
        print(
            f"| {purpose} | {len(answers):,} | {len(queries)} | "
            f"{statistics.median(seconds):.3f} | {max(seconds):.3f} | "
            f"{python_cpu:.2f} + {pg_cpu:.2f} | {allowed:,} | "
            + ", ".join(f"{reason} {count:,}" for reason, count in reasons.most_common())
            + " |"
        )

    actor = SystemActor("bench")
    customers = list(Customer.objects.filter(id__in=candidates[: args.claims]).order_by("id"))
    latencies = []
    allowed = 0
    for customer in customers:
        started = time.perf_counter()
        allowed += budget_claim(customer=customer, purpose="survey", by=actor).allowed
        latencies.append(time.perf_counter() - started)
    latencies.sort()
    print(
        f"\n{len(latencies)} survey claims one at a time (each its own transaction): median "
        f"{statistics.median(latencies) * 1000:.1f} ms, 95th percentile "
        f"{latencies[int(len(latencies) * 0.95)] * 1000:.1f} ms; {allowed} allowed"
    )


if __name__ == "__main__":
    main()
