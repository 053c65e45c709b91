"""Reads of issues, within the viewer's row scope (loops.access.issue_scope_q)."""

from django.db.models import QuerySet

from loops.access import issue_scope_q
from loops.models import Issue
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
