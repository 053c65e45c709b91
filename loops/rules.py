"""The rules of an issue's life, as pure functions of plain values (tested without a database):

- which status may follow which, and who may make the move (``transition_refusal``);
- when the SLA clocks are due and whether they are overdue (``sla_due``, ``overdue_clock``);
- who is next in an escalation chain (``escalation_chain``).

Statuses run new → triaged → assigned → in progress → fixed → verified → closed. An issue may
be declared "won't fix" from any open status, by its owner or its department's head, with a
reason the reporters see. Fixed or verified may reopen to in progress; only the owner closes,
and only after verified.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from loops.models import Issue

Status = Issue.Status

# to-status → the statuses it may come from.
ALLOWED_FROM: dict[str, frozenset[str]] = {
    Status.TRIAGED: frozenset({Status.NEW}),
    Status.ASSIGNED: frozenset({Status.NEW, Status.TRIAGED}),
    Status.IN_PROGRESS: frozenset({Status.ASSIGNED, Status.FIXED, Status.VERIFIED}),
    Status.FIXED: frozenset({Status.IN_PROGRESS}),
    Status.VERIFIED: frozenset({Status.FIXED}),
    Status.CLOSED: frozenset({Status.VERIFIED}),
    Status.WONT_FIX: frozenset(
        {Status.NEW, Status.TRIAGED, Status.ASSIGNED, Status.IN_PROGRESS, Status.FIXED}
    ),
}
REOPENING = frozenset({Status.FIXED, Status.VERIFIED})
NEEDS_OWNER = frozenset(
    {Status.ASSIGNED, Status.IN_PROGRESS, Status.FIXED, Status.VERIFIED, Status.CLOSED}
)


@dataclass(frozen=True)
class TransitionFacts:
    """What the transition rule looks at."""

    current: str
    target: str
    has_owner: bool
    merged: bool = False
    by_owner: bool = False
    by_department_head: bool = False
    by_admin: bool = False
    why: str = ""


def allowed_targets(current: str) -> list[str]:
    """The statuses an issue in ``current`` may move to, in the lifecycle's order."""
    return [target for target in Status.values if current in ALLOWED_FROM.get(target, ())]


def transition_refusal(facts: TransitionFacts) -> str | None:
    """Why this move is not allowed (a message for the person who tried), or None."""
    current, target = Status(facts.current), facts.target
    if facts.merged:
        return "This issue was merged into another one; change that one instead."
    if target not in Status.values:
        return f"“{target}” is not a status."
    if target == current:
        return f"The issue is already {current.label.lower()}."
    if current not in ALLOWED_FROM.get(target, frozenset()):
        targets = ", ".join(Status(t).label.lower() for t in allowed_targets(current))
        return (
            f"An issue that is {current.label.lower()} cannot become "
            f"{Status(target).label.lower()}; it can become: {targets or 'nothing (it is final)'}."
        )
    if target in NEEDS_OWNER and not facts.has_owner:
        return "Give the issue an owner first."
    if target == Status.WONT_FIX:
        if not (facts.by_owner or facts.by_department_head):
            return "Only the owner or the department head may decide not to fix an issue."
        if not facts.why.strip():
            return "Say why it will not be fixed: the customers who reported it will read this."
    if target == Status.CLOSED and not facts.by_owner:
        return "Only the owner closes a verified issue."
    if target == Status.IN_PROGRESS and current in REOPENING and not facts.why.strip():
        return "Say why the issue is reopened."
    return None


# --- SLA clocks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaHours:
    response: int
    resolution: int


# Used when an admin has not set a severity's policy (loops.SlaPolicy overrides them).
DEFAULT_SLA_HOURS: dict[str, SlaHours] = {
    "code_red": SlaHours(response=4, resolution=72),
    "high": SlaHours(response=24, resolution=7 * 24),
    "medium": SlaHours(response=3 * 24, resolution=30 * 24),
    "low": SlaHours(response=7 * 24, resolution=90 * 24),
}


def sla_due(opened_at: datetime, hours: SlaHours) -> tuple[datetime, datetime]:
    """The response and resolution deadlines of an issue opened at ``opened_at``, in wall-clock
    hours (a night or a weekend counts: customers keep calling)."""
    return (
        opened_at + timedelta(hours=hours.response),
        opened_at + timedelta(hours=hours.resolution),
    )


def overdue_clock(
    *,
    now: datetime,
    response_due_at: datetime | None,
    responded_at: datetime | None,
    resolution_due_at: datetime | None,
    fixed_at: datetime | None,
) -> str | None:
    """Which clock has run out ("response" before "resolution"), or None. A clock stops when
    its event happened; exactly at the deadline is not yet overdue."""
    if response_due_at is not None and responded_at is None and now > response_due_at:
        return "response"
    if resolution_due_at is not None and fixed_at is None and now > resolution_due_at:
        return "resolution"
    return None


def sla_state(
    *, now: datetime, due_at: datetime | None, stopped_at: datetime | None, warn_hours: int = 24
) -> str:
    """ "met", "breached" (stopped late or overdue now), "due_soon" (within ``warn_hours``),
    "on_track" or "none" (no clock)."""
    if due_at is None:
        return "none"
    if stopped_at is not None:
        return "met" if stopped_at <= due_at else "breached"
    if now > due_at:
        return "breached"
    if due_at - now <= timedelta(hours=warn_hours):
        return "due_soon"
    return "on_track"


# --- Escalation ------------------------------------------------------------------------------


def escalation_chain(
    *, owner_id: int | None, owner_manager_id: int | None, sponsor_id: int | None
) -> list[tuple[int, int]]:
    """The (level, user id) steps of an escalation: the owner (1), the owner's manager (2),
    the executive sponsor (3). Anyone missing or already earlier in the chain is skipped, so
    nobody is told twice; the levels keep their numbers."""
    steps: list[tuple[int, int]] = []
    seen: set[int] = set()
    for level, user_id in ((1, owner_id), (2, owner_manager_id), (3, sponsor_id)):
        if user_id is None or user_id in seen:
            continue
        seen.add(user_id)
        steps.append((level, user_id))
    return steps


def next_escalation_step(
    chain: Sequence[tuple[int, int]], *, done_levels: Sequence[int]
) -> tuple[int, int] | None:
    """The first step of ``chain`` not escalated yet (one level per sweep), or None."""
    done = set(done_levels)
    for level, user_id in chain:
        if level not in done:
            return level, user_id
    return None


# Ageing: an open issue of this severity is "code red for N days" on the board and home pages.
def age_days(*, opened_at: datetime, now: datetime) -> int:
    return max(0, (now - opened_at).days)
