"""The SLA panel of the issue page (loops.registry): the response and resolution deadlines
and how each stands (on time, due soon, overdue, met), the escalations so far (level, who,
when) and the issue's age ("Code red for 90 days")."""

from typing import Any

from django.utils import timezone

from loops.models import Issue
from loops.sla.selectors import issue_sla
from voc.core.home import Fragment

TEMPLATE = "loops/sla/_panel.html"


def sla_panel(issue: Issue, viewer: Any) -> Fragment | None:
    return Fragment(TEMPLATE, {"issue": issue, "sla": issue_sla(issue=issue, now=timezone.now())})
