"""The admins' home widget: digests that did not reach their reader."""

from loops.digests.selectors import digest_problems
from voc.core.home import Fragment
from voc.people.models import User


def digest_problems_widget(viewer: User) -> Fragment | None:
    count = digest_problems().count()
    if not count:
        return None
    return Fragment("loops/digests/_home_problems.html", {"count": count})
