"""Did the fix work? Verifications of fixed issues, read from the contact rollups and judged
by ``loops.statistics`` (docs/loops-verification.md), and the owner's answer to them.

Three checkpoints per fix, each comparing the six whole weeks before the fix day with six whole
weeks after it (the fix day itself, half before and half after, belongs to neither):

- ``at_fix``: the weeks starting the day after the fix;
- ``day_30`` and ``day_90``: the weeks starting 30 and 90 days after it (did the contacts come
  back?).

A checkpoint's row is written when it starts (``at_fix`` when the issue is fixed) and rewritten
each day, on the whole weeks passed so far and as many weeks just before the fix, until its six
weeks after have passed; from then on it is final (``window_days`` = 42) and never rewritten.
Until then its verdict is "too early". Days are reporting days (``VOC_REPORTING_TIME_ZONE``),
as in the rollups; the windows count the contacts of the issue's reasons (a parent reason
includes its sub-reasons) against the contacts of all reasons, within no one's row scope.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Exists, OuterRef
from django.utils import timezone

from contacts.reporting import RollupFilters, rollup_totals
from contacts.rollups import reporting_tz
from loops import statistics
from loops.models import Issue, Verdict, Verification
from loops.services.issues import issue_transition
from voc.people.models import User

Checkpoint = Verification.Checkpoint
Status = Issue.Status

WINDOW_WEEKS = 6
WINDOW_DAYS = 7 * WINDOW_WEEKS
# Days from the fix day to the first day of each checkpoint's after-window.
OFFSETS: dict[str, int] = {Checkpoint.AT_FIX: 1, Checkpoint.DAY_30: 30, Checkpoint.DAY_90: 90}
# Statuses in which a fix is being checked (won't fix and reopened issues are not).
CHECKED = (Status.FIXED, Status.VERIFIED, Status.CLOSED)


def reporting_today(now: datetime | None = None) -> date:
    return timezone.localtime(now or timezone.now(), reporting_tz()).date()


def fix_day(fixed_at: datetime) -> date:
    """The reporting day the fix landed on."""
    return timezone.localtime(fixed_at, reporting_tz()).date()


@dataclass(frozen=True)
class CheckpointWindows:
    windows: statistics.Windows
    weeks_passed: int  # whole weeks of the after-window that have passed (at most 6)
    final_on: date  # the first day on which the checkpoint is final

    @property
    def final(self) -> bool:
        return self.weeks_passed >= WINDOW_WEEKS


def checkpoint_windows(*, fixed_on: date, checkpoint: str, today: date) -> CheckpointWindows:
    """The windows a checkpoint compares today: the whole weeks of its after-window that have
    passed (a day has passed once it is over: today is still being counted), and as many weeks
    just before the fix day."""
    offset = OFFSETS[checkpoint]
    after_start = fixed_on + timedelta(days=offset)
    passed = max(0, min(WINDOW_WEEKS, (today - after_start).days // 7))
    return CheckpointWindows(
        windows=statistics.windows_around(fixed_on, weeks=passed, offset_days=offset),
        weeks_passed=passed,
        final_on=after_start + timedelta(days=WINDOW_DAYS),
    )


def checkpoints_started(*, fixed_on: date, today: date) -> list[str]:
    """The checkpoints whose after-window has started by ``today``."""
    return [
        checkpoint
        for checkpoint, offset in OFFSETS.items()
        if today >= fixed_on + timedelta(days=offset) or checkpoint == Checkpoint.AT_FIX
    ]


def _window_counts(reason_ids: frozenset[int], windows: statistics.Windows) -> tuple[
    statistics.WindowCounts, statistics.WindowCounts
]:  # fmt: skip
    """The issue's reasons' contacts and all contacts in both windows: two rollup queries."""
    days = windows.days
    if days == 0:
        empty = statistics.WindowCounts(0, 0, 0)
        return empty, empty
    span = RollupFilters(start=windows.before_start, end=windows.after_end)
    totals = rollup_totals(viewer=None, filters=span, group_by=["day"], columns=["contacts"])
    reasons = rollup_totals(
        viewer=None,
        filters=RollupFilters(start=span.start, end=span.end, reason_ids=reason_ids),
        group_by=["day"],
        columns=["contacts"],
    )

    def window_sums(rows: list[dict[str, object]]) -> tuple[int, int]:
        before = after = 0
        for row in rows:
            day, n = row["day"], row["contacts"]
            assert isinstance(day, date) and isinstance(n, int)
            if windows.before_start <= day <= windows.before_end:
                before += n
            elif windows.after_start <= day <= windows.after_end:
                after += n
        return before, after

    reason_before, reason_after = window_sums(reasons)
    total_before, total_after = window_sums(totals)
    return (
        statistics.WindowCounts(reason_before, total_before, days),
        statistics.WindowCounts(reason_after, total_after, days),
    )


def _finite(value: float | None) -> float | None:
    return None if value is None or value in (float("inf"), float("-inf")) else value


def verification_compute(
    *, issue: Issue, checkpoint: str, now: datetime | None = None
) -> Verification | None:
    """Compute (or recompute) one checkpoint of the issue's current fix and store it. A final
    checkpoint is returned as it is; an issue that is not fixed, or names no reasons, has none
    (None)."""
    if issue.fixed_at is None or issue.status not in CHECKED:
        return None
    reason_ids = frozenset(issue.reasons.values_list("id", flat=True))
    if not reason_ids:
        return None
    existing = Verification.objects.filter(
        issue=issue, checkpoint=checkpoint, fixed_at=issue.fixed_at
    ).first()
    if existing is not None and existing.window_days >= WINDOW_DAYS:
        return existing
    now = now or timezone.now()
    frame = checkpoint_windows(
        fixed_on=fix_day(issue.fixed_at), checkpoint=checkpoint, today=reporting_today(now)
    )
    before, after = _window_counts(reason_ids, frame.windows)
    result = statistics.fix_verification(before, after)
    verdict = result.verdict if frame.final else statistics.TOO_EARLY
    explanation = result.reason if frame.final else _interim(frame)
    verification, _ = Verification.objects.update_or_create(
        issue=issue,
        checkpoint=checkpoint,
        fixed_at=issue.fixed_at,
        defaults={
            "computed_at": now,
            "window_days": frame.windows.days,
            "before_count": before.count,
            "before_total": before.total,
            "after_count": after.count,
            "after_total": after.total,
            "test_name": result.test_name,
            "rate_ratio": _finite(result.rate_ratio),
            "ci_low": _finite(result.ci_low),
            "ci_high": _finite(result.ci_high),
            "p_value": result.p_value,
            "verdict": Verdict(verdict),
            "explanation": explanation,
        },
    )
    return verification


def _interim(frame: CheckpointWindows) -> str:
    weeks = frame.weeks_passed
    return (
        f"Too early: {weeks} of {WINDOW_WEEKS} weeks of the window have passed; "
        f"the verdict is final on {frame.final_on:%d %b %Y}."
    )


def verification_refresh(*, issue_id: int, now: datetime | None = None) -> int:
    """Bring every started checkpoint of the issue's current fix up to date. Returns the
    number of rows written (0 when nothing was due or the issue is gone)."""
    issue = Issue.objects.filter(pk=issue_id, merged_into__isnull=True).first()
    if issue is None or issue.fixed_at is None or issue.status not in CHECKED:
        return 0
    now = now or timezone.now()
    written = 0
    started = checkpoints_started(fixed_on=fix_day(issue.fixed_at), today=reporting_today(now))
    final = set(
        Verification.objects.filter(
            issue=issue, fixed_at=issue.fixed_at, window_days__gte=WINDOW_DAYS
        ).values_list("checkpoint", flat=True)
    )
    for checkpoint in started:
        if checkpoint in final:
            continue
        if verification_compute(issue=issue, checkpoint=checkpoint, now=now) is not None:
            written += 1
    return written


def verification_sweep(*, now: datetime | None = None) -> int:
    """The daily job: every fixed issue whose checks are not all final. Rows written."""
    final_90 = Verification.objects.filter(
        issue=OuterRef("pk"),
        fixed_at=OuterRef("fixed_at"),
        checkpoint=Checkpoint.DAY_90,
        window_days__gte=WINDOW_DAYS,
    )
    issue_ids = (
        Issue.objects.filter(fixed_at__isnull=False, status__in=CHECKED, merged_into__isnull=True)
        .exclude(Exists(final_90))
        .order_by("id")
        .values_list("id", flat=True)
    )
    return sum(verification_refresh(issue_id=issue_id, now=now) for issue_id in issue_ids)


# --- The owner's answer -----------------------------------------------------------------------


def verification_current(issue: Issue) -> Verification | None:
    """The at-fix verification of the issue's current fix, if computed."""
    if issue.fixed_at is None:
        return None
    return Verification.objects.filter(
        issue=issue, fixed_at=issue.fixed_at, checkpoint=Checkpoint.AT_FIX
    ).first()


def _check_owner(issue: Issue, by: User) -> None:
    if issue.owner_id is None or issue.owner_id != by.pk:
        raise ValidationError("Only the issue's owner answers its verification.")


def verification_confirm(*, issue: Issue, by: User, why: str = "") -> Issue:
    """The owner confirms the fix: the issue becomes verified. Confirming a fix the numbers do
    not show (yet) needs a reason, kept in the audit trail."""
    _check_owner(issue, by)
    if issue.status != Status.FIXED:
        raise ValidationError("Only a fixed issue can be confirmed as verified.")
    current = verification_current(issue)
    if (current is None or current.verdict != Verdict.WORKED) and not why.strip():
        raise ValidationError(
            "The numbers do not show that the fix worked (yet): say why you confirm it."
        )
    return issue_transition(issue=issue, to=Status.VERIFIED, by=by, why=why.strip())


def verification_reopen(*, issue: Issue, by: User, why: str) -> Issue:
    """The owner reopens the issue (back to in progress): the fix did not hold."""
    _check_owner(issue, by)
    if issue.status not in (Status.FIXED, Status.VERIFIED):
        raise ValidationError("Only a fixed or verified issue can be reopened from here.")
    return issue_transition(issue=issue, to=Status.IN_PROGRESS, by=by, why=why)
