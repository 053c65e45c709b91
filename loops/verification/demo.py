"""Demo: a verified fix whose contacts visibly fell. Autopay took the monthly payment twice;
Billing fixed it 50 days ago, the contacts about it fell from about nine a day to about three,
the check at the fix says "worked" and the owner confirmed it. The 30-day check is under way.

The contacts go through the real ingest service, so the rollups the check reads are the
ones every dashboard reads."""

import math
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from contacts.ingest.service import contacts_ingest, parse_options
from contacts.models import Contact, ContactReason
from contacts.rollups import reporting_tz
from contacts.services.reasons import reason_create
from contacts.services.sentiment import contact_sentiment_update
from loops.models import Issue, Severity
from loops.services.issues import evidence_add, issue_open, issue_transition
from loops.verification.services import verification_refresh
from voc.core.audit import SystemActor
from voc.core.demo import DemoContext

DEMO = SystemActor("demo")
FIXED_DAYS_AGO = 50
HISTORY_DAYS = 110
BEFORE_PER_DAY, AFTER_PER_DAY = 9.0, 3.0  # the issue's contacts, on an ordinary weekday
BACKGROUND_PER_DAY = 40.0  # other billing questions, so the rate per 1,000 means something
WEEK = (1.2, 1.1, 1.0, 1.0, 1.0, 0.5, 0.4)  # Monday first
BATCH = 5000

WORDS = [
    "The autopay took my monthly payment twice again.",
    "Two identical payments left my account on the same day.",
    "Why did the automatic payment run twice this month?",
]
BACKGROUND_WORDS = ["A question about my bill.", "Can you explain this line on my invoice?"]


def _poisson(ctx: DemoContext, mean: float) -> int:
    limit, k, product = math.exp(-mean), 0, ctx.rng.random()
    while product > limit:
        k += 1
        product *= ctx.rng.random()
    return k


def _reason(name: str, parent: ContactReason, department) -> ContactReason:
    existing = ContactReason.objects.filter(name=name, parent=parent).first()
    return existing or reason_create(name=name, parent=parent, department=department, by=DEMO)


def seed_verification(ctx: DemoContext) -> None:
    managers = ctx.data.get("managers", [])
    owner = next((m for m in managers if m.username == "head.billing"), None)
    if owner is None:
        ctx.stdout("  loops.verification: no Billing head, no verified fix")
        return
    department = owner.department
    billing = ContactReason.objects.filter(name="Billing", parent=None).first()
    if billing is None:
        billing = reason_create(name="Billing", department=department, by=DEMO)
    autopay = _reason("Autopay charged twice", billing, department)
    other = _reason("Billing question", billing, department)
    team = next((t for t in ctx.data.get("teams", []) if t.name == "Billing Care"), None)

    zone = reporting_tz()
    today = timezone.localdate(timezone=zone)
    fixed_on = today - timedelta(days=FIXED_DAYS_AGO)
    rows: list[dict[str, object]] = []
    for offset in range(HISTORY_DAYS, 0, -1):
        day = today - timedelta(days=offset)
        rhythm = WEEK[day.weekday()]
        mean = (BEFORE_PER_DAY if day <= fixed_on else AFTER_PER_DAY) * rhythm
        for spec, count in (
            ((autopay, WORDS), _poisson(ctx, mean)),
            ((other, BACKGROUND_WORDS), _poisson(ctx, BACKGROUND_PER_DAY * rhythm)),
        ):
            reason, words = spec
            for _ in range(count):
                rows.append(_row(ctx, day, zone, reason, words, team, len(rows)))
    options = parse_options()
    for start in range(0, len(rows), BATCH):
        result = contacts_ingest(rows=rows[start : start + BATCH], options=options)
        if result.rejected:
            raise RuntimeError(f"demo rows rejected: {result.rejected[:3]}")
    # Scored now, like the contacts demo's, rather than left to a worker that may not run.
    ids = list(Contact.objects.filter(source="demo-verification").values_list("id", flat=True))
    for start in range(0, len(ids), 1000):
        contact_sentiment_update(contact_ids=ids[start : start + 1000])

    fixed_at = datetime.combine(fixed_on, time(15), tzinfo=zone)
    opened_at = fixed_at - timedelta(days=40)
    issue = issue_open(
        title="Autopay takes the monthly payment twice",
        description="Customers on autopay were charged twice when a payment retry overlapped "
        "the scheduled run. Fixed by making the payment run idempotent per billing period.",
        reasons=[autopay],
        severity=Severity.HIGH,
        owner=owner,
        sponsor=next(iter(ctx.data.get("executives", [])), None),
        by=owner,
        at=opened_at,
    )
    steps = [
        (Issue.Status.ASSIGNED, opened_at + timedelta(hours=3), ""),
        (Issue.Status.IN_PROGRESS, opened_at + timedelta(days=2), ""),
        (Issue.Status.FIXED, fixed_at, "Payment runs are idempotent per billing period."),
    ]
    for status, at, why in steps:
        issue = issue_transition(issue=issue, to=status, by=owner, why=why, at=at)
    # The evidence: a few of the reporters' contacts.
    for contact in Contact.objects.filter(reason=autopay, occurred_at__lt=fixed_at).order_by(
        "-occurred_at"
    )[:5]:
        evidence_add(issue=issue, source=contact, by=owner)
    verification_refresh(issue_id=issue.pk)
    verified_at = fixed_at + timedelta(days=44)
    issue = issue_transition(issue=issue, to=Issue.Status.VERIFIED, by=owner, at=verified_at)
    ctx.stdout(f"  loops.verification: {len(rows)} contacts, a fix verified on issue #{issue.pk}")


def _row(ctx, day: date, zone, reason: ContactReason, words, team, number: int) -> dict:
    at = datetime.combine(day, time(8), tzinfo=zone) + timedelta(
        minutes=ctx.rng.randint(0, 10 * 60)
    )
    text = ctx.rng.choice(words)
    row: dict[str, object] = {
        "source": "demo-verification",
        "external_id": f"autopay-{number:06d}",
        "channel": ctx.rng.choice(["phone", "phone", "chat", "email"]),
        "occurred_at": at.isoformat(),
        "reason": [reason.parent.name if reason.parent else "", reason.name],
        "subject": text[:80],
        "messages": [{"direction": "incoming", "text": text}],
        "outcome": "resolved",
    }
    if team is not None:
        row["team"] = team.name
    if ctx.customers:
        row["customer_ref"] = f"CRM-{ctx.rng.randint(1, ctx.customers):07d}"
    return row
