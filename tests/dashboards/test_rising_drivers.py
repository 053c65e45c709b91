"""Rising drivers rank only what loops.statistics' test shows: seeded noise (every reason's rate
unchanged) never ranks, a real rise does, the larger rise first; the windows are whole weeks."""

import math
import random
from datetime import date, timedelta

import pytest

from contacts.models import ContactReason, ContactRollup
from tests.contacts.rollup_checks import weeks_from_days
from voc.dashboards.filters import CUSTOM, DashboardFilters
from voc.dashboards.panels import rising_drivers, rising_windows

pytestmark = pytest.mark.django_db

START, END = date(2026, 10, 26), date(2026, 11, 22)  # four whole weeks
PERIOD = DashboardFilters(period=CUSTOM, start=START, end=END)
REASONS = 20


def poisson(rng: random.Random, mean: float) -> int:
    """Knuth's method: fine for the small daily means used here."""
    limit, k, p = math.exp(-mean), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


@pytest.fixture
def reasons(cast):
    return [ContactReason.objects.create(name=f"Reason {n}") for n in range(REASONS)]


def seed_rollups(cast, reasons, *, seed: int, rises: dict[int, float] | None = None) -> None:
    """56 days of daily counts per reason, Poisson around a mean of 2 to 20 a day; a reason in
    ``rises`` has a mean of 12 a day, multiplied in the period's four weeks. (A rise in a
    reason of 2 a day is "too early" at the shared α: the test could not find a 30 % rise
    there often enough.)"""
    ContactRollup.objects.all().delete()
    rng = random.Random(seed)
    means = [12 if index in (rises or {}) else rng.uniform(2, 20) for index in range(len(reasons))]
    rows = []
    for offset in range(56):
        day = START - timedelta(days=28) + timedelta(days=offset)
        for index, reason in enumerate(reasons):
            factor = (rises or {}).get(index, 1.0) if day >= START else 1.0
            count = poisson(rng, means[index] * factor)
            if count:
                rows.append(
                    ContactRollup(
                        day=day,
                        reason_id=reason.id,
                        channel="phone",
                        team_id=cast.team_a.id,
                        segment="",
                        contacts=count,
                    )
                )
    ContactRollup.objects.bulk_create(rows)
    weeks_from_days()


@pytest.mark.parametrize("seed", range(20))
def test_noise_never_ranks(cast, reasons, seed):
    seed_rollups(cast, reasons, seed=seed)
    result = rising_drivers(cast.executive, PERIOD)
    assert result["tested"] == REASONS
    assert result["alpha"] == pytest.approx(0.025 / REASONS)
    assert result["drivers"] == []


def test_a_real_rise_ranks_and_the_larger_rise_first(cast, reasons):
    seed_rollups(cast, reasons, seed=3, rises={4: 1.8, 9: 3.0})
    result = rising_drivers(cast.executive, PERIOD)
    assert [d["reason"] for d in result["drivers"]] == ["Reason 9", "Reason 4"]
    first = result["drivers"][0]
    assert first["rate_ratio"] > result["drivers"][1]["rate_ratio"] > 1
    assert first["ci_low"] > 1
    assert first["p_value"] <= result["alpha"]


def test_a_managers_rising_driver_is_computed_in_their_scope(cast, reasons):
    seed_rollups(cast, reasons, seed=3, rises={9: 3.0})
    assert [d["reason"] for d in rising_drivers(cast.manager, PERIOD)["drivers"]] == ["Reason 9"]
    assert rising_drivers(cast.other_manager, PERIOD)["drivers"] == []  # team A is not theirs
    assert rising_drivers(cast.other_manager, PERIOD)["tested"] == 0


def test_the_windows_are_whole_weeks_ending_with_the_period():
    def windows(start, end):
        return rising_windows(DashboardFilters(period=CUSTOM, start=start, end=end))

    assert windows(START, END) == (
        date(2026, 9, 28), date(2026, 10, 25), date(2026, 10, 26), date(2026, 11, 22)
    )  # fmt: skip
    # 13 days: one whole week, the period's last seven days against the seven before.
    assert windows(date(2026, 11, 10), date(2026, 11, 22)) == (
        date(2026, 11, 9), date(2026, 11, 15), date(2026, 11, 16), date(2026, 11, 22)
    )  # fmt: skip
    assert windows(date(2026, 11, 16), date(2026, 11, 22)) is not None  # exactly 7 days
    assert windows(date(2026, 11, 17), date(2026, 11, 22)) is None  # 6 days


def test_a_period_shorter_than_a_week_says_so(cast, client):
    client.force_login(cast.executive)
    response = client.get(
        "/dashboards/panels/rising-drivers/",
        {"period": "custom", "start": "2026-11-17", "end": "2026-11-22"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "choose a period of at least 7 days" in response.content.decode()
