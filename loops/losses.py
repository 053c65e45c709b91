"""The open issues behind lost customers, for customer math (contacts knows reasons and
losses, loops links issues to reasons, so losses reach issues without contacts knowing about
loops).

An issue is behind a loss when the loss's reason is one of the issue's reasons or a
sub-reason of one, the rule contacts.reporting applies to a reason filter (a parent includes
its children, a child only itself): an issue on "Billing" is behind a loss for "Billing ›
Double charge", an issue on "Billing › Double charge" is not behind a loss for "Billing". An
issue's reason that was merged stands for the reason it was merged into (the merge moved the
losses there; merges point straight at the survivor, so one step is enough).
"""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Coalesce

from contacts.models import CustomerEvent
from loops.models import OPEN_EXCLUDED, Issue
from loops.selectors import issue_list_visible
from voc.people.models import User


@dataclass(frozen=True)
class IssueBehindLosses:
    issue: Issue
    reason_ids: tuple[int, ...]  # the issue's reasons customers were lost for (or for a child)
    lost: int  # the customers lost for those reasons or their children, each once


def issues_behind_losses(
    *, viewer: User, losses: QuerySet[CustomerEvent], limit: int = 10
) -> list[IssueBehindLosses]:
    """The open issues the viewer may see that are behind some of ``losses`` (the "lost"
    events to look at, already in the viewer's scope), with the customers lost behind each,
    the most first. A customer lost for two of an issue's reasons counts once for it; two
    issues on one reason both count its losses. Two queries (one without such issues)."""
    stands_for = Coalesce("contactreason__merged_into_id", "contactreason_id")
    # The issue ↔ reason table, with "stands_for" annotated: typed loosely, as the stubs do
    # not follow annotations on an auto-created through model.
    issue_reasons: Any = Issue.reasons.through
    links = (
        issue_reasons.objects.filter(
            issue__in=issue_list_visible(viewer=viewer)
            .filter(merged_into__isnull=True)
            .exclude(status__in=OPEN_EXCLUDED)
        )
        .annotate(stands_for=stands_for)
        .filter(
            Q(stands_for__in=losses.values("reason_id"))
            | Q(stands_for__in=losses.values("reason__parent_id"))
        )
        .select_related("issue")
        .order_by("issue_id", "stands_for")
    )
    issues: dict[int, Issue] = {}
    reasons: dict[int, list[int]] = {}
    for link in links:
        issues[link.issue_id] = link.issue
        if link.stands_for not in reasons.setdefault(link.issue_id, []):
            reasons[link.issue_id].append(link.stands_for)
    if not issues:
        return []
    # One distinct count per set of reasons (issues on the same reasons share it), in one
    # pass over the losses.
    columns = {frozenset(ids): f"lost_{n}" for n, ids in enumerate(reasons.values())}
    row = losses.aggregate(
        **{
            column: Count(
                "customer_id",
                distinct=True,
                filter=Q(reason_id__in=ids) | Q(reason__parent_id__in=ids),
            )
            for ids, column in columns.items()
        }
    )
    rows = [
        IssueBehindLosses(
            issue=issues[issue_id],
            reason_ids=tuple(ids),
            lost=row[columns[frozenset(ids)]],
        )
        for issue_id, ids in reasons.items()
    ]
    rows.sort(key=lambda found: (-found.lost, found.issue.pk))
    return rows[:limit]
