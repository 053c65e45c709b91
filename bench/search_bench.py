"""Full-text search of message texts on PostgreSQL: latency at 1M and 5M messages.

    .venv/bin/python bench/search_bench.py --sizes 1000000,5000000 --runs 30

Builds the messages in SQL in a dedicated database (VOC_SEARCH_BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/voc_search_bench; dropped and recreated unless --reuse):
two messages per contact, contacts spread over the demo teams and reasons and over the last
year, each text three fragments of 17 words drawn from a 30,000-word vocabulary with Zipf
frequencies (a word's share falls as 1/rank), about 350 characters. Then VACUUM ANALYZE, and
for each size p50/p95 of ``contacts.search.message_search`` (the page and the API call it):
the newest 50 matches with their highlights and a total, as an admin (every team) and as a rep
(one team), for a common word, a mid-frequency word and a rare one. Results go to stdout as a
Markdown table. A size larger than the database holds is reached by adding rows, so
``--sizes 1000000,5000000`` measures 1M and then grows the same data to 5M.
"""

import argparse
import io
import os
import random
import statistics
import sys
import time

os.environ.setdefault(
    "VOC_BENCH_DATABASE_URL",
    os.environ.get(
        "VOC_SEARCH_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voc_search_bench"
    ),
)

from common import setup_django

VOCABULARY = 30_000
FRAGMENTS = 200_000
FRAGMENT_WORDS = 17
MESSAGES_PER_CONTACT = 2
# Real words first (the most frequent ranks), then made-up ones; none is an English stop word.
DOMAIN = (
    "please internet bill charged twice router slow evening speed app login password order "
    "checkout error refund card payment technician appointment missed cancel contract price "
    "plan upgrade family data roaming outage street coverage signal help today thanks waiting "
    "hours called back third time month really frustrated"
).split()
COMMON, MID_RANK, RARE_RANK = "internet", 300, 25_000


def vocabulary(seed: int = 7) -> list[str]:
    rng = random.Random(seed)
    syllables = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"]
    words, seen = list(DOMAIN), set(DOMAIN)
    while len(words) < VOCABULARY:
        word = "".join(rng.choices(syllables, k=rng.choice((2, 3, 3, 4)))) + rng.choice("mnrst")
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words


def load_fragments(cursor, words: list[str], seed: int = 11) -> None:
    rng = random.Random(seed)
    weights, total = [], 0.0
    for rank in range(1, len(words) + 1):
        total += 1.0 / rank
        weights.append(total)
    cursor.execute("DROP TABLE IF EXISTS bench_fragment")
    cursor.execute("CREATE UNLOGGED TABLE bench_fragment (id integer PRIMARY KEY, text text)")
    buffer = io.StringIO()
    for number in range(1, FRAGMENTS + 1):
        text = " ".join(rng.choices(words, cum_weights=weights, k=FRAGMENT_WORDS))
        buffer.write(f"{number}\t{text}\n")
    buffer.seek(0)
    cursor.copy_expert("COPY bench_fragment (id, text) FROM STDIN", buffer)


def demo_reasons() -> list[int]:
    """The demo's reason taxonomy (with its departments), as the seed would create it."""
    from contacts.demo import _reasons
    from voc.core.demo import DemoContext
    from voc.people.models import Department

    context = DemoContext(
        rng=random.Random(1), customers=0, data={"departments": list(Department.objects.all())}
    )
    return [reason.id for reason, _ in _reasons(context)]


def message_count(cursor) -> int:
    cursor.execute("SELECT count(*) FROM contacts_message")
    return cursor.fetchone()[0]


def grow(cursor, target: int) -> float:
    """Add contacts with two messages each until the table holds ``target`` messages; the GIN
    index is dropped for the load and built again afterwards (much faster than updating it)."""
    started = time.perf_counter()
    have = message_count(cursor)
    if have >= target:
        return 0.0
    cursor.execute("SELECT id FROM people_team ORDER BY id")
    teams = [row[0] for row in cursor.fetchall()]
    cursor.execute("SELECT id FROM contacts_contactreason WHERE parent_id IS NOT NULL ORDER BY id")
    reasons = [row[0] for row in cursor.fetchall()] or demo_reasons()
    cursor.execute("SELECT coalesce(max(id), 0) FROM contacts_contact")
    last_contact = cursor.fetchone()[0]
    cursor.execute("DROP INDEX IF EXISTS message_search")
    cursor.execute("SET maintenance_work_mem = '512MB'")
    first, last = have // MESSAGES_PER_CONTACT + 1, target // MESSAGES_PER_CONTACT
    step = 250_000
    for low in range(first, last + 1, step):
        high = min(last, low + step - 1)
        cursor.execute(
            """
            INSERT INTO contacts_contact (source, external_id, channel, direction, occurred_at,
                team_id, reason_id, tags, subject, notes, outcome, content_hash, created_at,
                updated_at)
            SELECT 'bench', 'sb-' || g,
                (ARRAY['phone','email','chat','social','web_form'])[1 + g %% 5], 'inbound',
                now() - random() * interval '365 days',
                (%(teams)s::bigint[])[1 + (g::bigint * 7919) %% cardinality(%(teams)s::bigint[])],
                (%(reasons)s::bigint[])[1 + g %% cardinality(%(reasons)s::bigint[])],
                '[]', '', '', '', '', now(), now()
            FROM generate_series(%(low)s, %(high)s) g
            """,
            {"teams": teams, "reasons": reasons, "low": low, "high": high},
        )
        cursor.execute(
            """
            INSERT INTO contacts_message (contact_id, external_id, position, direction, author,
                text)
            SELECT x.id, x.p::text, x.p,
                CASE WHEN x.p = 1 THEN 'incoming' ELSE 'outgoing' END, '',
                f1.text || ' ' || f2.text || ' ' || f3.text
            FROM (
                SELECT c.id, p, 1 + floor(random() * %(n)s)::int AS a,
                    1 + floor(random() * %(n)s)::int AS b, 1 + floor(random() * %(n)s)::int AS d
                FROM contacts_contact c, generate_series(1, %(per)s) p
                WHERE c.id > %(after)s
            ) x
            JOIN bench_fragment f1 ON f1.id = x.a
            JOIN bench_fragment f2 ON f2.id = x.b
            JOIN bench_fragment f3 ON f3.id = x.d
            """,
            {"n": FRAGMENTS, "per": MESSAGES_PER_CONTACT, "after": last_contact},
        )
        cursor.execute("SELECT max(id) FROM contacts_contact")
        last_contact = cursor.fetchone()[0]
        print(f"  … {high * MESSAGES_PER_CONTACT:,} messages", file=sys.stderr, flush=True)
    cursor.execute("CREATE INDEX message_search ON contacts_message USING gin (search_vector)")
    cursor.execute("VACUUM ANALYZE contacts_contact")
    cursor.execute("VACUUM ANALYZE contacts_message")
    return time.perf_counter() - started


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(*, words: list[str], runs: int, size: int) -> list[str]:
    from contacts.search import message_search
    from voc.people.models import User

    admin = User.objects.filter(role="admin").order_by("id").first()
    rep = User.objects.filter(role="rep", team__isnull=False).order_by("id").first()
    cases = [
        ("common", COMMON),
        ("mid", words[MID_RANK - 1]),
        ("rare", words[RARE_RANK - 1]),
    ]
    lines = []
    for label, word in cases:
        for who, user in (("admin", admin), ("rep", rep)):
            timings = []
            for run in range(runs + 2):
                started = time.perf_counter()
                result = message_search(user=user, query=word, limit=50, offset=0)
                elapsed = (time.perf_counter() - started) * 1000
                if run >= 2:  # two warm-up runs
                    timings.append(elapsed)
            total = f"{'about ' if result.total_is_estimate else ''}{result.total:,}"
            lines.append(
                f"| {size:,} | {label} `{word}` | {who} | {total} | {len(result.rows)} "
                f"| {statistics.median(timings):.0f} | {percentile(timings, 0.95):.0f} "
                f"| {max(timings):.0f} |"
            )
            print(lines[-1], file=sys.stderr, flush=True)
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="1000000,5000000", help="message counts, ascending")
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--reuse", action="store_true", help="keep the database's rows")
    parser.add_argument("--build-only", action="store_true", help="load rows, measure nothing")
    args = parser.parse_args()
    setup_django(fresh=not args.reuse)
    from django.db import connection

    words = vocabulary()
    table = [
        "| messages | word | scope | total | rows | p50 ms | p95 ms | max ms |",
        "| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('bench_fragment')")
        if cursor.fetchone()[0] is None:
            load_fragments(cursor, words)
        for size in [int(value) for value in args.sizes.split(",")]:
            seconds = grow(cursor, size)
            if seconds:
                print(f"built {size:,} messages in {seconds:.0f} s", file=sys.stderr)
            if not args.build_only:
                table.extend(measure(words=words, runs=args.runs, size=size))
    print("\n".join(table))


if __name__ == "__main__":
    main()
