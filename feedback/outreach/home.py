"""The home widget of executives: "Your calls this month: 2 of 5 done"."""

from feedback.outreach import selectors
from feedback.outreach.rules import month_start
from voc.core.capabilities import effective_role
from voc.core.home import Fragment
from voc.people.models import User
from voc.people.roles import Role


def outreach_calls_widget(viewer: User) -> Fragment | None:
    if effective_role(viewer) != Role.EXECUTIVE:
        return None  # admins read the hub; they keep no call lists
    month = month_start(selectors.outreach_today())
    progress = selectors.call_progress(viewer=viewer, month=month)
    return Fragment("feedback/outreach/_home_calls.html", {"progress": progress, "month": month})
