"""The dashboard's loops panels and their drill-downs at size.

    .venv/bin/python bench/loop_panels_bench.py --sizes 10000 50000 --requests 20

For each size N it empties the loops tables and builds, in SQL, N issues (every severity and
status, opened over the last year, clocks due from a month ago to a month ahead), 5 × N
follow-ups (each on a contact of its own, opened over the last 180 days, seven in ten called
back), an escalation for every third issue, a final verdict for every tenth, and N / 10 fix
notices to 20 customers each (send-once rows included). Then it times, as an executive
(every row) and as a department head (their scope), p50 and p95 in milliseconds over
``--requests`` requests, with each request's query count:

- the two panels' HTMX fragments (``open-issues``, ``closing-the-loop``), this quarter;
- the issues drill-down (open issues; breached ones), its page 100 pages deep (keyset), and
  the follow-ups drill-down (opened this quarter).

It uses its own PostgreSQL database (``VOC_BENCH_DATABASE_URL``, default
postgres://postgres@127.0.0.1:5432/voc_loop_panels_bench, dropped and recreated), with the
demo's people. Results go to stdout as Markdown.
"""

import argparse
import os
import statistics
import time
from datetime import UTC, datetime

os.environ.setdefault(
    "VOC_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voc_loop_panels_bench"
)
from common import setup_django

NOW = datetime.now(UTC)


def build(issues: int) -> None:
    from django.db import connection

    from voc.people.models import Department, User

    managers = list(
        User.objects.filter(role="manager", is_active=True).values_list("id", flat=True)
    )
    departments = list(Department.objects.values_list("id", flat=True))
    params = {
        "now": NOW,
        "issues": issues,
        "follow_ups": 5 * issues,
        "notices": max(1, issues // 10),
        "managers": managers,
        "departments": departments,
    }
    pick = "(%(x)s::bigint[])[1 + n %% cardinality(%(x)s::bigint[])]"
    statements = [
        """TRUNCATE loops_escalation, loops_verification, loops_noticerecipient,
           loops_fixnotice, loops_followup, loops_issue, core_sendonce, core_auditentry
           RESTART IDENTITY CASCADE""",
        """DELETE FROM contacts_contact WHERE source = 'loop-panels-bench'""",
        f"""INSERT INTO loops_issue
               (title, description, severity, status, wont_fix_reason, ticket_url, created_at,
                updated_at, status_changed_at, evidence_count, department_id, owner_id,
                response_due_at, responded_at, resolution_due_at, fixed_at)
           SELECT 'Bench issue ' || n, '',
                  (ARRAY['low', 'medium', 'high', 'code_red'])[1 + n %% 4],
                  (ARRAY['new', 'triaged', 'assigned', 'in_progress', 'fixed', 'verified',
                         'closed', 'wont_fix'])[1 + n %% 8],
                  CASE WHEN n %% 8 = 7 THEN 'Not ours' ELSE '' END, '',
                  %(now)s - (n %% 365) * interval '1 day', %(now)s, %(now)s, n %% 50,
                  {pick.replace("%(x)s", "%(departments)s")},
                  {pick.replace("%(x)s", "%(managers)s")},
                  %(now)s + ((n %% 61) - 30) * interval '1 day',
                  CASE WHEN n %% 8 = 0 THEN NULL ELSE %(now)s - interval '400 days' END,
                  %(now)s + ((n %% 59) - 29) * interval '1 day',
                  CASE WHEN n %% 8 IN (4, 5, 6) THEN %(now)s - (n %% 90) * interval '1 day' END
           FROM generate_series(1, %(issues)s) AS n""",
        """INSERT INTO loops_escalation (issue_id, clock, level, notified_id, due_at, at)
           SELECT id, 'resolution', 1, owner_id, resolution_due_at,
                  %(now)s - (id %% 180) * interval '1 day'
           FROM loops_issue WHERE id %% 3 = 0""",
        """INSERT INTO loops_verification
               (issue_id, checkpoint, fixed_at, computed_at, window_days, before_count,
                before_total, after_count, after_total, test_name, verdict, explanation)
           SELECT id, 'at_fix', created_at, %(now)s - (id %% 180) * interval '1 day', 42,
                  100, 10000, 60, 10000, 'bench',
                  (ARRAY['worked', 'not_shown', 'too_early'])[1 + id %% 3], ''
           FROM loops_issue WHERE id %% 10 = 0""",
        """INSERT INTO contacts_contact
               (source, external_id, channel, direction, occurred_at, tags, subject, notes,
                outcome, content_hash, created_at, updated_at, customer_segment,
                occurred_date_only)
           SELECT 'loop-panels-bench', 'lp-' || n, 'phone', 'inbound', %(now)s, '[]', '', '',
                  'resolved', '', %(now)s, %(now)s, '', false
           FROM generate_series(1, %(follow_ups)s) AS n""",
        """INSERT INTO loops_followup
               (trigger, status, created_at, due_at, closed_at, outcome, notes, contact_id,
                assignee_id, department_id)
           SELECT 'complaint_contact', CASE WHEN c.id %% 10 < 7 THEN 'done' ELSE 'open' END,
                  %(now)s - (c.id %% 180) * interval '1 day',
                  %(now)s - (c.id %% 180) * interval '1 day' + interval '48 hours',
                  CASE WHEN c.id %% 10 < 7
                       THEN %(now)s - (c.id %% 180) * interval '1 day'
                            + (c.id %% 96) * interval '1 hour' END,
                  CASE WHEN c.id %% 10 < 7 THEN 'resolved' ELSE '' END, '', c.id,
                  (%(managers)s::bigint[])[1 + c.id %% cardinality(%(managers)s::bigint[])],
                  (%(departments)s::bigint[])[1 + c.id %% cardinality(%(departments)s::bigint[])]
           FROM contacts_contact c WHERE c.source = 'loop-panels-bench'""",
        """INSERT INTO loops_fixnotice
               (issue_id, subject, body, include_reason_contacts, status, created_at,
                approved_at, finished_at)
           SELECT id, 'Fixed', 'It is fixed.', false, 'sent', %(now)s, %(now)s, %(now)s
           FROM loops_issue WHERE id %% 10 = 5""",
        """INSERT INTO core_sendonce
               (purpose, key, status, "to", template, context, message_id, esp_message_id,
                attempts, requested_by, created_at, queued_at, sent_at, error)
           SELECT 'loops.fix_notice', 'bench:' || f.id || ':' || r, 'sent', '[]', 'fix-notice',
                  '{}', '<bench.' || f.id || '.' || r || '@voc>', '', 1, 'bench', %(now)s,
                  %(now)s, %(now)s - ((f.id + r) %% 180) * interval '1 day', ''
           FROM loops_fixnotice f, generate_series(1, 20) AS r""",
        """INSERT INTO loops_noticerecipient
               (notice_id, reporter, status, skip_reason, detail, esp_message_id,
                send_once_id, updated_at)
           SELECT split_part(s.key, ':', 2)::bigint, true, 'sent', '', '', '', s.id, %(now)s
           FROM core_sendonce s WHERE s.purpose = 'loops.fix_notice'""",
        "ANALYZE loops_issue",
        "ANALYZE loops_followup",
        "ANALYZE loops_escalation",
        "ANALYZE loops_verification",
        "ANALYZE loops_noticerecipient",
        "ANALYZE core_sendonce",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, params)


def timed(client, url: str, params: dict, requests: int) -> tuple[float, float, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, queries = [], 0
    for _ in range(requests):
        connection.queries_log.clear()  # the log keeps 9,000: a full one counts nothing new
        with CaptureQueriesContext(connection) as captured:
            started = time.perf_counter()
            response = client.get(url, params, headers={"HX-Request": "true"})
            times.append(1000 * (time.perf_counter() - started))
        queries = len(captured)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return statistics.median(times), times[max(0, round(0.95 * len(times)) - 1)], queries


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10000, 50000])
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    setup_django(fresh=True)
    from django.test import Client
    from django.urls import reverse

    from loops import reporting
    from voc.dashboards import drill
    from voc.people.models import Department, User

    executive = User.objects.filter(role="executive").first()
    head = Department.objects.exclude(head=None).order_by("id").first().head
    quarter = {"period": "quarter"}
    with open("/proc/loadavg") as file:
        load = " ".join(file.read().split()[:3])
    print(f"load average at the start: {load}\n")
    print("| issues | follow-ups | viewer | what | p50 ms | p95 ms | queries |")
    print("|---:|---:|---|---|---:|---:|---:|")
    for size in args.sizes:
        build(size)
        for label, viewer in (("executive", executive), ("department head", head)):
            client = Client(HTTP_HOST="localhost")
            client.force_login(viewer)
            deep = reporting.issues_behind(
                viewer=viewer, show="open", now=NOW, since=NOW, until=NOW
            )[100 * drill.PAGE_SIZE - 1 : 100 * drill.PAGE_SIZE]
            after = {"after": f"{deep[0].created_at.isoformat()}~{deep[0].id}"} if deep else {}
            checks = [
                ("open issues panel", reverse("dashboards:panel", args=["open-issues"]), quarter),
                ("closing the loop panel", reverse("dashboards:panel", args=["closing-the-loop"]),
                 quarter),
                ("issues drill-down: open", reverse("dashboards:drill-issues"),
                 quarter | {"show": "open"}),
                ("issues drill-down: breached", reverse("dashboards:drill-issues"),
                 quarter | {"show": "open", "sla": "overdue"}),
                ("issues drill-down: open, page 101", reverse("dashboards:drill-issues"),
                 quarter | {"show": "open"} | after),
                ("follow-ups drill-down: opened", reverse("dashboards:drill-follow-ups"),
                 quarter | {"show": "opened"}),
            ]  # fmt: skip
            for what, url, params in checks:
                p50, p95, queries = timed(client, url, params, args.requests)
                print(
                    f"| {size:,} | {5 * size:,} | {label} | {what} | {p50:.0f} | {p95:.0f} | "
                    f"{queries} |",
                    flush=True,
                )
    with open("/proc/loadavg") as file:
        load = " ".join(file.read().split()[:3])
    print(f"\nload average at the end: {load}")


if __name__ == "__main__":
    main()
