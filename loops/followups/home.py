"""The "Call backs due" home widget (registered from LoopsConfig.ready())."""

from django.utils import timezone

from loops.followups.selectors import follow_ups_due_for
from voc.core.home import Fragment
from voc.people.models import User


def follow_ups_widget(viewer: User) -> Fragment | None:
    follow_ups = follow_ups_due_for(viewer=viewer)
    if not follow_ups:
        return None
    return Fragment("loops/followups/_home.html", {"follow_ups": follow_ups, "now": timezone.now()})
