"""Listening in any period of reporting days, for the dashboard's 5% tracker: per executive,
the side-by-side sessions and the hours listened (sessions, outreach calls and be-a-customer
exercises, as the tracker page counts them) against the weekly target prorated to the
period, and the calls to lost and loyal customers planned and done.

Who is listed follows the tracker page (feedback.selectors.tracker_sees_everyone): the CEO
and admins every active executive, another executive themselves, nobody else (sessions are
not a performance review and are never scoped by team or department).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, IntegerField, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse

from feedback.models import OutreachCall, OutreachExercise, OutreachProgram, Session
from feedback.outreach.rules import month_start
from feedback.selectors import (
    Period,
    Viewer,
    _listening_seconds,  # the tracker page's sum, so both pages add up the same way
    _zone,
    tracker_sees_everyone,
)
from voc.core.business import business_setting
from voc.core.capabilities import effective_role
from voc.people.models import User
from voc.people.roles import Role


@dataclass(frozen=True)
class ListeningRow:
    executive: User
    sessions: int  # ended sessions started in the period
    seconds: int  # sessions, calls and exercises
    target_seconds: int
    lost_planned: int
    lost_done: int
    loyal_planned: int
    loyal_done: int

    @staticmethod
    def _hours(seconds: int) -> Decimal:
        return (Decimal(seconds) / 3600).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)

    @property
    def hours(self) -> Decimal:
        return self._hours(self.seconds)

    @property
    def target_hours(self) -> Decimal:
        return self._hours(self.target_seconds)

    @property
    def behind(self) -> bool:
        return self.seconds < self.target_seconds

    @property
    def share(self) -> int | None:
        """Listening as a whole percentage of the target."""
        return round(100 * self.seconds / self.target_seconds) if self.target_seconds else None


def period_bounds(start: date, end: date) -> Period:
    """Reporting days [start, end] as instants: [start's midnight, the next day's after end)."""
    zone = _zone()
    return Period(
        f"{start} – {end}",
        datetime.combine(start, time(), tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time(), tzinfo=zone),
    )


def listening_executives(*, viewer: Viewer) -> QuerySet[User]:
    """The active executives whose listening the viewer may read."""
    executives = User.objects.filter(role=Role.EXECUTIVE, is_active=True)
    if effective_role(viewer) not in {Role.EXECUTIVE, Role.ADMIN}:
        return executives.none()
    if not tracker_sees_everyone(viewer):
        own = viewer.pk if isinstance(viewer, User) else None
        return executives.filter(pk=own) if own is not None else executives.none()
    return executives


def listening_in_period(*, viewer: Viewer, start: date, end: date) -> list[ListeningRow]:
    """One row per executive the viewer may see (one with nothing logged reads 0), by name.
    Calls planned are those on the lists of the months the period touches; done, those of
    them logged by the period's end. One query."""
    period = period_bounds(start, end)
    weekly = int(business_setting("listening_hours_per_week"))
    days = (end - start).days + 1
    target = weekly * 3600 * days // 7

    def count(rows, group: str) -> Subquery:
        return Subquery(
            rows.order_by().values(group).annotate(n=Count("id")).values("n")[:1],
            output_field=IntegerField(),
        )

    sessions = Session.objects.filter(
        executive=OuterRef("pk"),
        status=Session.Status.ENDED,
        started_at__gte=period.start,
        started_at__lt=period.end,
    )
    calls = OutreachCall.objects.filter(
        outreach_list__executive=OuterRef("pk"),
        outreach_list__month__gte=month_start(start),
        outreach_list__month__lte=end,
    )
    done = Q(called_at__isnull=False, called_at__lt=period.end)
    group = "outreach_list__executive"
    lost = calls.filter(outreach_list__program=OutreachProgram.LOST)
    loyal = calls.filter(outreach_list__program=OutreachProgram.LOYAL)
    rows = (
        listening_executives(viewer=viewer)
        .annotate(
            period_sessions=count(sessions, "executive"),
            period_seconds=_listening_seconds(period),
            lost_planned=count(lost, group),
            lost_done=count(lost.filter(done), group),
            loyal_planned=count(loyal, group),
            loyal_done=count(loyal.filter(done), group),
        )
        .order_by("last_name", "first_name", "username")
    )
    return [
        ListeningRow(
            executive=row,
            sessions=row.period_sessions or 0,
            seconds=row.period_seconds,
            target_seconds=target,
            lost_planned=row.lost_planned or 0,
            lost_done=row.lost_done or 0,
            loyal_planned=row.loyal_planned or 0,
            loyal_done=row.loyal_done or 0,
        )
        for row in rows
    ]


@dataclass(frozen=True)
class ListeningEntry:
    """One thing an executive did that counts as listening: a side-by-side session, an
    outreach call or a be-a-customer exercise."""

    when: datetime
    kind: str  # "session", "call", "exercise"
    id: int  # the row's id among its kind's
    seconds: int
    what: str
    url: str  # the entry's page, "" when it has none

    @property
    def position(self) -> "ListeningPosition":
        return (self.when, self.kind, self.id)


# Where an entry stands in the list, newest first: its time, then its kind, then its id (the
# three kinds are three tables, so an id alone does not break a tie).
ListeningPosition = tuple[datetime, str, int]


def listening_executive(*, viewer: Viewer, executive_id: int) -> User | None:
    return listening_executives(viewer=viewer).filter(pk=executive_id).first()


@dataclass(frozen=True)
class ListeningTotals:
    executive: User
    entries: int
    seconds: int  # the tracker row's seconds for the same days


def listening_totals(
    *, viewer: Viewer, executive_id: int, start: date, end: date
) -> ListeningTotals | None:
    """How many entries listening_entries has for one executive in [start, end], and their
    seconds; None when the viewer may not read that executive's listening. One query."""
    period = period_bounds(start, end)

    def count(rows: QuerySet[Any], group: str) -> Coalesce:
        counted = rows.order_by().values(group).annotate(n=Count("id")).values("n")[:1]
        return Coalesce(Subquery(counted, output_field=IntegerField()), 0)

    sources = _entry_sources(OuterRef("pk"), period)
    executive = (
        listening_executives(viewer=viewer)
        .filter(pk=executive_id)
        .annotate(
            period_seconds=_listening_seconds(period),
            period_entries=count(sources["session"], "executive")
            + count(sources["call"], "outreach_list__executive")
            + count(sources["exercise"], "executive"),
        )
        .first()
    )
    if executive is None:
        return None
    return ListeningTotals(executive, executive.period_entries, executive.period_seconds)


def _entry_sources(executive: Any, period: Period) -> dict[str, QuerySet[Any]]:
    """The rows behind one executive's entries in ``period``, per kind, each with ``when``
    (the time the entry is listed at)."""
    return {
        "session": Session.objects.filter(
            executive=executive,
            status=Session.Status.ENDED,
            started_at__gte=period.start,
            started_at__lt=period.end,
        ).annotate(when=F("started_at")),
        "call": OutreachCall.objects.filter(
            outreach_list__executive=executive,
            called_at__gte=period.start,
            called_at__lt=period.end,
        ).annotate(when=F("called_at")),
        "exercise": OutreachExercise.objects.filter(
            executive=executive, done_at__gte=period.start, done_at__lt=period.end
        ).annotate(when=F("done_at")),
    }


def _after(kind: str, position: ListeningPosition) -> Q:
    """The rows of ``kind`` listed after ``position`` (newest first: earlier times; at the
    same time, a kind that sorts lower, then a lower id)."""
    moment, last_kind, last_id = position
    later = Q(when__lt=moment)
    if kind < last_kind:
        return later | Q(when=moment)
    if kind == last_kind:
        return later | Q(when=moment, id__lt=last_id)
    return later


def listening_entries(
    *,
    viewer: Viewer,
    executive_id: int,
    start: date,
    end: date,
    after: ListeningPosition | None = None,
    limit: int | None = None,
) -> list[ListeningEntry] | None:
    """What the tracker adds up for one executive in [start, end] (the same rules as
    listening_in_period: the seconds of these entries are the row's), newest first (by time,
    kind, id); those after ``after`` and at most ``limit`` of them when given (a keyset page:
    each kind reads at most ``limit`` rows, whatever the page). None when the viewer may not
    read that executive's listening. Four queries."""
    executive = listening_executive(viewer=viewer, executive_id=executive_id)
    if executive is None:
        return None
    sources = _entry_sources(executive, period_bounds(start, end))
    rows: dict[str, Any] = {}
    for kind, source in sources.items():
        if after is not None:
            source = source.filter(_after(kind, after))
        source = source.order_by("-when", "-id")
        rows[kind] = source if limit is None else source[:limit]
    sessions = rows["session"].select_related("rep")
    calls = rows["call"].select_related("outreach_list", "customer")
    entries = [
        ListeningEntry(
            when=session.when,
            kind="session",
            id=session.pk,
            seconds=session.duration_seconds or 0,
            what=f"Side by side with {session.rep.get_full_name() or session.rep.get_username()}"
            + (f": {session.topic}" if session.topic else ""),
            url=reverse("feedback:session-detail", args=[session.pk]),
        )
        for session in sessions
    ]
    entries += [
        ListeningEntry(
            when=call.when,
            kind="call",
            id=call.pk,
            seconds=(call.duration_minutes or 0) * 60,
            what=f"{call.outreach_list.get_program_display()}: "
            f"{call.customer if call.customer_id else 'Erased customer'}"
            + (f" ({call.get_outcome_display()})" if call.outcome else ""),
            url=reverse("feedback:outreach-call", args=[call.pk]),
        )
        for call in calls
    ]
    entries += [
        ListeningEntry(
            when=exercise.when,
            kind="exercise",
            id=exercise.pk,
            seconds=exercise.minutes_spent * 60,
            what=f"Be a customer: {exercise.get_task_display()}"
            + (f", {exercise.description}" if exercise.description else ""),
            url="",
        )
        for exercise in rows["exercise"]
    ]
    entries.sort(key=lambda entry: entry.position, reverse=True)
    return entries if limit is None else entries[:limit]
