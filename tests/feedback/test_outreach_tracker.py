"""The 5% tracker counts outreach: its hours are exactly the ended sessions' durations plus the
logged calls' minutes plus the be-a-customer exercises' minutes, each in the week, quarter and
year it happened in, still in one query."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from feedback import selectors
from feedback.models import OutreachCall, OutreachExercise, OutreachList, Session
from tests.factories import CustomerFactory, UserFactory
from voc.people.roles import Role

pytestmark = pytest.mark.django_db

# Wednesday 1 April 2026 opens Q2; its ISO week began Monday 30 March, in Q1.
MONDAY = datetime(2026, 3, 30, tzinfo=UTC)
APRIL = datetime(2026, 4, 1, tzinfo=UTC)


def session(executive, start, minutes, *, status="ended"):
    Session.objects.create(
        executive=executive,
        rep=UserFactory(role=Role.REP),
        scheduled_by=executive,
        scheduled_start=start,
        status=status,
        started_at=start,
        ended_at=start + timedelta(minutes=minutes) if status == "ended" else None,
        duration_seconds=minutes * 60 if status == "ended" else None,
    )


def call(executive, at, minutes, *, program="lost"):
    month = at.date().replace(day=1) if at else date(2026, 4, 1)
    outreach_list, _ = OutreachList.objects.get_or_create(
        executive=executive, program=program, month=month,
        defaults={"size": 5, "generated_by": "test"},
    )  # fmt: skip
    return OutreachCall.objects.create(
        outreach_list=outreach_list,
        month=month,
        customer=CustomerFactory(),
        called_at=at,
        duration_minutes=minutes if at else None,
        outcome="reached" if at else "",
    )


def exercise(executive, at, minutes):
    OutreachExercise.objects.create(
        executive=executive, task="call_support", done_at=at, minutes_spent=minutes,
        outcome="hard",
    )  # fmt: skip


def row_for(executive, today):
    rows = selectors.listening_tracker(viewer=executive, today=today)
    (row,) = [r for r in rows if r.executive == executive]
    return row


def test_hours_are_sessions_plus_calls_plus_exercises_at_the_boundaries(cast):
    me = cast.executive
    # sessions
    session(me, MONDAY - timedelta(seconds=1), 50)  # last week, Q1
    session(me, MONDAY, 40)  # this week, Q1
    session(me, APRIL, 25)  # this week, Q2
    session(me, APRIL, 999, status="running")  # not ended: not counted
    # calls
    call(me, MONDAY - timedelta(seconds=1), 7)  # last week, Q1
    call(me, MONDAY, 11)  # this week, Q1
    call(me, APRIL - timedelta(seconds=1), 13)  # this week, Q1 (31 March, last second)
    call(me, APRIL, 17, program="loyal")  # this week, Q2
    call(me, None, 0)  # on the list, not called yet: nothing
    call(me, datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC), 500)  # last year
    # exercises
    exercise(me, MONDAY + timedelta(hours=9), 45)  # this week, Q1
    exercise(me, APRIL + timedelta(hours=9), 30)  # this week, Q2
    exercise(me, datetime(2026, 1, 1, tzinfo=UTC), 60)  # the first second of the year, Q1
    # another executive's entries never count in mine
    other = UserFactory(role=Role.EXECUTIVE, reports_to=me)
    call(other, APRIL, 100)
    exercise(other, APRIL, 100)

    row = row_for(me, date(2026, 4, 1))
    assert row.week_seconds == (40 + 25 + 11 + 13 + 17 + 45 + 30) * 60
    assert row.quarter_seconds == (25 + 17 + 30) * 60
    assert row.year_seconds == (50 + 40 + 25 + 7 + 11 + 13 + 17 + 45 + 30 + 60) * 60
    row = row_for(me, date(2026, 3, 31))
    assert row.week_seconds == (40 + 25 + 11 + 13 + 17 + 45 + 30) * 60  # the same ISO week
    assert row.quarter_seconds == (50 + 40 + 7 + 11 + 13 + 45 + 60) * 60
    row = row_for(me, date(2025, 12, 31))
    assert row.year_seconds == 500 * 60
    assert row_for(other, date(2026, 4, 1)).week_seconds == 200 * 60


def test_calls_and_exercises_alone_reach_the_weekly_target(cast):
    call(cast.executive, APRIL, 60)
    exercise(cast.executive, APRIL + timedelta(hours=1), 60)
    row = row_for(cast.executive, date(2026, 4, 1))
    assert (row.week_seconds, str(row.week_hours), row.behind_this_week) == (7200, "2.0", False)


def test_the_tracker_still_reads_in_one_query(cast):
    def queries() -> int:
        with CaptureQueriesContext(connection) as context:
            selectors.listening_tracker(viewer=cast.admin, today=date(2026, 4, 1))
        return len(context.captured_queries)

    queries()  # reads (and caches) the business settings' targets
    for number in range(4):
        executive = UserFactory(role=Role.EXECUTIVE)
        for day in range(3):
            start = datetime(2026, 3, 2 + day, tzinfo=UTC)
            session(executive, start, 30 + number)
            call(executive, start, 5 + number)
            exercise(executive, start, 20)
    # prevents an N+1 over executives or entries: the sums are correlated subqueries
    assert queries() == 1
