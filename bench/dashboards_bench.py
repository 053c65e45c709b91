"""The executive dashboard: each panel's fragment, the whole page (the page and every fragment,
one after another: the slowest case, as a browser loads them in parallel) and one drill-down
page, for four filter combinations, and the reason-by-week figure computed from the raw
contacts table for comparison.

    .venv/bin/python bench/dashboards_bench.py --sizes 100000 --requests 20

For each size, in a dedicated PostgreSQL database (dropped and recreated:
VOC_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/voc_dashboards_bench), it
builds in SQL ``size`` contacts over the last 365 days (the demo's reasons, teams, five
channels, four segments, roads, first-contact resolution, handle and wait times; no
messages), then rebuilds the rollups (``rollups_rebuild``) and runs ``VACUUM ANALYZE``. Each
URL is requested ``--requests`` times as the demo executive through Django's test client
(cache off: the dashboards have none yet); p50 and p95 in milliseconds. Results go to stdout
as Markdown. The 1M and 10M runs of issue 16 are not part of this file's first version.
"""

import argparse
import os
import statistics
import time
from datetime import UTC, datetime

os.environ.setdefault(
    "VOC_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voc_dashboards_bench"
)
from common import setup_django

NOW = datetime.now(UTC).replace(microsecond=0)


def build(size: int) -> dict[str, int]:
    from django.db import connection

    from contacts.rollups import rollups_rebuild

    statements = [
        "TRUNCATE contacts_contact, contacts_contactrollup RESTART IDENTITY CASCADE",
        """INSERT INTO contacts_contact
               (source, external_id, channel, direction, occurred_at, occurred_date_only, tags,
                subject, notes, outcome, content_hash, customer_segment, team_id, reason_id,
                handle_seconds, wait_seconds, road, first_contact_resolution, created_at,
                updated_at)
           SELECT 'bench', 'd-' || k,
                  (ARRAY['phone','email','chat','social','web_form'])[1 + k %% 5], 'inbound',
                  %(now)s - random() * interval '365 days', false, '[]', '', '',
                  (ARRAY['resolved','unresolved','open',''])[1 + k %% 4], '',
                  (ARRAY['consumer','small_business','enterprise',''])[1 + k %% 7 %% 4],
                  (SELECT id FROM people_team ORDER BY id OFFSET (k %% %(teams)s) LIMIT 1),
                  (SELECT id FROM contacts_contactreason ORDER BY id
                   OFFSET (k * 7 %% %(reasons)s) LIMIT 1),
                  60 + k %% 900, k %% 240, NULLIF(k %% 5, 0),
                  CASE k %% 3 WHEN 0 THEN NULL WHEN 1 THEN true ELSE false END, %(now)s, %(now)s
           FROM generate_series(1, %(size)s) AS k""",
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute("SELECT count(*) FROM people_team")
        teams = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM contacts_contactreason")
        reasons = cursor.fetchone()[0]
        for statement in statements:
            params = {"now": NOW, "size": size, "teams": teams, "reasons": reasons}
            cursor.execute(statement, params if "%(" in statement else None)
    rollup_rows = rollups_rebuild()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE contacts_contact")
        cursor.execute("VACUUM ANALYZE contacts_contactrollup")
    return {"contacts": size, "rollup rows": rollup_rows}


def timed(client, url: str, params: dict, requests: int) -> tuple[float, float]:
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url, params, headers={"HX-Request": "true"})
        times.append(1000 * (time.perf_counter() - started))
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return statistics.median(times), times[max(0, round(0.95 * len(times)) - 1)]


def raw_reasons_by_week(start, end, requests: int) -> tuple[float, float]:
    """The reason × week counts straight from the contacts (what the rollups replace)."""
    from django.db import connection

    times = []
    for _ in range(requests):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT reason_id, date_trunc('week', occurred_at AT TIME ZONE 'UTC'),
                          count(*)
                   FROM contacts_contact
                   WHERE occurred_at >= %s AND occurred_at < %s
                   GROUP BY 1, 2""",
                [start, end],
            )
            cursor.fetchall()
        times.append(1000 * (time.perf_counter() - started))
    times.sort()
    return statistics.median(times), times[max(0, round(0.95 * len(times)) - 1)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000")
    parser.add_argument("--requests", type=int, default=20)
    args = parser.parse_args()
    setup_django(fresh=True)
    from datetime import timedelta

    from django.test import Client
    from django.urls import reverse

    from voc.dashboards.filters import reporting_today
    from voc.dashboards.panels import PANELS
    from voc.people.models import Team, User

    executive = User.objects.filter(role="executive").first()
    team = Team.objects.order_by("id").first()
    year_start = reporting_today() - timedelta(days=364)
    combos = {
        "a year, no filter": {"period": "custom", "start": year_start, "end": reporting_today()},
        "a year, one team": {
            "period": "custom", "start": year_start, "end": reporting_today(), "team": team.id,
        },
        "a year, one segment": {
            "period": "custom", "start": year_start, "end": reporting_today(),
            "segment": "enterprise",
        },
        "this quarter": {"period": "quarter"},
    }  # fmt: skip
    for size in [int(s) for s in args.sizes.split(",")]:
        counts = build(size)
        client = Client(HTTP_HOST="localhost")
        client.force_login(executive)
        print(f"\n### {size:,} contacts ({counts['rollup rows']:,} rollup rows)\n")
        print("| what | " + " | ".join(combos) + " |")
        print("|---|" + "---:|" * len(combos))
        urls = {key: reverse("dashboards:panel", args=[key]) for key in PANELS}
        urls["the page itself"] = reverse("dashboards:executive")
        urls["drill-down, first page"] = reverse("dashboards:drill-contacts")
        results: dict[str, list[str]] = {}
        whole: dict[str, list[float]] = {name: [0.0, 0.0] for name in combos}
        for label, url in urls.items():
            cells = []
            for name, params in combos.items():
                p50, p95 = timed(client, url, params, args.requests)
                cells.append(f"{p50:.0f} / {p95:.0f}")
                if label != "drill-down, first page":
                    whole[name][0] += p50
                    whole[name][1] += p95
            results[label] = cells
        for label, cells in results.items():
            print(f"| {label} (p50 / p95 ms) | " + " | ".join(cells) + " |")
        print(
            "| whole page, one request after another (sum of p50 / sum of p95 ms) | "
            + " | ".join(f"{a:.0f} / {b:.0f}" for a, b in whole.values())
            + " |"
        )
        raw = raw_reasons_by_week(
            datetime.combine(year_start, datetime.min.time(), tzinfo=UTC), NOW, args.requests
        )
        print(
            f"\nReason × week from the raw contacts, a year: p50 {raw[0]:.0f} ms, p95 {raw[1]:.0f} ms"
        )


if __name__ == "__main__":
    main()
