"""The notices panel of the issue page (loops.registry): each notice with its counts (sent,
delivered, bounced, left out), and for its owner the way to write one once it is fixed."""

from typing import Any

from loops.models import FixNotice, Issue
from loops.notices.selectors import NOTICE_STATUSES, may_send_notices, notice_counts
from voc.core.home import Fragment

TEMPLATE = "loops/notices/_panel.html"


def notices_panel(issue: Issue, viewer: Any) -> Fragment | None:
    """None for an issue that was never fixed and has no notice."""
    notices = list(FixNotice.objects.filter(issue=issue).order_by("-created_at", "-id"))
    may_send = (
        issue.status in NOTICE_STATUSES
        and issue.merged_into_id is None
        and may_send_notices(viewer, issue)
    )
    if not notices and not may_send:
        return None
    counts = notice_counts([n.pk for n in notices])
    return Fragment(
        TEMPLATE,
        {"issue": issue, "rows": [(n, counts[n.pk]) for n in notices], "may_send": may_send},
    )
