"""Outreach: making every executive's monthly call lists, and the 5% tracker with outreach.

    .venv/bin/python bench/outreach_bench.py --customers 200000 --executives 20

Builds, in a dedicated PostgreSQL database (dropped and recreated: VOC_BENCH_DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/voc_outreach_bench), ``--customers`` customers with
lifecycle events (every customer gained within ten years, 3 % lost in the last 120 days, 1 %
won back) and an NPS answer for a fifth of them over the last two years, 3 % opted out of
outreach and 5 % called for outreach within the last 120 days; ``--executives`` executives with
a year of side-by-side sessions (weekly), outreach calls (five a month) and be-a-customer
exercises (monthly). Then it times the monthly job (both lists of every executive, through the
contact budget) and the tracker for the CEO (every executive), counting queries.

Results go to stdout as Markdown.
"""

import argparse
import os
from datetime import UTC, datetime

os.environ.setdefault(
    "VOC_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voc_outreach_bench"
)
from common import Timer, setup_django

NOW = datetime.now(UTC)


def build(customers: int, executives: int) -> None:
    from django.db import connection

    statements = [
        """INSERT INTO contacts_customer
               (external_ref, name, email, phone, segment, created_at, updated_at)
           SELECT 'OB-' || n, 'Customer ' || n, 'c' || n || '@mail.example', '+1555' || n,
                  'consumer', %(now)s, %(now)s
           FROM generate_series(1, %(customers)s) AS n""",
        """INSERT INTO contacts_customerevent (customer_id, kind, occurred_on, reason_text,
               created_at)
           SELECT id, 'gained', (%(now)s - random() * interval '3650 days')::date, '', %(now)s
           FROM contacts_customer""",
        """INSERT INTO contacts_customerevent (customer_id, kind, occurred_on, reason_text,
               created_at)
           SELECT id, 'lost', (%(now)s - random() * interval '120 days')::date, 'Price',
                  %(now)s
           FROM contacts_customer WHERE random() < 0.03""",
        """INSERT INTO contacts_customerevent (customer_id, kind, occurred_on, reason_text,
               created_at)
           SELECT customer_id, 'won_back', occurred_on + 5, '', %(now)s
           FROM contacts_customerevent WHERE kind = 'lost' AND random() < 0.33""",
        """INSERT INTO feedback_feedbackitem (kind, score, band, verbatim, source, external_id,
               customer_id, topic_source, channel, customer_segment, received_at, created_at,
               updated_at)
           SELECT 'nps', (random() * 10)::int, '', '', 'bench', '', id, '', '', '',
                  %(now)s - random() * interval '730 days', %(now)s, %(now)s
           FROM contacts_customer WHERE random() < 0.2""",
        """INSERT INTO contacts_budgetoptout (customer_id, purpose, at, actor_name)
           SELECT id, 'outreach', %(now)s, 'bench' FROM contacts_customer
           WHERE random() < 0.03""",
        """INSERT INTO contacts_budgettouch (customer_id, purpose, key, at, actor_name)
           SELECT id, 'outreach', '', %(now)s - random() * interval '120 days', 'bench'
           FROM contacts_customer WHERE random() < 0.05""",
        """INSERT INTO people_user (password, is_superuser, username, first_name, last_name,
               email, is_staff, is_active, date_joined, role, title)
           SELECT '!', false, 'exec' || n, 'Exec', 'Utive ' || n, 'exec' || n || '@voc.example',
                  false, true, %(now)s, 'executive', ''
           FROM generate_series(1, %(executives)s) AS n""",
        """INSERT INTO people_user (password, is_superuser, username, first_name, last_name,
               email, is_staff, is_active, date_joined, role, title)
           VALUES ('!', false, 'rep', 'R', 'Ep', 'rep@voc.example', false, true, %(now)s,
                   'rep', '')""",
        """INSERT INTO feedback_session (executive_id, rep_id, scheduled_by_id, topic,
               scheduled_start, planned_minutes, status, started_at, ended_at,
               duration_seconds, closed_automatically, sequence, created_at)
           SELECT e.id, r.id, e.id, '', %(now)s - w * interval '7 days', 120, 'ended',
                  %(now)s - w * interval '7 days', %(now)s - w * interval '7 days'
                  + interval '1 hour', 3600, false, 0, %(now)s
           FROM people_user e, people_user r, generate_series(1, 52) AS w
           WHERE e.role = 'executive' AND r.username = 'rep'""",
        """INSERT INTO feedback_outreachexercise (executive_id, task, description, done_at,
               minutes_spent, outcome, notes, follow_up, created_at)
           SELECT e.id, 'call_support', '', %(now)s - m * interval '30 days', 40, 'hard', '',
                  '', %(now)s
           FROM people_user e, generate_series(1, 12) AS m WHERE e.role = 'executive'""",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(
                statement, {"now": NOW, "customers": customers, "executives": executives}
            )
        cursor.execute("ANALYZE")


def past_calls() -> int:
    """A year of logged calls: five a month per executive, on lists of past months."""
    from datetime import date

    from feedback.models import OutreachCall, OutreachList
    from voc.people.models import User

    calls = []
    customer = 1
    for executive in User.objects.filter(role="executive"):
        for back in range(1, 13):
            year, month = divmod(NOW.month - 1 - back, 12)
            first = date(NOW.year + year, month + 1, 1)
            outreach_list = OutreachList.objects.create(
                executive=executive, program="lost", month=first, size=5, generated_by="bench"
            )
            for position in range(5):
                calls.append(
                    OutreachCall(
                        outreach_list=outreach_list, month=first, customer_id=customer,
                        position=position, outcome="reached", duration_minutes=15,
                        called_at=datetime(first.year, first.month, 10, 10, tzinfo=UTC),
                    )
                )  # fmt: skip
                customer += 1
    OutreachCall.objects.bulk_create(calls)
    return len(calls)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=200_000)
    parser.add_argument("--executives", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from feedback.models import OutreachCall, OutreachList
    from feedback.outreach.services import outreach_lists_generate_all
    from feedback.selectors import listening_tracker
    from voc.people.models import User

    timer = Timer()
    build(args.customers, args.executives)
    calls = past_calls()
    print(f"built {args.customers:,} customers, {args.executives} executives, {calls} past calls "
          f"in {timer.seconds:.1f}s\n")  # fmt: skip

    print("| step | wall | python CPU | PostgreSQL CPU | queries | result |")
    print("| --- | --- | --- | --- | --- | --- |")
    with CaptureQueriesContext(connection) as queries:
        timer = Timer()
        made = outreach_lists_generate_all()
        seconds = timer.seconds
    this_month = OutreachCall.objects.filter(month=NOW.date().replace(day=1))
    refused = sum(OutreachList.objects.filter(month=NOW.date().replace(day=1))
                  .values_list("refused", flat=True))  # fmt: skip
    python, pg = Timer.last_cpu
    print(f"| monthly job: {made} lists | {seconds:.2f}s | {python:.2f}s | {pg:.2f}s | "
          f"{len(queries.captured_queries)} | {this_month.count()} customers, {refused} refused "
          f"by the budget |")  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        timer = Timer()
        again = outreach_lists_generate_all()
        seconds = timer.seconds
    python, pg = Timer.last_cpu
    print(f"| monthly job again | {seconds:.3f}s | {python:.3f}s | {pg:.3f}s | "
          f"{len(queries.captured_queries)} | {again} lists made |")  # fmt: skip
    ceo = User.objects.filter(role="executive").order_by("id").first()
    best = None
    for _ in range(args.runs):
        with CaptureQueriesContext(connection) as queries:
            timer = Timer()
            rows = listening_tracker(viewer=ceo)
            seconds = timer.seconds
        if best is None or seconds < best[0]:
            best = (seconds, *Timer.last_cpu, len(queries.captured_queries))
    assert best is not None
    print(f"| tracker, {len(rows)} executives (best of {args.runs}) | {best[0] * 1000:.1f} ms | "
          f"{best[1] * 1000:.1f} ms | {best[2] * 1000:.1f} ms | {best[3]} | "
          f"{rows[0].year_hours} h this year for the first |")  # fmt: skip


if __name__ == "__main__":
    main()
