"""The executive dashboard: each panel's fragment, the whole page (the page and every fragment,
one after another: the slowest case, as a browser loads them in parallel) and one drill-down
page, for four filter combinations, and the reason-by-week figure computed from the raw
contacts table for comparison.

    .venv/bin/python bench/dashboards_bench.py --sizes 100000,1000000 --requests 20
    .venv/bin/python bench/dashboards_bench.py --sizes 10000000 --requests 20   # ~30 min

For each size, in a dedicated PostgreSQL database (dropped and recreated:
VOC_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/voc_dashboards_bench), it
builds in SQL (``generate_series``, a million rows a statement, the secondary indexes dropped
meanwhile and built again after) ``size`` contacts over the last 365 days (the demo's twelve
reasons and its channel mix, with their weights; each reason handled by the teams of its
department, 15 % by any team; four segments; roads, first-contact resolution, handle and wait
times) and one message
for each contact of the last 90 days (one email thread in ten of those goes on for 2 to 4 more
customer messages: ping-pong), then rebuilds the rollups with the
``rebuild_rollups`` command and runs ``VACUUM ANALYZE``. Each URL is requested ``--requests``
times as the demo executive through Django's test client (the panel cache off);
p50 and p95 in milliseconds. The reason × week figure of a year is also timed three ways: the
rollups' query the panel runs, the same counts straight from the contacts table, and the
panel's fragment; the ratios are what the rollups buy. Results go to stdout as Markdown,
progress to stderr. The 10M run takes tens of minutes and is not part of CI.
"""

import argparse
import io
import os
import statistics
import sys
import time
from datetime import UTC, datetime

os.environ.setdefault(
    "VOC_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voc_dashboards_bench"
)
# Every request computes its panel: the panel cache would answer 19 of the 20 from memory.
os.environ["VOC_DASHBOARD_CACHE"] = "0"
from common import WORDS, setup_django

NOW = datetime.now(UTC).replace(microsecond=0)
CHUNK = 1_000_000


def say(text: str) -> None:
    print(f"[{datetime.now(UTC):%H:%M:%S}] {text}", file=sys.stderr, flush=True)


def _secondary_indexes(cursor, table: str) -> list[tuple[str, str]]:
    """(name, definition) of the table's indexes that back no constraint."""
    cursor.execute(
        """SELECT i.indexname, i.indexdef FROM pg_indexes i
           WHERE i.tablename = %s
             AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)""",
        [table],
    )
    return cursor.fetchall()


# The demo's reasons with their weights, each handled by a team of the reason's department
# (85 %; the rest, and reasons of a department without a team, by any team: transfers and
# overflow); channel and segment drawn on their own. One (reason, team) pair is picked per row
# from two parallel arrays, each pair repeated as often as its weight.
CONTACTS = """
    INSERT INTO contacts_contact
        (source, external_id, channel, direction, occurred_at, occurred_date_only, tags,
         subject, notes, outcome, content_hash, customer_segment, team_id, reason_id,
         handle_seconds, wait_seconds, road, first_contact_resolution, created_at, updated_at)
    SELECT 'bench', 'd-' || k,
           (%(channels)s::text[])[1 + floor(random() * %(nchannels)s)::int], 'inbound',
           %(now)s - random() * interval '365 days', false, '[]', '', '',
           (ARRAY['resolved','unresolved','open',''])[1 + k %% 4], '',
           (ARRAY['consumer','consumer','consumer','consumer','consumer','consumer',
                  'small_business','small_business','enterprise',''])[1 + floor(random() * 10)::int],
           CASE WHEN random() < 0.15 OR (%(pair_teams)s::bigint[])[pick.i] IS NULL
                THEN teams.ids[1 + floor(random() * cardinality(teams.ids))::int]
                ELSE (%(pair_teams)s::bigint[])[pick.i] END,
           (%(pair_reasons)s::bigint[])[pick.i],
           60 + k %% 900, k %% 240, NULLIF(k %% 5, 0),
           CASE k %% 3 WHEN 0 THEN NULL WHEN 1 THEN true ELSE false END, %(now)s, %(now)s
    FROM (SELECT array_agg(id ORDER BY id) AS ids FROM people_team) AS teams,
         generate_series(%(first)s, %(last)s) AS k,
         LATERAL (SELECT 1 + floor(random() * %(npairs)s)::int + 0 * k AS i) AS pick"""


def demo_reasons() -> tuple[list[int], list[int | None]]:
    """The demo's contact reasons (created once) as (reason, team) pairs: for each reason,
    each team of its department (None when it has none), weight times over all its teams."""
    from contacts.demo import REASONS
    from contacts.models import ContactReason
    from voc.people.models import Department, Team

    departments = {department.name: department for department in Department.objects.all()}
    reasons: list[int] = []
    teams: list[int | None] = []
    for department_name, parent_name, name, avoidable, weight, *_ in REASONS:
        department = departments.get(department_name)
        parent, _ = ContactReason.objects.get_or_create(
            name=parent_name, parent=None, defaults={"department": department}
        )
        reason, _ = ContactReason.objects.get_or_create(
            name=name, parent=parent, defaults={"department": department, "avoidable": avoidable}
        )
        own = list(Team.objects.filter(department=department).values_list("id", flat=True))
        for team in own or [None]:
            reasons += [reason.id] * (weight * 2 // max(1, len(own)))
            teams += [team] * (weight * 2 // max(1, len(own)))
    return reasons, teams


def demo_channels() -> list[str]:
    from contacts.demo import CHANNELS

    return [channel for channel, weight in CHANNELS for _ in range(weight // 5)]


# The customer's words: eight of the benchmark vocabulary, chosen from the contact's id.
MESSAGES = """
    INSERT INTO contacts_message
        (contact_id, external_id, position, direction, author, sent_at, text)
    SELECT c.id, 'm-' || c.id, 1, 'incoming', '', c.occurred_at,
           array_to_string(ARRAY(
               SELECT (%(words)s::text[])[1 + (c.id * 31 + n * 17) %% %(nwords)s]
               FROM generate_series(1, 8) AS n), ' ')
    FROM contacts_contact c
    WHERE c.occurred_at >= %(now)s - interval '90 days'"""


# One in ten email threads of the last 90 days goes on: the customer writes 2 to 4 more times,
# a day apart (ping-pong, three customer messages or more, for most of them).
PINGPONG = """
    INSERT INTO contacts_message
        (contact_id, external_id, position, direction, author, sent_at, text)
    SELECT c.id, 'm-' || c.id || '-' || n, n, 'incoming', '', c.occurred_at + n * interval '1 day',
           'Still waiting for an answer'
    FROM contacts_contact c, LATERAL generate_series(2, 3 + c.id %% 3) AS n
    WHERE c.occurred_at >= %(now)s - interval '90 days' AND c.channel = 'email'
      AND c.id %% 10 = 0"""

# Contact.customer_messages, as ingestion would have set it.
CUSTOMER_MESSAGES = """
    UPDATE contacts_contact c SET customer_messages = m.n
    FROM (SELECT contact_id, count(*) AS n FROM contacts_message WHERE direction = 'incoming'
          GROUP BY contact_id) AS m
    WHERE c.id = m.contact_id"""


def build(size: int) -> dict[str, float]:
    from django.core.management import call_command
    from django.db import connection

    timings: dict[str, float] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE contacts_contact, contacts_message, contacts_contactrollup, "
            "contacts_contactweekrollup RESTART IDENTITY CASCADE"
        )
        cursor.execute("SELECT setseed(0.42)")
        dropped = {}
        for table in ("contacts_contact", "contacts_message"):
            for name, definition in _secondary_indexes(cursor, table):
                dropped[name] = definition
                cursor.execute(f'DROP INDEX "{name}"')
        (pair_reasons, pair_teams), channels = demo_reasons(), demo_channels()
        params = {
            "now": NOW, "pair_reasons": pair_reasons, "pair_teams": pair_teams,
            "npairs": len(pair_reasons), "channels": channels, "nchannels": len(channels),
        }  # fmt: skip
        started = time.perf_counter()
        for first in range(1, size + 1, CHUNK):
            last = min(size, first + CHUNK - 1)
            cursor.execute(CONTACTS, params | {"first": first, "last": last})
            say(f"contacts {last:,} / {size:,}")
        timings["contacts inserted (s)"] = time.perf_counter() - started
        started = time.perf_counter()
        cursor.execute(MESSAGES, {"now": NOW, "words": WORDS, "nwords": len(WORDS)})
        timings["messages"] = cursor.rowcount
        cursor.execute(PINGPONG, {"now": NOW})
        timings["messages"] += cursor.rowcount
        cursor.execute(CUSTOMER_MESSAGES)
        timings["messages inserted (s)"] = time.perf_counter() - started
        say(f"{timings['messages']:,} messages")
        started = time.perf_counter()
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for definition in dropped.values():
            cursor.execute(definition)
        timings["indexes built (s)"] = time.perf_counter() - started
        say(f"{len(dropped)} indexes built")
    started = time.perf_counter()
    out = io.StringIO()
    call_command("rebuild_rollups", stdout=out)
    timings["rollups rebuilt (s)"] = time.perf_counter() - started
    say(out.getvalue().strip())
    with connection.cursor() as cursor:
        started = time.perf_counter()
        for table in ROLLUP_TABLES:
            cursor.execute(f"VACUUM ANALYZE {table}")
        timings["vacuum analyze (s)"] = time.perf_counter() - started
    return timings | sizes(size)


ROLLUP_TABLES = (
    "contacts_contact", "contacts_message", "contacts_contactrollup",
    "contacts_contactweekrollup",
)  # fmt: skip


def sizes(size: int) -> dict[str, float]:
    """Row counts and table sizes of the built data."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM contacts_contactrollup")
        (daily,) = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM contacts_contactweekrollup")
        (weekly,) = cursor.fetchone()
        cursor.execute(
            "SELECT " + ", ".join(f"pg_total_relation_size('{t}')" for t in ROLLUP_TABLES)
        )
        contacts, messages, rollups, week_rollups = cursor.fetchone()
    return {
        "rollup rows": daily,
        "weekly rollup rows": weekly,
        "contacts table with indexes (MB)": contacts / 2**20,
        "messages table with indexes (MB)": messages / 2**20,
        "rollups table with indexes (MB)": rollups / 2**20,
        "weekly rollups table with indexes (MB)": week_rollups / 2**20,
        "contacts": size,
    }


def timed(client, url: str, params: dict, requests: int) -> tuple[float, float]:
    times = []
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url, params, headers={"HX-Request": "true"})
        times.append(1000 * (time.perf_counter() - started))
        assert response.status_code == 200, (url, response.status_code)
    return p50_p95(times)


def p50_p95(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return statistics.median(times), times[max(0, round(0.95 * len(times)) - 1)]


def raw_reasons_by_week(start, end, requests: int) -> tuple[float, float]:
    """The reason × week counts straight from the contacts (what the rollups replace), weeks
    in the reporting time zone as the rollups' days are."""
    from django.conf import settings
    from django.db import connection

    times = []
    for _ in range(requests):
        started = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT reason_id, date_trunc('week', occurred_at AT TIME ZONE %s), count(*)
                   FROM contacts_contact
                   WHERE occurred_at >= %s AND occurred_at < %s
                   GROUP BY 1, 2""",
                [settings.VOC_REPORTING_TIME_ZONE, start, end],
            )
            cursor.fetchall()
        times.append(1000 * (time.perf_counter() - started))
    return p50_p95(times)


def rollup_reasons_by_week(viewer, filters, requests: int) -> tuple[float, float]:
    """The query the reason-by-week panel runs on the rollups, with no page around it."""
    from contacts.reporting import rollup_totals

    times = []
    for _ in range(requests):
        started = time.perf_counter()
        rollup_totals(
            viewer=viewer,
            filters=filters.rollup(),
            group_by=["week", "reason_id"],
            columns=["contacts"],
        )
        times.append(1000 * (time.perf_counter() - started))
    return p50_p95(times)


def load() -> str:
    with open("/proc/loadavg") as file:
        return " ".join(file.read().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the data already built (one size) instead of building it again",
    )
    args = parser.parse_args()
    setup_django(fresh=not args.reuse)
    from datetime import timedelta

    from django.test import Client
    from django.urls import reverse

    from voc.dashboards.filters import CUSTOM, DashboardFilters, reporting_today
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
        if args.reuse:
            counts = sizes(size)
        else:
            say(f"building {size:,} contacts (load average {load()})")
            counts = build(size)
        client = Client(HTTP_HOST="localhost")
        client.force_login(executive)
        print(
            f"\n### {size:,} contacts ({counts['rollup rows']:,} daily rollup rows, "
            f"{counts['weekly rollup rows']:,} weekly)\n"
        )
        print("Built: " + ", ".join(f"{k} {v:,.0f}" for k, v in counts.items()) + ".\n")
        load_before = load()
        print("| what (p50 / p95 ms) | " + " | ".join(combos) + " |")
        print("|---|" + "---:|" * len(combos))
        urls = {key: reverse("dashboards:panel", args=[key]) for key in PANELS}
        urls["the page itself"] = reverse("dashboards:executive")
        urls["drill-down, first page"] = reverse("dashboards:drill-contacts")
        results: dict[str, list[str]] = {}
        p50s: dict[str, list[float]] = {}
        whole: dict[str, list[float]] = {name: [0.0, 0.0] for name in combos}
        for label, url in urls.items():
            say(f"{label} (load average {load()})")
            cells = []
            for name, params in combos.items():
                p50, p95 = timed(client, url, params, args.requests)
                cells.append(f"{p50:.0f} / {p95:.0f}")
                p50s.setdefault(label, []).append(p50)
                if label != "drill-down, first page":
                    whole[name][0] += p50
                    whole[name][1] += p95
            results[label] = cells
        for label, cells in results.items():
            print(f"| {label} | " + " | ".join(cells) + " |")
        print(
            "| whole page, one request after another (sum of p50 / sum of p95) | "
            + " | ".join(f"{a:.0f} / {b:.0f}" for a, b in whole.values())
            + " |"
        )
        say(f"raw reason × week (load average {load()})")
        year = DashboardFilters(period=CUSTOM, start=year_start, end=reporting_today())
        raw = raw_reasons_by_week(
            datetime.combine(year_start, datetime.min.time(), tzinfo=UTC), NOW, args.requests
        )
        rolled = rollup_reasons_by_week(executive, year, args.requests)
        fragment = p50s["reasons-by-week"][0]
        print(
            f"\nReason × week over a year: from the raw contacts p50 {raw[0]:.0f} ms "
            f"(p95 {raw[1]:.0f}); the panel's rollup query p50 {rolled[0]:.1f} ms "
            f"(p95 {rolled[1]:.1f}); the panel's fragment p50 {fragment:.0f} ms. "
            f"Rollups buy {raw[0] / rolled[0]:.0f} × on the query, "
            f"{raw[0] / fragment:.1f} × on the whole fragment."
        )
        print(f"\nLoad average (1, 5, 15 min) before the requests {load_before}, after {load()}.")


if __name__ == "__main__":
    main()
