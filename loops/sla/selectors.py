"""Reads of SLA policies and of an issue's clocks and escalations."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Case, F, Q, When

from loops.models import OPEN_EXCLUDED, Clock, Escalation, FollowUp, Issue, Severity, SlaPolicy
from loops.rules import DEFAULT_SLA_HOURS
from loops.selectors import issue_list_visible, issue_sla_state_q
from loops.sla.rules import STATE_LABELS, age_days_text, ageing_text, due_state
from voc.people.access import owned_department_ids
from voc.people.models import User


@dataclass(frozen=True)
class PolicyRow:
    severity: str
    label: str
    response_hours: int
    resolution_hours: int
    is_default: bool  # no policy stored: the code's default applies


def sla_policies() -> list[PolicyRow]:
    """Every severity's hours, most severe first (a stored policy, else the default)."""
    stored = {policy.severity: policy for policy in SlaPolicy.objects.all()}
    rows = []
    for severity, label in reversed(Severity.choices):
        policy = stored.get(severity)
        default = DEFAULT_SLA_HOURS[severity]
        rows.append(
            PolicyRow(
                severity=severity,
                label=str(label),
                response_hours=policy.response_hours if policy else default.response,
                resolution_hours=policy.resolution_hours if policy else default.resolution,
                is_default=policy is None,
            )
        )
    return rows


@dataclass(frozen=True)
class ClockRow:
    name: str  # "Response", "Resolution"
    due_at: datetime | None
    stopped_at: datetime | None
    state: str
    state_label: str


@dataclass(frozen=True)
class IssueSla:
    clocks: list[ClockRow]
    escalations: list[Escalation]
    age: str
    ageing: str | None  # "Code red for 90 days"
    is_open: bool


def issue_escalations(*, issue: Issue) -> list[Escalation]:
    """The issue's escalations, oldest first, with the person told (one query)."""
    return list(
        Escalation.objects.filter(issue=issue).select_related("notified").order_by("at", "id")
    )


def issue_sla(*, issue: Issue, now: datetime) -> IssueSla:
    """The issue's two clocks as people read them, its escalations and its age."""
    is_open = issue.status not in OPEN_EXCLUDED and issue.merged_into_id is None
    clocks = []
    for name, due_at, stopped_at in (
        ("Response", issue.response_due_at, issue.responded_at),
        ("Resolution", issue.resolution_due_at, issue.fixed_at),
    ):
        state = due_state(now=now, due_at=due_at, stopped_at=stopped_at)
        if not is_open and stopped_at is None:
            state = "none"  # closed or won't fix without the event: the clock is off
        clocks.append(ClockRow(name, due_at, stopped_at, state, STATE_LABELS[state]))
    end = issue.closed_at if not is_open and issue.closed_at else now
    return IssueSla(
        clocks=clocks,
        escalations=issue_escalations(issue=issue),
        age=age_days_text(opened_at=issue.created_at, now=end),
        ageing=ageing_text(severity=issue.severity, opened_at=issue.created_at, now=now)
        if is_open and issue.fixed_at is None
        else None,
        is_open=is_open,
    )


# --- The home page: SLA breaches in a manager's departments, escalations still standing -------


_response_running = Q(response_due_at__isnull=False, responded_at__isnull=True)


def issues_breached_in_departments(
    *, viewer: User, now: datetime, limit: int = 10
) -> tuple[list[Issue], int]:
    """Open issues of the departments ``viewer`` owns as a manager (the ones they head and
    their own: their row scope) whose running clock is overdue, the longest overdue first,
    and how many there are. Empty for anyone who owns no department. Two queries at most."""
    departments = owned_department_ids(viewer)
    if not departments:
        return [], 0
    breached = (
        issue_list_visible(viewer=viewer)
        .filter(department_id__in=departments)
        .filter(issue_sla_state_q("overdue", now=now))
    )
    listed: list[Issue] = list(
        breached.annotate(
            missed_at=Case(
                When(_response_running, then=F("response_due_at")),
                default=F("resolution_due_at"),
            )
        )
        .select_related("owner", "department")
        .order_by("missed_at", "id")[:limit]
    )
    # Fewer than a full list means the list is all of them: no need to count.
    return listed, len(listed) if len(listed) < limit else breached.count()


@dataclass(frozen=True)
class StandingEscalation:
    escalation: Escalation  # the latest step that reached the viewer
    label: str  # "#12 Refunds fail" or "Call back: <customer>"
    url_name: str
    target_id: int


def escalations_standing_for(*, viewer: User, limit: int = 10) -> list[StandingEscalation]:
    """The escalations that reached ``viewer`` and still stand: the issue is open, not merged,
    and the missed clock has not stopped (no response yet, or not fixed yet), or the follow-up
    is still open. One row per target and clock (its latest step to the viewer), the newest
    first. One query."""
    issue_standing = (
        Q(issue__isnull=False, issue__merged_into__isnull=True)
        & ~Q(issue__status__in=OPEN_EXCLUDED)
        & (
            Q(clock=Clock.RESPONSE, issue__responded_at__isnull=True)
            | Q(clock=Clock.RESOLUTION, issue__fixed_at__isnull=True)
        )
    )
    follow_up_standing = Q(follow_up__isnull=False, follow_up__status=FollowUp.Status.OPEN)
    rows = (
        Escalation.objects.filter(notified=viewer)
        .filter(issue_standing | follow_up_standing)
        .select_related("issue", "follow_up__customer")
        .order_by("-at", "-id")
    )
    standing: list[StandingEscalation] = []
    seen: set[tuple[int | None, int | None, str]] = set()
    # A target escalates at most three levels per clock: 3 × limit rows hold ``limit`` targets.
    for escalation in rows[: 3 * limit]:
        key = (escalation.issue_id, escalation.follow_up_id, escalation.clock)
        if key in seen:
            continue
        seen.add(key)
        if escalation.issue is not None:
            label = f"#{escalation.issue.pk} {escalation.issue.title}"
            standing.append(
                StandingEscalation(escalation, label, "loops:issue-detail", escalation.issue.pk)
            )
        elif escalation.follow_up is not None:
            follow_up = escalation.follow_up
            customer = follow_up.customer
            label = f"Call back: {customer}" if customer else "Call back"
            standing.append(
                StandingEscalation(escalation, label, "loops:follow-up-detail", follow_up.pk)
            )
        if len(standing) == limit:
            break
    return standing
