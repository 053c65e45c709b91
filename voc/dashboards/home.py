"""The dashboard's summary on the home page of those who see the dashboard: this month's
contacts, avoidable share, top driver and NPS against the same number of days before, in the
viewer's scope, with a link to the dashboard. Four queries (after the scope's)."""

from typing import Any

from contacts.reporting import reason_paths, rollup_totals
from voc.core.home import Fragment
from voc.dashboards.filters import MONTH, DashboardFilters, period_days, reporting_today
from voc.dashboards.panels import (
    counts_by_reason,
    relative_change,
    score_headline,
    score_summaries,
    share_of,
)
from voc.people.models import User


def dashboard_summary_widget(viewer: User) -> Fragment | None:
    start, end = period_days(MONTH, today=reporting_today())
    filters = DashboardFilters(period=MONTH, start=start, end=end)
    now = counts_by_reason(viewer, filters.rollup())
    (before,) = rollup_totals(
        viewer=viewer, filters=filters.previous_rollup(), columns=["contacts"]
    )
    (avoidable,) = rollup_totals(
        viewer=viewer, filters=filters.rollup(avoidable_only=True), columns=["contacts"]
    )
    nps = score_summaries(viewer, filters.feedback(kinds=frozenset({"nps"})))["nps"]
    total = sum(now.values())
    top = min(now, key=lambda reason: (-now[reason], reason)) if now else None
    context: dict[str, Any] = {
        "filters": filters,
        "contacts": total,
        "change": relative_change(total, before["contacts"]),
        "avoidable_share": share_of(avoidable["contacts"], total),
        "top_driver": reason_paths([top])[top] if top is not None else None,
        "top_driver_contacts": now.get(top, 0) if top is not None else 0,
        "nps": score_headline("nps", nps),
        "nps_answers": nps.answers,
    }
    return Fragment("dashboards/_home_summary.html", context)
