"""The dashboard's summary on the home page of those who see the dashboard: this month's
contacts, avoidable share, top driver and NPS against the same number of days before, in the
viewer's scope, with a link to the dashboard. Cached like a panel (voc/dashboards/cache.py):
it reads only rollups scoped by the viewer's row scope, so viewers with the same scope share
an entry. Four queries (after the scope's) when computed."""

from typing import Any

from contacts.reporting import reason_paths, rollup_totals
from voc.core.home import Fragment
from voc.dashboards.cache import cache_on, panel_context
from voc.dashboards.filters import MONTH, DashboardFilters, period_days, reporting_today
from voc.dashboards.panels import (
    Panel,
    counts_by_reason,
    relative_change,
    score_headline,
    score_summaries,
    share_of,
)
from voc.people.models import User


def summary_figures(viewer: User, filters: DashboardFilters) -> dict[str, Any]:
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
    return {
        "filters": filters,
        "contacts": total,
        "change": relative_change(total, before["contacts"]),
        "avoidable_share": share_of(avoidable["contacts"], total),
        "top_driver": reason_paths([top])[top] if top is not None else None,
        "top_driver_contacts": now.get(top, 0) if top is not None else 0,
        "nps": score_headline("nps", nps),
        "nps_answers": nps.answers,
    }


SUMMARY = Panel(
    "home-summary", "This month at a glance", "dashboards/_home_summary.html", summary_figures
)


def dashboard_summary_widget(viewer: User) -> Fragment | None:
    start, end = period_days(MONTH, today=reporting_today())
    filters = DashboardFilters(period=MONTH, start=start, end=end)
    context = panel_context(SUMMARY, viewer, filters, use_cache=cache_on())
    return Fragment(SUMMARY.template, context)
