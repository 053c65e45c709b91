"""Reads of issues, within the viewer's row scope (loops.access.issue_scope_q)."""

from django.db.models import QuerySet

from loops.access import issue_scope_q
from loops.models import Issue, IssueEvidence
from voc.people.models import User


def issue_list_visible(*, viewer: User) -> QuerySet[Issue]:
    """The issues ``viewer`` may see, merged duplicates included (they point to survivors)."""
    scope = issue_scope_q(viewer)
    if scope is None:
        return Issue.objects.none()
    issues = Issue.objects.all()
    if scope:
        # A rep's scope follows flags (a join); ids keep each issue once.
        issues = Issue.objects.filter(id__in=Issue.objects.filter(scope).values("id"))
    return issues


def issue_get_visible(*, viewer: User, issue_id: int) -> Issue:
    """The issue, or Issue.DoesNotExist when it is missing or out of scope (a 404 either way)."""
    return (
        issue_list_visible(viewer=viewer)
        .select_related("owner", "sponsor", "department", "merged_into")
        .get(id=issue_id)
    )


def issue_evidence_latest(*, issue: Issue, limit: int) -> list[IssueEvidence]:
    """The issue's newest evidence, with what each row shows (one query)."""
    return list(
        issue.evidence.select_related(
            "contact__reason", "feedback_item", "session_note", "customer", "added_by"
        ).order_by("-occurred_at", "-id")[:limit]
    )
