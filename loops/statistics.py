"""Did a contact rate change? The test behind fix verification (loops.verification) and the
dashboards' rising drivers, as pure functions of plain numbers: no Django, no database, no
third-party maths library.

**What is compared.** The contacts of one set of reasons (``count``) against the contacts of all
reasons (``total``) in two windows of equal length made of whole weeks, so both hold the same
weekdays (a Monday-heavy reason is not judged on a window with an extra Monday). The rate is per
1,000 contacts of all reasons: a quiet week for the whole contact centre is not a success.

**The test.** The exact conditional test of the ratio of two Poisson rates. Take the reason's
contacts in each window as Poisson counts whose means are proportional to the window's contacts
of all reasons (the exposure) times a rate; given the reason's contacts in both windows together,
``K = before.count + after.count``, the after-window's share of them is binomial,

    after.count | K  ~  Binomial(K, π),   π = R·T_a / (T_b + R·T_a),

where ``T_b``, ``T_a`` are the windows' totals and ``R`` the rate ratio (after ÷ before, of the
rates per 1,000 contacts). Under "no change" (R = 1), π = T_a / (T_a + T_b); the p-value is the
one-sided binomial tail in the direction asked (a fall for a fix, a rise for a driver), and the
95 % interval (two-sided, so each side holds α = 0.025) is the Clopper–Pearson interval for π
mapped to R. The interval's far bound is below 1 (above 1 for a rise) exactly when p ≤ α.

**Assumptions**, stated so a reader can judge a verdict: contacts of the reason arrive
independently at a rate proportional to the contact centre's volume (shared swings in volume,
busy days and the weekly rhythm cancel out, as they move both numbers); the reason's own weekly
rhythm is the same in both windows (equal whole weeks); the totals are treated as fixed
exposures, although they include the reason's own contacts (this only matters for a reason
that is a large share of all contacts, and then it makes the test a little conservative).
Clusters of contacts from one event (an outage) break independence and can make a change look
surer than it is: read the daily counts too.

**Too early.** A verdict needs a window of at least ``min_days`` (42: six weeks), and enough
contacts of the reason that the test would find the change it is looking for (30 %) at least
80 % of the time: the exact conditional power at the observed ``K`` and exposures (a function
of ``K``, which the test conditions on, so refusing to judge small ``K`` does not change the
test's false-alarm rate). With equal exposures that is about K ≥ 250 contacts of the reason in
the two windows together: about 3.5 a day before a fix that removes 30 % of them, over six
weeks. Below either, the verdict is "too early". The simulation in
``tests/loops/test_statistics.py`` measures the figures given in docs/loops-verification.md.

API::

    rate_change(before, after, direction=DECREASE)   # the general test → RateChange
    fix_verification(before, after)                  # a fix: worked / not_shown / too_early
    rising_driver(before, after, min_days=28)        # a driver: rising / not_shown / too_early
    windows_around(day, weeks=6, offset_days=1)      # the two windows around a day (dates)

``before`` and ``after`` are ``WindowCounts(count, total, days)``.
"""

import math
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

DECREASE: Literal["decrease"] = "decrease"
INCREASE: Literal["increase"] = "increase"
Direction = Literal["decrease", "increase"]

ALPHA = 0.025  # one-sided
MIN_DAYS = 42  # six whole weeks
TARGET_CHANGE = 0.30  # the change the test must be able to find ...
TARGET_POWER = 0.80  # ... this often, or the verdict is "too early"

SHOWN = "shown"
NOT_SHOWN = "not_shown"
TOO_EARLY = "too_early"
WORKED = "worked"  # SHOWN, for a fix
RISING = "rising"  # SHOWN, for a driver

TEST_NAME = "Exact conditional test of the Poisson rate ratio (one-sided, α = 0.025)"
INTERVAL_NAME = "Clopper–Pearson 95 % interval"


@dataclass(frozen=True)
class WindowCounts:
    """One window: the reason's contacts, the contacts of all reasons, and its length."""

    count: int
    total: int
    days: int

    def __post_init__(self) -> None:
        if self.count < 0 or self.total < 0 or self.days < 0:
            raise ValueError("counts and days cannot be negative")
        if self.count > self.total:
            raise ValueError("a reason cannot have more contacts than all reasons together")

    @property
    def per_thousand(self) -> float | None:
        """The reason's contacts per 1,000 contacts of all reasons (None without contacts)."""
        return 1000 * self.count / self.total if self.total else None


@dataclass(frozen=True)
class RateChange:
    """The answer of :func:`rate_change`. ``rate_ratio`` is after ÷ before of the rates per
    1,000 contacts; ``ci_low``/``ci_high`` its 95 % interval (``ci_high`` may be ``math.inf``);
    ``p_value`` the one-sided p-value in ``direction``; ``power`` the chance the test had to find
    a ``TARGET_CHANGE`` in that direction. Any of them is None when the windows hold no contacts
    to compute it from. ``verdict`` is SHOWN, NOT_SHOWN or TOO_EARLY."""

    direction: Direction
    before: WindowCounts
    after: WindowCounts
    rate_ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    power: float | None
    verdict: str
    reason: str
    test_name: str = TEST_NAME

    @property
    def change(self) -> float | None:
        """The relative change of the rate (-0.3: 30 % fewer per 1,000 contacts)."""
        return None if self.rate_ratio is None else self.rate_ratio - 1


# --- Distributions ----------------------------------------------------------------------------


def _beta_continued_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function (modified Lentz's method)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 100_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c
        c = c if abs(c) > tiny else tiny
        step = d * c
        h *= step
        if abs(step - 1.0) < 1e-15:
            break
    return h


def _log_beta(a: float, b: float) -> float:
    return math.lgamma(a) + math.lgamma(b) - math.lgamma(a + b)


def beta_cdf(x: float, a: float, b: float) -> float:
    """The regularised incomplete beta function I_x(a, b), for a, b > 0."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    front = math.exp(a * math.log(x) + b * math.log1p(-x) - _log_beta(a, b))
    if x < (a + 1.0) / (a + b + 2.0):
        return front * _beta_continued_fraction(a, b, x) / a
    return 1.0 - front * _beta_continued_fraction(b, a, 1.0 - x) / b


def beta_quantile(q: float, a: float, b: float) -> float:
    """The x with I_x(a, b) = q: Newton's method kept inside a shrinking bracket."""
    if q <= 0.0:
        return 0.0
    if q >= 1.0:
        return 1.0
    low, high = 0.0, 1.0
    x = a / (a + b)
    log_norm = _log_beta(a, b)
    for _ in range(200):
        f = beta_cdf(x, a, b) - q
        if f == 0.0:
            return x
        if f < 0:
            low = x
        else:
            high = x
        density = math.exp((a - 1) * math.log(x) + (b - 1) * math.log1p(-x) - log_norm)
        candidate = x - f / density if density > 0 else -1.0
        if not low < candidate < high:
            candidate = (low + high) / 2
        if abs(candidate - x) <= 1e-15 * max(x, 1e-300) or high - low < 1e-15:
            return candidate
        x = candidate
    return x


def binomial_cdf(k: int, n: int, p: float) -> float:
    """P(X ≤ k) for X ~ Binomial(n, p)."""
    if k < 0:
        return 0.0
    if k >= n:
        return 1.0
    if p <= 0.0:
        return 1.0
    if p >= 1.0:
        return 0.0
    return beta_cdf(1.0 - p, n - k, k + 1)


def binomial_sf(k: int, n: int, p: float) -> float:
    """P(X ≥ k) for X ~ Binomial(n, p)."""
    if k <= 0:
        return 1.0
    if k > n:
        return 0.0
    if p <= 0.0:
        return 0.0
    if p >= 1.0:
        return 1.0
    return beta_cdf(p, k, n - k + 1)


def clopper_pearson(x: int, n: int, *, alpha: float = ALPHA) -> tuple[float, float]:
    """The exact interval for a binomial proportion with ``alpha`` on each side."""
    if not 0 <= x <= n or n == 0:
        raise ValueError("need 0 <= x <= n and n > 0")
    low = 0.0 if x == 0 else beta_quantile(alpha, x, n - x + 1)
    high = 1.0 if x == n else beta_quantile(1.0 - alpha, x + 1, n - x)
    return low, high


def _normal_quantile(p: float) -> float:
    """Φ⁻¹(p) by bisection on erfc: a starting point, no more."""
    low, high = -10.0, 10.0
    for _ in range(80):
        mid = (low + high) / 2
        if 0.5 * math.erfc(-mid / math.sqrt(2)) < p:
            low = mid
        else:
            high = mid
    return (low + high) / 2


_Z = {ALPHA: _normal_quantile(ALPHA)}


def _lower_critical(n: int, p0: float, alpha: float) -> int:
    """The largest c with P(X ≤ c | n, p0) ≤ alpha (-1 when there is none)."""
    z = _Z.get(alpha) or _normal_quantile(alpha)
    c = min(n, max(-1, math.floor(n * p0 + z * math.sqrt(n * p0 * (1 - p0)))))
    while c >= 0 and binomial_cdf(c, n, p0) > alpha:
        c -= 1
    while c + 1 <= n and binomial_cdf(c + 1, n, p0) <= alpha:
        c += 1
    return c


def _upper_critical(n: int, p0: float, alpha: float) -> int:
    """The smallest c with P(X ≥ c | n, p0) ≤ alpha (n + 1 when there is none)."""
    return n - _lower_critical(n, 1.0 - p0, alpha)


# --- The test ---------------------------------------------------------------------------------


def _ratio(pi: float, exposure: float) -> float:
    """π (the after-window's share of the reason's contacts) as a rate ratio."""
    if pi >= 1.0:
        return math.inf
    return pi / (1.0 - pi) * exposure


def rate_change(
    before: WindowCounts,
    after: WindowCounts,
    *,
    direction: Direction = DECREASE,
    alpha: float = ALPHA,
    min_days: int = MIN_DAYS,
    target_change: float = TARGET_CHANGE,
    target_power: float = TARGET_POWER,
) -> RateChange:
    """Test whether the reason's rate per 1,000 contacts fell (``DECREASE``) or rose
    (``INCREASE``) from ``before`` to ``after`` (see the module docstring). The windows must
    be equally long and made of whole weeks (ValueError otherwise)."""
    if direction not in (DECREASE, INCREASE):
        raise ValueError(f"direction is {DECREASE!r} or {INCREASE!r}")
    if before.days != after.days:
        raise ValueError("compare windows of equal length")
    if before.days % 7:
        raise ValueError("compare whole weeks, so both windows hold the same weekdays")
    if not 0 < alpha < 0.5 or not 0 < target_change < 1 or not 0 < target_power < 1:
        raise ValueError("alpha, target_change and target_power must be proportions")

    k = before.count + after.count
    x = after.count
    if before.total == 0 or after.total == 0 or k == 0:
        return RateChange(
            direction, before, after, None, None, None, None, None, TOO_EARLY,
            "No contacts of this reason in the two windows yet."
            if before.total and after.total
            else "A window holds no contacts at all yet.",
        )  # fmt: skip
    exposure = before.total / after.total  # T_b / T_a
    p0 = after.total / (after.total + before.total)
    rate_ratio = (
        math.inf if before.count == 0 else (x / after.total) / (before.count / before.total)
    )
    pi_low, pi_high = clopper_pearson(x, k, alpha=alpha)
    ci_low, ci_high = _ratio(pi_low, exposure), _ratio(pi_high, exposure)

    target_ratio = 1 - target_change if direction == DECREASE else 1 + target_change
    p1 = target_ratio * after.total / (before.total + target_ratio * after.total)
    if direction == DECREASE:
        p_value = binomial_cdf(x, k, p0)
        power = binomial_cdf(_lower_critical(k, p0, alpha), k, p1)
    else:
        p_value = binomial_sf(x, k, p0)
        power = binomial_sf(_upper_critical(k, p0, alpha), k, p1)

    word = "fall" if direction == DECREASE else "rise"
    if before.days < min_days:
        verdict = TOO_EARLY
        reason = f"The windows are {before.days} days long; a verdict needs {min_days}."
    elif power < target_power:
        verdict = TOO_EARLY
        reason = (
            f"{k} contacts of this reason in the two windows give a "
            f"{round(100 * power)} % chance of finding a {round(100 * target_change)} % {word}; "
            f"a verdict needs {round(100 * target_power)} %."
        )
    elif p_value <= alpha:
        verdict = SHOWN
        reason = f"The {word} is shown: p = {p_value:.3g} ≤ {alpha}."
    else:
        verdict = NOT_SHOWN
        reason = f"No {word} is shown: p = {p_value:.3g} > {alpha}."
    return RateChange(
        direction, before, after, rate_ratio, ci_low, ci_high, p_value, power, verdict, reason
    )


def fix_verification(
    before: WindowCounts,
    after: WindowCounts,
    *,
    alpha: float = ALPHA,
    min_days: int = MIN_DAYS,
    target_change: float = TARGET_CHANGE,
    target_power: float = TARGET_POWER,
) -> RateChange:
    """Did the fix lower the rate? ``verdict`` is WORKED, NOT_SHOWN or TOO_EARLY."""
    result = rate_change(
        before, after, direction=DECREASE, alpha=alpha, min_days=min_days,
        target_change=target_change, target_power=target_power,
    )  # fmt: skip
    return _relabel(result, WORKED)


def rising_driver(
    before: WindowCounts,
    after: WindowCounts,
    *,
    alpha: float = ALPHA,
    min_days: int = MIN_DAYS,
    target_change: float = TARGET_CHANGE,
    target_power: float = TARGET_POWER,
) -> RateChange:
    """Is the reason rising? ``verdict`` is RISING, NOT_SHOWN or TOO_EARLY. Dashboards may
    pass their own ``min_days`` (whole weeks) for a shorter look, and should then say that the
    test has less power there than this module's defaults give."""
    result = rate_change(
        before, after, direction=INCREASE, alpha=alpha, min_days=min_days,
        target_change=target_change, target_power=target_power,
    )  # fmt: skip
    return _relabel(result, RISING)


def _relabel(result: RateChange, shown: str) -> RateChange:
    if result.verdict != SHOWN:
        return result
    return RateChange(
        result.direction, result.before, result.after, result.rate_ratio, result.ci_low,
        result.ci_high, result.p_value, result.power, shown, result.reason,
    )  # fmt: skip


# --- Windows ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Windows:
    """Two windows of whole days, both ends included."""

    before_start: date
    before_end: date
    after_start: date
    after_end: date

    @property
    def days(self) -> int:
        return (self.before_end - self.before_start).days + 1


def windows_around(day: date, *, weeks: int = 6, offset_days: int = 1) -> Windows:
    """The ``weeks`` whole weeks that end the day before ``day``, and as many that start
    ``offset_days`` after it (1: the day after; the day itself is half before, half after a
    fix and belongs to neither). Whole weeks on both sides hold the same weekdays."""
    if weeks < 0 or offset_days < 1:
        raise ValueError("weeks >= 0 and offset_days >= 1")
    length = timedelta(days=7 * weeks)
    after_start = day + timedelta(days=offset_days)
    return Windows(
        before_start=day - length,
        before_end=day - timedelta(days=1),
        after_start=after_start,
        after_end=after_start + length - timedelta(days=1),
    )
