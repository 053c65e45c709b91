"""What the listening app puts on the home page (voc.core.home): the 5% tracker for executives
(their own; every executive's for the CEO and admins) and the viewer's coming sessions."""

from feedback import selectors
from voc.core.home import Fragment
from voc.people.models import User


def listening_tracker_widget(viewer: User) -> Fragment | None:
    rows = selectors.listening_tracker(viewer=viewer)
    if not rows:
        return None
    periods = selectors.tracker_periods(selectors.tracker_today())
    context = {
        "rows": rows,
        "periods": periods,
        "everyone": selectors.tracker_sees_everyone(viewer),
    }
    return Fragment("feedback/_home_tracker.html", context)


def upcoming_sessions_widget(viewer: User) -> Fragment | None:
    sessions = selectors.session_list_upcoming(viewer=viewer)
    if not sessions:
        return None  # nothing planned: the navigation's "Side-by-side" schedules one
    return Fragment("feedback/_home_upcoming.html", {"sessions": sessions, "viewer": viewer})
