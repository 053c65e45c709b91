"""The escalation schedule and the clocks' states, pure (no database), pinned at the
boundaries: exactly at a time and one second past."""

from datetime import UTC, datetime, timedelta

import pytest

from loops.rules import overdue_clock
from loops.sla.rules import (
    ChainPeople,
    age_days_text,
    ageing_text,
    chain_of,
    due_state,
    next_step,
    reminder_due,
    step_due_at,
)

DUE = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
STEP = timedelta(hours=24)
SECOND = timedelta(seconds=1)
OWNER, MANAGER, SPONSOR = 11, 12, 13
CHAIN = [(1, OWNER), (2, MANAGER), (3, SPONSOR)]


def step(now, *, chain=CHAIN, done=(), notified=()):
    return next_step(chain, due_at=DUE, now=now, step=STEP, done_levels=done, notified=notified)


def test_the_first_level_is_not_due_exactly_at_the_deadline_and_is_one_second_past():
    assert step(DUE) is None
    assert step(DUE + SECOND) == (1, OWNER)


def test_the_second_level_waits_one_step_after_the_deadline():
    assert step(DUE + STEP, done={1}, notified={OWNER}) is None
    assert step(DUE + STEP + SECOND, done={1}, notified={OWNER}) == (2, MANAGER)


def test_the_third_level_waits_two_steps():
    done, notified = {1, 2}, {OWNER, MANAGER}
    assert step(DUE + 2 * STEP, done=done, notified=notified) is None
    assert step(DUE + 2 * STEP + SECOND, done=done, notified=notified) == (3, SPONSOR)


def test_one_level_per_sweep_even_when_all_are_late():
    """A sweep after a long outage escalates the owner first, never two levels at once."""
    assert step(DUE + 10 * STEP) == (1, OWNER)
    assert step(DUE + 10 * STEP, done={1}, notified={OWNER}) == (2, MANAGER)


def test_a_finished_chain_has_no_next_step():
    assert step(DUE + 10 * STEP, done={1, 2, 3}, notified={OWNER, MANAGER, SPONSOR}) is None


def test_someone_already_told_about_this_clock_is_passed_over():
    """The owner changed after level 1: the new owner's manager is the old owner, who was told
    already, so the sponsor is next (at the third position's time)."""
    chain = chain_of(ChainPeople(first=20, first_manager=OWNER, last=SPONSOR))
    assert chain == [(1, 20), (2, OWNER), (3, SPONSOR)]
    # Level 1 done (for the old owner); the old owner is level 2 of the new chain: skipped.
    assert step(DUE + STEP + SECOND, chain=chain, done={1}, notified={OWNER}) is None
    assert step(DUE + 2 * STEP + SECOND, chain=chain, done={1}, notified={OWNER}) == (3, SPONSOR)


def test_a_missing_person_is_skipped_and_the_next_one_takes_the_first_position():
    chain = chain_of(ChainPeople(first=None, first_manager=None, last=SPONSOR))
    assert chain == [(3, SPONSOR)]
    assert step(DUE, chain=chain) is None
    assert step(DUE + SECOND, chain=chain) == (3, SPONSOR)


def test_the_same_person_twice_in_a_chain_is_told_once():
    """A head who sponsors their own department's issue (or a manager reporting to nobody
    but themself) is one step, not two."""
    assert chain_of(ChainPeople(first=OWNER, first_manager=OWNER, last=OWNER)) == [(1, OWNER)]
    assert chain_of(ChainPeople(first=OWNER, first_manager=None, last=SPONSOR)) == [
        (1, OWNER),
        (3, SPONSOR),
    ]


def test_step_times():
    assert step_due_at(DUE, position=0, step=STEP) == DUE
    assert step_due_at(DUE, position=2, step=STEP) == DUE + 2 * STEP


@pytest.mark.parametrize(
    ("now", "stopped", "state"),
    [
        (DUE - timedelta(hours=24) - SECOND, None, "on_time"),
        (DUE - timedelta(hours=24), None, "due_soon"),
        (DUE, None, "due_soon"),
        (DUE + SECOND, None, "overdue"),
        (DUE + SECOND, DUE, "met"),
        (DUE + timedelta(days=3), DUE + SECOND, "missed"),
    ],
)
def test_due_states_at_the_boundaries(now, stopped, state):
    assert due_state(now=now, due_at=DUE, stopped_at=stopped) == state


def test_no_deadline_has_no_state():
    assert due_state(now=DUE, due_at=None, stopped_at=None) == "none"


def test_the_overdue_clock_agrees_with_the_schedule():
    """loops.rules.overdue_clock and the sweep agree: exactly at the deadline is not overdue."""
    facts = {"responded_at": None, "resolution_due_at": None, "fixed_at": None}
    assert overdue_clock(now=DUE, response_due_at=DUE, **facts) is None
    assert overdue_clock(now=DUE + SECOND, response_due_at=DUE, **facts) == "response"


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (DUE - timedelta(hours=24) - SECOND, False),
        (DUE - timedelta(hours=24), True),
        (DUE - SECOND, True),
        (DUE, False),
    ],
)
def test_a_reminder_is_due_within_a_day_of_the_deadline(now, expected):
    assert reminder_due(now=now, due_at=DUE) is expected
    assert reminder_due(now=now, due_at=None) is False


def test_ageing_shouts_for_code_red_and_high_only():
    opened = DUE - timedelta(days=90, hours=1)
    assert ageing_text(severity="code_red", opened_at=opened, now=DUE) == "Code red for 90 days"
    assert ageing_text(severity="high", opened_at=DUE - timedelta(days=1), now=DUE) == (
        "High for 1 day"
    )
    assert ageing_text(severity="code_red", opened_at=DUE - timedelta(hours=23), now=DUE) is None
    assert ageing_text(severity="medium", opened_at=opened, now=DUE) is None
    assert age_days_text(opened_at=opened, now=DUE) == "open for 90 days"
    assert age_days_text(opened_at=DUE - timedelta(hours=23), now=DUE) == "opened today"


def test_long_overdue_work_still_gives_each_person_a_step():
    """Ten steps late (an outage, or the day escalation is switched on): the owner is told,
    and their manager only a whole step after that, not a minute later."""
    told_at = DUE + 10 * STEP
    facts = {"due_at": DUE, "step": STEP, "last_at": told_at, "done_levels": {1}}
    assert next_step(CHAIN, now=told_at + STEP - SECOND, notified={OWNER}, **facts) is None
    assert next_step(CHAIN, now=told_at + STEP, notified={OWNER}, **facts) == (2, MANAGER)
