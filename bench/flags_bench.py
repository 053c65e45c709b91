"""Flag suggestions: quality on the labelled set (bench/flags/) and latency over 5,000 open
issues on PostgreSQL.

Quality: the twenty labelled issues (bench/flags/issues.json, three or four per reason, each
with its evidence contacts) are opened and indexed; every labelled contact (the tuning half,
bench/flags/tuning.json, and the held-out half, bench/flags/heldout.json, committed before any
tuning) is ranked against them, and the share whose right issue is in the top 3 (and first) is
reported beside the reason-only baseline (the same ranking without the words: the issues of
the contact's reason, most evidence first). It is measured twice: against the twenty issues
alone, and with them among the 5,000 open issues of the latency part (--issues).

Latency: --issues synthetic open issues (titles, descriptions and 3 to 50 evidence contacts of
about sixty words each, drawn from a Zipf-distributed vocabulary of support words and 20,000
made-up product words, so their terms are as skewed as real text) are added and indexed, then
every labelled contact and --queries synthetic ones are ranked; p50/p95/max of the ranking
(``rank_issues`` over every open issue) and of the whole panel's read (``flag_suggestions`` for
a rep: ranking, issues, per-day figures, flags) are printed.

    .venv/bin/python bench/flags_bench.py                 # quality and latency, 5,000 issues
    .venv/bin/python bench/flags_bench.py --issues 0      # quality only, fast
"""

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault(
    "VOC_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voc_flags_bench"
)
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import setup_django

DATA = Path(__file__).resolve().parent / "flags"
NOW = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
SUPPORT_WORDS = (
    "account bill internet router phone app order payment card customer called again waiting "
    "week month today yesterday problem issue working broken help fix still asked told said "
    "service contract plan line number email website update box cable engineer delivery time "
    "hours days pay paid charge money back new old home work family tried times really need"
).split()


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def load(name: str) -> list[dict]:
    return json.loads((DATA / name).read_text())


class World:
    """Reasons, a rep, a team and a contact maker, in the bench database."""

    @classmethod
    def existing(cls) -> "World":
        """The world of an earlier run (--reuse)."""
        from contacts.models import Contact, ContactReason
        from voc.people.models import Department, Team, User

        world = cls.__new__(cls)
        world.department = Department.objects.get(name="Flags bench")
        world.team = Team.objects.get(name="Flags bench team")
        world.rep = User.objects.get(username="flags.bench.rep")
        world.manager = User.objects.get(username="flags.bench.manager")
        world.reasons = {
            name: ContactReason.objects.get(name=f"{name} (bench)")
            for name in sorted({issue["reason"] for issue in load("issues.json")})
        }
        world.numbers = Contact.objects.filter(source="flags-bench").count() + 10_000_000
        return world

    def __init__(self) -> None:
        from contacts.models import ContactReason
        from voc.people.models import Department, Team, User
        from voc.people.roles import Role

        self.department = Department.objects.create(name="Flags bench")
        self.team = Team.objects.create(name="Flags bench team", department=self.department)
        self.rep = User.objects.create_user(
            username="flags.bench.rep", role=Role.REP, team=self.team
        )
        self.manager = User.objects.create_user(
            username="flags.bench.manager", role=Role.MANAGER, department=self.department
        )
        self.reasons: dict[str, ContactReason] = {}
        for name in sorted({issue["reason"] for issue in load("issues.json")}):
            self.reasons[name] = ContactReason.objects.create(
                name=f"{name} (bench)", department=self.department
            )
        self.numbers = 0

    def contact(self, *, reason: str | None, subject: str, notes: str, messages: list[str]):
        from contacts.models import Contact, Message

        self.numbers += 1
        contact = Contact.objects.create(
            source="flags-bench",
            external_id=f"c-{self.numbers}",
            channel="email",
            occurred_at=NOW - timedelta(days=self.numbers % 27),
            team=self.team,
            reason=self.reasons[reason] if reason else None,
            subject=subject,
            notes=notes,
        )
        Message.objects.bulk_create(
            Message(
                contact=contact,
                external_id=f"m-{position}",
                position=position,
                direction="incoming" if position % 2 == 0 else "outgoing",
                text=text,
            )
            for position, text in enumerate(messages)
        )
        return contact


def open_labelled(world: World) -> dict[str, int]:
    from loops.services.issues import evidence_add, issue_open
    from voc.core.audit import SystemActor

    by = SystemActor("bench")
    ids = {}
    for spec in load("issues.json"):
        issue = issue_open(
            title=spec["title"],
            description=spec["description"],
            reasons=[world.reasons[spec["reason"]]],
            by=by,
        )
        for text in spec["evidence"]:
            evidence_add(
                issue=issue,
                source=world.contact(reason=spec["reason"], subject="", notes=text, messages=[]),
                by=by,
            )
        ids[spec["key"]] = issue.pk
    return ids


def quality(world: World, ids: dict[str, int], half: str) -> dict[str, float]:
    from loops.flags.ranking import rank_issues
    from loops.flags.selectors import contact_text, reason_family
    from loops.models import Issue

    rows = load(f"{half}.json")
    top1 = top3 = base1 = base3 = 0
    misses = []
    for row in rows:
        contact = world.contact(
            reason=row["reason"],
            subject=row["subject"],
            notes=row["notes"],
            messages=row["messages"],
        )
        right = ids[row["issue"]]
        reasons = reason_family(contact.reason)
        ranked = [
            r.issue_id
            for r in rank_issues(
                text=contact_text(contact),
                reason_ids=reasons,
                candidates=Issue.objects.all(),
                limit=3,
            )
        ]
        baseline = [
            r.issue_id
            for r in rank_issues(
                text="", reason_ids=reasons, candidates=Issue.objects.all(), limit=3
            )
        ]
        top1 += ranked[:1] == [right]
        top3 += right in ranked
        base1 += baseline[:1] == [right]
        base3 += right in baseline
        if right not in ranked:
            misses.append(row["issue"])
    n = len(rows)
    return {
        "contacts": n,
        "top1": top1 / n,
        "top3": top3 / n,
        "reason_top1": base1 / n,
        "reason_top3": base3 / n,
        "misses": misses,  # type: ignore[dict-item]
    }


def zipf_vocabulary(rng: random.Random, size: int) -> tuple[list[str], list[float]]:
    syllables = [c + v for c in "bcdfghjklmnprstvz" for v in "aeiou"]
    words, seen = list(SUPPORT_WORDS), set(SUPPORT_WORDS)
    while len(words) < size:
        word = "".join(rng.choices(syllables, k=rng.choice((2, 3, 3, 4)))) + rng.choice("mnrst")
        if word not in seen:
            seen.add(word)
            words.append(word)
    cumulative, total = [], 0.0
    for rank in range(len(words)):
        total += 1 / (rank + 1)
        cumulative.append(total)
    return words, cumulative


def synthetic_issues(world: World, count: int, *, seed: int) -> float:
    """``count`` open issues with evidence contacts, bulk-created, then indexed. Returns the
    seconds the indexing took."""
    from contacts.models import Contact
    from loops.flags.index import issues_index
    from loops.models import EvidenceKind, Issue, IssueEvidence

    rng = random.Random(seed)
    words, cumulative = zipf_vocabulary(rng, 20_000)
    reasons = list(world.reasons.values())

    def sentence(topic: list[str], k: int) -> str:
        common = rng.choices(words, cum_weights=cumulative, k=k)
        return " ".join(rng.choice(topic) if rng.random() < 0.3 else word for word in common)

    issues = []
    topics = []
    for number in range(count):
        topic = rng.sample(words[200:], 8)
        topics.append(topic)
        issues.append(
            Issue(
                title=sentence(topic, 5).capitalize(),
                description=sentence(topic, 30),
                department=world.department,
                created_at=NOW - timedelta(days=rng.randint(1, 400)),
                updated_at=NOW,
                status=rng.choice(["new", "triaged", "assigned", "in_progress"]),
                evidence_count=0,
            )
        )
        if number % 1000 == 999:
            print(f"  built {number + 1} issues", flush=True)
    Issue.objects.bulk_create(issues, batch_size=2000)
    through = Issue.reasons.through
    through.objects.bulk_create(
        [through(issue_id=issue.pk, contactreason_id=rng.choice(reasons).pk) for issue in issues]
    )
    contacts, pairs = [], []
    for issue, topic in zip(issues, topics, strict=True):
        for _ in range(rng.randint(3, 50)):
            world.numbers += 1
            contacts.append(
                Contact(
                    source="flags-bench",
                    external_id=f"s-{world.numbers}",
                    channel="phone",
                    occurred_at=NOW - timedelta(days=rng.randint(0, 60)),
                    team=world.team,
                    notes=sentence(topic, 60),
                )
            )
            pairs.append(issue)
    Contact.objects.bulk_create(contacts, batch_size=5000)
    IssueEvidence.objects.bulk_create(
        [
            IssueEvidence(
                issue=issue,
                kind=EvidenceKind.CONTACT,
                contact=contact,
                occurred_at=contact.occurred_at,
            )
            for issue, contact in zip(pairs, contacts, strict=True)
        ],
        batch_size=5000,
    )
    print(f"  {count} issues, {len(contacts)} evidence contacts; indexing…", flush=True)
    started = time.perf_counter()
    issues_index(issue_ids=[issue.pk for issue in issues])
    return time.perf_counter() - started


def latency(world: World, *, queries: int, seed: int) -> dict[str, list[float]]:
    from django.db import connection

    from loops.flags.ranking import rank_issues
    from loops.flags.selectors import contact_text, flag_suggestions, reason_family
    from loops.models import Issue

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE loops_issuesearchterm")
        cursor.execute("VACUUM ANALYZE loops_issuesearchdoc")
        cursor.execute("VACUUM ANALYZE loops_issue")
    rng = random.Random(seed)
    words, cumulative = zipf_vocabulary(random.Random(seed + 1), 20_000)
    contacts = []
    for row in load("heldout.json") + load("tuning.json"):
        contacts.append(
            world.contact(
                reason=row["reason"],
                subject=row["subject"],
                notes=row["notes"],
                messages=row["messages"],
            )
        )
    for _ in range(queries):
        text = " ".join(rng.choices(words, cum_weights=cumulative, k=rng.randint(20, 120)))
        contacts.append(
            world.contact(
                reason=rng.choice(list(world.reasons)), subject="", notes=text, messages=[]
            )
        )
    for contact in contacts[:10]:  # warm the caches
        flag_suggestions(viewer=world.rep, contact=contact)
    ranking, panel = [], []
    for contact in contacts:
        text, reasons = contact_text(contact), reason_family(contact.reason)
        started = time.perf_counter()
        rank_issues(text=text, reason_ids=reasons, candidates=Issue.objects.all(), limit=5)
        ranking.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        flag_suggestions(viewer=world.rep, contact=contact)
        panel.append((time.perf_counter() - started) * 1000)
    return {"ranking": ranking, "panel": panel}


def show_quality(label: str, result: dict) -> None:
    print(
        f"{label:<34} {result['contacts']:>3} contacts: top 3 {result['top3']:.0%} "
        f"(first {result['top1']:.0%}); reason only: top 3 {result['reason_top3']:.0%} "
        f"(first {result['reason_top1']:.0%})"
    )
    if result["misses"]:
        print(f"{'':<34} not in the top 3: {', '.join(result['misses'])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--issues", type=int, default=5000, help="synthetic open issues")
    parser.add_argument("--queries", type=int, default=200, help="synthetic contacts ranked")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="measure the latency again on the database of an earlier full run",
    )
    args = parser.parse_args()
    if args.reuse:
        setup_django(fresh=False)
        from django.db.models import Count

        from loops.models import Issue

        world = World.existing()
        issues = Issue.objects.filter(department=world.department).aggregate(n=Count("id"))["n"]
        times = latency(world, queries=args.queries, seed=args.seed + 1)
        for name, values in times.items():
            print(
                f"{name:<8} over {issues:,} open issues, {len(values)} contacts: "
                f"p50 {percentile(values, 0.5):.1f} ms, p95 {percentile(values, 0.95):.1f} ms, "
                f"max {max(values):.1f} ms"
            )
        return

    setup_django(fresh=True)
    from django.db import connection

    from loops.flags.index import issues_index

    world = World()
    ids = open_labelled(world)
    issues_index(issue_ids=ids.values())
    print(f"database: {connection.vendor}")
    for half in ("tuning", "heldout"):
        show_quality(f"{half}, 20 labelled issues", quality(world, ids, half))
    if args.issues <= 0:
        return
    seconds = synthetic_issues(world, args.issues, seed=args.seed)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM loops_issuesearchterm")
        postings = cursor.fetchone()[0]
    print(f"indexed {args.issues} issues in {seconds:.1f} s ({postings:,} postings)")
    for half in ("tuning", "heldout"):
        label = f"{half}, among {args.issues + len(ids):,} issues"
        show_quality(label, quality(world, ids, half))
    times = latency(world, queries=args.queries, seed=args.seed)
    for name, values in times.items():
        print(
            f"{name:<8} over {args.issues + len(ids):,} open issues, {len(values)} contacts: "
            f"p50 {percentile(values, 0.5):.1f} ms, p95 {percentile(values, 0.95):.1f} ms, "
            f"max {max(values):.1f} ms"
        )


if __name__ == "__main__":
    main()
