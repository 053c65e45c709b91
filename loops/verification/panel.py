"""The verification panel of the issue page (loops.registry): for the issue's fix, each
checkpoint's windows, counts, rates per 1,000 contacts, effect, interval, p-value and verdict,
whether the contacts came back, and for the owner the two answers (verified, or reopen)."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from loops.access import MANAGE_ISSUES
from loops.models import Issue, Verdict, Verification
from loops.statistics import INTERVAL_NAME, Windows, windows_around
from loops.verification.services import OFFSETS, WINDOW_DAYS, fix_day
from voc.core.capabilities import has_capability
from voc.core.home import Fragment

Checkpoint = Verification.Checkpoint
Status = Issue.Status
TEMPLATE = "loops/verification/_panel.html"


@dataclass(frozen=True)
class CheckpointRow:
    verification: Verification
    windows: Windows
    final: bool
    before_rate: float | None  # per 1,000 contacts
    after_rate: float | None
    change_percent: float | None
    ci_low_percent: float | None
    ci_high_percent: float | None
    came_back: bool | None  # for the 30- and 90-day checks once final: None when not asked


def _rate(count: int, total: int) -> float | None:
    return 1000 * count / total if total else None


def _percent(ratio: float | None) -> float | None:
    return None if ratio is None else 100 * (ratio - 1)


def _row(verification: Verification, at_fix: Verification | None) -> CheckpointRow:
    windows = windows_around(
        fix_day(verification.fixed_at),
        weeks=verification.window_days // 7,
        offset_days=OFFSETS[verification.checkpoint],
    )
    final = verification.window_days >= WINDOW_DAYS
    came_back = None
    if (
        verification.checkpoint != Checkpoint.AT_FIX
        and final
        and at_fix is not None
        and at_fix.verdict == Verdict.WORKED
    ):
        came_back = verification.verdict != Verdict.WORKED
    return CheckpointRow(
        verification=verification,
        windows=windows,
        final=final,
        before_rate=_rate(verification.before_count, verification.before_total),
        after_rate=_rate(verification.after_count, verification.after_total),
        change_percent=_percent(verification.rate_ratio),
        ci_low_percent=_percent(verification.ci_low),
        ci_high_percent=_percent(verification.ci_high),
        came_back=came_back,
    )


def verification_rows(issue: Issue) -> list[CheckpointRow]:
    """The checkpoints of the issue's current fix, else of its latest one, in order."""
    rows = list(Verification.objects.filter(issue=issue))
    if not rows:
        return []
    fixed_at = issue.fixed_at or max(row.fixed_at for row in rows)
    current = {row.checkpoint: row for row in rows if row.fixed_at == fixed_at}
    at_fix = current.get(Checkpoint.AT_FIX)
    return [_row(current[c], at_fix) for c in Checkpoint.values if c in current]


def verification_context(issue: Issue, viewer: Any, *, error: str = "") -> dict[str, Any]:
    owner = viewer.is_authenticated and issue.owner_id is not None and issue.owner_id == viewer.pk
    answers = owner and has_capability(viewer, MANAGE_ISSUES) and issue.merged_into_id is None
    rows = verification_rows(issue)
    fixed_on: date | None = fix_day(issue.fixed_at) if issue.fixed_at else None
    return {
        "issue": issue,
        "rows": rows,
        "fixed_on": fixed_on,
        "has_reasons": issue.reasons.exists(),
        "interval_name": INTERVAL_NAME,
        "window_days": WINDOW_DAYS,
        "can_confirm": answers and issue.status == Status.FIXED,
        "can_reopen": answers and issue.status in (Status.FIXED, Status.VERIFIED),
        "current_fix": bool(rows) and issue.fixed_at is not None,
        "error": error,
    }


def verification_panel(issue: Issue, viewer: Any) -> Fragment | None:
    """The panel's content, or None for an issue that was never fixed."""
    context = verification_context(issue, viewer)
    if issue.fixed_at is None and not context["rows"]:
        return None
    return Fragment(TEMPLATE, context)
