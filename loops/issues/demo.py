"""Demo issues for the board: one in every status (won't fix with its reason), a merged
duplicate, and an old code red nobody has fixed, each with contacts of its reason as evidence.
Nothing happens where the demo has no managers or reasons (a small seed)."""

from datetime import timedelta

from django.utils import timezone

from contacts.models import Contact, ContactReason
from loops.models import Issue, Severity
from loops.services.issues import (
    evidence_add,
    issue_assign,
    issue_merge,
    issue_open,
    issue_transition,
)
from voc.core.audit import SystemActor
from voc.core.demo import DemoContext
from voc.people.models import User

DEMO = SystemActor("demo")
EVIDENCE_EACH = 6

# (title, reason, department head, severity, opened days ago, the statuses it went through, why)
ISSUES = [
    ("Router firmware update drops the line every night", "No connection", "head.support",
     Severity.CODE_RED, 95, ["assigned", "in_progress"], ""),
    ("Speed test page reports the wrong plan", "Slow speed", "head.support",
     Severity.LOW, 3, [], ""),
    ("Installer arrives without the right modem", "Missed appointment", "head.delivery",
     Severity.MEDIUM, 12, ["triaged"], ""),
    ("App logs customers out after the update", "Login problem", "head.digital",
     Severity.HIGH, 20, ["assigned"], ""),
    ("Bill shows the old plan's price for a month", "Bill higher than expected", "head.billing",
     Severity.MEDIUM, 40, ["assigned", "in_progress", "fixed"], ""),
    ("Card payments fail for cards expiring this year", "Payment failed", "head.billing",
     Severity.HIGH, 70, ["assigned", "in_progress", "fixed", "verified"], ""),
    ("Plan change form loses the chosen date", "Plan change", "head.retention",
     Severity.LOW, 80, ["assigned", "in_progress", "fixed", "verified", "closed"], ""),
    ("Customers want to cancel by chat", "Cancel service", "head.retention",
     Severity.LOW, 30, ["wont_fix"],
     "Cancelling needs a confirmed identity; we keep it on the phone and by letter."),
]  # fmt: skip
DUPLICATE = ("Modem loses the connection overnight", "No connection")


def _evidence(issue: Issue, reason: ContactReason, by: User, *, skip: int = 0) -> None:
    contacts = Contact.objects.filter(reason=reason).order_by("-occurred_at", "id")
    for contact in contacts[skip : skip + EVIDENCE_EACH]:
        evidence_add(issue=issue, source=contact, by=by)


def seed_issues(ctx: DemoContext) -> None:
    managers = {m.username: m for m in ctx.data.get("managers", [])}
    executives = ctx.data.get("executives", [])
    sponsor = executives[0] if executives else None
    now = timezone.now()
    made = 0
    first: Issue | None = None
    for title, reason_name, head, severity, days_ago, statuses, why in ISSUES:
        owner = managers.get(head)
        reason = ContactReason.objects.filter(name=reason_name).first()
        if owner is None or reason is None or Issue.objects.filter(title=title).exists():
            continue
        issue = issue_open(
            title=title, reasons=[reason], severity=severity, by=owner,
            sponsor=sponsor if severity == Severity.CODE_RED else None,
            at=now - timedelta(days=days_ago),
        )  # fmt: skip
        _evidence(issue, reason, owner)
        for step, status in enumerate(statuses):
            at = now - timedelta(days=days_ago) + timedelta(days=(step + 1) * days_ago / 10)
            if status == "assigned":
                issue = issue_assign(issue=issue, owner=owner, by=owner)
            else:
                issue = issue_transition(issue=issue, to=status, by=owner, why=why, at=at)
        first = first or issue
        made += 1
    if first is not None and not Issue.objects.filter(title=DUPLICATE[0]).exists():
        reason = first.reasons.first()
        owner = first.owner
        if reason is not None and owner is not None:
            duplicate = issue_open(title=DUPLICATE[0], reasons=[reason], by=owner)
            _evidence(duplicate, reason, owner, skip=EVIDENCE_EACH // 2)
            issue_merge(duplicate=duplicate, survivor=first, by=owner, why="The same firmware.")
            made += 1
    ctx.stdout(f"  loops.issues: {made} issues on the board")
