"""The escalation sweep over many overdue issues and follow-ups, and its query count.

    .venv/bin/python bench/escalation_bench.py --sizes 1000 10000

For each size N it empties the loops tables it uses and builds, in SQL, N open issues (half
never answered and owned by nobody: their response clock and their resolution clock are both
overdue; half owned by a team lead and answered: only the resolution clock is) and 5 × N open
follow-ups (each on a contact of its own), every deadline long past. Then it times:

- the first sweep: everything is overdue, each overdue clock gets its first escalation (one
  row and one send-once email each);
- a second sweep at the same moment: nothing new is due (the next level waits one step).

It counts each sweep's queries; they must be the same at every size. It uses its own
PostgreSQL database (``VOC_BENCH_DATABASE_URL``, default
postgres://postgres@127.0.0.1:5432/voc_escalation_bench, dropped and recreated), with the
demo's people (seed_demo with no customers or contacts). Results go to stdout as Markdown.
"""

import argparse
import os
from datetime import UTC, datetime, timedelta

os.environ.setdefault(
    "VOC_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voc_escalation_bench"
)
from common import Timer, setup_django

NOW = datetime.now(UTC)
LONG_AGO = NOW - timedelta(days=30)  # when the issues and follow-ups were opened
# Deadlines passed a little before NOW: the first step is due, the next waits a step (24 h).
RESPONSE_DUE = NOW - timedelta(hours=2)
DUE = NOW - timedelta(hours=1)


def build(issues: int) -> None:
    """N issues and 5 × N follow-ups, every deadline long past (SQL: seconds, not minutes)."""
    from django.db import connection

    from voc.people.models import Department, User

    managers = list(
        User.objects.filter(role="manager", is_active=True)
        .exclude(reports_to=None)
        .values_list("id", flat=True)
    )
    sponsors = list(User.objects.filter(role="executive").values_list("id", flat=True))
    departments = list(Department.objects.values_list("id", flat=True))
    params = {
        "now": NOW,
        "ago": LONG_AGO,
        "response_due": RESPONSE_DUE,
        "due": DUE,
        "issues": issues,
        "follow_ups": 5 * issues,
        "managers": managers,
        "sponsors": sponsors,
        "departments": departments,
    }
    statements = [
        """TRUNCATE loops_escalation, loops_followup, loops_issue, core_sendonce,
           core_auditentry RESTART IDENTITY CASCADE""",
        """DELETE FROM contacts_contact WHERE source = 'escalation-bench'""",
        # Half never answered, owned by nobody (response and resolution overdue); half owned by
        # a manager who answered (resolution overdue).
        """INSERT INTO loops_issue
               (title, description, severity, status, wont_fix_reason, ticket_url, created_at,
                updated_at, status_changed_at, evidence_count, department_id, owner_id,
                sponsor_id, response_due_at, responded_at, resolution_due_at)
           SELECT 'Bench issue ' || n, '', 'code_red',
                  CASE WHEN n %% 2 = 0 THEN 'new' ELSE 'in_progress' END, '', '',
                  %(ago)s, %(ago)s, %(ago)s, 0,
                  (%(departments)s::bigint[])[1 + n %% cardinality(%(departments)s::bigint[])],
                  CASE WHEN n %% 2 = 0 THEN NULL
                       ELSE (%(managers)s::bigint[])[1 + n %% cardinality(%(managers)s::bigint[])]
                  END,
                  (%(sponsors)s::bigint[])[1 + n %% cardinality(%(sponsors)s::bigint[])],
                  %(response_due)s,
                  CASE WHEN n %% 2 = 0 THEN NULL ELSE %(ago)s + interval '1 hour' END,
                  %(due)s
           FROM generate_series(1, %(issues)s) AS n""",
        """INSERT INTO contacts_contact
               (source, external_id, channel, direction, occurred_at, tags, subject, notes,
                outcome, content_hash, created_at, updated_at, customer_segment,
                occurred_date_only)
           SELECT 'escalation-bench', 'eb-' || n, 'phone', 'inbound', %(ago)s, '[]', '', '',
                  'resolved', '', %(ago)s, %(ago)s, '', false
           FROM generate_series(1, %(follow_ups)s) AS n""",
        """INSERT INTO loops_followup
               (trigger, status, created_at, due_at, outcome, notes, contact_id, assignee_id,
                department_id)
           SELECT 'complaint_contact', 'open', %(ago)s, %(due)s, '', '',
                  c.id,
                  (%(managers)s::bigint[])[1 + c.id %% cardinality(%(managers)s::bigint[])],
                  (%(departments)s::bigint[])[1 + c.id %% cardinality(%(departments)s::bigint[])]
           FROM contacts_contact c WHERE c.source = 'escalation-bench'""",
        "ANALYZE loops_issue",
        "ANALYZE loops_followup",
        "ANALYZE loops_escalation",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, params)


def sweep(label: str, size: int) -> tuple[str, float, int, int, dict]:
    from common import function_clock
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from loops.sla import services
    from voc.core import queueing
    from voc.core.business import business_setting

    steps = [
        (services, "_issue_targets", "read issues"),
        (services, "_follow_up_targets", "read follow-ups"),
        (services, "plan_claims", "plan"),
        (services, "escalations_claim", "claim (INSERT … ON CONFLICT)"),
        (services, "_ask_emails", "addresses + send-once rows"),
        (queueing, "enqueue", "queue the email tasks"),
    ]
    # The business settings are cached per thread for a few minutes: read them now, so a
    # reload does not land inside the measured sweep (one query more at the bigger size).
    business_setting("sla_escalation_step_hours")
    with function_clock(steps) as spent:
        timer = Timer()
        with CaptureQueriesContext(connection) as queries:
            result = services.escalations_sweep(now=NOW)
        seconds = timer.seconds
    return label, seconds, len(queries), result.escalated, spent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    args = parser.parse_args()
    setup_django(fresh=True)
    from voc.core.business import business_setting

    business_setting("sla_escalation_step_hours")  # the settings' one read, cached after
    rows = []
    for size in args.sizes:
        timer = Timer()
        build(size)
        built = timer.seconds
        for label in ("first sweep (everything overdue)", "second sweep (nothing new)"):
            name, seconds, queries, escalated, spent = sweep(label, size)
            python_cpu, pg_cpu = Timer.last_cpu
            rows.append((size, name, seconds, queries, escalated, python_cpu, pg_cpu, built))
            steps = ", ".join(f"{k} {v[0]:.2f} s" for k, v in spent.items() if v[1])
            print(f"{size:,} issues, {name}: {steps}", flush=True)
    print("| issues | follow-ups | sweep | seconds | queries | escalations | CPU python / pg (s) |")
    print("|---:|---:|---|---:|---:|---:|---|")
    for size, name, seconds, queries, escalated, python_cpu, pg_cpu, _built in rows:
        print(
            f"| {size:,} | {5 * size:,} | {name} | {seconds:.2f} | {queries} | "
            f"{escalated:,} | {python_cpu:.2f} / {pg_cpu:.2f} |"
        )


if __name__ == "__main__":
    main()
