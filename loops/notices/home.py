"""The "Fix notices to approve" home widget (registered from LoopsConfig.ready()): drafts
waiting for the viewer's approval before customers are told."""

from loops.notices.selectors import notices_to_approve
from voc.core.home import Fragment
from voc.people.models import User

SHOWN = 10


def notices_to_approve_widget(viewer: User) -> Fragment | None:
    notices, count = notices_to_approve(viewer=viewer, limit=SHOWN)
    if not notices:
        return None
    return Fragment("loops/notices/_home_approve.html", {"notices": notices, "count": count})
