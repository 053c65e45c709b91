"""The rate-change test of loops.statistics: exact values checked against hand-computed ones,
and its behaviour proven by simulation (fixed seed) on daily series with a weekly rhythm, busy
and quiet days and a trend in the contact centre's volume."""

import math
import random
from datetime import date

import pytest

from loops.statistics import (
    DECREASE,
    INCREASE,
    NOT_SHOWN,
    RISING,
    TOO_EARLY,
    WORKED,
    WindowCounts,
    beta_cdf,
    beta_quantile,
    binomial_cdf,
    binomial_sf,
    clopper_pearson,
    fix_verification,
    rate_change,
    rising_driver,
    windows_around,
)

# --- Exact values ---------------------------------------------------------------------------


def _cdf_by_hand(k: int, n: int, p: float) -> float:
    return sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))


@pytest.mark.parametrize(
    ("k", "n", "p"), [(3, 10, 0.5), (0, 7, 0.2), (12, 40, 0.5), (150, 357, 0.5), (5, 9, 0.9)]
)
def test_binomial_tails_equal_the_sums_of_their_terms(k, n, p):
    assert binomial_cdf(k, n, p) == pytest.approx(_cdf_by_hand(k, n, p), rel=1e-10)
    assert binomial_sf(k, n, p) == pytest.approx(1 - _cdf_by_hand(k - 1, n, p), rel=1e-9)


def test_binomial_tails_at_their_edges():
    assert binomial_cdf(3, 10, 0.5) == pytest.approx(176 / 1024, rel=1e-12)
    assert binomial_cdf(-1, 10, 0.5) == 0.0
    assert binomial_cdf(10, 10, 0.5) == 1.0
    assert binomial_sf(0, 10, 0.5) == 1.0
    assert binomial_sf(11, 10, 0.5) == 0.0
    assert binomial_sf(10, 10, 0.5) == pytest.approx(1 / 1024, rel=1e-12)


def test_beta_function_and_its_inverse():
    # I_x(1, 1) = x; I_x(2, 1) = x²; I_x(1, 3) = 1 − (1 − x)³
    assert beta_cdf(0.3, 1, 1) == pytest.approx(0.3, abs=1e-14)
    assert beta_cdf(0.3, 2, 1) == pytest.approx(0.09, abs=1e-14)
    assert beta_cdf(0.3, 1, 3) == pytest.approx(1 - 0.7**3, abs=1e-14)
    for q in (0.025, 0.5, 0.975):
        assert beta_cdf(beta_quantile(q, 12.0, 30.0), 12.0, 30.0) == pytest.approx(q, abs=1e-12)


def test_clopper_pearson_at_zero_and_all_is_closed_form():
    # x = 0: the upper bound solves (1 − p)^n = α; x = n: the lower bound solves p^n = α.
    assert clopper_pearson(0, 10) == pytest.approx((0.0, 1 - 0.025**0.1), abs=1e-12)
    assert clopper_pearson(10, 10) == pytest.approx((0.025**0.1, 1.0), abs=1e-12)
    low, high = clopper_pearson(3, 10)
    # Each bound leaves exactly α = 0.025 in its tail.
    assert 1 - _cdf_by_hand(2, 10, low) == pytest.approx(0.025, abs=1e-12)
    assert _cdf_by_hand(3, 10, high) == pytest.approx(0.025, abs=1e-12)
    assert (round(low, 4), round(high, 4)) == (0.0667, 0.6525)  # the published table's values
    with pytest.raises(ValueError):
        clopper_pearson(3, 2)


def test_a_fall_with_equal_totals_is_a_fair_coin_test():
    # 30 contacts before, 10 after, 1,000 contacts of all reasons in each window: under no
    # change each of the 40 is after the fix with probability ½.
    result = rate_change(WindowCounts(30, 1000, 42), WindowCounts(10, 1000, 42))
    assert result.p_value == pytest.approx(
        sum(math.comb(40, i) for i in range(11)) / 2**40, rel=1e-10
    )
    assert result.rate_ratio == pytest.approx(1 / 3)
    low, high = clopper_pearson(10, 40)
    assert result.ci_low == pytest.approx(low / (1 - low), rel=1e-12)
    assert result.ci_high == pytest.approx(high / (1 - high), rel=1e-12)
    assert result.direction == DECREASE


def test_unequal_totals_move_the_null_and_the_ratio():
    # After the fix the centre took twice the contacts: 20 before and 20 after is a halving
    # of the rate per 1,000, and under no change 2/3 of the reason's contacts fall after.
    result = rate_change(WindowCounts(20, 1000, 42), WindowCounts(20, 2000, 42))
    assert result.rate_ratio == pytest.approx(0.5)
    assert result.p_value == pytest.approx(_cdf_by_hand(20, 40, 2 / 3), rel=1e-10)
    low, high = clopper_pearson(20, 40)
    assert result.ci_low == pytest.approx(low / (1 - low) * 0.5, rel=1e-12)
    assert result.ci_high == pytest.approx(high / (1 - high) * 0.5, rel=1e-12)
    assert result.before.per_thousand == 20.0 and result.after.per_thousand == 10.0


def test_everything_gone_gives_a_closed_form_interval():
    result = rate_change(WindowCounts(10, 1000, 42), WindowCounts(0, 1000, 42))
    assert result.rate_ratio == 0.0 and result.ci_low == 0.0
    upper = 1 - 0.025**0.1
    assert result.ci_high == pytest.approx(upper / (1 - upper), rel=1e-12)
    assert result.p_value == pytest.approx(2**-10, rel=1e-12)
    # Ten contacts are far too few to judge, however clear the fall.
    assert result.verdict == TOO_EARLY
    assert result.power is not None and result.power < 0.1


def test_verdict_worked_not_shown_and_the_alpha_boundary():
    worked = fix_verification(WindowCounts(210, 42_000, 42), WindowCounts(147, 42_000, 42))
    assert worked.verdict == WORKED
    assert worked.ci_high is not None and worked.ci_high < 1
    assert worked.change == pytest.approx(-0.3)
    same = fix_verification(WindowCounts(210, 42_000, 42), WindowCounts(205, 42_000, 42))
    assert same.verdict == NOT_SHOWN and same.ci_high is not None and same.ci_high > 1
    # The boundary: find the largest after-count that is still "worked" with K fixed at
    # 400 contacts; one more is "not shown", and the p-values straddle α = 0.025.
    k = 400
    shown = [x for x in range(k + 1) if _cdf_by_hand(x, k, 0.5) <= 0.025]
    edge = max(shown)
    at = fix_verification(WindowCounts(k - edge, 50_000, 42), WindowCounts(edge, 50_000, 42))
    past = fix_verification(
        WindowCounts(k - edge - 1, 50_000, 42), WindowCounts(edge + 1, 50_000, 42)
    )
    assert at.verdict == WORKED and at.p_value is not None and at.p_value <= 0.025
    assert past.verdict == NOT_SHOWN and past.p_value is not None and past.p_value > 0.025
    assert at.ci_high is not None and at.ci_high < 1
    assert past.ci_high is not None and past.ci_high >= 1


def test_too_early_below_six_weeks_exactly_at_the_limit_not():
    before, after = WindowCounts(300, 40_000, 35), WindowCounts(150, 40_000, 35)
    early = fix_verification(before, after)
    assert early.verdict == TOO_EARLY and "35 days" in early.reason
    assert early.p_value is not None and early.p_value < 1e-6  # clear, but too short
    six = fix_verification(WindowCounts(300, 40_000, 42), WindowCounts(150, 40_000, 42))
    assert six.verdict == WORKED


def test_too_early_when_the_power_is_below_eighty_percent():
    # The power at K contacts, equal totals, a 30 % fall: find where it crosses 80 % and
    # check both sides of it.
    def verdict_at(k: int) -> tuple[str, float]:
        before = k // 2
        result = fix_verification(
            WindowCounts(before, 100_000, 42), WindowCounts(k - before, 100_000, 42)
        )
        assert result.power is not None
        return result.verdict, result.power

    powers = {k: verdict_at(k) for k in range(200, 320)}
    first = min(k for k, (_, power) in powers.items() if power >= 0.8)
    assert powers[first - 1][0] == TOO_EARLY and powers[first - 1][1] < 0.8
    assert powers[first][0] != TOO_EARLY
    assert 230 <= first <= 280  # about 250, as the docs say


def test_empty_windows_are_too_early_without_numbers():
    result = fix_verification(WindowCounts(0, 0, 42), WindowCounts(0, 500, 42))
    assert result.verdict == TOO_EARLY and result.rate_ratio is None
    assert result.ci_low is None and result.p_value is None
    none = fix_verification(WindowCounts(0, 800, 42), WindowCounts(0, 500, 42))
    assert none.verdict == TOO_EARLY and "No contacts of this reason" in none.reason
    zero = fix_verification(WindowCounts(0, 0, 0), WindowCounts(0, 0, 0))
    assert zero.verdict == TOO_EARLY


def test_a_reason_new_after_the_fix_has_an_open_ended_interval():
    result = rising_driver(WindowCounts(0, 40_000, 42), WindowCounts(600, 40_000, 42))
    assert result.rate_ratio == math.inf and result.ci_high == math.inf
    assert result.verdict == RISING


def test_windows_must_be_equal_whole_weeks_and_counts_sane():
    with pytest.raises(ValueError, match="equal length"):
        rate_change(WindowCounts(1, 10, 42), WindowCounts(1, 10, 35))
    with pytest.raises(ValueError, match="whole weeks"):
        rate_change(WindowCounts(1, 10, 30), WindowCounts(1, 10, 30))
    with pytest.raises(ValueError):
        WindowCounts(11, 10, 42)
    with pytest.raises(ValueError):
        WindowCounts(-1, 10, 42)
    with pytest.raises(ValueError):
        rate_change(WindowCounts(1, 10, 42), WindowCounts(1, 10, 42), direction="sideways")  # type: ignore[arg-type]


def test_rising_driver_is_the_mirror_of_a_fix():
    # A 30 % rise needs more contacts than a 30 % fall (1.3 is nearer 1 than 0.7 on the
    # ratio's log scale), so these windows are fuller than a fix's.
    up = rising_driver(WindowCounts(300, 42_000, 42), WindowCounts(429, 42_000, 42))
    down = fix_verification(WindowCounts(429, 42_000, 42), WindowCounts(300, 42_000, 42))
    assert up.direction == INCREASE and up.verdict == RISING
    assert up.p_value == pytest.approx(down.p_value, rel=1e-9)
    assert up.rate_ratio == pytest.approx(1 / down.rate_ratio)  # type: ignore[operator]
    # A fall is never a rise, however clear.
    fall = rising_driver(WindowCounts(600, 42_000, 42), WindowCounts(200, 42_000, 42))
    assert fall.verdict == NOT_SHOWN and fall.p_value == pytest.approx(1.0)


def test_windows_around_a_day_hold_the_same_weekdays():
    fix = date(2026, 11, 4)  # a Wednesday
    windows = windows_around(fix)
    assert (windows.before_start, windows.before_end) == (date(2026, 9, 23), date(2026, 11, 3))
    assert (windows.after_start, windows.after_end) == (date(2026, 11, 5), date(2026, 12, 16))
    assert windows.days == 42
    later = windows_around(fix, offset_days=30)
    assert (later.after_start, later.after_end) == (date(2026, 12, 4), date(2027, 1, 14))
    assert windows_around(fix, weeks=0).days == 0
    with pytest.raises(ValueError):
        windows_around(fix, offset_days=0)


# --- Simulation -----------------------------------------------------------------------------

SEED = 20261206
RUNS = 1000
# The contact centre's weekly rhythm (Monday first), and the reason's own, more Monday-heavy.
CENTRE_WEEK = (1.25, 1.1, 1.0, 1.0, 0.95, 0.45, 0.3)
REASON_WEEK = (1.5, 1.15, 1.0, 0.9, 0.9, 0.35, 0.2)


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson variate: multiplication for small means, PTRS (Hörmann 1993) above."""
    if mean < 10:
        limit, k, product = math.exp(-mean), 0, rng.random()
        while product > limit:
            k += 1
            product *= rng.random()
        return k
    root, log_mean = math.sqrt(mean), math.log(mean)
    b = 0.931 + 2.53 * root
    a = -0.059 + 0.02483 * b
    inv_alpha = 1.1239 + 1.1328 / (b - 3.4)
    vr = 0.9277 - 3.6224 / (b - 2)
    while True:
        u = rng.random() - 0.5
        v = rng.random()
        us = 0.5 - abs(u)
        k = math.floor((2 * a / us + b) * u + mean + 0.43)
        if us >= 0.07 and v <= vr:
            return k
        if k < 0 or (us < 0.013 and v > us):
            continue
        if math.log(v) + math.log(inv_alpha) - math.log(a / (us * us) + b) <= (
            -mean + k * log_mean - math.lgamma(k + 1)
        ):
            return k


def simulate_run(
    rng: random.Random,
    *,
    per_day: float,
    change: float,
    weeks: int = 6,
    centre_per_day: float = 400.0,
    trend: float = -0.3,
) -> tuple[WindowCounts, WindowCounts]:
    """One fix: ``weeks`` before, the fix day, ``weeks`` after. The centre's volume follows
    its weekly rhythm, busy and quiet days (a shared gamma factor, CV 20 %) and a linear
    ``trend`` over the whole span (-0.3: 30 % fewer contacts at the end); the reason keeps
    its share of the volume, with its own weekly rhythm, times ``1 + change`` after the fix,
    and averages ``per_day`` before it."""
    days = 7 * weeks
    span = 2 * days + 1
    levels = [1 + trend * t / (span - 1) for t in range(span)]
    before_reason_mean = sum(
        levels[t] * REASON_WEEK[t % 7] for t in range(days)
    )  # the share that gives per_day on average before the fix
    share = per_day * days / (centre_per_day * before_reason_mean)
    counts = [[0, 0], [0, 0]]
    for t in range(span):
        if t == days:
            continue  # the fix day belongs to neither window
        side = 0 if t < days else 1
        busy = rng.gammavariate(25.0, 1 / 25.0)
        volume = centre_per_day * levels[t] * busy
        reason_mean = volume * share * REASON_WEEK[t % 7] * (1 + change if side else 1)
        other_mean = volume * CENTRE_WEEK[t % 7]
        reason = poisson(rng, reason_mean)
        counts[side][0] += reason
        counts[side][1] += reason + poisson(rng, other_mean)
    return (
        WindowCounts(counts[0][0], counts[0][1], days),
        WindowCounts(counts[1][0], counts[1][1], days),
    )


def verdict_shares(runs: int, *, seed: int = SEED, test=fix_verification, **scenario) -> dict:
    rng = random.Random(seed)
    tally: dict[str, int] = {}
    for _ in range(runs):
        before, after = simulate_run(rng, **scenario)
        verdict = test(before, after).verdict
        tally[verdict] = tally.get(verdict, 0) + 1
    return {verdict: n / runs for verdict, n in tally.items()}


def test_with_no_change_worked_is_rare_despite_a_falling_volume():
    shares = verdict_shares(RUNS, per_day=5, change=0.0)
    assert shares.get(WORKED, 0) <= 0.05
    assert shares.get(TOO_EARLY, 0) <= 0.01  # 5 a day over six weeks is enough to judge
    # The centre's volume fell 30 % over the span: counting the reason's contacts alone
    # (equal totals, no per 1,000) would have called most of these runs a success.
    rng = random.Random(SEED)
    naive = 0
    for _ in range(200):
        before, after = simulate_run(rng, per_day=5, change=0.0)
        naive += (
            fix_verification(
                WindowCounts(before.count, 10**6, 42), WindowCounts(after.count, 10**6, 42)
            ).verdict
            == WORKED
        )
    assert naive / 200 >= 0.3


def test_with_no_change_and_a_rising_volume_worked_is_rare_too():
    shares = verdict_shares(RUNS, seed=SEED + 1, per_day=12, change=0.0, trend=0.5)
    assert shares.get(WORKED, 0) <= 0.05


def test_a_thirty_percent_fall_is_found_at_five_a_day_over_six_weeks():
    shares = verdict_shares(RUNS, seed=SEED + 2, per_day=5, change=-0.3)
    assert shares.get(WORKED, 0) >= 0.80


def test_below_the_volume_or_window_that_gives_the_power_it_is_too_early():
    # Two a day: about 150 contacts in the two windows, far below the power needed.
    low = verdict_shares(300, seed=SEED + 3, per_day=2, change=-0.3)
    assert low.get(TOO_EARLY, 0) >= 0.99
    # Five a day, but four-week windows.
    short = verdict_shares(300, seed=SEED + 4, per_day=5, change=-0.3, weeks=4)
    assert short == {TOO_EARLY: 1.0}


def test_rising_drivers_keep_the_same_error_rate_and_power():
    quiet = verdict_shares(500, seed=SEED + 5, test=rising_driver, per_day=6, change=0.0)
    assert quiet.get(RISING, 0) <= 0.05
    rising = verdict_shares(
        500, seed=SEED + 6, test=rising_driver, per_day=6, change=0.3, trend=0.3
    )
    assert rising.get(RISING, 0) >= 0.80
