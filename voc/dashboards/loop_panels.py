"""The loops panels of the dashboard: open issues (by age and SLA state, escalations, the
oldest code reds, fix verdicts) and closing the loop (follow-ups' closed-loop rate and median
time to close, fix notices sent). They read ``loops.reporting`` within the viewer's row scope;
every figure links to the issues or follow-ups behind it (voc/dashboards/loop_drill.py).
"""

from datetime import datetime, time, timedelta
from typing import Any

from django.utils import timezone

from contacts.rollups import reporting_tz
from loops import reporting
from loops.models import Verdict
from loops.rules import age_days
from voc.dashboards.filters import DashboardFilters
from voc.people.models import User

# An issue belongs to a department, not to a channel, team or customer segment.
OPEN_ISSUES_IGNORE = {
    "channel": "issues are counted once each, whatever channels their contacts came on.",
    "team": "issues belong to a department, not to a team.",
    "segment": "issues are counted once each, whatever customers reported them.",
}
CLOSING_LOOP_IGNORE = {
    "channel": "call backs and fix notices are counted whatever channel the customer used.",
    "team": "fix notices belong to issues, which have no team (the call backs apply it).",
    "segment": "call backs and fix notices are counted whatever the customer's segment.",
}


def period_instants(filters: DashboardFilters) -> tuple[datetime, datetime]:
    """The period's reporting days as [since, until) instants."""
    tz = reporting_tz()
    since = datetime.combine(filters.start, time(), tzinfo=tz)
    return since, datetime.combine(filters.end + timedelta(days=1), time(), tzinfo=tz)


def open_issues(viewer: User, filters: DashboardFilters) -> dict[str, Any]:
    """Open issues now by age band and SLA state, the oldest ageing code reds named, and in
    the period: escalations, and fixes judged to have worked or not. Four queries (a
    manager's scope adds its own, read once)."""
    now = timezone.now()
    since, until = period_instants(filters)
    figures = reporting.issue_figures(viewer=viewer, now=now, since=since, until=until)
    counts, code_reds = figures.open, figures.oldest_code_reds
    escalations, verdicts = figures.escalations, figures.verdicts

    def query(show: str, **more: str) -> str:
        return filters.query(show=show, **more)

    states = [
        {"key": state, "label": label, "total": counts.state_total(state),
         "query": query("open", sla=state)}
        for state, label in reporting.SLA_STATES
    ]  # fmt: skip
    bands = [
        {
            "key": band.key,
            "label": band.label,
            "total": counts.band_total(band.key),
            "query": query("open", age=band.key),
            "cells": [
                {"count": counts.cells[band.key, state], "query": query("open", age=band.key, sla=state)}
                for state, _label in reporting.SLA_STATES
            ],
        }
        for band in reporting.AGE_BANDS
    ]  # fmt: skip
    return {
        "now": now,
        "total": counts.total,
        "total_query": query("open"),
        "states": states,
        "bands": bands,
        "breached": counts.state_total("overdue"),
        "breached_query": query("open", sla="overdue"),
        "code_red_total": counts.code_reds,
        "code_red_query": query("code_red"),
        "code_reds": [
            {"issue": issue, "age_days": age_days(opened_at=issue.created_at, now=now)}
            for issue in code_reds
        ],
        "escalations": escalations,
        "escalated_query": query("escalated"),
        "verdicts": [
            {
                "key": verdict,
                "label": VERDICT_LABELS[verdict],
                "issues": verdicts[verdict],
                "query": query(verdict),
            }
            for verdict in reporting.VERDICTS
        ],
    }


VERDICT_LABELS = {
    Verdict.WORKED: "Fix worked",
    Verdict.NOT_SHOWN: "Fix not shown to work",
    Verdict.TOO_EARLY: "Too few contacts to tell",
}


def closing_the_loop(viewer: User, filters: DashboardFilters) -> dict[str, Any]:
    """Follow-ups opened in the period, the share called back by its end and the median time
    to the call; fix notices emailed in the period. Three queries (a manager's scope adds
    its own, read once per kind of row)."""
    since, until = period_instants(filters)
    team_ids = frozenset({filters.team_id}) if filters.team_id else frozenset()
    figures = reporting.loop_figures(viewer=viewer, since=since, until=until, team_ids=team_ids)
    loop, notices = figures.follow_ups, figures.notices
    return {
        "loop": loop,
        "median_days": None if loop.median_hours is None else round(loop.median_hours / 24, 1),
        "opened_query": filters.query(show="opened"),
        "closed_query": filters.query(show="closed"),
        "notices": notices,
        "noticed_query": filters.query(show="noticed"),
    }
