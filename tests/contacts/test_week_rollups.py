"""Weekly contact rollups: kept current with the daily ones by every write, rebuilt with them,
filled from them by their migration, and read for a period's whole weeks with the days around
them read from the daily rows, so every total equals adding up the days."""

import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.db.models import F
from django.test import override_settings

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason, ContactRollup, ContactWeekRollup
from contacts.reporting import RollupFilters, rollup_totals, whole_weeks
from contacts.rollups import COLUMNS, rollup_snapshot, rollups_rebuild
from contacts.services.contacts import contact_update
from tests.contacts.rollup_checks import (
    assert_rollups_match_rebuild,
    daily_summed_by_week,
    weeks_from_days,
)

pytestmark = pytest.mark.django_db

LONDON = "Europe/London"  # summer time ends on Sunday 25 October 2026 at 02:00 local
MONDAY = date(2026, 10, 19)


@pytest.mark.parametrize(
    ("start", "end", "weeks"),
    [
        # Exactly one whole week, Monday to Sunday.
        (date(2026, 10, 19), date(2026, 10, 25), (date(2026, 10, 19), date(2026, 10, 19))),
        # One day short at either end: no whole week.
        (date(2026, 10, 19), date(2026, 10, 24), None),
        (date(2026, 10, 20), date(2026, 10, 25), None),
        # Seven days from a Tuesday hold no whole week either.
        (date(2026, 10, 20), date(2026, 10, 26), None),
        # Thirteen days from a Tuesday hold one (the Monday after to the Sunday after that).
        (date(2026, 10, 20), date(2026, 11, 1), (date(2026, 10, 26), date(2026, 10, 26))),
        # From a Sunday to a Monday: the weeks in between.
        (date(2026, 10, 18), date(2026, 11, 9), (date(2026, 10, 19), date(2026, 11, 2))),
        (date(2026, 10, 19), date(2026, 10, 19), None),
    ],
)
def test_whole_weeks_are_the_mondays_of_the_weeks_inside_the_period(start, end, weeks):
    assert whole_weeks(start, end) == weeks


def ingest(*rows):
    result = contacts_ingest(rows=list(rows))
    assert not result.rejected, result.rejected


def row(n, at: datetime, **fields):
    return {
        "source": "acd", "external_id": f"w-{n}", "channel": ["phone", "email"][n % 2],
        "occurred_at": at.isoformat(), "text": f"call {n}", **fields,
    }  # fmt: skip


@pytest.fixture
def reasons(cast):
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a)
    return {
        "billing": billing,
        "double": ContactReason.objects.create(
            name="Double charge", parent=billing, department=cast.dept_a
        ),
        "outage": ContactReason.objects.create(name="Outage", department=cast.dept_b),
    }


def five_weeks(cast) -> list[dict]:
    """Contacts every 5 hours over five weeks from Monday 19 October 2026 (the clocks go back
    on the first Sunday), plus contacts at the edges of days and weeks: 23:30 and 00:30
    local around midnight on Sundays and Mondays, on both sides of the change, and days given
    without a time."""
    names = ["Billing", "Billing › Double charge", "Outage", ""]
    teams = [cast.team_a.name, cast.team_b.name, ""]
    start = datetime(2026, 10, 19, 0, 30, tzinfo=UTC)
    rows = [
        row(n, start + timedelta(hours=5 * n), reason=names[n % 4], team=teams[n % 3],
            road=n % 5 or None, handle_seconds=30 * n)
        for n in range(168)
    ]  # fmt: skip
    edges = [
        datetime(2026, 10, 25, 22, 30, tzinfo=UTC),  # Sunday 23:30 in London (GMT by then)
        datetime(2026, 10, 25, 23, 30, tzinfo=UTC),  # Monday 00:30 in London
        datetime(2026, 10, 18, 22, 30, tzinfo=UTC),  # Sunday 23:30 BST: the week before
        datetime(2026, 10, 18, 23, 30, tzinfo=UTC),  # Monday 00:30 BST
        datetime(2026, 11, 1, 23, 59, tzinfo=UTC),
        datetime(2026, 11, 22, 23, 30, tzinfo=UTC),
    ]
    rows += [
        row(1000 + n, at, reason=names[n % 4], team=teams[n % 3]) for n, at in enumerate(edges)
    ]
    rows += [
        {**row(2000 + n, at, reason="Outage"), "occurred_at": at.date().isoformat()}
        for n, at in enumerate(datetime(2026, 10, day, tzinfo=UTC) for day in (25, 26, 31))
    ]
    ingest(*rows)
    return rows


def summed_from_days(filters: RollupFilters, group_by: tuple[str, ...], columns) -> list[dict]:
    """The reference: every daily rollup row in the period (no weekly rows), added up here."""
    totals: dict[tuple, list[int]] = defaultdict(lambda: [0] * len(columns))
    for values in ContactRollup.objects.filter(
        day__gte=filters.start, day__lte=filters.end
    ).values():
        values["week"] = values["day"] - timedelta(days=values["day"].weekday())
        key = tuple(values[name] for name in group_by)
        for position, column in enumerate(columns):
            totals[key][position] += values[column]
    if not group_by:
        return [dict(zip(columns, totals[()], strict=True))]
    return [
        {**dict(zip(group_by, key, strict=True)), **dict(zip(columns, counts, strict=True))}
        for key, counts in sorted(totals.items())
    ]


@override_settings(VOC_REPORTING_TIME_ZONE=LONDON)
def test_every_period_adds_up_to_its_days_whatever_its_first_and_last_weekday(cast, reasons):
    columns = ["contacts", "handle_seconds", "road_4"]
    groupings = [(), ("week", "reason_id"), ("reason_id", "channel")]
    five_weeks_rows = five_weeks(cast)  # built with London as the reporting time zone
    assert len(five_weeks_rows) == 177
    assert ContactWeekRollup.objects.count() < ContactRollup.objects.count()
    checked = 0
    for start in (MONDAY + timedelta(days=n) for n in range(-1, 9)):
        for end in (MONDAY + timedelta(days=n) for n in (*range(12, 22), 34, 35, 36)):
            filters = RollupFilters(start=start, end=end)
            for group_by in groupings:
                expected = summed_from_days(filters, group_by, columns)
                got = rollup_totals(
                    viewer=cast.admin, filters=filters, group_by=group_by, columns=columns
                )
                assert got == expected, (start, end, group_by)
                checked += 1
    assert checked == 10 * 13 * 3
    # The periods did read the weekly rows: the whole of October's third week is one of them.
    week = ContactWeekRollup.objects.filter(week=date(2026, 10, 26)).values_list("contacts")
    assert sum(n for (n,) in week) > 0


@override_settings(VOC_REPORTING_TIME_ZONE=LONDON)
def test_a_week_counts_the_contacts_of_its_local_days(cast, reasons):
    five_weeks(cast)
    weeks = rollup_totals(
        viewer=cast.admin,
        filters=RollupFilters(start=date(2026, 10, 12), end=date(2026, 11, 29)),
        group_by=["week"],
        columns=["contacts"],
    )
    counted: dict[date, int] = defaultdict(int)
    london = ZoneInfo(LONDON)
    for contact in Contact.objects.all():
        day = (
            contact.occurred_at.astimezone(UTC).date()
            if contact.occurred_date_only
            else contact.occurred_at.astimezone(london).date()
        )
        counted[day - timedelta(days=day.weekday())] += 1
    assert {w["week"]: w["contacts"] for w in weeks} == counted
    # Sunday 23:30 BST on 18 October is in the week of the 12th, 00:30 the next day is not.
    assert counted[date(2026, 10, 12)] == 1


def test_a_period_with_whole_weeks_is_still_one_query(cast, reasons, django_assert_num_queries):
    at = datetime(2026, 10, 21, 12, tzinfo=UTC)
    ingest(*(row(n, at + timedelta(days=n)) for n in range(20)))
    filters = RollupFilters(start=date(2026, 10, 21), end=date(2026, 11, 12))
    with django_assert_num_queries(1):  # an executive's scope needs no lookup
        (totals,) = rollup_totals(viewer=cast.executive, filters=filters, columns=["contacts"])
    assert totals["contacts"] == 20
    with django_assert_num_queries(1):
        weeks = rollup_totals(
            viewer=cast.executive, filters=filters, group_by=["week"], columns=["contacts"]
        )
    assert [(w["week"], w["contacts"]) for w in weeks] == [
        (date(2026, 10, 19), 5), (date(2026, 10, 26), 7), (date(2026, 11, 2), 7),
        (date(2026, 11, 9), 1),
    ]  # fmt: skip


def test_moving_a_contact_within_its_week_leaves_the_week_and_across_weeks_moves_it(cast, reasons):
    ingest(row(1, datetime(2026, 10, 19, 12, tzinfo=UTC), team=cast.team_a.name))
    week_row = ContactWeekRollup.objects.get()
    assert (week_row.week, week_row.contacts, week_row.handle_seconds) == (MONDAY, 1, 0)

    # The source re-sends it on the Sunday of the same week: the day moves, the week stays.
    ingest(row(1, datetime(2026, 10, 25, 12, tzinfo=UTC), team=cast.team_a.name))
    assert list(ContactRollup.objects.values_list("day", flat=True)) == [date(2026, 10, 25)]
    assert ContactWeekRollup.objects.get().pk == week_row.pk
    assert ContactWeekRollup.objects.get().contacts == 1

    # Then on the next Monday: the old week's row is emptied and removed.
    ingest(row(1, datetime(2026, 10, 26, 12, tzinfo=UTC), team=cast.team_a.name,
               handle_seconds=90))  # fmt: skip
    assert list(ContactWeekRollup.objects.values_list("week", "contacts", "handle_seconds")) == [
        (date(2026, 10, 26), 1, 90)
    ]
    assert_rollups_match_rebuild()

    # An edit by a person moves the week's counts as it moves the day's.
    contact_update(contact=Contact.objects.get(), changes={"road": 4}, by=cast.manager)
    assert ContactWeekRollup.objects.get().road_4 == 1
    assert_rollups_match_rebuild()


def test_the_migration_fills_the_weeks_from_the_days(cast, reasons):
    five_weeks(cast)
    kept = rollup_snapshot(ContactWeekRollup)
    assert kept == daily_summed_by_week(rollup_snapshot(ContactRollup))
    weeks_from_days()  # deletes the weekly rows and runs the migration's fill
    assert rollup_snapshot(ContactWeekRollup) == kept


def test_rebuild_check_finds_a_wrong_week_and_the_rebuild_fixes_it(cast, reasons):
    five_weeks(cast)
    tampered = ContactWeekRollup.objects.order_by("week", "reason_id").first()
    ContactWeekRollup.objects.filter(pk=tampered.pk).update(road_4=F("road_4") + 1)

    out = io.StringIO()
    with pytest.raises(CommandError, match="differ from a rebuild"):
        call_command("rebuild_rollups", "--check", stdout=out)
    assert "The daily rollups match a rebuild" in out.getvalue()
    assert "1 weekly rollup keys differ from a rebuild" in out.getvalue()
    assert f"{tampered.week.isoformat()} reason={tampered.reason_id}" in out.getvalue()

    call_command("rebuild_rollups", stdout=io.StringIO())
    call_command("rebuild_rollups", "--check", stdout=out)
    fixed = ContactWeekRollup.objects.get(
        week=tampered.week, reason_id=tampered.reason_id, channel=tampered.channel,
        team_id=tampered.team_id, segment=tampered.segment,
    )  # fmt: skip
    assert fixed.road_4 == tampered.road_4
    assert set(COLUMNS) <= {f.name for f in ContactWeekRollup._meta.get_fields()}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the staged apply is PostgreSQL's")
def test_a_large_delta_applied_through_copy_fills_both_tables_alike(cast, reasons, monkeypatch):
    five_weeks(cast)
    daily, weekly = rollup_snapshot(ContactRollup), rollup_snapshot(ContactWeekRollup)
    monkeypatch.setattr("contacts.rollups.STAGED_APPLY", 0)  # every delta through COPY

    rollups_rebuild()

    assert rollup_snapshot(ContactRollup) == daily
    assert rollup_snapshot(ContactWeekRollup) == weekly == daily_summed_by_week(daily)
