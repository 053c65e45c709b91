"""Demo flags: reps flag recurring problems from their contacts.

For the reasons most contacts have (and that have words: subject or notes), a rep of the first
contact's team proposes an issue from it; reps of the next contacts' teams say "me too" to it,
as they would from the suggestions. The department head turns one proposal down ("won't fix",
with the reason the reps then read on their home pages). Nothing happens where the demo has no
reps or no contacts with words.
"""

from django.db.models import Count, Q

from contacts.models import Contact
from loops.flags.panel import suggested_title
from loops.flags.services import flag_me_too, flag_propose
from loops.models import Issue
from loops.services.issues import issue_transition
from voc.core.demo import DemoContext
from voc.core.errors import Conflict
from voc.people.models import User
from voc.people.roles import Role

REASONS = 3  # demo issues proposed by reps
ME_TOO_EACH = 6  # "me too"s on each
WONT_FIX = (
    "This is how the product is meant to work: we explain it better in the help centre "
    "instead of changing it."
)


def _rep_for(contact: Contact) -> User | None:
    if contact.rep is not None and contact.rep.role == Role.REP and contact.rep.is_active:
        return contact.rep
    if contact.team_id is None:
        return None
    return (
        User.objects.filter(role=Role.REP, is_active=True, team_id=contact.team_id)
        .order_by("id")
        .first()
    )


def seed_flags(ctx: DemoContext) -> None:
    worded = Contact.objects.filter(reason__isnull=False, team__isnull=False).exclude(
        Q(subject="") & Q(notes="")
    )
    reasons = list(
        worded.values("reason_id").annotate(n=Count("id")).order_by("-n", "reason_id")[:REASONS]
    )
    issues: list[Issue] = []
    flags = 0
    for row in reasons:
        contacts = list(
            worded.filter(reason_id=row["reason_id"])
            .select_related("reason", "rep", "team")
            .order_by("-occurred_at", "id")[: ME_TOO_EACH + 1]
        )
        first = contacts[0]
        proposer = _rep_for(first)
        if proposer is None:
            continue
        try:
            issue = flag_propose(
                contact=first, title=suggested_title(first) or "Recurring problem", by=proposer
            ).issue
        except Conflict:  # seeded before
            continue
        issues.append(issue)
        flags += 1
        for contact in contacts[1:]:
            rep = _rep_for(contact)
            if rep is None:
                continue
            flags += int(flag_me_too(contact=contact, issue=issue, by=rep).created)
    if len(issues) >= 2 and issues[-1].department is not None:
        head = issues[-1].department.head
        if head is not None:
            issue_transition(issue=issues[-1], to=Issue.Status.WONT_FIX, by=head, why=WONT_FIX)
    if issues:
        ctx.stdout(f"  loops.flags: {len(issues)} issues proposed by reps, {flags} flags")
