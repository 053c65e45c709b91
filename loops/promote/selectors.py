"""Reads of the promote page: the open issues a source might belong to, and the issues it is
evidence on already, within the viewer's issue scope (loops.selectors)."""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce

from loops.models import OPEN_EXCLUDED, Issue, IssueEvidence
from loops.promote.sources import PromotableSource, evidence_field, kind_of
from loops.selectors import issue_list_visible
from voc.people.models import User

SUGGESTIONS = 10


def open_issues() -> Q:
    """Issues still worked on: not closed, not won't fix, not merged into another."""
    return Q(merged_into__isnull=True) & ~Q(status__in=list(OPEN_EXCLUDED))


def _holds(source: PromotableSource) -> QuerySet[IssueEvidence]:
    return IssueEvidence.objects.filter(**{evidence_field(kind_of(source)): source.pk})


@dataclass(frozen=True)
class Suggestion:
    issue: Issue
    shares_reason: bool  # the issue explains one of the source's reasons
    has_source: bool  # the source is evidence on it already


def promote_suggestions(
    *,
    viewer: User,
    source: PromotableSource,
    reason_ids: Sequence[int],
    limit: int = SUGGESTIONS,
) -> list[Suggestion]:
    """Open issues the viewer may see, those on one of ``reason_ids`` first, then the most
    recently seen (or opened) first. Text similarity is the flag panel's business; here the
    person reading the source decides. Three queries, whatever ``limit``."""
    reasons = Issue.reasons.through.objects.filter(
        issue_id=OuterRef("pk"), contactreason_id__in=list(reason_ids)
    )
    issues = (
        issue_list_visible(viewer=viewer)
        .filter(open_issues())
        .annotate(
            shares_reason=Exists(reasons),
            has_source=Exists(_holds(source).filter(issue_id=OuterRef("pk"))),
            seen=Coalesce("last_seen_at", "created_at"),
        )
        .select_related("owner", "department")
        .prefetch_related("reasons__parent")
        .order_by("-shares_reason", "-seen", "-id")[:limit]
    )
    return [
        Suggestion(issue, shares_reason=issue.shares_reason, has_source=issue.has_source)
        for issue in issues
    ]


@dataclass(frozen=True)
class HeldBy:
    """The issues a source is evidence on already: the ones the viewer may see, and how many
    others there are (not named: they are outside the viewer's scope)."""

    issues: list[Issue]
    hidden: int


def evidence_held_by(*, viewer: User, source: PromotableSource) -> HeldBy:
    issue_ids = set(_holds(source).values_list("issue_id", flat=True))
    if not issue_ids:
        return HeldBy([], 0)
    visible = list(
        issue_list_visible(viewer=viewer).filter(id__in=issue_ids).order_by("-created_at", "-id")
    )
    return HeldBy(visible, len(issue_ids) - len(visible))


def open_issue_ids_holding(source: PromotableSource) -> set[int]:
    """The open issues ``source`` is evidence on (whoever may see them)."""
    return set(
        Issue.objects.filter(open_issues(), id__in=_holds(source).values("issue_id")).values_list(
            "id", flat=True
        )
    )
