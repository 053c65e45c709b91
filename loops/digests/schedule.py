"""When a digest is due, in the subscriber's own time zone (pure: no database, no clock).

A daily digest is sent at a local hour, a weekly one on a weekday at a local hour. The period a
digest covers runs from the previous send time to this one, so consecutive periods neither
overlap nor leave a gap, whatever daylight-saving does in between:

- a local hour that does not exist that day (the clocks jump over it) sends at the next valid
  time: the instant the clocks jump (``send_instant``);
- a local hour that happens twice (the clocks go back) sends once, at its first occurrence: a
  period is named by its local date (``Period.key``), and a date has one send time.

Periods that ended while nothing ran (an outage, beat down for a day) are not sent one by one:
``due_periods`` returns every period that ended since the last one sent, and the caller merges
them into one digest that says which periods it covers.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

DAILY = "daily"
WEEKLY = "weekly"
# Never look back further than this for missed periods (a subscription asleep for a year
# sends one digest of the last weeks, not a year of them).
MAX_CATCH_UP = timedelta(days=35)
UTC_ZONE = ZoneInfo("UTC")


def send_instant(day: date, hour: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of ``hour``:00 on local ``day``; the first valid instant after it when
    the clocks skip it; its first occurrence when the clocks repeat it."""
    naive = datetime.combine(day, time(hour))
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    if first.astimezone(tz).replace(tzinfo=None) == naive:
        return first  # exists (fold=0 is the first of two occurrences when repeated)
    # In a gap: the wanted instant is where local time jumps past ``naive``. fold=1 reads
    # ``naive`` with the offset after the change (an earlier instant, still before the jump);
    # search the second between them where local time first reaches ``naive`` or later.
    low = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    low, high = min(low, first), max(low, first)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(tz).replace(tzinfo=None) >= naive:
            high = middle
        else:
            low = middle if middle > low else low + timedelta(seconds=1)
    return high


@dataclass(frozen=True)
class Period:
    """[start, end) in UTC, named by the local date of its send time ("2026-03-29")."""

    start: datetime
    end: datetime
    key: str


@dataclass(frozen=True)
class Cadence:
    frequency: str  # DAILY or WEEKLY
    hour: int  # 0-23, local
    weekday: int = 0  # 0 Monday - 6 Sunday, for WEEKLY
    tz: ZoneInfo = UTC_ZONE

    def __post_init__(self) -> None:
        if self.frequency not in (DAILY, WEEKLY):
            raise ValueError(f"unknown frequency {self.frequency!r}")
        if not 0 <= self.hour <= 23 or not 0 <= self.weekday <= 6:
            raise ValueError("hour is 0-23 and weekday 0-6")

    @property
    def step_days(self) -> int:
        return 1 if self.frequency == DAILY else 7

    def sends_on(self, day: date) -> bool:
        return self.frequency == DAILY or day.weekday() == self.weekday

    def send_day_at_or_before(self, day: date) -> date:
        if self.frequency == DAILY:
            return day
        return day - timedelta(days=(day.weekday() - self.weekday) % 7)

    def period_ending_on(self, day: date) -> Period:
        """The period whose send time is on local ``day`` (a send day)."""
        previous = day - timedelta(days=self.step_days)
        return Period(
            start=send_instant(previous, self.hour, self.tz),
            end=send_instant(day, self.hour, self.tz),
            key=day.isoformat(),
        )


def last_period(cadence: Cadence, *, now: datetime) -> Period:
    """The latest period that has ended at ``now`` (its send time is at or before now)."""
    day = cadence.send_day_at_or_before(now.astimezone(cadence.tz).date())
    period = cadence.period_ending_on(day)
    if period.end > now:
        period = cadence.period_ending_on(day - timedelta(days=cadence.step_days))
    return period


def due_periods(cadence: Cadence, *, sent_until: datetime | None, now: datetime) -> list[Period]:
    """The periods that ended after ``sent_until`` (the end of the last period sent) and at or
    before ``now``, oldest first; a first digest (``sent_until`` None) covers the last period
    only. At most ``MAX_CATCH_UP`` back."""
    latest = last_period(cadence, now=now)
    if sent_until is None:
        return [latest]
    floor = max(sent_until, now - MAX_CATCH_UP)
    periods: list[Period] = []
    period = latest
    while period.end > floor:
        periods.append(period)
        previous_day = date.fromisoformat(period.key) - timedelta(days=cadence.step_days)
        period = cadence.period_ending_on(previous_day)
    periods.reverse()
    if periods and periods[0].start < sent_until:
        # The first period after a catch-up floor or a cadence change starts where the last
        # digest ended: no message is sent twice, none is skipped.
        first = periods[0]
        periods[0] = Period(start=sent_until, end=first.end, key=first.key)
    return periods


def merged(periods: list[Period]) -> Period:
    """One period covering consecutive ``periods`` (named by the last one's key)."""
    return Period(start=periods[0].start, end=periods[-1].end, key=periods[-1].key)


def next_send(cadence: Cadence, *, now: datetime) -> datetime:
    """When the next digest goes, after ``now`` (shown to the subscriber)."""
    day = now.astimezone(cadence.tz).date()
    for offset in range(0, 8):
        candidate = day + timedelta(days=offset)
        if cadence.sends_on(candidate):
            instant = send_instant(candidate, cadence.hour, cadence.tz)
            if instant > now:
                return instant
    raise AssertionError("a cadence sends at least once a week")  # pragma: no cover
