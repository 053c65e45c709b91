"""Post-contact survey invitations: the job over a day of closed contacts, budget checks
included, until every invitation is queued.

    .venv/bin/python bench/survey_invite_bench.py --sizes 5500,55000

For each size, in a dedicated PostgreSQL database (dropped and recreated:
VOC_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/voc_survey_bench), it
empties the contacts, the budget ledger, the invitations and the send-once rows, then builds in
SQL: ``size`` contacts closed in the last 24 hours (five channels, outcomes resolved,
unresolved, escalated, transferred, link sent, abandoned), for ``size × 0.9`` customers (so
one in ten customers closed two contacts that day: the second is refused by the cool-down),
and a history the budget reads: an earlier survey for 20 % of the customers within the last
60 days (so about half of those are in the cool-down), a contact still open for 4 %, survey
opt-outs for 3 %, 1 % erased, 0.5 % merged, 2 % without an email (skipped before the budget).
The share surveyed is set to 100 % so every contact goes through the budget (the worst case).

Then it runs ``survey_invitations_send`` once, timed, with Celery on the in-memory broker
(the tasks are queued, not run), and counts the queries. Results go to stdout as Markdown.
"""

import argparse
import os
from collections import Counter
from datetime import UTC, datetime

os.environ.setdefault(
    "VOC_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voc_survey_bench"
)
from common import Timer, setup_django

NOW = datetime.now(UTC).replace(microsecond=0)


def build(size: int) -> dict[str, int]:
    from django.db import connection

    customers = max(1, size * 9 // 10)
    statements = [
        """TRUNCATE feedback_surveyinvitation, core_sendonce, contacts_budgettouch,
                    contacts_budgetrefusal, contacts_budgetoptout, contacts_contact
           RESTART IDENTITY CASCADE""",
        "DELETE FROM contacts_customer",
        """INSERT INTO contacts_customer
               (external_ref, name, email, phone, segment, created_at, updated_at)
           SELECT 'SV-' || n, 'Customer ' || n,
                  CASE WHEN n %% 50 = 0 THEN '' ELSE 'c' || n || '@mail.example' END,
                  '', 'consumer', %(now)s - interval '2 years', %(now)s
           FROM generate_series(1, %(customers)s) AS n""",
        """UPDATE contacts_customer SET erased_at = %(now)s - interval '3 days', email = '',
                  name = '' WHERE id %% 100 = 7""",
        """UPDATE contacts_customer SET merged_into_id = id - 1
           WHERE id % 200 = 13 AND erased_at IS NULL""",
        # The day's closed contacts: every customer once, one in ten twice.
        """INSERT INTO contacts_contact
               (source, external_id, customer_id, channel, direction, occurred_at,
                occurred_date_only, tags, subject, notes, outcome, outcome_set_at,
                content_hash, customer_segment, created_at, updated_at)
           SELECT 'bench', 'sv-' || k, c.id,
                  (ARRAY['phone','email','chat','social','web_form'])[1 + k %% 5], 'inbound',
                  t - interval '20 minutes', false, '[]', '', '',
                  (ARRAY['resolved','resolved','resolved','unresolved','escalated',
                         'transferred','link_sent','abandoned'])[1 + k %% 8],
                  t, '', 'consumer', t, t
           FROM (SELECT k, 1 + (k - 1) %% %(customers)s AS customer,
                        %(now)s - (random() * 86399 + 1) * interval '1 second' AS t
                 FROM generate_series(1, %(size)s) AS k) AS d
           JOIN contacts_customer c ON c.external_ref = 'SV-' || d.customer""",
        # The history: earlier surveys, open contacts, opt-outs.
        """INSERT INTO contacts_budgettouch (customer_id, purpose, key, at, actor_name)
           SELECT id, 'survey', '', %(now)s - (random() * 60 + 1) * interval '1 day', 'past'
           FROM contacts_customer WHERE random() < 0.2""",
        """INSERT INTO contacts_contact
               (source, external_id, customer_id, channel, direction, occurred_at,
                occurred_date_only, tags, subject, notes, outcome, outcome_set_at,
                content_hash, customer_segment, created_at, updated_at)
           SELECT 'bench', 'open-' || id, id, 'phone', 'inbound',
                  %(now)s - interval '5 days', false, '[]', '', '', 'open', NULL, '',
                  'consumer', %(now)s, %(now)s
           FROM contacts_customer WHERE random() < 0.04""",
        """INSERT INTO contacts_budgetoptout (customer_id, purpose, at, actor_name)
           SELECT id, 'survey', %(now)s, 'past' FROM contacts_customer WHERE random() < 0.03""",
        "VACUUM ANALYZE",
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        for statement in statements:
            params = {"now": NOW, "customers": customers, "size": size}
            cursor.execute(statement, params if "%(" in statement else None)
        counts = {}
        for table in ("contacts_customer", "contacts_contact", "contacts_budgettouch"):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="5500,55000")
    parser.add_argument("--batch", type=int, default=None)
    args = parser.parse_args()
    setup_django(fresh=True)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from contacts.models import BudgetRefusal
    from feedback.models import SurveyInvitation
    from feedback.surveys import services
    from voc.core.audit import SystemActor
    from voc.core.business import business_setting_set
    from voc.core.models import SendOnce

    business_setting_set(key="survey_share_percent", value=100, by=SystemActor("bench"))
    batch = args.batch or services.BATCH
    print(
        "| closed contacts | batches | queries | queries per batch | seconds | "
        "CPU s: Python + PostgreSQL | invited (emails queued) | refused by reason | skipped |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for size in [int(s) for s in args.sizes.split(",")]:
        build(size)
        timer = Timer()
        with CaptureQueriesContext(connection) as queries:
            run = services.survey_invitations_send(now=NOW, batch=batch)
        seconds = timer.seconds
        python_cpu, pg_cpu = Timer.last_cpu
        invited = SurveyInvitation.objects.count()
        pending = SendOnce.objects.filter(status="pending").count()
        assert invited == run.invited == pending, (invited, run.invited, pending)
        reasons = Counter(BudgetRefusal.objects.values_list("reason", flat=True))
        print(
            f"| {run.closed:,} | {run.batches} | {len(queries)} | "
            f"{(len(queries) - 2) / max(run.batches, 1):.0f} | {seconds:.1f} | "
            f"{python_cpu:.1f} + {pg_cpu:.1f} | {invited:,} | "
            + ", ".join(f"{r} {n:,}" for r, n in reasons.most_common())
            + f" | {run.closed - run.sampled:,} |"
        )


if __name__ == "__main__":
    main()
