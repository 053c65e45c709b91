"""When digests are due, in the subscriber's time zone, across daylight-saving changes
(loops/digests/schedule.py: pure, no database)."""

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from loops.digests.schedule import (
    DAILY,
    MAX_CATCH_UP,
    WEEKLY,
    Cadence,
    due_periods,
    last_period,
    merged,
    next_send,
    send_instant,
)

UTC_ZONE = ZoneInfo("UTC")

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # moves its clocks by 30 minutes


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def test_an_ordinary_hour():
    assert send_instant(date(2026, 1, 15), 8, BERLIN) == utc(2026, 1, 15, 7)
    assert send_instant(date(2026, 7, 15), 8, BERLIN) == utc(2026, 7, 15, 6)


def test_a_skipped_hour_sends_at_the_next_valid_time():
    # Berlin, 29 March 2026: 02:00 CET jumps to 03:00 CEST (01:00 UTC).
    assert send_instant(date(2026, 3, 29), 2, BERLIN) == utc(2026, 3, 29, 1)
    assert send_instant(date(2026, 3, 29), 2, BERLIN).astimezone(BERLIN).hour == 3
    # New York, 8 March 2026: 02:00 EST jumps to 03:00 EDT (07:00 UTC).
    assert send_instant(date(2026, 3, 8), 2, NEW_YORK) == utc(2026, 3, 8, 7)
    # Lord Howe, 4 October 2026: 02:00 jumps to 02:30 (15:30 UTC the day before).
    instant = send_instant(date(2026, 10, 4), 2, LORD_HOWE)
    assert instant == utc(2026, 10, 3, 15, 30)
    assert instant.astimezone(LORD_HOWE).strftime("%H:%M") == "02:30"


def test_a_repeated_hour_sends_once_at_its_first_occurrence():
    # Berlin, 25 October 2026: 03:00 CEST goes back to 02:00 CET; 02:xx happens twice.
    first = send_instant(date(2026, 10, 25), 2, BERLIN)
    assert first == utc(2026, 10, 25, 0)  # 02:00 CEST
    cadence = Cadence(DAILY, 2, tz=BERLIN)
    # One period for that date, whether asked at the first 02:30 or the second.
    at_first = last_period(cadence, now=utc(2026, 10, 25, 0, 30))
    at_second = last_period(cadence, now=utc(2026, 10, 25, 1, 30))
    assert at_first == at_second and at_first.key == "2026-10-25"
    # Sent at the first 02:00: asked again at the second, nothing more is due.
    assert due_periods(cadence, sent_until=at_first.end, now=utc(2026, 10, 25, 1, 30)) == []


def test_daily_periods_tile_time_across_both_changes():
    cadence = Cadence(DAILY, 2, tz=BERLIN)
    periods = [cadence.period_ending_on(date(2026, 3, 27) + timedelta(days=n)) for n in range(4)]
    for before, after in itertools.pairwise(periods):
        assert before.end == after.start
    # The jump's day sends at 03:00 CEST (the next valid time), 24 hours after 02:00 CET;
    # the day after, 02:00 CEST comes 23 hours later.
    assert [p.end - p.start for p in periods] == [
        timedelta(hours=24),
        timedelta(hours=24),
        timedelta(hours=24),
        timedelta(hours=23),
    ]
    autumn = cadence.period_ending_on(date(2026, 10, 26))
    assert autumn.end - autumn.start == timedelta(hours=25)


def test_last_period_boundaries():
    cadence = Cadence(DAILY, 8, tz=BERLIN)
    send = utc(2026, 1, 15, 7)
    assert last_period(cadence, now=send).key == "2026-01-15"  # exactly at: due
    assert last_period(cadence, now=send - timedelta(seconds=1)).key == "2026-01-14"


def test_weekly_on_a_weekday():
    cadence = Cadence(WEEKLY, 9, weekday=0, tz=NEW_YORK)  # Mondays at 09:00
    # Wednesday 14 January 2026: the last period ended Monday 12th at 09:00 EST.
    period = last_period(cadence, now=utc(2026, 1, 14, 12))
    assert period.key == "2026-01-12"
    assert (period.start, period.end) == (utc(2026, 1, 5, 14), utc(2026, 1, 12, 14))
    assert next_send(cadence, now=utc(2026, 1, 14, 12)) == utc(2026, 1, 19, 14)
    # Across the March change the week is an hour short.
    spring = cadence.period_ending_on(date(2026, 3, 9))
    assert spring.end - spring.start == timedelta(days=7, hours=-1)


def test_missed_periods_are_returned_together_and_merged():
    cadence = Cadence(DAILY, 8, tz=BERLIN)
    sent = utc(2026, 1, 12, 7)  # the digest of the 12th went out
    periods = due_periods(cadence, sent_until=sent, now=utc(2026, 1, 15, 9))
    assert [p.key for p in periods] == ["2026-01-13", "2026-01-14", "2026-01-15"]
    one = merged(periods)
    assert (one.start, one.end, one.key) == (sent, utc(2026, 1, 15, 7), "2026-01-15")
    assert due_periods(cadence, sent_until=one.end, now=utc(2026, 1, 15, 9)) == []


def test_first_digest_covers_the_last_period_only():
    cadence = Cadence(DAILY, 8, tz=BERLIN)
    assert [p.key for p in due_periods(cadence, sent_until=None, now=utc(2026, 1, 15, 9))] == [
        "2026-01-15"
    ]


def test_catch_up_is_bounded():
    cadence = Cadence(DAILY, 8, tz=UTC_ZONE)
    now = utc(2026, 6, 1, 9)
    periods = due_periods(cadence, sent_until=utc(2025, 1, 1, 8), now=now)
    assert periods[0].end > now - MAX_CATCH_UP
    assert len(periods) == MAX_CATCH_UP.days


def test_a_changed_cadence_starts_where_the_last_digest_ended():
    # Was daily at 08:00 UTC, now daily at 17:00: the next period starts at the last end.
    cadence = Cadence(DAILY, 17, tz=UTC_ZONE)
    periods = due_periods(cadence, sent_until=utc(2026, 1, 15, 8), now=utc(2026, 1, 15, 18))
    assert [(p.start, p.end) for p in periods] == [(utc(2026, 1, 15, 8), utc(2026, 1, 15, 17))]


def test_bad_cadences():
    with pytest.raises(ValueError):
        Cadence("hourly", 8)
    with pytest.raises(ValueError):
        Cadence(DAILY, 24)
    with pytest.raises(ValueError):
        Cadence(WEEKLY, 8, weekday=7)
