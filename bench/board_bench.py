"""The issue board and the issue page's facts at size.

    .venv/bin/python bench/board_bench.py --issues 10000 --contacts 200000

Builds, in a dedicated PostgreSQL database (dropped and recreated: VOC_BENCH_DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/voc_board_bench), the demo's people, ``--issues``
issues spread over the departments, severities, statuses and ages (a tenth merged or closed),
``--contacts`` contacts over 180 days on twelve reasons, with handle and wait times, a fifth of
the contacts of the first reason as evidence of one issue, and a "lost" event for 2 % of the
customers. Then it times, with query counts:

- the board's first page and a page 100 pages deep (keyset), for an executive (every issue)
  and a department head, unfiltered and filtered (open, overdue SLA, text);
- the issue page's facts of the big issue: cost per week, customers lost behind it, "how many
  a day are like this?", evidence per day and week.

Results go to stdout as Markdown.
"""

import argparse
import os
import statistics
import time
from datetime import UTC, datetime

os.environ.setdefault(
    "VOC_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voc_board_bench"
)
from common import setup_django

NOW = datetime.now(UTC)


def build(issues: int, contacts: int) -> None:
    from django.db import connection

    from contacts.models import ContactReason
    from voc.people.models import Department

    departments = list(Department.objects.order_by("id"))
    for number in range(12):
        ContactReason.objects.get_or_create(
            name=f"Bench reason {number}",
            defaults={"department": departments[number % len(departments)]},
        )
    customers = max(1, contacts // 4)
    statements = [
        """INSERT INTO contacts_customer
               (external_ref, name, email, phone, segment, created_at, updated_at)
           SELECT 'BB-' || n, 'Customer ' || n, '', '', 'consumer', %(now)s, %(now)s
           FROM generate_series(1, %(customers)s) AS n""",
        """INSERT INTO contacts_contact
               (source, external_id, customer_id, team_id, reason_id, channel, direction,
                occurred_at, occurred_date_only, tags, subject, notes, customer_segment,
                outcome, content_hash, created_at, updated_at, handle_seconds, wait_seconds)
           SELECT 'bench', 'bb-' || n,
                  (SELECT min(id) FROM contacts_customer) + n %% %(customers)s,
                  NULL,
                  (SELECT id FROM contacts_contactreason WHERE name LIKE 'Bench reason %%'
                   ORDER BY id OFFSET (n %% 12) LIMIT 1),
                  'phone', 'inbound', %(now)s - (random() * 180) * interval '1 day', false,
                  '[]', '', '', 'consumer', '', '', %(now)s, %(now)s,
                  (60 + random() * 600)::int, (random() * 300)::int
           FROM generate_series(1, %(contacts)s) AS n""",
        """INSERT INTO loops_issue
               (title, description, department_id, owner_id, sponsor_id, severity, status,
                wont_fix_reason, ticket_url, created_at, updated_at, status_changed_at,
                response_due_at, resolution_due_at, responded_at, first_seen_at, last_seen_at,
                evidence_count)
           SELECT 'Bench issue ' || n || ' about ' || (ARRAY['billing','router','login',
                    'refund','outage'])[1 + n %% 5],
                  '', (SELECT id FROM people_department ORDER BY id
                       OFFSET (n %% (SELECT count(*) FROM people_department)) LIMIT 1),
                  NULL, NULL,
                  (ARRAY['low','medium','high','code_red'])[1 + n %% 4],
                  (ARRAY['new','triaged','assigned','in_progress','fixed','verified','closed',
                         'wont_fix','new','assigned'])[1 + n %% 10],
                  CASE WHEN n %% 10 = 7 THEN 'Bench' ELSE '' END, '',
                  %(now)s - (n %% 200) * interval '1 day', %(now)s, %(now)s,
                  %(now)s - (n %% 200) * interval '1 day' + interval '24 hours',
                  %(now)s - (n %% 200) * interval '1 day' + interval '30 days',
                  CASE WHEN n %% 10 IN (0, 1, 8) THEN NULL ELSE %(now)s END,
                  %(now)s - (n %% 200) * interval '1 day', %(now)s - (n %% 30) * interval '1 day',
                  n %% 50
           FROM generate_series(1, %(issues)s) AS n""",
        # A twentieth merged into the first issue.
        """UPDATE loops_issue SET merged_into_id = (SELECT min(id) FROM loops_issue)
           WHERE id %% 20 = 0 AND id <> (SELECT min(id) FROM loops_issue)""",
        """INSERT INTO loops_issue_reasons (issue_id, contactreason_id)
           SELECT i.id, (SELECT id FROM contacts_contactreason WHERE name LIKE 'Bench reason %%'
                         ORDER BY id OFFSET (i.id %% 12) LIMIT 1)
           FROM loops_issue AS i""",
        """INSERT INTO loops_issueevidence (issue_id, kind, contact_id, customer_id, occurred_at,
                                            added_at)
           SELECT (SELECT min(id) FROM loops_issue), 'contact', c.id, c.customer_id,
                  c.occurred_at, %(now)s
           FROM contacts_contact AS c WHERE c.id %% 60 = 0""",
        """INSERT INTO contacts_customerevent (customer_id, kind, occurred_on, reason_text,
                                               created_at)
           SELECT id, 'lost', (%(now)s - (random() * 90) * interval '1 day')::date, '', %(now)s
           FROM contacts_customer WHERE id %% 50 = 0""",
    ]
    with connection.cursor() as cursor:
        for sql in statements:
            cursor.execute(sql, {"now": NOW, "customers": customers, "contacts": contacts,
                                 "issues": issues})  # fmt: skip
        cursor.execute("ANALYZE")
    from loops.models import Issue
    from loops.services.issues import issue_recount_evidence

    issue_recount_evidence(issue_ids=[Issue.objects.order_by("id").values_list("id", flat=True)[0]])


def timed(function, runs: int = 7) -> tuple[float, float, int]:
    """Median and worst milliseconds of ``runs`` calls, and the queries of one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    function()  # warm
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        seconds.append(time.perf_counter() - start)
    with CaptureQueriesContext(connection) as queries:
        function()
    return statistics.median(seconds) * 1000, max(seconds) * 1000, len(queries.captured_queries)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--issues", type=int, default=10_000)
    parser.add_argument("--contacts", type=int, default=200_000)
    parser.add_argument("--reuse", action="store_true", help="keep the database as it is")
    args = parser.parse_args()
    setup_django(fresh=not args.reuse)
    if not args.reuse:
        start = time.perf_counter()
        build(args.issues, args.contacts)
        print(f"built in {time.perf_counter() - start:.1f} s")

    from django.utils import timezone

    from loops.models import Issue
    from loops.selectors import (
        BoardFilters,
        issue_board_page,
        issue_cost,
        issue_evidence_series,
        issue_like_this_per_day,
        issue_lost_customers,
    )
    from voc.people.models import Department, User
    from voc.people.roles import Role

    executive = User.objects.filter(role=Role.EXECUTIVE).order_by("id").first()
    head = User.objects.get(pk=Department.objects.exclude(head=None).order_by("id")[0].head_id)
    now = timezone.now()

    def deep(viewer, filters, pages: int = 100):
        """Walks up to ``pages`` pages; returns how many it walked."""

        def run():
            after, walked = "", 0
            for _ in range(pages):
                _, after = issue_board_page(viewer=viewer, filters=filters, now=now, after=after)
                walked += 1
                if not after:
                    break
            return walked

        return run

    rows = []
    for who, viewer in (("executive", executive), ("department head", head)):
        for label, filters in (
            ("open, oldest first", BoardFilters()),
            ("any status, most evidence", BoardFilters(status="any", sort="evidence")),
            ("open, SLA overdue, by severity", BoardFilters(sla="overdue", sort="severity")),
            ("text \"router\", last seen", BoardFilters(status="any", text="router",
                                                       sort="last_seen")),
        ):  # fmt: skip
            page = timed(lambda v=viewer, f=filters: issue_board_page(viewer=v, filters=f, now=now))
            rows.append((f"board page 1, {who}, {label}", *page))
        walk = deep(viewer, BoardFilters(status="any"))
        walked = walk()
        median, worst, queries = timed(walk, runs=3)
        rows.append((f"board pages 1-{walked} walked (keyset), {who}, any status: per page",
                     median / walked, worst / walked, queries // walked))  # fmt: skip
    big = Issue.objects.order_by("id").first()
    for label, function in (
        ("cost per week", lambda: issue_cost(big, now=now)),
        ("customers lost behind it", lambda: issue_lost_customers(big)),
        ("how many a day are like this", lambda: issue_like_this_per_day(big, now=now)),
        ("evidence per day and week", lambda: issue_evidence_series(big, now=now)),
    ):
        rows.append((f"issue page: {label}", *timed(function)))

    print(f"\n{Issue.objects.count():,} issues, evidence on the big one: {big.evidence_count:,}\n")
    print("| measurement | median ms | worst ms | queries |")
    print("|---|---:|---:|---:|")
    for label, median, worst, queries in rows:
        print(f"| {label} | {median:.1f} | {worst:.1f} | {queries} |")


if __name__ == "__main__":
    main()
