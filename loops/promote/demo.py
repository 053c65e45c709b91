"""Demo promotions: executives promote what they heard beside reps and read in complaints.

- The checkout error the reps cannot see: opened from a side-by-side note by the executive who
  heard it; the same note in other sessions and the complaints about failed checkouts join it as
  evidence.
- The call-backs that never came: opened from a complaint; the same complaint from other
  customers joins it.

Nothing happens where the demo has no such notes or complaints (a small seed).
"""

from django.db.models import QuerySet

from feedback.models import FeedbackItem, SessionNote
from loops.models import Issue, Severity
from loops.promote.services import promote_to_issue, promote_to_new_issue
from loops.promote.sources import PromotableSource, describe
from voc.core.demo import DemoContext
from voc.core.errors import Conflict
from voc.people.models import User
from voc.people.roles import Role

EVIDENCE_EACH = 3  # sources of each kind promoted per demo issue
CHECKOUT_NOTE = "error code from the website checkout"
CHECKOUT_COMPLAINT = "checkout failed three times"
CALL_BACK_COMPLAINT = "Nobody called me back"


def _notes(words: str) -> QuerySet[SessionNote]:
    return (
        SessionNote.objects.filter(text__icontains=words)
        .select_related("session__executive", "session__rep")
        .order_by("noted_at", "id")[:EVIDENCE_EACH]
    )


def _complaints(words: str) -> QuerySet[FeedbackItem]:
    return (
        FeedbackItem.objects.filter(kind=FeedbackItem.Kind.COMPLAINT, verbatim__icontains=words)
        .select_related("reason__parent", "contact__reason__parent")
        .order_by("received_at", "id")[:EVIDENCE_EACH]
    )


def _promote(sources: list[PromotableSource], *, by: User, severity: str) -> Issue | None:
    """The first source opens the issue; the others join it. None if there is nothing."""
    if not sources:
        return None
    first = describe(sources[0])
    try:
        issue = promote_to_new_issue(
            source=first.source,
            title=first.title,
            description=first.text,
            reasons=first.reasons,
            severity=severity,
            by=by,
        ).issue
    except Conflict:  # another seeder made it evidence already
        return None
    for source in sources[1:]:
        promote_to_issue(source=source, issue=issue, by=by)
    return issue


def seed_promotions(ctx: DemoContext) -> None:
    executive = User.objects.filter(role=Role.EXECUTIVE, is_active=True).order_by("id").first()
    if executive is None:
        return
    made = []
    notes = list(_notes(CHECKOUT_NOTE))
    by = notes[0].session.executive if notes else executive
    checkout = _promote([*notes, *_complaints(CHECKOUT_COMPLAINT)], by=by, severity=Severity.HIGH)
    made.append(checkout)
    made.append(
        _promote(list(_complaints(CALL_BACK_COMPLAINT)), by=executive, severity=Severity.MEDIUM)
    )
    issues = [issue for issue in made if issue is not None]
    if issues:
        evidence = sum(Issue.objects.get(pk=issue.pk).evidence_count for issue in issues)
        ctx.stdout(f"  loops: {len(issues)} issues promoted from feedback, {evidence} evidence")
