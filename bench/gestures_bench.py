"""Make it right: the report over many gestures, and recording gestures one at a time.

    .venv/bin/python bench/gestures_bench.py --customers 50000 --gestures 20000

Builds, in a dedicated PostgreSQL database (dropped and recreated: VOC_BENCH_DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/voc_gestures_bench), the demo's people and
``--customers`` customers with three contacts each over 180 days (repeat links computed as
contacts.repeats defines them), ``--gestures`` gestures given by the demo's reps on their
teams' contacts (a tenth waiting or declined) and a "lost" event for 5 % of the customers.
Then it times ``gesture_report`` over the whole period for an executive (everything) and a
manager (their scope), counting queries, and ``--records`` calls of ``gesture_record`` (the
allowance read under the giver's row lock, the insert and the audit entry).

Results go to stdout as Markdown.
"""

import argparse
import os
import statistics
import time
from datetime import UTC, datetime, timedelta

os.environ.setdefault(
    "VOC_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voc_gestures_bench"
)
from common import setup_django

NOW = datetime.now(UTC)


def build(customers: int, gestures: int) -> None:
    from django.db import connection

    from contacts.models import ContactReason
    from voc.people.models import Department

    departments = list(Department.objects.order_by("id"))
    for number, name in enumerate(["Billing", "Outage", "Router", "Moving home", "Contract"]):
        ContactReason.objects.get_or_create(
            name=name, defaults={"department": departments[number % len(departments)]}
        )

    statements = [
        """INSERT INTO contacts_customer
               (external_ref, name, email, phone, segment, created_at, updated_at)
           SELECT 'GB-' || n, 'Customer ' || n, '', '', 'consumer', %(now)s, %(now)s
           FROM generate_series(1, %(customers)s) AS n""",
        """INSERT INTO contacts_contact
               (source, external_id, customer_id, team_id, reason_id, channel, direction,
                occurred_at, occurred_date_only, tags, subject, notes, customer_segment,
                outcome, content_hash, created_at, updated_at)
           SELECT 'bench', 'gb-' || c.id || '-' || k, c.id,
                  (SELECT id FROM people_team ORDER BY id
                   OFFSET (c.id %% (SELECT count(*) FROM people_team)) LIMIT 1),
                  (SELECT id FROM contacts_contactreason ORDER BY id
                   OFFSET ((c.id + k) %% (SELECT count(*) FROM contacts_contactreason)) LIMIT 1),
                  'phone', 'inbound', %(now)s - (random() * 180) * interval '1 day', false,
                  '[]', '', '', 'consumer', '', '', %(now)s, %(now)s
           FROM contacts_customer AS c CROSS JOIN generate_series(1, 3) AS k""",
        # repeat_of as contacts.repeats defines it: the customer's previous contact within 7 days.
        """UPDATE contacts_contact AS c SET repeat_of_id = p.previous_id
           FROM (SELECT id, lag(id) OVER w AS previous_id, lag(occurred_at) OVER w AS previous_at,
                        occurred_at
                 FROM contacts_contact WINDOW w AS (PARTITION BY customer_id
                                                    ORDER BY occurred_at, id)) AS p
           WHERE c.id = p.id AND p.occurred_at - p.previous_at <= interval '7 days'""",
        """INSERT INTO contacts_gesture
               (contact_id, kind, value, currency, note, state, given_by_id, team_id, given_at,
                decision_reason)
           SELECT c.id, (ARRAY['credit','refund','fee_waiver','replacement'])[1 + n %% 4],
                  round((random() * 40)::numeric, 2) + 1, 'USD', 'Bench gesture',
                  CASE WHEN n %% 10 = 0 THEN 'pending' WHEN n %% 10 = 1 THEN 'declined'
                       ELSE 'granted' END,
                  u.id, c.team_id, c.occurred_at + interval '10 minutes', ''
           FROM (SELECT id, team_id, occurred_at, row_number() OVER (ORDER BY random()) AS n
                 FROM contacts_contact) AS c
           JOIN LATERAL (SELECT id FROM people_user
                         WHERE team_id = c.team_id AND role = 'rep' LIMIT 1) AS u ON true
           WHERE c.n <= %(gestures)s""",
        """INSERT INTO contacts_customerevent (customer_id, kind, occurred_on, reason_text,
                                              created_at)
           SELECT id, 'lost', (%(now)s - (random() * 120) * interval '1 day')::date, '', %(now)s
           FROM contacts_customer WHERE random() < 0.05""",
        "ANALYZE",
    ]
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement, {"now": NOW, "customers": customers, "gestures": gestures})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--gestures", type=int, default=20_000)
    parser.add_argument("--records", type=int, default=200)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    setup_django()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contacts.gestures.selectors import gesture_report
    from contacts.gestures.services import gesture_record
    from contacts.models import Contact, Gesture
    from voc.people.models import Department, User

    started = time.monotonic()
    build(args.customers, args.gestures)
    print(f"Built {args.customers} customers, {Contact.objects.count()} contacts and "
          f"{Gesture.objects.count()} gestures in {time.monotonic() - started:.1f}s.\n")  # fmt: skip

    executive = User.objects.filter(role="executive").order_by("id").first()
    head = Department.objects.exclude(head=None).order_by("id").first()
    manager = head.head if head else None
    since, until = (NOW - timedelta(days=200)).date(), NOW.date()
    print("| report for | gestures counted | queries | median | best |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, viewer in (("executive (all)", executive), ("manager (scope)", manager)):
        timings = []
        for _ in range(args.runs):
            with CaptureQueriesContext(connection) as queries:
                t = time.perf_counter()
                report = gesture_report(viewer=viewer, since=since, until=until)
                timings.append(time.perf_counter() - t)
        counted = sum(row.gestures for row in report.total)
        print(f"| {label} | {counted} | {len(queries.captured_queries)} | "
              f"{statistics.median(timings) * 1000:.0f} ms | {min(timings) * 1000:.0f} ms |")  # fmt: skip

    rep = User.objects.filter(role="rep", team__isnull=False).order_by("id").first()
    contacts = list(Contact.objects.filter(team=rep.team).order_by("id")[: args.records])
    timings = []
    for contact in contacts:
        t = time.perf_counter()
        gesture_record(contact=contact, kind="credit", value="1.00", note="bench", by=rep)
        timings.append(time.perf_counter() - t)
    timings.sort()
    print(f"\n`gesture_record`, {len(timings)} calls one after the other: median "
          f"{statistics.median(timings) * 1000:.1f} ms, 95th percentile "
          f"{timings[int(len(timings) * 0.95) - 1] * 1000:.1f} ms.")  # fmt: skip


if __name__ == "__main__":
    main()
