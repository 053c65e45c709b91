"""Read selectors over the contact rollups, for dashboards and home widgets.

Every figure is read from ContactRollup (never by counting contacts), within the viewer's row
scope, the same rule as ``contacts.selectors.contact_list_visible``: a rep sees their team's
rows; a manager their teams' rows and the rows of the reasons their departments own;
executives and admins everything. A test checks that each total equals counting the contacts
the viewer may see with the same filters.

Days are reporting days (settings.VOC_REPORTING_TIME_ZONE; a day given without a time counts
as itself). Complaint and avoidable are properties of reasons, applied here through the
reason ids (a sub-reason inherits its parent's complaint flag).
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from django.db.models import OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import TruncWeek

from contacts.models import Contact, ContactReason, ContactRollup, ContactWeekRollup, Message
from contacts.rollups import COLUMNS, reporting_tz
from contacts.selectors import contact_list_visible
from voc.people.access import scope_for
from voc.people.models import User

# What a total can be grouped by: a key column of the rollups, or the week (its Monday).
GroupBy = Literal["day", "week", "reason_id", "channel", "team_id", "segment"]
_GROUPS: frozenset[str] = frozenset({"day", "week", "reason_id", "channel", "team_id", "segment"})


@dataclass(frozen=True)
class RollupFilters:
    """Which rollup rows to add up. Empty sets mean "all"; ``start`` and ``end`` are
    reporting days, both included."""

    start: date
    end: date
    channels: frozenset[str] = field(default_factory=frozenset)
    team_ids: frozenset[int] = field(default_factory=frozenset)
    segments: frozenset[str] = field(default_factory=frozenset)
    # A parent reason includes its sub-reasons.
    reason_ids: frozenset[int] = field(default_factory=frozenset)
    complaints_only: bool = False
    avoidable_only: bool = False

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError("a period ends on or after the day it starts")


def complaint_reason_ids() -> frozenset[int]:
    """Reasons that are complaints: marked so, or under a parent marked so."""
    return frozenset(
        ContactReason.objects.filter(Q(complaint=True) | Q(parent__complaint=True)).values_list(
            "id", flat=True
        )
    )


def _with_children(reason_ids: Iterable[int]) -> frozenset[int]:
    ids = frozenset(reason_ids)
    children = ContactReason.objects.filter(parent_id__in=ids).values_list("id", flat=True)
    return ids | frozenset(children)


def _scope(viewer: User | None) -> Q:
    """The condition on rollup rows (daily or weekly alike) for what the viewer may count."""
    if viewer is None:
        return Q()
    scope = scope_for(viewer)
    if scope.everything:
        return Q()
    owned_reasons = ContactReason.objects.filter(department_id__in=scope.department_ids)
    return Q(team_id__in=scope.team_ids) | Q(reason_id__in=owned_reasons.values("id"))


def rollups_visible(
    *, viewer: User | None, model: type[ContactRollup] | type[ContactWeekRollup] = ContactRollup
) -> QuerySet[Any]:
    """The rollup rows (daily, or weekly) the viewer may count (see the module docstring).
    ``viewer=None`` is the system itself (a periodic job judging a fix): every row, never for
    a person's page."""
    return model.objects.filter(_scope(viewer))


def rollups_filtered(*, viewer: User | None, filters: RollupFilters) -> QuerySet[ContactRollup]:
    """The daily rollup rows the viewer may see that match ``filters``."""
    return ContactRollup.objects.filter(
        _scope(viewer), _matching(filters), day__gte=filters.start, day__lte=filters.end
    )


def _matching(filters: RollupFilters) -> Q:
    """The filters other than the period, as a condition on rollup rows (daily or weekly)."""
    condition = Q()
    if filters.channels:
        condition &= Q(channel__in=filters.channels)
    if filters.team_ids:
        condition &= Q(team_id__in=filters.team_ids)
    if filters.segments:
        condition &= Q(segment__in=filters.segments)
    if filters.reason_ids:
        condition &= Q(reason_id__in=_with_children(filters.reason_ids))
    if filters.complaints_only:
        condition &= Q(reason_id__in=complaint_reason_ids())
    if filters.avoidable_only:
        condition &= Q(reason_id__in=ContactReason.objects.filter(avoidable=True).values("id"))
    return condition


def whole_weeks(start: date, end: date) -> tuple[date, date] | None:
    """The Mondays of the first and last weeks lying wholly in [start, end], or None when no
    week does: those weeks are read from the weekly rollups, the days around them from the
    daily ones."""
    first = start + timedelta(days=-start.weekday() % 7)
    last = end - timedelta(days=(end.weekday() + 1) % 7) - timedelta(days=6)
    return (first, last) if first <= last else None


def rollup_totals(
    *,
    viewer: User | None,
    filters: RollupFilters,
    group_by: Sequence[GroupBy] = (),
    columns: Sequence[str] = COLUMNS,
) -> list[dict[str, Any]]:
    """Sums of ``columns`` over the rows the viewer may see that match ``filters``, one dict
    per group (ordered by the group keys), in one query. Without ``group_by``, one dict with
    the totals (zeros when nothing matches).

    Unless grouped by day, the period's whole weeks are added up from the weekly rollups and
    only the days before the first and after the last whole week from the daily ones (one
    ``UNION ALL``): a year is about 52 weekly rows a key instead of 365 daily ones."""
    unknown = (set(group_by) - _GROUPS) | (set(columns) - set(COLUMNS))
    if unknown:
        raise ValueError(f"not a rollup group or column: {sorted(unknown)}")
    sums = {column: Sum(column) for column in columns}
    weeks = None if "day" in group_by else whole_weeks(filters.start, filters.end)
    rows = Q(_scope(viewer), _matching(filters))  # looked up once for both tables
    if weeks is None:
        daily = ContactRollup.objects.filter(rows, day__gte=filters.start, day__lte=filters.end)
        parts: list[QuerySet[Any]] = [daily]
    else:
        first, last = weeks
        edges = Q(day__gte=filters.start, day__lt=first) | Q(
            day__gt=last + timedelta(days=6), day__lte=filters.end
        )
        daily = ContactRollup.objects.filter(rows, edges)
        weekly = ContactWeekRollup.objects.filter(rows, week__gte=first, week__lte=last)
        parts = [daily, weekly]
    if "week" in group_by:
        parts[0] = daily.annotate(week=TruncWeek("day"))
    # One group for all rows when there is nothing to group by: a constant is not grouped on.
    keys: list[str] = list(group_by) or ["everything"]
    grouped = [
        part.annotate(everything=Value(1)).values(*keys).annotate(**sums).order_by()
        if not group_by
        else part.values(*keys).annotate(**sums).order_by()
        for part in parts
    ]
    query = grouped[0].union(*grouped[1:], all=True) if len(grouped) > 1 else grouped[0]
    totals: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in query:
        key = tuple(_day(row[name]) for name in keys)
        found = totals.setdefault(key, dict.fromkeys(columns, 0))
        for column in columns:
            found[column] += row[column] or 0
    if not group_by:
        return [totals.get((1,), dict.fromkeys(columns, 0))]
    return [{**dict(zip(group_by, key, strict=True)), **totals[key]} for key in sorted(totals)]


def _day(value: Any) -> Any:
    """A week truncated to a date (some databases return the Monday as a datetime)."""
    return value.date() if isinstance(value, datetime) else value


# What a rollup column counts, as a condition on the contacts behind it (the drill-down of a
# figure): the same rules as contacts.rollups.RollupDelta.add_rows.
CONTACT_MEASURES: dict[str, Q] = {
    "contacts": Q(),
    "repeat_contacts": Q(repeat_of__isnull=False),
    "road_1": Q(road=1),
    "road_2": Q(road=2),
    "road_3": Q(road=3),
    "road_4": Q(road=4),
    "fcr_yes": Q(first_contact_resolution=True),
    "fcr_no": Q(first_contact_resolution=False),
    "handled_contacts": Q(handle_seconds__isnull=False),
    "waited_contacts": Q(wait_seconds__isnull=False),
}


def reporting_days_q(start: date, end: date) -> Q:
    """Contacts whose reporting day is in [start, end]: a time in the reporting time zone, or
    a day given without a time (stored at noon UTC) that is itself in the range. Two ranges
    on occurred_at, so the contact_time index serves both."""
    tz = reporting_tz()
    after = end + timedelta(days=1)
    zoned_from = datetime.combine(start, time(), tzinfo=tz)
    zoned_to = datetime.combine(after, time(), tzinfo=tz)
    utc_from = datetime.combine(start, time(), tzinfo=UTC)
    utc_to = datetime.combine(after, time(), tzinfo=UTC)
    zoned = Q(occurred_date_only=False, occurred_at__gte=zoned_from, occurred_at__lt=zoned_to)
    date_only = Q(occurred_date_only=True, occurred_at__gte=utc_from, occurred_at__lt=utc_to)
    # Both ranges lie inside one outer range, stated on its own so the planner can walk the
    # contact_time index in order (a keyset page then stops after one page of rows).
    outer = Q(occurred_at__gte=min(zoned_from, utc_from), occurred_at__lt=max(zoned_to, utc_to))
    return outer & (zoned | date_only)


def _ids_or_none(field_name: str, ids: Iterable[int]) -> Q:
    """``field_name`` in ``ids``, where 0 stands for "none" (as in the rollups)."""
    ids = frozenset(ids)
    condition = Q(**{f"{field_name}__in": ids - {0}})
    if 0 in ids:
        condition |= Q(**{f"{field_name}__isnull": True})
    return condition


def rollup_contacts(
    *, viewer: User, filters: RollupFilters, measure: str = "contacts"
) -> QuerySet[Contact]:
    """The contacts behind a rollup figure: the contacts the viewer may see that
    ``rollup_totals(filters=...)`` counts in ``measure`` (a key of CONTACT_MEASURES). Newest
    first; a test checks the count equals the rollups' figure."""
    if measure not in CONTACT_MEASURES:
        raise ValueError(f"not a contact measure: {measure!r}")
    contacts = contact_list_visible(viewer=viewer).filter(
        reporting_days_q(filters.start, filters.end), CONTACT_MEASURES[measure]
    )
    if filters.channels:
        contacts = contacts.filter(channel__in=filters.channels)
    if filters.team_ids:
        contacts = contacts.filter(_ids_or_none("team_id", filters.team_ids))
    if filters.segments:
        contacts = contacts.filter(customer_segment__in=filters.segments)
    if filters.reason_ids:
        contacts = contacts.filter(_ids_or_none("reason_id", _with_children(filters.reason_ids)))
    if filters.complaints_only:
        contacts = contacts.filter(reason_id__in=complaint_reason_ids())
    if filters.avoidable_only:
        contacts = contacts.filter(reason__avoidable=True)
    return contacts.order_by("-occurred_at", "-id")


NO_REASON = "No reason"


def reason_paths(reason_ids: Iterable[int]) -> dict[int, str]:
    """Each reason's "Parent › Name" (retired and merged ones too: history keeps them), and
    NO_REASON for 0, in one query."""
    ids = frozenset(reason_ids)
    paths = {
        reason.id: reason.path
        for reason in ContactReason.objects.filter(id__in=ids - {0}).select_related("parent")
    }
    if 0 in ids:
        paths[0] = NO_REASON
    return paths


def with_verbatim(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """The contacts with what the customer said first (``verbatim``: the first inbound
    message, redacted at ingest) and the rows a list shows, without a query per contact."""
    first = Message.objects.filter(
        contact_id=OuterRef("pk"), direction=Message.Direction.INCOMING
    ).order_by("position")
    return contacts.select_related("reason__parent", "team", "customer").annotate(
        verbatim=Subquery(first.values("text")[:1])
    )
