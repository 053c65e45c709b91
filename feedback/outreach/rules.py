"""The outreach programs' date rules, as pure functions (tested without a database)."""

from datetime import date, timedelta


def month_start(day: date) -> date:
    """The first day of ``day``'s month: what names a month's call list."""
    return day.replace(day=1)


def next_month(month: date) -> date:
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)


def years_before(day: date, years: int) -> date:
    """The same calendar day ``years`` earlier; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def loyal_since_cutoff(today: date, years: int) -> date:
    """A customer gained on or before this day has been one for ``years`` years or more
    (gained exactly ``years`` years ago counts; a day later does not)."""
    return years_before(today, years)


def lost_window_start(today: date, days: int) -> date:
    """The first day of the "recently lost" window of ``days`` days (inclusive)."""
    return today - timedelta(days=days)


def parse_month(text: str) -> date | None:
    """``"2026-11"`` -> 1 November 2026; None for anything else."""
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError:
        return None
