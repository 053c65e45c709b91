"""The dashboard's listening panels: the 5% tracker with outreach progress, make it right,
customer math, the latest stories and email ping-pong. Like voc/dashboards/panels.py, each is
a function of (viewer, filters) over other apps' scoped selectors, returning its template's
context; the PANELS block there lists them."""

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from contacts.customer_math import customer_counts, customer_events_between, losses_by_reason
from contacts.gestures.selectors import gesture_report
from contacts.models import CustomerEvent
from contacts.reporting import reason_paths
from contacts.rollups import reporting_tz
from contacts.threads import pingpong_counts, pingpong_longest
from feedback.listening import listening_in_period
from feedback.models import Story
from feedback.stories.reporting import StoryFilters, stories_latest, story_counts
from loops.losses import IssueBehindLosses, issues_behind_losses
from voc.dashboards.drill_customers import NO_LISTED_REASON
from voc.dashboards.filters import DashboardFilters
from voc.people.models import User

LATEST_STORIES = 5  # of each thumb
GESTURE_REASONS = 5
ISSUES_BEHIND = 10
LONGEST_THREADS = 5

# The filters a panel cannot apply, and why (shown on the panel).
PER_EXECUTIVE = {
    "channel": "listening is counted per executive, not per contact",
    "team": "listening is counted per executive, not per team",
    "segment": "listening is counted per executive, not per customer",
}
CUSTOMER_FILTERS = {
    "channel": "a customer is gained or lost, not a contact on a channel",
    "team": "a customer is gained or lost by the company, not by a team",
}


def _month_key(day: date) -> str:
    return f"{day:%Y-%m}"


# --- the 5% tracker and outreach ----------------------------------------------------------------


def listening_tracker_panel(viewer: User, filters: DashboardFilters) -> dict[str, Any]:
    """Per executive: ended side-by-side sessions started in the period, hours listened
    (sessions, outreach calls, be-a-customer exercises) against the weekly target prorated to
    the period's days, and the calls to lost and loyal customers planned and done. Managers
    see no row: listening is an executive's own. Two queries (the target is a business
    setting)."""
    rows = listening_in_period(viewer=viewer, start=filters.start, end=filters.end)
    month = {"month": _month_key(filters.end)}
    return {
        "rows": rows,
        "rows_queries": [(row, filters.query(executive=row.executive.pk)) for row in rows],
        "behind": sum(1 for row in rows if row.behind),
        "days": filters.days,
        "target_hours": rows[0].target_hours if rows else None,
        "lost_planned": sum(row.lost_planned for row in rows),
        "lost_done": sum(row.lost_done for row in rows),
        "loyal_planned": sum(row.loyal_planned for row in rows),
        "loyal_done": sum(row.loyal_done for row in rows),
        "month_query": urlencode(month),
    }


# --- make it right ------------------------------------------------------------------------------


def make_it_right_panel(viewer: User, filters: DashboardFilters) -> dict[str, Any]:
    """Gestures given (granted or approved) in the period in the viewer's scope, on contacts
    of the channel and segment, by the team, per currency: their value, the share of their
    contacts the customer came back about and of their customers lost within 90 days after
    (contacts.gestures.selectors.gesture_report), and the reasons they cost most on. Five
    queries (three without gestures: no names to read)."""
    sets = filters.rollup()
    report = gesture_report(
        viewer=viewer,
        since=filters.start,
        until=filters.end,
        channels=sets.channels,
        team_ids=sets.team_ids,
        segments=sets.segments,
    )
    return {
        "report": report,
        "reasons": report.by_reason[:GESTURE_REASONS],
        "more_reasons": max(0, len(report.by_reason) - GESTURE_REASONS),
        "query": filters.query(),
        "report_query": urlencode(
            {"since": filters.start.isoformat(), "until": filters.end.isoformat()}
        ),
    }


# --- customer math ------------------------------------------------------------------------------


def customer_math_panel(viewer: User, filters: DashboardFilters) -> dict[str, Any]:
    """Customers gained, won back and lost in the period (distinct customers with such a
    lifecycle event on a day of it, contacts.customer_math) against the previous period, the
    net, the reasons for the losses and the open issues behind them (loops.losses). Five
    queries with issues behind the losses (the counts, the losses per reason, the issues,
    their losses, the reasons' names), four with losses on listed reasons but no issue
    behind them, two otherwise."""
    segments = filters.rollup().segments
    now, before = customer_counts(
        viewer=viewer,
        periods=[(filters.start, filters.end), (filters.previous_start, filters.previous_end)],
        segments=segments,
    )
    lost = losses_by_reason(viewer=viewer, start=filters.start, end=filters.end, segments=segments)
    issues: list[IssueBehindLosses] = []
    if lost.keys() - {0}:  # only losses on a listed reason can be behind an issue
        losses = customer_events_between(
            viewer=viewer, start=filters.start, end=filters.end, segments=segments,
            kinds=[CustomerEvent.Kind.LOST],
        )  # fmt: skip
        issues = issues_behind_losses(viewer=viewer, losses=losses, limit=ISSUES_BEHIND)
    names = reason_paths({r for r in lost if r} | {r for row in issues for r in row.reason_ids})
    names[0] = NO_LISTED_REASON
    ranked = sorted(lost, key=lambda r: (-lost[r], names[r]))
    reasons = [
        {"reason": names[r], "lost": lost[r], "query": filters.query(kind="lost", reason=r)}
        for r in ranked
    ]
    previous = {
        "day_from": filters.previous_start.isoformat(), "day_to": filters.previous_end.isoformat()
    }  # fmt: skip
    return {
        "now": now,
        "before": before,
        "net_change": now.net - before.net,
        "query": {kind: filters.query(kind=kind) for kind in ("gained", "lost", "won_back")},
        "previous_query": {
            kind: filters.query(kind=kind, **previous) for kind in ("gained", "lost", "won_back")
        },
        "reasons": reasons,
        "issues": [
            {
                "issue": row.issue,
                "lost": row.lost,
                "reasons": ", ".join(names[r] for r in row.reason_ids),
            }
            for row in issues
        ],
    }


# --- stories ------------------------------------------------------------------------------------


def stories_panel(viewer: User, filters: DashboardFilters) -> dict[str, Any]:
    """Thumbs up and thumbs down stories told in the period about contacts of the channel,
    team and segment, and the latest of each. Three queries."""
    tz = reporting_tz()
    sets = filters.rollup()
    story_filters = StoryFilters(
        since=datetime.combine(filters.start, time(), tzinfo=tz),
        until=datetime.combine(filters.end + timedelta(days=1), time(), tzinfo=tz),
        channels=sets.channels,
        team_ids=sets.team_ids,
        segments=sets.segments,
    )
    counts = story_counts(viewer=viewer, filters=story_filters)
    return {
        "query": {thumb: filters.query(thumb=thumb) for thumb in ("up", "down")},
        "tz": tz,  # a story's day is a reporting day, as the period's
        "counts": counts,
        "up": stories_latest(
            viewer=viewer, filters=story_filters, thumb=Story.Thumb.UP, limit=LATEST_STORIES
        ),
        "down": stories_latest(
            viewer=viewer, filters=story_filters, thumb=Story.Thumb.DOWN, limit=LATEST_STORIES
        ),
    }


# --- email ping-pong ----------------------------------------------------------------------------


def pingpong_panel(viewer: User, filters: DashboardFilters) -> dict[str, Any]:
    """Email threads opened in the period, those in which the customer wrote three times or
    more (ping-pong: the rep should have picked up the phone), those still waiting for a call,
    and the longest of them. Four queries."""
    rollup = filters.rollup()
    counts = pingpong_counts(viewer=viewer, filters=rollup)
    longest = pingpong_longest(viewer=viewer, filters=rollup, limit=LONGEST_THREADS)
    return {
        **counts,
        "share": None
        if not counts["threads"]
        else round(100 * counts["pingpong"] / counts["threads"], 1),
        "longest": longest,
        "query": filters.query(),
        "waiting_query": filters.query(waiting=1),
    }
