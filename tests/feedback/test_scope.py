"""Who reads sessions and notes (participants, executives, admins; never the rep's manager or
teammates), and the 5% tracker's sums at week and quarter boundaries, in one query."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback import selectors
from feedback.models import Session, SessionNote
from tests.factories import UserFactory
from voc.core.business import business_setting_set
from voc.people.roles import Role

pytestmark = pytest.mark.django_db


def make_session(cast, *, executive=None, rep=None, start, minutes=None, status="ended"):
    executive = executive or cast.executive
    session = Session.objects.create(
        executive=executive,
        rep=rep or cast.rep,
        scheduled_by=executive,
        scheduled_start=start,
        status=status,
        started_at=start if status in ("running", "ended") else None,
        ended_at=start + timedelta(minutes=minutes) if status == "ended" else None,
        duration_seconds=minutes * 60 if status == "ended" else None,
    )
    return session


SEES = {
    "executive": True,  # a participant
    "rep": True,  # a participant
    "admin": True,
    "other_executive": True,  # executives read every session
    "manager": False,  # the rep's manager: heads the rep's department, leads the team
    "teammate": False,  # a member of the department who heads nothing
    "outsider": False,
    "other_manager": False,
    "inactive": False,
}


@pytest.mark.parametrize("who", SEES)
def test_notes_are_read_by_participants_executives_and_admins_only(cast, who):
    session = make_session(cast, start=datetime(2026, 11, 2, 9, tzinfo=UTC), minutes=60)
    SessionNote.objects.create(
        session=session, author=cast.executive, text="Heard it", client_id=uuid.uuid4(),
        noted_at=session.started_at,
    )  # fmt: skip
    viewer = UserFactory(role=Role.EXECUTIVE) if who == "other_executive" else getattr(cast, who)
    found = selectors.session_get_visible(viewer=viewer, session_id=session.id)
    notes = list(selectors.session_notes_visible(viewer=viewer, session=session))
    assert (found is not None) is SEES[who]
    assert len(notes) == (1 if SEES[who] else 0)
    assert (session in selectors.session_list_visible(viewer=viewer)) is SEES[who]


def test_upcoming_sessions_are_the_viewers_own(cast):
    now = datetime(2026, 11, 16, 9, tzinfo=UTC)
    mine = make_session(cast, start=now + timedelta(days=1), status="scheduled")
    running = make_session(cast, start=now - timedelta(hours=1), status="running")
    make_session(cast, rep=cast.teammate, start=now + timedelta(days=2), status="scheduled")
    make_session(cast, start=now - timedelta(days=2), minutes=60)  # past
    assert selectors.session_list_upcoming(viewer=cast.rep, now=now) == [running, mine]
    assert len(selectors.session_list_upcoming(viewer=cast.executive, now=now)) == 3
    assert selectors.session_list_upcoming(viewer=cast.manager, now=now) == []


def test_tracker_periods_are_iso_weeks_and_calendar_quarters():
    periods = selectors.tracker_periods(date(2026, 1, 1))  # a Thursday in ISO week 1 of 2026
    assert periods.week.start == datetime(2025, 12, 29, tzinfo=UTC)
    assert periods.week.end == datetime(2026, 1, 5, tzinfo=UTC)
    assert periods.week.label == "week 1 of 2026"
    assert periods.quarter.start == datetime(2026, 1, 1, tzinfo=UTC)
    assert periods.quarter.end == datetime(2026, 4, 1, tzinfo=UTC)
    periods = selectors.tracker_periods(date(2026, 12, 31))
    assert periods.quarter.label == "Q4 2026"
    assert periods.quarter.end == periods.year.end == datetime(2027, 1, 1, tzinfo=UTC)


def test_tracker_sums_equal_session_durations_at_the_boundaries(cast):
    # Wednesday 1 April 2026 opens Q2; its ISO week began Monday 30 March, in Q1.
    monday = datetime(2026, 3, 30, tzinfo=UTC)
    april = datetime(2026, 4, 1, tzinfo=UTC)
    durations = {
        "sunday before, last second": (monday - timedelta(seconds=1), 50),  # last week, Q1
        "monday, first second": (monday, 40),  # this week, Q1
        "march 31, last second": (april - timedelta(seconds=1), 30),  # this week, Q1
        "april 1, first second": (april, 25),  # this week, Q2
        "january": (datetime(2026, 1, 1, tzinfo=UTC), 100),  # Q1, this year
        "last year": (datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC), 999),
    }
    for start, minutes in durations.values():
        make_session(cast, start=start, minutes=minutes)
    make_session(cast, start=april, status="running")  # not ended: not counted
    make_session(cast, start=april, status="cancelled")
    rows = selectors.listening_tracker(viewer=cast.executive, today=date(2026, 4, 1))
    (row,) = [r for r in rows if r.executive == cast.executive]
    assert row.week_seconds == (40 + 30 + 25) * 60
    assert row.quarter_seconds == 25 * 60
    assert row.year_seconds == (50 + 40 + 30 + 25 + 100) * 60
    rows = selectors.listening_tracker(viewer=cast.executive, today=date(2026, 3, 31))
    (row,) = [r for r in rows if r.executive == cast.executive]
    assert row.week_seconds == (40 + 30 + 25) * 60  # the same ISO week
    assert row.quarter_seconds == (50 + 40 + 30 + 100) * 60
    assert (str(row.week_hours), row.week_target_hours, row.behind_this_week) == ("1.6", 2, True)


def test_tracker_targets_come_from_the_business_settings(cast):
    business_setting_set(key="listening_hours_per_week", value=3, by=cast.admin, why="test")
    business_setting_set(key="listening_hours_per_year", value=150, by=cast.admin, why="test")
    (row,) = selectors.listening_tracker(viewer=cast.executive, today=date(2026, 4, 1))
    assert (row.week_target_hours, row.year_target_hours) == (3, 150)
    assert str(row.quarter_target_hours) == "37.5"


def test_who_sees_whose_tracker(cast):
    vp = UserFactory(username="vp", role=Role.EXECUTIVE, reports_to=cast.executive)
    everyone = {cast.executive, vp}
    names = lambda viewer: {r.executive for r in selectors.listening_tracker(viewer=viewer)}  # noqa: E731
    assert names(cast.executive) == everyone  # reports to no one: the CEO
    assert names(cast.admin) == everyone
    assert names(vp) == {vp}
    for who in ("rep", "manager", "outsider", "inactive"):
        assert selectors.listening_tracker(viewer=getattr(cast, who)) == []


def test_the_tracker_reads_in_one_query_whatever_the_sessions(cast):
    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            selectors.listening_tracker(viewer=cast.admin, today=date(2026, 4, 1))
        return len(context.captured_queries)

    queries()  # reads (and caches) the business settings' targets
    baseline = queries()
    for number in range(5):
        executive = UserFactory(role=Role.EXECUTIVE)
        for day in range(3):
            make_session(
                cast, executive=executive, start=datetime(2026, 3, 2 + day, tzinfo=UTC),
                minutes=30 + number,
            )  # fmt: skip
    # prevents an N+1 over executives or sessions: the sums are one grouped query
    assert queries() == baseline
    assert baseline == 1
