"""A regulator's complaint export imported through docs/mappings/regulator-complaints.toml shows
on the dashboard the counts per reason, channel and week that the file itself gives.

The file is counted here with the csv module and the mapping's own value table, not with the
importer: a complaint's week is the Monday of its "Date received" (a day, whatever the reporting
time zone: Los Angeles here, where noon UTC is still the same morning), its reason "Product ›
Issue", its channel "Submitted via" through [values.channel]. The two rows the importer rejects
(a date that is not one, a missing Complaint ID) count nowhere."""

import csv
import tomllib
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from django.urls import reverse

from contacts.ingest.imports import import_file
from contacts.models import ContactRollup
from contacts.reporting import reason_paths, rollup_totals
from voc.dashboards.filters import CUSTOM, DashboardFilters
from voc.dashboards.panels import PANELS

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
MAPPING = ROOT / "docs" / "mappings" / "regulator-complaints.toml"
EXPORT = ROOT / "tests" / "contacts" / "fixtures" / "regulator-complaints.csv"
# The export's days, 1–7 March 2023, fall in the weeks of Monday 27 February and 6 March.
START, END = date(2023, 2, 27), date(2023, 3, 12)
WEEKS = [date(2023, 2, 27), date(2023, 3, 6)]


def _day(text: str) -> date | None:
    for pattern in ("%m/%d/%y", "%m/%d/%Y", "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), pattern).date()  # noqa: DTZ007 (a day)
        except ValueError:
            continue
    return None


def counts_from_the_file() -> Counter[tuple[str, str, date]]:
    """(reason path, channel, Monday) → complaints, straight from the CSV."""
    channels = {
        key.strip().lower(): value
        for key, value in tomllib.loads(MAPPING.read_text())["values"]["channel"].items()
    }
    counts: Counter[tuple[str, str, date]] = Counter()
    with EXPORT.open(newline="", encoding="utf-8") as file:
        for row in csv.DictReader(file):
            day = _day(row["Date received"])
            if day is None or not row["Complaint ID"].strip():
                continue  # rejected by the import
            channel = channels.get(row["Submitted via"].strip().lower(), channels["*"])
            reason = f"{row['Product'].strip()} › {row['Issue'].strip()}"
            counts[(reason, channel, day - timedelta(days=day.weekday()))] += 1
    return counts


@pytest.fixture
def imported(cast, settings, tmp_path):
    settings.VOC_REPORTING_TIME_ZONE = "America/Los_Angeles"
    path = tmp_path / EXPORT.name
    path.write_bytes(EXPORT.read_bytes())
    summary = import_file(path=path, mapping=str(MAPPING))
    assert (summary.counts()["created"], summary.counts()["rejected"]) == (13, 2)
    return summary


def _panel_counts(cast, **filters) -> Counter[tuple[str, date]]:
    """(reason path, Monday) → contacts, as the reason-by-week panel shows them."""
    chosen = DashboardFilters(period=CUSTOM, start=START, end=END, **filters)
    context = PANELS["reasons-by-week"].compute(cast.executive, chosen)
    assert [week["monday"] for week in context["weeks"]] == WEEKS
    return Counter(
        {
            (line["reason"], monday): cell["count"]
            for line in context["table"]
            for monday, cell in zip(WEEKS, line["cells"], strict=True)
            if cell["count"]
        }
    )


def test_the_file_is_what_the_test_expects():
    counts = counts_from_the_file()
    assert sum(counts.values()) == 13
    assert {channel for _, channel, _ in counts} == {
        "web_form",
        "phone",
        "letter",
        "email",
        "other",
    }
    assert {week for _, _, week in counts} == set(WEEKS)


def test_the_reason_by_week_panel_shows_the_files_counts(cast, imported):
    expected: Counter[tuple[str, date]] = Counter()
    for (reason, _channel, week), n in counts_from_the_file().items():
        expected[(reason, week)] += n
    assert _panel_counts(cast) == expected
    assert sum(expected.values()) == 13


@pytest.mark.parametrize("channel", ["web_form", "phone", "letter", "email", "other"])
def test_each_channel_filter_shows_the_files_counts_for_that_channel(cast, imported, channel):
    expected = Counter(
        {
            (reason, week): n
            for (reason, ch, week), n in counts_from_the_file().items()
            if ch == channel
        }
    )
    assert expected  # every channel of the file has complaints
    assert _panel_counts(cast, channel=channel) == expected


def test_the_rollups_hold_the_files_counts_per_reason_channel_and_week(cast, imported):
    rows = rollup_totals(
        viewer=cast.executive,
        filters=DashboardFilters(period=CUSTOM, start=START, end=END).rollup(),
        group_by=["week", "reason_id", "channel"],
        columns=["contacts"],
    )
    names = reason_paths({row["reason_id"] for row in rows})
    got = Counter(
        {
            (names[row["reason_id"]], row["channel"], _monday(row["week"])): row["contacts"]
            for row in rows
        }
    )
    assert got == counts_from_the_file()
    # Date-only complaints stay on their day in Los Angeles (noon UTC is 04:00 there).
    days = set(ContactRollup.objects.values_list("day", flat=True))
    assert days == {date(2023, 3, d) for d in (1, 2, 3, 4, 5, 6, 7)}


def _monday(week) -> date:
    return week.date() if isinstance(week, datetime) else week


def test_the_fragment_shows_the_files_total_for_a_channel(cast, client, imported):
    """Through the page: the web complaints' total, one filter kept in the drill-down link."""
    web = sum(n for (_, ch, _), n in counts_from_the_file().items() if ch == "web_form")
    assert web == 5
    client.force_login(cast.executive)
    params = DashboardFilters(period=CUSTOM, start=START, end=END, channel="web_form").params()
    response = client.get(
        reverse("dashboards:panel", args=["reasons-by-week"]),
        params,
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response.context["total"] == web
    listed = client.get(
        reverse("dashboards:drill-contacts"),
        params | {"day_from": START.isoformat(), "day_to": END.isoformat()},
    )
    assert len(listed.context["rows"]) == web
