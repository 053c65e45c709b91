"""The escalation schedule, as pure functions of plain values (tested without a database).

A missed deadline climbs its chain one step at a time (``loops.rules.escalation_chain`` gives
the steps and skips anyone missing or already earlier in the chain):

- an issue: its owner (with no owner yet, the head of its department: the person who should
  assign it), then that person's ``reports_to``, then the issue's executive sponsor;
- a follow-up: its assignee, then their ``reports_to``, then the head of its department.

The first step is due the moment the deadline has passed (exactly at the deadline is not yet
overdue, one second past is); each later step waits one more ``step`` (the business setting
``sla_escalation_step_hours``), and never sooner than a step after the escalation before
it, so a manager hears of it only when the owner had a fair chance.
A sweep escalates at most one step per target and clock; a step already escalated (its level
is recorded) or whose person was already told about this target and clock is passed over.
"""

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from loops.rules import escalation_chain


@dataclass(frozen=True)
class ChainPeople:
    """Who could be told, by user id (None: nobody there, or not an active user)."""

    first: int | None  # the owner (issue: else the department head), the assignee (follow-up)
    first_manager: int | None  # ``first``'s reports_to
    last: int | None  # the sponsor (issue), the department head (follow-up)


def chain_of(people: ChainPeople) -> list[tuple[int, int]]:
    return escalation_chain(
        owner_id=people.first, owner_manager_id=people.first_manager, sponsor_id=people.last
    )


def step_due_at(due_at: datetime, *, position: int, step: timedelta) -> datetime:
    """When the chain's step at ``position`` (0 for its first) may escalate: strictly after."""
    return due_at + position * step


def next_step(
    chain: Sequence[tuple[int, int]],
    *,
    due_at: datetime,
    now: datetime,
    step: timedelta,
    done_levels: Collection[int],
    notified: Collection[int],
    last_at: datetime | None = None,
) -> tuple[int, int] | None:
    """The (level, user id) to escalate to now, or None (nothing due, or the chain is done).

    Steps whose level was escalated, or whose person was already told about this target and
    clock (the owner changed, say), are passed over; the first step left escalates once
    ``now`` is past its own time (:func:`step_due_at`) and, when an escalation of this target
    and clock was made already (at ``last_at``), at least a whole step after it too: long overdue
    work (after an outage, or on the day escalation is switched on) still gives each person
    a step's time before the next one hears."""
    for position, (level, user_id) in enumerate(chain):
        if level in done_levels or user_id in notified:
            continue
        past_its_time = now > step_due_at(due_at, position=position, step=step)
        a_step_since_the_last = last_at is None or now >= last_at + step
        if past_its_time and a_step_since_the_last:
            return level, user_id
        return None
    return None


def due_state(
    *, now: datetime, due_at: datetime | None, stopped_at: datetime | None, warn_hours: int = 24
) -> str:
    """How a clock stands for people: "none", "met", "missed" (stopped late), "overdue",
    "due_soon" (within ``warn_hours``; exactly ``warn_hours`` ahead is due soon) or "on_time"."""
    if due_at is None:
        return "none"
    if stopped_at is not None:
        return "met" if stopped_at <= due_at else "missed"
    if now > due_at:
        return "overdue"
    if due_at - now <= timedelta(hours=warn_hours):
        return "due_soon"
    return "on_time"


STATE_LABELS = {
    "none": "no deadline",
    "met": "met",
    "missed": "met late",
    "overdue": "overdue",
    "due_soon": "due soon",
    "on_time": "on time",
}


def reminder_due(*, now: datetime, due_at: datetime | None, within_hours: int = 24) -> bool:
    """A due-date reminder is due when the deadline is still ahead and at most
    ``within_hours`` away (exactly ``within_hours`` ahead: yes; exactly at it: no, it is due)."""
    if due_at is None:
        return False
    return now < due_at <= now + timedelta(hours=within_hours)


def age_days_text(*, opened_at: datetime, now: datetime) -> str:
    """ "opened today", "open for 1 day", "open for 90 days" (whole days, rounded down)."""
    days = max(0, (now - opened_at).days)
    if days == 0:
        return "opened today"
    return f"open for {days} day{'s' if days != 1 else ''}"


# Severities whose age is shouted: "Code red for 90 days" (the board's and home pages' words).
SHOUTED = {"code_red": "Code red", "high": "High"}


def ageing_text(*, severity: str, opened_at: datetime, now: datetime) -> str | None:
    """ "Code red for 90 days" for an open code red or high issue at least a day old; None
    for the others (their age is shown plainly)."""
    label = SHOUTED.get(severity)
    days = max(0, (now - opened_at).days)
    if label is None or days < 1:
        return None
    return f"{label} for {days} day{'s' if days != 1 else ''}"
