"""Reads of SLA policies and of an issue's clocks and escalations."""

from dataclasses import dataclass
from datetime import datetime

from loops.models import OPEN_EXCLUDED, Escalation, Issue, Severity, SlaPolicy
from loops.rules import DEFAULT_SLA_HOURS
from loops.sla.rules import STATE_LABELS, age_days_text, ageing_text, due_state


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
