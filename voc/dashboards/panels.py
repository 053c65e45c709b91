"""The executive dashboard's panels: each is a plain function of (viewer, filters) that reads
other apps' scoped rollup selectors (never raw contacts) and returns its template's context.
Every figure carries the query string of its drill-down (voc/dashboards/drill.py), so a
number leads to the contacts or feedback behind it with the same filters.

A panel lists the filters it cannot apply in ``ignores`` (filter name -> why), and the
fragment says so on the panel when one of them is set (``Panel.ignored``).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from urllib.parse import urlencode

from contacts.reporting import reason_paths, rollup_totals
from contacts.rollups import reporting_tz
from feedback.items.reporting import ScoreSummary, feedback_rollup_totals
from feedback.surveys.selectors import survey_fatigue
from loops.statistics import ALPHA, RISING, WindowCounts, rising_driver
from voc.core.business import business_setting
from voc.dashboards import listening
from voc.dashboards.filters import DashboardFilters
from voc.dashboards.loop_panels import (
    CLOSING_LOOP_IGNORE,
    OPEN_ISSUES_IGNORE,
    closing_the_loop,
    open_issues,
)
from voc.people.models import User

TOP_DRIVERS = 10
CHART_SERIES = 8  # reasons drawn in the weekly chart; the rest are added up as "Other"
SCORE_KINDS = (("nps", "NPS"), ("csat", "CSAT"), ("ces", "CES"))


@dataclass(frozen=True)
class Panel:
    key: str  # the URL slug
    title: str
    template: str
    compute: Callable[[User, DashboardFilters], dict[str, Any]]
    ignores: dict[str, str] = field(default_factory=dict)

    def ignored(self, filters: DashboardFilters) -> dict[str, str]:
        """The filters this panel cannot apply that are set now (filter name -> why): the
        panel says so for those, not for every filter it would ignore."""
        return {name: why for name, why in self.ignores.items() if filters.is_set(name)}


def share_of(part: int, whole: int) -> float | None:
    """part / whole as a percentage with one decimal, None without a whole."""
    return round(100 * part / whole, 1) if whole else None


def relative_change(now: int | float | None, before: int | float | None) -> float | None:
    """The relative change in percent, None when there was nothing before."""
    if now is None or not before:
        return None
    return round(100 * (now - before) / before, 1)


def _mondays(start: date, end: date) -> list[date]:
    first = start - timedelta(days=start.weekday())
    return [first + timedelta(days=7 * n) for n in range((end - first).days // 7 + 1)]


def _week_range(monday: date, filters: DashboardFilters) -> tuple[date, date]:
    """The days of a week that lie in the period (the first and last weeks may be partial)."""
    return max(monday, filters.start), min(monday + timedelta(days=6), filters.end)


def _days(start: date, end: date) -> dict[str, str]:
    return {"day_from": start.isoformat(), "day_to": end.isoformat()}


# --- contacts per reason per week -------------------------------------------------------------


def reasons_by_week(viewer: User, filters: DashboardFilters) -> dict[str, Any]:
    """Contacts per reason and week (weeks start on Monday; the period's first and last week
    may be partial): a stacked chart of the largest reasons and a table of all. Two queries."""
    rows = rollup_totals(
        viewer=viewer,
        filters=filters.rollup(),
        group_by=["week", "reason_id"],
        columns=["contacts"],
    )
    mondays = _mondays(filters.start, filters.end)
    column = {monday: n for n, monday in enumerate(mondays)}
    counts: dict[int, list[int]] = {}
    for row in rows:
        week = row["week"]
        week = week.date() if isinstance(week, datetime) else week
        counts.setdefault(row["reason_id"], [0] * len(mondays))[column[week]] += row["contacts"]
    names = reason_paths(counts)
    ranked = sorted(counts, key=lambda reason: (-sum(counts[reason]), names[reason]))
    # A year is 12 reasons × 53 weeks of links: each cell's query string is its reason's
    # plus its week's days, encoded once each (as filters.query(reason=…, day_from=…, …)).
    week_days = [urlencode(_days(*_week_range(monday, filters))) for monday in mondays]
    weeks = [
        {"monday": monday, "query": f"{filters.query()}&{days}"}
        for monday, days in zip(mondays, week_days, strict=True)
    ]
    table = []
    for reason in ranked:
        reason_query = filters.query(reason=reason)
        table.append(
            {
                "reason": names[reason],
                "total": sum(counts[reason]),
                "total_query": reason_query,
                "cells": [
                    {"count": count, "query": f"{reason_query}&{days}"}
                    for days, count in zip(week_days, counts[reason], strict=True)
                ],
            }
        )
    week_totals = [sum(counts[reason][n] for reason in counts) for n in range(len(mondays))]
    series = [{"label": names[reason], "data": counts[reason]} for reason in ranked[:CHART_SERIES]]
    rest = ranked[CHART_SERIES:]
    if rest:
        other = [sum(counts[reason][n] for reason in rest) for n in range(len(mondays))]
        series.append({"label": f"Other reasons ({len(rest)})", "data": other})
    chart = {
        "type": "bar",
        "stacked": True,
        "labels": [monday.strftime("%-d %b") for monday in mondays],
        "datasets": series,
    }
    return {
        "weeks": weeks,
        "table": table,
        "week_totals": week_totals,
        "total": sum(week_totals),
        "chart": chart,
    }


# --- top and rising drivers -------------------------------------------------------------------


def counts_by_reason(viewer: User, filters: Any) -> dict[int, int]:
    rows = rollup_totals(
        viewer=viewer, filters=filters, group_by=["reason_id"], columns=["contacts"]
    )
    return {row["reason_id"]: row["contacts"] for row in rows if row["contacts"]}


def top_drivers(viewer: User, filters: DashboardFilters) -> dict[str, Any]:
    """The reasons with the most contacts in the period, with the previous period's count.
    Three queries."""
    now = counts_by_reason(viewer, filters.rollup())
    before = counts_by_reason(viewer, filters.previous_rollup())
    total = sum(now.values())
    top = sorted(now, key=lambda reason: (-now[reason], reason))[:TOP_DRIVERS]
    names = reason_paths(top)
    previous = _days(filters.previous_start, filters.previous_end)
    drivers = [
        {
            "reason": names[reason],
            "contacts": now[reason],
            "share": share_of(now[reason], total),
            "previous": before.get(reason, 0),
            "change": relative_change(now[reason], before.get(reason, 0)),
            "query": filters.query(reason=reason),
            "previous_query": filters.query(reason=reason, **previous),
        }
        for reason in top
    ]
    return {
        "drivers": drivers,
        "total": total,
        "previous_total": sum(before.values()),
        "query": filters.query(),
        "previous_query": filters.query(**previous),
    }


def rising_windows(filters: DashboardFilters) -> tuple[date, date, date, date] | None:
    """The windows the rising-driver test compares: the period's last whole weeks and as many
    weeks just before them (equal whole weeks hold the same weekdays), or None for a period
    shorter than a week."""
    weeks = filters.days // 7
    if not weeks:
        return None
    length = timedelta(days=7 * weeks)
    after_start = filters.end - length + timedelta(days=1)
    return after_start - length, after_start - timedelta(days=1), after_start, filters.end


def rising_drivers(viewer: User, filters: DashboardFilters) -> dict[str, Any]:
    """Reasons whose share of all contacts rose from the previous weeks to the period's, ranked
    by the rise, but only those for which loops.statistics' exact test shows the rise. The
    test runs once per reason, so its α is shared between them (Bonferroni: α / reasons
    tested): twenty reasons of pure noise must not produce a "rising" one in forty runs.
    Three queries."""
    windows = rising_windows(filters)
    if windows is None:
        return {"windows": None}
    before_start, before_end, after_start, after_end = windows
    before = counts_by_reason(viewer, filters.rollup(start=before_start, end=before_end))
    after = counts_by_reason(viewer, filters.rollup(start=after_start, end=after_end))
    days = (after_end - after_start).days + 1
    before_total, after_total = sum(before.values()), sum(after.values())
    tested = sorted(set(before) | set(after))
    alpha = ALPHA / len(tested) if tested else ALPHA
    results = {
        reason: rising_driver(
            WindowCounts(before.get(reason, 0), before_total, days),
            WindowCounts(after.get(reason, 0), after_total, days),
            alpha=alpha,
            min_days=7,
        )
        for reason in tested
    }
    rising = [reason for reason in tested if results[reason].verdict == RISING]
    rising.sort(key=lambda reason: (-(results[reason].rate_ratio or 0), reason))
    names = reason_paths(rising)
    drivers = [
        {
            "reason": names[reason],
            "before": before.get(reason, 0),
            "after": after[reason],
            "before_rate": results[reason].before.per_thousand,
            "after_rate": results[reason].after.per_thousand,
            "rate_ratio": results[reason].rate_ratio,
            "ci_low": results[reason].ci_low,
            "p_value": results[reason].p_value,
            "query": filters.query(reason=reason, **_days(after_start, after_end)),
            "before_query": filters.query(reason=reason, **_days(before_start, before_end)),
        }
        for reason in rising
    ]
    verdicts = [result.verdict for result in results.values()]
    return {
        "windows": windows,
        "days": days,
        "drivers": drivers,
        "tested": len(tested),
        "too_early": verdicts.count("too_early"),
        "alpha": alpha,
        "before_total": before_total,
        "after_total": after_total,
    }


# --- avoidable contacts -----------------------------------------------------------------------


def _money(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def avoidable_contacts(viewer: User, filters: DashboardFilters) -> dict[str, Any]:
    """Contacts for reasons marked avoidable ("the best service is no service"): how many,
    what they cost (handle minutes × the business setting cost_per_minute), the customers'
    minutes (waiting and being handled), per reason, against the previous period, and the
    weekly trend. Four queries."""
    columns = ["contacts", "handle_seconds", "wait_seconds"]
    # One read by week and reason gives both the reasons' totals and the weekly trend.
    by_week_and_reason = rollup_totals(
        viewer=viewer, filters=filters.rollup(avoidable_only=True),
        group_by=["week", "reason_id"], columns=columns,
    )  # fmt: skip
    (previous,) = rollup_totals(
        viewer=viewer, filters=filters.previous_rollup(avoidable_only=True), columns=columns
    )
    (everything,) = rollup_totals(viewer=viewer, filters=filters.rollup(), columns=["contacts"])
    per_reason: dict[int, dict[str, Any]] = {}
    week_counts: dict[date, int] = {}
    for row in by_week_and_reason:
        totals = per_reason.setdefault(row["reason_id"], dict.fromkeys(columns, 0))
        for column in columns:
            totals[column] += row[column]
        week_counts[row["week"]] = week_counts.get(row["week"], 0) + row["contacts"]
    rows = [{"reason_id": reason_id, **totals} for reason_id, totals in per_reason.items()]
    cost_per_minute = Decimal(business_setting("cost_per_minute"))
    currency = business_setting("currency")

    def figures(row: dict[str, Any]) -> dict[str, Any]:
        return {
            "contacts": row["contacts"],
            "cost": _money(Decimal(row["handle_seconds"]) * cost_per_minute / 60),
            "customer_minutes": round((row["wait_seconds"] + row["handle_seconds"]) / 60),
        }

    names = reason_paths(row["reason_id"] for row in rows)
    reasons = sorted(
        (
            {
                "reason": names[row["reason_id"]],
                "query": filters.query(reason=row["reason_id"], avoidable=1),
            }
            | figures(row)
            for row in rows
            if row["contacts"]
        ),
        key=lambda reason: (-reason["cost"], -reason["contacts"], reason["reason"]),
    )
    total = figures({column: sum(row[column] for row in rows) for column in columns})
    before = figures(previous)
    mondays = _mondays(filters.start, filters.end)
    trend = [
        {
            "monday": monday,
            "contacts": week_counts.get(monday, 0),
            "query": filters.query(avoidable=1, **_days(*_week_range(monday, filters))),
        }
        for monday in mondays
    ]
    return {
        "total": total,
        "previous": before,
        "change": relative_change(total["contacts"], before["contacts"]),
        "cost_change": relative_change(total["cost"], before["cost"]),
        "share": share_of(total["contacts"], everything["contacts"]),
        "all_contacts": everything["contacts"],
        "reasons": reasons,
        "trend": trend,
        "cost_per_minute": cost_per_minute,
        "currency": currency,
        "query": filters.query(avoidable=1),
        "previous_query": filters.query(
            avoidable=1, **_days(filters.previous_start, filters.previous_end)
        ),
        "chart": {
            "type": "line",
            "labels": [monday.strftime("%-d %b") for monday in mondays],
            "datasets": [{"label": "Avoidable contacts", "data": [t["contacts"] for t in trend]}],
        },
    }


# --- road 4, repeats, first-contact resolution ------------------------------------------------

SERVICE_COLUMNS = [
    "contacts", "repeat_contacts", "road_1", "road_2", "road_3", "road_4", "fcr_yes", "fcr_no",
]  # fmt: skip


def _service_figures(row: dict[str, int]) -> dict[str, Any]:
    with_road = row["road_1"] + row["road_2"] + row["road_3"] + row["road_4"]
    answered = row["fcr_yes"] + row["fcr_no"]
    return {
        **row,
        "with_road": with_road,
        "road_4_share": share_of(row["road_4"], with_road),
        "repeat_rate": share_of(row["repeat_contacts"], row["contacts"]),
        "fcr_answered": answered,
        "fcr_rate": share_of(row["fcr_yes"], answered),
    }


def service_health(viewer: User, filters: DashboardFilters) -> dict[str, Any]:
    """Road 4 ("go away") share of the contacts given a road, the repeat-contact rate of all
    contacts, and first-contact resolution of the contacts whose resolution was recorded;
    each against the previous period. Two queries."""
    (now,) = rollup_totals(viewer=viewer, filters=filters.rollup(), columns=SERVICE_COLUMNS)
    (before,) = rollup_totals(
        viewer=viewer, filters=filters.previous_rollup(), columns=SERVICE_COLUMNS
    )
    previous = _days(filters.previous_start, filters.previous_end)
    return {
        "now": _service_figures(now),
        "before": _service_figures(before),
        "query": {
            measure: filters.query(measure=measure)
            for measure in ("contacts", "road_4", "repeat_contacts", "fcr_yes", "fcr_no")
        },
        "previous_query": {
            measure: filters.query(measure=measure, **previous)
            for measure in ("contacts", "road_4", "repeat_contacts", "fcr_yes")
        },
    }


# --- NPS, CSAT, CES and survey fatigue ----------------------------------------------------------


def score_summaries(viewer: User, filters: Any) -> dict[str, ScoreSummary]:
    rows = feedback_rollup_totals(
        viewer=viewer,
        filters=filters,
        group_by=["kind", "band"],
        columns=["scored_items", "score_sum"],
    )
    summaries = {}
    for kind, _label in SCORE_KINDS:
        bands = {row["band"]: row["scored_items"] for row in rows if row["kind"] == kind}
        summaries[kind] = ScoreSummary(
            answers=sum(bands.values()),
            negative=bands.get("negative", 0),
            neutral=bands.get("neutral", 0),
            positive=bands.get("positive", 0),
            score_sum=sum(row["score_sum"] for row in rows if row["kind"] == kind),
        )
    return summaries


def score_headline(kind: str, summary: ScoreSummary) -> float | None:
    value = summary.nps if kind == "nps" else summary.positive_share
    if value is None:
        return None
    return round(value, 1) if kind == "nps" else round(100 * value, 1)


def survey_scores(viewer: User, filters: DashboardFilters) -> dict[str, Any]:
    """NPS (promoters − detractors, in points), CSAT (share of 4–5) and CES (share of 5–7, and
    the mean) with their answer counts, against the previous period, from the feedback
    rollups. Two queries."""
    kinds = frozenset(kind for kind, _label in SCORE_KINDS)
    now = score_summaries(viewer, filters.feedback(kinds=kinds))
    before = score_summaries(viewer, filters.feedback(
        start=filters.previous_start, end=filters.previous_end, kinds=kinds
    ))  # fmt: skip
    previous = _days(filters.previous_start, filters.previous_end)
    scores = []
    for kind, label in SCORE_KINDS:
        value, was = score_headline(kind, now[kind]), score_headline(kind, before[kind])
        scores.append(
            {
                "kind": kind,
                "label": label,
                "value": value,
                "previous": was,
                "change": None if value is None or was is None else round(value - was, 1),
                "summary": now[kind],
                "previous_summary": before[kind],
                "mean": None if (mean := now[kind].mean) is None else round(mean, 2),
                "query": filters.query(kind=kind),
                "previous_query": filters.query(kind=kind, **previous),
                "band_query": {
                    band: filters.query(kind=kind, band=band)
                    for band in ("negative", "neutral", "positive")
                },
            }
        )
    return {"scores": scores}


def survey_fatigue_panel(viewer: User, filters: DashboardFilters) -> dict[str, Any]:
    """Customers asked to answer a survey twice within 30 days (must read 0), of the customers
    invited in the period. One query."""
    tz = reporting_tz()
    fatigue = survey_fatigue(
        viewer=viewer,
        since=datetime.combine(filters.start, time(), tzinfo=tz),
        until=datetime.combine(filters.end + timedelta(days=1), time(), tzinfo=tz),
        channels=frozenset({filters.channel}) if filters.channel else frozenset(),
        team_ids=frozenset({filters.team_id}) if filters.team_id else frozenset(),
        segments=filters.rollup().segments,
    )
    return {"fatigue": fatigue, "share": share_of(fatigue.asked_twice, fatigue.invited)}


PANELS: dict[str, Panel] = {
    panel.key: panel
    for panel in (
        Panel("reasons-by-week", "Contacts per reason per week", "dashboards/panels/_reasons_by_week.html", reasons_by_week),
        Panel("top-drivers", "Top drivers", "dashboards/panels/_top_drivers.html", top_drivers),
        Panel("rising-drivers", "Rising drivers", "dashboards/panels/_rising_drivers.html", rising_drivers),
        Panel("avoidable", "Avoidable contacts", "dashboards/panels/_avoidable.html", avoidable_contacts),
        Panel("service", "Go away, repeats and first-contact resolution", "dashboards/panels/_service.html", service_health),
        Panel("scores", "NPS, CSAT and CES", "dashboards/panels/_scores.html", survey_scores),
        Panel("survey-fatigue", "Survey fatigue", "dashboards/panels/_survey_fatigue.html", survey_fatigue_panel),
        Panel("open-issues", "Open issues", "dashboards/panels/_open_issues.html", open_issues, OPEN_ISSUES_IGNORE),
        Panel("closing-the-loop", "Closing the loop", "dashboards/panels/_closing_the_loop.html", closing_the_loop, CLOSING_LOOP_IGNORE),
        Panel("listening", "The 5% tracker and outreach", "dashboards/panels/_listening.html", listening.listening_tracker_panel, ignores=listening.PER_EXECUTIVE),
        Panel("make-it-right", "Make it right", "dashboards/panels/_make_it_right.html", listening.make_it_right_panel),
        Panel("customer-math", "Customer math", "dashboards/panels/_customer_math.html", listening.customer_math_panel, ignores=listening.CUSTOMER_FILTERS),
        Panel("stories", "Thumbs up and thumbs down", "dashboards/panels/_stories.html", listening.stories_panel),
        Panel("pingpong", "Email ping-pong", "dashboards/panels/_pingpong.html", listening.pingpong_panel),
    )
}  # fmt: skip
