"""The issues and follow-ups behind the loops panels' figures (voc/dashboards/loop_panels.py),
with the dashboard's filters, newest first, keyset-paginated like the contacts drill-down
(``after=<opened at>~<id>``), and exported through the core exporter."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import forms

from loops import reporting
from loops.models import FollowUp, Issue
from loops.rules import age_days
from loops.selectors import SLA_STATES as SLA_STATE_LABELS
from loops.selectors import issue_next_deadline
from voc.core.exports import Column
from voc.dashboards.filters import DashboardFilters

AFTER = r"^[0-9T:.+\- ]{10,40}~[0-9]{1,19}$"

ISSUE_TITLES = {
    "open": "open issues",
    "code_red": "ageing code reds",
    "escalated": "issues escalated in the period",
    "worked": "fixes shown to work in the period",
    "not_shown": "fixes not shown to work in the period",
    "too_early": "fixes with too few contacts to tell, judged in the period",
    "noticed": "issues whose fix notice was emailed in the period",
}
FOLLOW_UP_TITLES = {
    "opened": "call backs opened in the period",
    "closed": "call backs opened in the period and made by its end",
}


class IssueDrillForm(forms.Form):
    show = forms.ChoiceField(choices=[(s, s) for s in reporting.ISSUE_SETS])
    age = forms.ChoiceField(required=False, choices=[(b.key, b.label) for b in reporting.AGE_BANDS])
    sla = forms.ChoiceField(required=False, choices=reporting.SLA_STATES)
    after = forms.RegexField(required=False, regex=AFTER)


class FollowUpDrillForm(forms.Form):
    show = forms.ChoiceField(choices=[(s, s) for s in reporting.FOLLOW_UP_SETS])
    after = forms.RegexField(required=False, regex=AFTER)


@dataclass(frozen=True)
class LoopDrill:
    filters: DashboardFilters
    show: str
    age: str
    sla: str
    after: tuple[datetime, int] | None

    def params(self) -> dict[str, str]:
        params = self.filters.params() | {"show": self.show}
        return params | {k: v for k, v in (("age", self.age), ("sla", self.sla)) if v}

    def title(self, *, issues: bool) -> str:
        if not issues:
            return FOLLOW_UP_TITLES[self.show]
        parts = [ISSUE_TITLES[self.show]]
        if self.age:
            parts.append(f"open {reporting.AGE_BAND_KEYS[self.age].label.lower()}")
        if self.sla:
            parts.append(dict(reporting.SLA_STATES)[self.sla].lower())
        return ", ".join(parts)


def _position(value: str) -> tuple[datetime, int] | None:
    moment, _, row_id = value.rpartition("~")
    try:
        at = datetime.fromisoformat(moment)
    except ValueError:
        return None
    return (at, int(row_id)) if at.tzinfo is not None else None


def loop_drill_from(
    data: Any, *, filters: DashboardFilters, issues: bool
) -> tuple[LoopDrill | None, forms.Form]:
    form: forms.Form = IssueDrillForm(data) if issues else FollowUpDrillForm(data)
    if not form.is_valid():
        return None, form
    clean = form.cleaned_data
    after = None
    if clean["after"]:
        after = _position(clean["after"])
        if after is None:
            form.add_error("after", "Not a position in this list.")
            return None, form
    if issues and (clean["age"] or clean["sla"]) and clean["show"] != "open":
        form.add_error("show", "Age and SLA state narrow the open issues only.")
        return None, form
    drill = LoopDrill(
        filters=filters,
        show=clean["show"],
        age=clean.get("age") or "",
        sla=clean.get("sla") or "",
        after=after,
    )
    return drill, form


def sla_label(issue: Issue, now: datetime) -> str:
    deadline = issue_next_deadline(issue, now=now)
    if deadline is None:
        return ""
    return f"{SLA_STATE_LABELS[deadline.state]} ({deadline.clock})"


def issue_columns(now: datetime) -> list[Column]:
    return [
        Column("Opened", lambda i: i.created_at),
        Column("Title", lambda i: i.title),
        Column("Severity", lambda i: i.get_severity_display()),
        Column("Status", lambda i: i.get_status_display()),
        Column("Department", lambda i: i.department.name if i.department else ""),
        Column("Owner", lambda i: (i.owner.get_full_name() or i.owner.username) if i.owner else ""),
        Column("Days open", lambda i: age_days(opened_at=i.created_at, now=now)),
        Column("SLA", lambda i: sla_label(i, now)),
        Column("Evidence", lambda i: i.evidence_count),
        Column("Issue id", lambda i: i.id),
    ]


def _hours(follow_up: FollowUp) -> float | None:
    if follow_up.closed_at is None:
        return None
    return round((follow_up.closed_at - follow_up.created_at).total_seconds() / 3600, 1)


FOLLOW_UP_COLUMNS = [
    Column("Opened", lambda f: f.created_at),
    Column("Why", lambda f: f.get_trigger_display()),
    Column("Due", lambda f: f.due_at),
    Column("Status", lambda f: f.get_status_display()),
    Column("Outcome", lambda f: f.get_outcome_display() if f.outcome else ""),
    Column("Closed", lambda f: f.closed_at),
    Column("Hours to close", _hours),
    Column("Team", lambda f: f.team.name if f.team else ""),
    Column("Owner", lambda f: (f.assignee.get_full_name() or f.assignee.username) if f.assignee else ""),
    Column("Customer", lambda f: f.customer.name if f.customer else ""),
    Column("Verbatim", lambda f: f.feedback_item.verbatim if f.feedback_item else ""),
    Column("Follow-up id", lambda f: f.id),
]  # fmt: skip


def loop_export_name(kind: str, drill: LoopDrill) -> str:
    f = drill.filters
    return f"{kind}-{drill.show}-{f.start.isoformat()}-{f.end.isoformat()}"
