"""Assignment emails, from the signals loops sends after an assignment commits. An email that
cannot be asked for is logged, never turned into an error for the assignment that committed."""

import logging

from loops.notifications.services import (
    follow_up_assignment_notify,
    issue_assignment_notify,
)

logger = logging.getLogger(__name__)


def on_issue_assigned(sender: object, *, issue_id: int, owner_id: int, **kwargs: object) -> None:
    try:
        issue_assignment_notify(issue_id=issue_id, owner_id=owner_id)
    except Exception:
        logger.exception("the assignment email of issue %s could not be asked for", issue_id)


def on_follow_up_assigned(sender: object, *, follow_up_ids: list[int], **kwargs: object) -> None:
    try:
        follow_up_assignment_notify(follow_up_ids=follow_up_ids)
    except Exception:
        logger.exception("the assignment emails of %s follow-ups failed", len(follow_up_ids))
