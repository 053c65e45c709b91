"""Read selectors over the feedback rollups, for the NPS, CSAT and CES panels and the feedback
volumes: every figure comes from FeedbackRollup (never by counting items), within the viewer's
row scope, the same rule as ``feedback.items.selectors.feedback_list_visible``: a rep counts
their team's items; a manager their teams' items and the items whose topic is a reason their
departments own; executives and admins everything. A test checks each total against counting
the items the viewer may see with the same filters.

Days are reporting days (settings.VOC_REPORTING_TIME_ZONE). From the sums:
NPS = 100 × (promoters − detractors) / answers, with promoters the ``positive`` band and
detractors the ``negative`` one; CSAT = share of answers in the ``positive`` band (4–5);
CES = share in the ``positive`` band (5–7) and the mean, ``score_sum / scored_items``.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from django.db.models import Q, QuerySet, Sum
from django.db.models.functions import TruncWeek

from contacts.models import ContactReason
from contacts.rollups import reporting_tz
from feedback.items.rollups import COLUMNS
from feedback.items.selectors import feedback_list_visible
from feedback.models import FeedbackItem, FeedbackRollup
from voc.people.access import scope_for
from voc.people.models import User

GroupBy = Literal["day", "week", "kind", "band", "reason_id", "channel", "team_id", "segment"]
_GROUPS = frozenset({"day", "week", "kind", "band", "reason_id", "channel", "team_id", "segment"})


@dataclass(frozen=True)
class FeedbackFilters:
    """Which rollup rows to add up. Empty sets mean "all"; ``start`` and ``end`` are
    reporting days, both included. A parent reason includes its sub-reasons."""

    start: date
    end: date
    kinds: frozenset[str] = field(default_factory=frozenset)
    bands: frozenset[str] = field(default_factory=frozenset)
    channels: frozenset[str] = field(default_factory=frozenset)
    team_ids: frozenset[int] = field(default_factory=frozenset)
    segments: frozenset[str] = field(default_factory=frozenset)
    reason_ids: frozenset[int] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("a period ends on or after the day it starts")


def feedback_rollups_visible(*, viewer: User) -> QuerySet[FeedbackRollup]:
    scope = scope_for(viewer)
    rows = FeedbackRollup.objects.all()
    if scope.everything:
        return rows
    owned = ContactReason.objects.filter(department_id__in=scope.department_ids).values("id")
    return rows.filter(Q(team_id__in=scope.team_ids) | Q(reason_id__in=owned))


def feedback_rollup_totals(
    *,
    viewer: User,
    filters: FeedbackFilters,
    group_by: Sequence[GroupBy] = (),
    columns: Sequence[str] = COLUMNS,
) -> list[dict[str, Any]]:
    """Sums of ``columns`` over the rows the viewer may see that match ``filters``, one dict
    per group (ordered by the group keys), in one query. Without ``group_by``, one dict with
    the totals (zeros when nothing matches)."""
    unknown = (set(group_by) - _GROUPS) | (set(columns) - set(COLUMNS))
    if unknown:
        raise ValueError(f"not a feedback rollup group or column: {sorted(unknown)}")
    rows = feedback_rollups_visible(viewer=viewer).filter(
        day__gte=filters.start, day__lte=filters.end
    )
    for name, values in (
        ("kind", filters.kinds), ("band", filters.bands), ("channel", filters.channels),
        ("team_id", filters.team_ids), ("segment", filters.segments),
    ):  # fmt: skip
        if values:
            rows = rows.filter(**{f"{name}__in": values})
    if filters.reason_ids:
        children = ContactReason.objects.filter(parent_id__in=filters.reason_ids).values("id")
        rows = rows.filter(Q(reason_id__in=filters.reason_ids) | Q(reason_id__in=children))
    sums = {column: Sum(column) for column in columns}
    if not group_by:
        totals = rows.aggregate(**sums)
        return [{column: totals[column] or 0 for column in columns}]
    if "week" in group_by:
        rows = rows.annotate(week=TruncWeek("day"))
    grouped = rows.values(*group_by).annotate(**sums).order_by(*group_by)
    return [
        {**{key: row[key] for key in group_by}, **{column: row[column] or 0 for column in columns}}
        for row in grouped
    ]


@dataclass(frozen=True)
class ScoreSummary:
    """One survey kind's headline figures over a period."""

    answers: int
    negative: int
    neutral: int
    positive: int
    score_sum: int

    @property
    def nps(self) -> float | None:
        """Promoters minus detractors, in percentage points (NPS answers)."""
        if not self.answers:
            return None
        return 100 * (self.positive - self.negative) / self.answers

    @property
    def positive_share(self) -> float | None:
        """Share of answers in the top band: CSAT 4–5, CES 5–7 (0 to 1)."""
        return self.positive / self.answers if self.answers else None

    @property
    def mean(self) -> float | None:
        return self.score_sum / self.answers if self.answers else None


def feedback_score_summary(*, viewer: User, filters: FeedbackFilters, kind: str) -> ScoreSummary:
    """NPS, CSAT or CES figures for ``kind`` (one query)."""
    rows = feedback_rollup_totals(
        viewer=viewer,
        filters=FeedbackFilters(**{**filters.__dict__, "kinds": frozenset({kind})}),
        group_by=["band"],
        columns=["scored_items", "score_sum"],
    )
    bands = {row["band"]: row for row in rows}
    return ScoreSummary(
        answers=sum(row["scored_items"] for row in rows),
        negative=bands.get("negative", {}).get("scored_items", 0),
        neutral=bands.get("neutral", {}).get("scored_items", 0),
        positive=bands.get("positive", {}).get("scored_items", 0),
        score_sum=sum(row["score_sum"] for row in rows),
    )


def rollup_feedback_items(*, viewer: User, filters: FeedbackFilters) -> QuerySet[FeedbackItem]:
    """The items behind a feedback rollup figure: the items the viewer may see that
    ``feedback_rollup_totals(filters=...)`` counts (their reporting day is ``received_at`` in
    the reporting time zone; 0 and "" stand for "none" as in the rollups). Newest first."""
    tz = reporting_tz()
    items = feedback_list_visible(viewer=viewer).filter(
        received_at__gte=datetime.combine(filters.start, time(), tzinfo=tz),
        received_at__lt=datetime.combine(filters.end + timedelta(days=1), time(), tzinfo=tz),
    )
    if filters.kinds:
        items = items.filter(kind__in=filters.kinds)
    if filters.bands:
        items = items.filter(band__in=filters.bands)
    if filters.channels:
        items = items.filter(channel__in=filters.channels)
    if filters.segments:
        items = items.filter(customer_segment__in=filters.segments)
    if filters.team_ids:
        teams = Q(team_id__in=filters.team_ids - {0})
        if 0 in filters.team_ids:
            teams |= Q(team_id__isnull=True)
        items = items.filter(teams)
    if filters.reason_ids:
        children = ContactReason.objects.filter(parent_id__in=filters.reason_ids).values("id")
        reasons = Q(reason_id__in=filters.reason_ids) | Q(reason_id__in=children)
        if 0 in filters.reason_ids:
            reasons |= Q(reason_id__isnull=True)
        items = items.filter(reasons)
    return items.order_by("-received_at", "-id")
