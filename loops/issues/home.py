"""The "Issues due" home widget: a manager's own issues overdue or due within 48 hours, an
ageing code red or high issue saying for how long ("Code red for 90 days")."""

from django.utils import timezone

from loops.selectors import issue_ageing, issue_next_deadline, issues_due_for
from voc.core.home import Fragment
from voc.people.models import User


def issues_due_widget(viewer: User) -> Fragment | None:
    now = timezone.now()
    issues = issues_due_for(viewer=viewer, now=now)
    if not issues:
        return None
    rows = [
        (issue, issue_next_deadline(issue, now=now), issue_ageing(issue, now=now))
        for issue in issues
    ]
    return Fragment("loops/issues/_home_due.html", {"rows": rows, "now": now})
