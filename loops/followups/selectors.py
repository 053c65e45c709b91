"""Reads of follow-ups within the viewer's scope, and the closed-loop figures the dashboards
show (closed-loop rate, median time to close)."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from django.db.models import Q, QuerySet
from django.urls import reverse

from contacts.models import Customer
from contacts.registry import TimelineEntry
from loops.models import Escalation, FollowUp
from voc.core.capabilities import effective_role
from voc.people.access import scope_for
from voc.people.models import User
from voc.people.roles import Role


def follow_up_list_visible(*, viewer: User) -> QuerySet[FollowUp]:
    """Executives and admins see every follow-up; a manager the ones assigned to them or
    escalated to them and those of the teams they lead and the departments they own; reps none (a follow-up is the
    lead's call back, not the rep's work)."""
    role = effective_role(viewer)
    if role is None or role == Role.REP:
        return FollowUp.objects.none()
    scope = scope_for(viewer)
    if scope.everything:
        return FollowUp.objects.all()
    condition = scope.q(team_field="team_id", department_field="department_id")
    # Escalated to them (loops/sla/): they see what they are told to act on.
    escalated = Escalation.objects.filter(notified=viewer, follow_up__isnull=False)
    return FollowUp.objects.filter(
        condition | Q(assignee=viewer) | Q(id__in=escalated.values("follow_up_id"))
    )


def follow_ups_due_for(*, viewer: User, limit: int = 10) -> list[FollowUp]:
    """The viewer's own open follow-ups, the most urgent first (their home page)."""
    return list(
        FollowUp.objects.filter(assignee=viewer, status=FollowUp.Status.OPEN)
        .select_related("customer", "contact", "feedback_item")
        .order_by("due_at", "id")[:limit]
    )


@dataclass(frozen=True)
class ClosedLoop:
    """Follow-ups opened in a period (those the budget did not allow left out: nobody could
    call), how many were closed with a call, and the median time from opening to the call."""

    opened: int
    closed: int
    median_hours_to_close: float | None

    @property
    def rate(self) -> float | None:
        return None if self.opened == 0 else self.closed / self.opened


def closed_loop_stats(*, viewer: User, start: datetime, end: datetime) -> ClosedLoop:
    """Closed-loop figures of the follow-ups opened in [start, end) within the viewer's scope."""
    opened = (
        follow_up_list_visible(viewer=viewer)
        .filter(created_at__gte=start, created_at__lt=end)
        .exclude(outcome=FollowUp.Outcome.NOT_ALLOWED)
    )
    durations: list[timedelta] = [
        closed_at - created_at
        for created_at, closed_at in opened.filter(status=FollowUp.Status.DONE).values_list(
            "created_at", "closed_at"
        )
        if closed_at is not None
    ]
    hours = median(d.total_seconds() / 3600 for d in durations) if durations else None
    return ClosedLoop(opened=opened.count(), closed=len(durations), median_hours_to_close=hours)


def follow_up_timeline(*, customer: Customer, viewer: User, limit: int) -> list[TimelineEntry]:
    """The customer timeline's call backs: the outcome for those the viewer may see, the bare
    fact (greyed) for the others."""
    follow_ups = list(
        FollowUp.objects.filter(customer=customer, status=FollowUp.Status.DONE).order_by(
            "-closed_at", "-id"
        )[:limit]
    )
    visible = set(
        follow_up_list_visible(viewer=viewer)
        .filter(id__in=[f.id for f in follow_ups])
        .values_list("id", flat=True)
    )
    entries = []
    for follow_up in follow_ups:
        shown = follow_up.id in visible
        entries.append(
            TimelineEntry(
                when=follow_up.closed_at or follow_up.created_at,
                kind="follow-up",
                title=f"Called back: {follow_up.get_outcome_display()}" if shown else "Called back",
                url=reverse("loops:follow-up-detail", args=[follow_up.pk]) if shown else "",
                restricted=not shown,
            )
        )
    return entries
