"""The open issues behind lost customers, for customer math: an issue is behind a loss when the
lost event's reason is one of the issue's reasons (contacts knows reasons, loops links issues
to them, so losses reach issues without contacts knowing about loops)."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass

from loops.models import OPEN_EXCLUDED, Issue
from loops.selectors import issue_list_visible
from voc.people.models import User


@dataclass(frozen=True)
class IssueBehindLosses:
    issue: Issue
    reason_ids: tuple[int, ...]  # the issue's reasons that customers were lost for
    lost: int  # the losses on those reasons


def issues_behind_losses(
    *, viewer: User, lost_by_reason: Mapping[int, int], limit: int = 10
) -> list[IssueBehindLosses]:
    """The open issues the viewer may see whose reasons customers were lost for, with the
    losses on those reasons (``lost_by_reason``: reason id -> losses), the most losses first.
    A loss has one reason, so it counts once per issue; two issues on one reason both show
    it. One query."""
    reason_ids: Collection[int] = [r for r, n in lost_by_reason.items() if r and n]
    if not reason_ids:
        return []
    links = (
        Issue.reasons.through.objects.filter(
            contactreason_id__in=reason_ids,
            issue__in=issue_list_visible(viewer=viewer)
            .filter(merged_into__isnull=True)
            .exclude(status__in=OPEN_EXCLUDED),
        )
        .select_related("issue")
        .order_by("issue_id", "contactreason_id")
    )
    issues: dict[int, Issue] = {}
    reasons: dict[int, list[int]] = {}
    for link in links:
        issues[link.issue_id] = link.issue
        reasons.setdefault(link.issue_id, []).append(link.contactreason_id)
    rows = [
        IssueBehindLosses(
            issue=issues[issue_id],
            reason_ids=tuple(ids),
            lost=sum(lost_by_reason[r] for r in ids),
        )
        for issue_id, ids in reasons.items()
    ]
    rows.sort(key=lambda row: (-row.lost, row.issue.pk))
    return rows[:limit]
