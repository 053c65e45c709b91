"""Reads of rep flags: the issues suggested for a contact, "how many a day are like this", and
a person's own flags with the state of their issues.

Which issues a flagger is shown for a contact (``flag_candidates``) — decided here, documented
in docs/loops-flags.md:

- only open issues (not closed, won't fix or merged);
- the issues in the flagger's own issue scope (loops.access.issue_scope_q: a manager's
  departments, what they own, opened or flagged; a rep's opened or flagged), and
- the issues *of the contact*: of the department of the contact's team, of the department of
  its reason, those that explain its reason (or its parent or sub-reasons), and those with no
  department at all (everyone's).

So a rep is shown the known issues of what is in front of them, and a manager who does not head
a department is not shown its issues for a contact of their own department, however alike the
words are (they may still be shown them for a contact that is about that department's reason:
the contact is in their scope, and so is what it is about).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from contacts.models import Contact, ContactReason, Message
from contacts.selectors import contact_get_visible
from loops.access import issue_scope_q
from loops.flags.index import open_issue_q
from loops.flags.ranking import rank_issues
from loops.models import EvidenceKind, Flag, Issue, IssueEvidence
from voc.people.models import User

SUGGESTIONS = 5
PER_DAY_DAYS = 28
CONTACT_TEXT_CHARS = 20_000  # of a contact's words read for its suggestions


def contact_for_flagging(*, viewer: User, contact_id: int) -> Contact | None:
    """The contact, if the viewer may see it (contacts' row scope), else None (a 404)."""
    return contact_get_visible(viewer=viewer, contact_id=contact_id)


def reason_family(reason: ContactReason | None) -> list[int]:
    """The reason, its parent and its sub-reasons: an issue about any of them is about it."""
    if reason is None:
        return []
    ids = {reason.pk}
    if reason.parent_id:
        ids.add(reason.parent_id)
    ids.update(ContactReason.objects.filter(parent_id=reason.pk).values_list("id", flat=True))
    return sorted(ids)


def contact_text(contact: Contact) -> str:
    """What the contact says: its subject, notes and messages (one query), cut to a bound."""
    parts = [contact.subject, contact.notes]
    parts += list(
        Message.objects.filter(contact_id=contact.pk)
        .order_by("position")
        .values_list("text", flat=True)[:200]
    )
    return "\n".join(part for part in parts if part)[:CONTACT_TEXT_CHARS]


def flag_candidates(
    *, viewer: User, contact: Contact, reasons: Sequence[int] | None = None
) -> QuerySet[Issue]:
    """The open issues ``viewer`` may be shown, and flag ``contact`` onto (module docstring).
    ``reasons``: the contact's reason family when the caller read it already."""
    scope = issue_scope_q(viewer)
    if scope is None:
        return Issue.objects.none()
    if reasons is None:
        reasons = reason_family(contact.reason)
    departments = set()
    if contact.team_id is not None and contact.team is not None and contact.team.department_id:
        departments.add(contact.team.department_id)
    if contact.reason is not None and contact.reason.department_id:
        departments.add(contact.reason.department_id)
    of_contact = Q(department__isnull=True) | Q(department_id__in=departments)
    if reasons:
        of_contact |= Q(id__in=Issue.reasons.through.objects.filter(
            contactreason_id__in=reasons
        ).values("issue_id"))  # fmt: skip
    if scope:
        of_contact |= Q(id__in=Issue.objects.filter(scope).values("id"))
    else:  # sees every issue
        of_contact = Q()
    return Issue.objects.filter(open_issue_q()).filter(of_contact)


def contacts_per_day(
    *, issue_ids: Sequence[int], days: int = PER_DAY_DAYS, now: datetime | None = None
) -> dict[int, float]:
    """ "How many a day are like this": each issue's evidence contacts that happened in the last
    ``days`` days (each contact once per issue, however many flags), per day. One query."""
    now = now or timezone.now()
    rows = (
        IssueEvidence.objects.filter(
            issue_id__in=list(issue_ids),
            kind=EvidenceKind.CONTACT,
            occurred_at__gt=now - timedelta(days=days),
            occurred_at__lte=now,
        )
        .values("issue_id")
        .annotate(n=Count("contact_id", distinct=True))
        .order_by()
    )
    counts = {row["issue_id"]: row["n"] for row in rows}
    return {issue_id: counts.get(issue_id, 0) / days for issue_id in issue_ids}


@dataclass(frozen=True)
class Suggestion:
    issue: Issue
    score: float
    shares_reason: bool
    per_day: float  # contacts a day like this (28 days)
    is_evidence: bool  # the contact is evidence on it already
    flagged_by_me: bool  # the viewer flagged this contact onto it already
    can_open: bool  # the issue page is in the viewer's issue scope


def flag_suggestions(
    *, viewer: User, contact: Contact, limit: int = SUGGESTIONS
) -> list[Suggestion]:
    """The open issues ``contact`` most likely belongs to, best first, for ``viewer`` (who may
    see the contact: the caller checked). A constant number of queries."""
    reasons = reason_family(contact.reason)  # read once: the ranking and the scope use it
    ranked = rank_issues(
        text=contact_text(contact),
        reason_ids=reasons,
        candidates=flag_candidates(viewer=viewer, contact=contact, reasons=reasons),
        limit=limit,
    )
    ids = [r.issue_id for r in ranked]
    if not ids:
        return []
    # One query for the issues and what the panel says of each (plus their reasons).
    since, now = timezone.now() - timedelta(days=PER_DAY_DAYS), timezone.now()
    per_day_contacts = (
        IssueEvidence.objects.filter(
            issue_id=OuterRef("pk"),
            kind=EvidenceKind.CONTACT,
            occurred_at__gt=since,
            occurred_at__lte=now,
        )
        .order_by()
        .values("issue_id")
        .annotate(n=Count("contact_id", distinct=True))
        .values("n")
    )
    scope = issue_scope_q(viewer)
    issues = (
        Issue.objects.filter(id__in=ids)
        .select_related("department")
        .prefetch_related("reasons")
        .annotate(
            recent=Coalesce(Subquery(per_day_contacts), 0),
            is_evidence=Exists(
                IssueEvidence.objects.filter(issue_id=OuterRef("pk"), contact_id=contact.pk)
            ),
            flagged_by_me=Exists(
                Flag.objects.filter(
                    issue_id=OuterRef("pk"), contact_id=contact.pk, flagged_by=viewer
                )
            ),
            can_open=Value(scope == Q())
            if not scope
            else Exists(Issue.objects.filter(scope, pk=OuterRef("pk"))),
        )
        .in_bulk()
    )
    suggestions = []
    for r in ranked:
        issue = issues.get(r.issue_id)
        if issue is None:
            continue
        suggestions.append(
            Suggestion(
                issue=issue,
                score=r.score,
                shares_reason=r.shares_reason,
                per_day=getattr(issue, "recent") / PER_DAY_DAYS,  # noqa: B009 (an annotation)
                is_evidence=bool(getattr(issue, "is_evidence")),  # noqa: B009
                flagged_by_me=bool(getattr(issue, "flagged_by_me")),  # noqa: B009
                can_open=bool(getattr(issue, "can_open")),  # noqa: B009
            )
        )
    return suggestions


def flags_of(*, user: User) -> QuerySet[Flag]:
    """What ``user`` flagged, newest first, with each issue's state (and the issue it was
    merged into)."""
    return (
        Flag.objects.filter(flagged_by=user)
        .select_related("issue", "issue__merged_into", "contact", "contact__customer")
        .order_by("-created_at", "-id")
    )


def flag_counts(*, issue: Issue) -> dict[str, int]:
    """An issue's flags: how many, and by how many people."""
    return issue.flags.aggregate(flags=Count("id"), people=Count("flagged_by", distinct=True))
