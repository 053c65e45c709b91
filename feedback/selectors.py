"""Reads of the listening app, with the viewer's scope applied.

Sessions and their notes are read by the two participants, executives and admins, and nobody
else: not the rep's manager, not the rep's teammates. A side-by-side session is about what
customers go through, not a performance review of the rep, so nothing here is scoped by team
or department and no rep metric reads sessions.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from feedback.models import OutreachCall, OutreachExercise, Session, SessionNote
from voc.core.business import business_setting
from voc.core.capabilities import effective_role
from voc.people.models import User
from voc.people.roles import Role

Viewer = User | AnonymousUser


def reads_every_session(viewer: Viewer) -> bool:
    return effective_role(viewer) in {Role.EXECUTIVE, Role.ADMIN}


def session_list_visible(*, viewer: Viewer) -> QuerySet[Session]:
    """Every session for executives and admins; a rep's own sessions; nothing for others."""
    role = effective_role(viewer)
    sessions = Session.objects.all()
    if role in {Role.EXECUTIVE, Role.ADMIN}:
        return sessions
    if role == Role.REP:
        return sessions.filter(Q(executive=viewer.pk) | Q(rep=viewer.pk))
    return sessions.none()


def session_get_visible(*, viewer: Viewer, session_id: int) -> Session | None:
    return (
        session_list_visible(viewer=viewer)
        .select_related("executive", "rep", "scheduled_by")
        .filter(id=session_id)
        .first()
    )


def session_get_visible_locked(*, viewer: Viewer, session_id: int) -> Session | None:
    """The session, if the viewer may see it, read with its row lock (``FOR UPDATE`` of the
    session alone): for a write that checks scope and locks in one read. Call it inside a
    transaction."""
    return (
        session_list_visible(viewer=viewer)
        .select_for_update(of=("self",))
        .filter(id=session_id)
        .first()
    )


def session_list_mine(*, viewer: Viewer) -> QuerySet[Session]:
    """The sessions the viewer takes part in (all of them for an admin, who takes part in
    none), newest first."""
    sessions = session_list_visible(viewer=viewer).select_related("executive", "rep")
    if effective_role(viewer) == Role.ADMIN:
        return sessions
    return sessions.filter(Q(executive=viewer.pk) | Q(rep=viewer.pk))


def session_list_upcoming(
    *, viewer: Viewer, now: datetime | None = None, limit: int = 5
) -> list[Session]:
    """The viewer's sessions still to come or running now, soonest first."""
    now = now or timezone.now()
    sessions = session_list_visible(viewer=viewer).filter(Q(executive=viewer.pk) | Q(rep=viewer.pk))
    return list(
        sessions.filter(
            Q(status=Session.Status.RUNNING)
            | Q(status=Session.Status.SCHEDULED, scheduled_start__gte=now - timedelta(hours=4))
        )
        .select_related("executive", "rep")
        .order_by("scheduled_start", "id")[:limit]
    )


def session_notes_visible(*, viewer: Viewer, session: Session) -> QuerySet[SessionNote]:
    """The notes of a session the viewer may read (the same people as the session)."""
    if not session_list_visible(viewer=viewer).filter(id=session.pk).exists():
        return SessionNote.objects.none()
    return (
        SessionNote.objects.filter(session=session)
        .select_related("author")
        .prefetch_related("contacts")
    )


# --- the 5% tracker -------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    label: str
    start: datetime  # inclusive
    end: datetime  # exclusive


@dataclass(frozen=True)
class Periods:
    week: Period
    quarter: Period
    year: Period


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.VOC_REPORTING_TIME_ZONE)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=zone)


def tracker_periods(today: date) -> Periods:
    """The ISO week (Monday to Sunday), calendar quarter and calendar year holding ``today``,
    as instants in the reporting time zone. A session counts in the period it started in."""
    zone = _zone()
    monday = today - timedelta(days=today.weekday())
    first_month = 3 * ((today.month - 1) // 3) + 1
    quarter_start = date(today.year, first_month, 1)
    quarter_end = (
        date(today.year + 1, 1, 1) if first_month == 10 else date(today.year, first_month + 3, 1)
    )
    iso_year, iso_week, _ = today.isocalendar()
    return Periods(
        week=Period(
            f"week {iso_week} of {iso_year}",
            _midnight(monday, zone),
            _midnight(monday + timedelta(days=7), zone),
        ),
        quarter=Period(
            f"Q{(first_month + 2) // 3} {today.year}",
            _midnight(quarter_start, zone),
            _midnight(quarter_end, zone),
        ),
        year=Period(
            str(today.year),
            _midnight(date(today.year, 1, 1), zone),
            _midnight(date(today.year + 1, 1, 1), zone),
        ),
    )


@dataclass(frozen=True)
class TrackerRow:
    executive: User
    week_seconds: int
    quarter_seconds: int
    year_seconds: int
    week_target_hours: int
    year_target_hours: int

    @staticmethod
    def _hours(seconds: int) -> Decimal:
        return (Decimal(seconds) / 3600).quantize(Decimal("0.1"))

    @property
    def week_hours(self) -> Decimal:
        return self._hours(self.week_seconds)

    @property
    def quarter_hours(self) -> Decimal:
        return self._hours(self.quarter_seconds)

    @property
    def year_hours(self) -> Decimal:
        return self._hours(self.year_seconds)

    @property
    def quarter_target_hours(self) -> Decimal:
        return (Decimal(self.year_target_hours) / 4).quantize(Decimal("0.1"))

    @property
    def behind_this_week(self) -> bool:
        return self.week_seconds < self.week_target_hours * 3600


def tracker_sees_everyone(viewer: Viewer) -> bool:
    """Admins and the executive at the top (who reports to no one: the CEO) see every
    executive's tracker; other executives see their own."""
    role = effective_role(viewer)
    if role == Role.ADMIN:
        return True
    return role == Role.EXECUTIVE and getattr(viewer, "reports_to_id", None) is None


def tracker_today() -> date:
    return timezone.localtime(timezone.now(), _zone()).date()


def listening_tracker(*, viewer: Viewer, today: date | None = None) -> list[TrackerRow]:
    """Listening hours per executive this week, quarter and year, against the targets in the
    business settings: ended sessions' real durations, outreach calls' durations and
    be-a-customer exercises' time. One query whatever the number of executives or entries."""
    role = effective_role(viewer)
    if role not in {Role.EXECUTIVE, Role.ADMIN}:
        return []
    executives = User.objects.filter(role=Role.EXECUTIVE, is_active=True)
    if not tracker_sees_everyone(viewer):
        own = viewer.pk if isinstance(viewer, User) else None
        executives = executives.filter(pk=own) if own is not None else executives.none()
    return _tracker_rows(executives, today=today or tracker_today())


def listening_behind(*, week_of: date) -> list[TrackerRow]:
    """The active executives whose listening in the ISO week holding ``week_of`` was below the
    weekly target, with their hours that week and in ``week_of``'s calendar year. A read for
    the weekly reminder (no viewer: it runs as VoC itself)."""
    executives = User.objects.filter(role=Role.EXECUTIVE, is_active=True)
    return [row for row in _tracker_rows(executives, today=week_of) if row.behind_this_week]


def _listening_seconds(period: Period) -> Coalesce:
    """One executive's listening seconds in ``period`` (``OuterRef("pk")`` is the executive):
    ended sessions' real durations (by when they started), logged outreach calls' minutes (by
    when they were made) and be-a-customer exercises' minutes (by when they were done). Three
    correlated sums, so one source's rows never multiply another's."""

    def total(rows: QuerySet[Any], group: str, amount: object) -> Coalesce:
        summed = rows.order_by().values(group).annotate(total=Sum(amount)).values("total")[:1]
        return Coalesce(Subquery(summed, output_field=IntegerField()), 0)

    sessions = Session.objects.filter(
        executive=OuterRef("pk"),
        status=Session.Status.ENDED,
        started_at__gte=period.start,
        started_at__lt=period.end,
    )
    calls = OutreachCall.objects.filter(
        outreach_list__executive=OuterRef("pk"),
        called_at__gte=period.start,
        called_at__lt=period.end,
    )
    exercises = OutreachExercise.objects.filter(
        executive=OuterRef("pk"), done_at__gte=period.start, done_at__lt=period.end
    )
    return Coalesce(
        total(sessions, "executive", "duration_seconds")
        + total(calls, "outreach_list__executive", F("duration_minutes") * 60)
        + total(exercises, "executive", F("minutes_spent") * 60),
        0,
        output_field=IntegerField(),
    )


def _tracker_rows(executives: QuerySet[User], *, today: date) -> list[TrackerRow]:
    periods = tracker_periods(today)
    week_target = int(business_setting("listening_hours_per_week"))
    year_target = int(business_setting("listening_hours_per_year"))
    rows = executives.annotate(
        week_total=_listening_seconds(periods.week),
        quarter_total=_listening_seconds(periods.quarter),
        year_total=_listening_seconds(periods.year),
    ).order_by("last_name", "first_name", "username")
    return [
        TrackerRow(
            executive=executive,
            week_seconds=executive.week_total,
            quarter_seconds=executive.quarter_total,
            year_seconds=executive.year_total,
            week_target_hours=week_target,
            year_target_hours=year_target,
        )
        for executive in rows
    ]


def session_participant_choices(*, viewer: Viewer) -> QuerySet[User]:
    """Who the viewer may schedule a session with: reps for an executive, executives for a
    rep."""
    role = effective_role(viewer)
    others: dict[str, str] = {Role.EXECUTIVE: Role.REP, Role.REP: Role.EXECUTIVE}
    other = others.get(role or "")
    if other is None:
        return User.objects.none()
    return User.objects.filter(role=other, is_active=True).order_by(
        "last_name", "first_name", "username"
    )
