"""Home widgets of SLAs (registered from LoopsConfig.ready()):

- "SLA breaches in my departments": a manager's departments' open issues whose running clock
  is overdue, whoever owns them (their own overdue issues are also in "Issues due"), an
  ageing code red or high issue saying for how long;
- "Escalated to me": the escalations that reached the viewer and still stand, for an
  executive sponsor as for a manager up an owner's chain.
"""

from django.utils import timezone

from loops.selectors import issue_ageing
from loops.sla.selectors import escalations_standing_for, issues_breached_in_departments
from voc.core.capabilities import effective_role
from voc.core.home import Fragment
from voc.people.models import User
from voc.people.roles import Role

SHOWN = 10


def sla_breaches_widget(viewer: User) -> Fragment | None:
    if effective_role(viewer) != Role.MANAGER:
        return None  # executives see every breach on the dashboard and the board
    now = timezone.now()
    issues, count = issues_breached_in_departments(viewer=viewer, now=now, limit=SHOWN)
    if not issues:
        return None
    return Fragment(
        "loops/sla/_home_breaches.html",
        {
            "issues": issues,
            "rows": [(issue, issue_ageing(issue, now=now)) for issue in issues],
            "count": count,
            "now": now,
            "viewer": viewer,
        },
    )


def escalations_widget(viewer: User) -> Fragment | None:
    standing = escalations_standing_for(viewer=viewer, limit=SHOWN)
    if not standing:
        return None
    return Fragment("loops/sla/_home_escalations.html", {"rows": standing})
