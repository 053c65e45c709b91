"""The dashboard's filters: a period (compared with the period of the same length just before
it), a channel, a team and a customer segment, read from the URL's query string so a filtered
dashboard is a link to share, and handed on unchanged to every panel and drill-down.

Days are reporting days (settings.VOC_REPORTING_TIME_ZONE). A value the form does not accept
falls back to "all" (or this month), with the form's errors shown on the page.
"""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.utils import timezone

from contacts.models import Channel, Customer
from contacts.reporting import RollupFilters
from contacts.rollups import reporting_tz
from feedback.items.reporting import FeedbackFilters
from voc.people.access import scope_for
from voc.people.models import Team, User

WEEK, MONTH, QUARTER, LAST_QUARTER, CUSTOM = "week", "month", "quarter", "last_quarter", "custom"
PERIODS = [
    (WEEK, "This week"),
    (MONTH, "This month"),
    (QUARTER, "This quarter"),
    (LAST_QUARTER, "Last quarter"),
    (CUSTOM, "Custom"),
]
MAX_DAYS = 731  # two years: the reason-by-week chart stays readable
NO_SEGMENT = "none"  # contacts without a customer (the rollups' "" segment)
FILTER_NAMES = ("period", "start", "end", "channel", "team", "segment")


def reporting_today() -> date:
    return timezone.now().astimezone(reporting_tz()).date()


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def period_days(period: str, *, today: date) -> tuple[date, date]:
    """The first and last day of a named period (the current ones end today)."""
    if period == WEEK:
        return today - timedelta(days=today.weekday()), today
    if period == QUARTER:
        return _quarter_start(today), today
    if period == LAST_QUARTER:
        end = _quarter_start(today) - timedelta(days=1)
        return _quarter_start(end), end
    return today.replace(day=1), today


def teams_choosable(viewer: User) -> list[Team]:
    """The teams the viewer may filter by: all for executives, their own scope's otherwise."""
    scope = scope_for(viewer)
    teams = Team.objects.order_by("name")
    return list(teams if scope.everything else teams.filter(id__in=scope.team_ids))


class DashboardFilterForm(forms.Form):
    period = forms.ChoiceField(choices=PERIODS, required=False)
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    channel = forms.ChoiceField(required=False)
    team = forms.TypedChoiceField(required=False, coerce=int, empty_value=None)
    segment = forms.ChoiceField(required=False)

    def __init__(self, data: Any, *, teams: list[Team]) -> None:
        super().__init__(data)
        channel, team, segment = (
            self.fields["channel"], self.fields["team"], self.fields["segment"]
        )  # fmt: skip
        assert isinstance(channel, forms.ChoiceField) and isinstance(team, forms.ChoiceField)
        assert isinstance(segment, forms.ChoiceField)
        channel.choices = [("", "All channels"), *Channel.choices]
        team.choices = [("", "All teams")] + [(t.id, t.name) for t in teams]
        segment.choices = [
            ("", "All segments"), *Customer.Segment.choices, (NO_SEGMENT, "No customer")
        ]  # fmt: skip

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("period") == CUSTOM:
            start, end = data.get("start"), data.get("end")
            if start is None or end is None:
                raise forms.ValidationError("A custom period needs a start and an end day.")
            if end < start:
                raise forms.ValidationError("The period ends on or after the day it starts.")
            if (end - start).days + 1 > MAX_DAYS:
                raise forms.ValidationError(f"A period is at most {MAX_DAYS} days long.")
        return data


@dataclass(frozen=True)
class DashboardFilters:
    """What every panel counts: [start, end] and the previous period of the same length."""

    period: str
    start: date
    end: date
    channel: str = ""
    team_id: int | None = None
    segment: str = ""

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def is_set(self, name: str) -> bool:
        """Whether the filter ``name`` (channel, team, segment) narrows the figures."""
        return {
            "channel": bool(self.channel),
            "team": self.team_id is not None,
            "segment": bool(self.segment),
        }.get(name, True)  # anything else (a panel that ignores the period) always applies

    @property
    def previous_start(self) -> date:
        return self.start - timedelta(days=self.days)

    @property
    def previous_end(self) -> date:
        return self.start - timedelta(days=1)

    def _sets(self) -> dict[str, Any]:
        return {
            "channels": frozenset({self.channel}) if self.channel else frozenset(),
            "team_ids": frozenset({self.team_id}) if self.team_id else frozenset(),
            "segments": frozenset({"" if self.segment == NO_SEGMENT else self.segment})
            if self.segment
            else frozenset(),
        }

    def rollup(
        self, *, start: date | None = None, end: date | None = None, **more: Any
    ) -> RollupFilters:
        """The contact rollups' filters for this period (or [start, end]) and ``more``."""
        return RollupFilters(start=start or self.start, end=end or self.end, **self._sets(), **more)

    def previous_rollup(self, **more: Any) -> RollupFilters:
        return self.rollup(start=self.previous_start, end=self.previous_end, **more)

    def feedback(
        self, *, start: date | None = None, end: date | None = None, **more: Any
    ) -> FeedbackFilters:
        return FeedbackFilters(
            start=start or self.start, end=end or self.end, **self._sets(), **more
        )

    def params(self) -> dict[str, str]:
        """The query-string parameters that give these filters back."""
        params = {"period": self.period}
        if self.period == CUSTOM:
            params |= {"start": self.start.isoformat(), "end": self.end.isoformat()}
        if self.channel:
            params["channel"] = self.channel
        if self.team_id:
            params["team"] = str(self.team_id)
        if self.segment:
            params["segment"] = self.segment
        return params

    def query(self, **more: Any) -> str:
        """The query string (without "?") of these filters and ``more``."""
        return urlencode(self.params() | {k: v for k, v in more.items() if v not in (None, "")})


def filters_from(
    data: Any, *, viewer: User, today: date | None = None
) -> tuple[DashboardFilters, DashboardFilterForm]:
    """The filters a query string asks for; what the form refuses falls back to the default."""
    today = today or reporting_today()
    form = DashboardFilterForm(
        {name: data.get(name, "") for name in FILTER_NAMES}, teams=teams_choosable(viewer)
    )
    form.is_valid()
    clean = form.cleaned_data  # the fields that were valid: a bad team keeps the period
    period = clean.get("period") or MONTH
    if period == CUSTOM and not form.non_field_errors():
        start, end = clean["start"], clean["end"]
    else:
        period = MONTH if period == CUSTOM else period
        start, end = period_days(period, today=today)
    filters = DashboardFilters(
        period=period,
        start=start,
        end=end,
        channel=clean.get("channel") or "",
        team_id=clean.get("team"),
        segment=clean.get("segment") or "",
    )
    return filters, form
