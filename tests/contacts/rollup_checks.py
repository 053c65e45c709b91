"""The one check every write-path test ends with: the rollups kept current by the writes equal
a rebuild from the contacts, daily and weekly, each week is the sum of its days, and every
contact's count of customer messages is right."""

import importlib

from django.apps import apps

from contacts.models import ContactRollup, ContactWeekRollup
from contacts.rollups import customer_messages_wrong, rollup_snapshot, rollups_rebuild, week_of


def daily_summed_by_week(daily: dict) -> dict:
    weeks: dict = {}
    for (day, *rest), counts in daily.items():
        key = (week_of(day), *rest)
        weeks[key] = tuple(
            a + b for a, b in zip(weeks.get(key, (0,) * len(counts)), counts, strict=True)
        )
    return {key: counts for key, counts in weeks.items() if counts[0]}


def assert_rollups_match_rebuild() -> None:
    assert customer_messages_wrong() == 0  # Contact.customer_messages, kept by the same writes
    daily, weekly = rollup_snapshot(ContactRollup), rollup_snapshot(ContactWeekRollup)
    assert weekly == daily_summed_by_week(daily)
    rollups_rebuild()
    assert rollup_snapshot(ContactRollup) == daily
    assert rollup_snapshot(ContactWeekRollup) == weekly


def weeks_from_days() -> None:
    """Fill the weekly rollups from daily rows a test wrote itself, as the migration that
    added them does."""
    ContactWeekRollup.objects.all().delete()
    importlib.import_module("contacts.migrations.0012_week_rollups").fill_weeks(apps, None)
