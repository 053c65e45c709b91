"""The pure rules of an issue's life (loops/rules.py): transitions, SLA clocks, chains."""

from datetime import UTC, datetime, timedelta

import pytest

from loops.models import Issue
from loops.rules import (
    SlaHours,
    TransitionFacts,
    allowed_targets,
    escalation_chain,
    next_escalation_step,
    overdue_clock,
    sla_due,
    sla_state,
    transition_refusal,
)

S = Issue.Status
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

LEGAL = [
    (S.NEW, S.TRIAGED),
    (S.NEW, S.ASSIGNED),
    (S.TRIAGED, S.ASSIGNED),
    (S.ASSIGNED, S.IN_PROGRESS),
    (S.IN_PROGRESS, S.FIXED),
    (S.FIXED, S.VERIFIED),
    (S.FIXED, S.IN_PROGRESS),
    (S.VERIFIED, S.IN_PROGRESS),
    (S.VERIFIED, S.CLOSED),
    (S.NEW, S.WONT_FIX),
    (S.IN_PROGRESS, S.WONT_FIX),
]


def facts(current, target, **kw):
    defaults = {"has_owner": True, "by_owner": True, "by_department_head": False, "why": "why"}
    return TransitionFacts(current=current, target=target, **(defaults | kw))


@pytest.mark.parametrize(("current", "target"), LEGAL)
def test_legal_moves_pass(current, target):
    assert transition_refusal(facts(current, target)) is None


def test_every_other_move_is_refused_with_what_is_allowed():
    legal = set(LEGAL) | {
        (S.TRIAGED, S.WONT_FIX),
        (S.ASSIGNED, S.WONT_FIX),
        (S.FIXED, S.WONT_FIX),
    }
    for current in S.values:
        for target in S.values:
            refusal = transition_refusal(facts(current, target))
            if (current, target) in legal:
                assert refusal is None, (current, target)
            else:
                assert refusal, (current, target)
    message = transition_refusal(facts(S.NEW, S.FIXED))
    assert message == (
        "An issue that is new cannot become fixed; it can become: triaged, assigned, won't fix."
    )
    assert "nothing (it is final)" in transition_refusal(facts(S.CLOSED, S.IN_PROGRESS))
    assert transition_refusal(facts(S.NEW, S.NEW)) == "The issue is already new."


def test_allowed_targets_in_lifecycle_order():
    assert allowed_targets(S.FIXED) == [S.IN_PROGRESS, S.VERIFIED, S.WONT_FIX]
    assert allowed_targets(S.CLOSED) == []
    assert allowed_targets(S.WONT_FIX) == []


def test_moves_that_need_an_owner():
    assert transition_refusal(facts(S.NEW, S.ASSIGNED, has_owner=False)) == (
        "Give the issue an owner first."
    )
    assert transition_refusal(facts(S.NEW, S.TRIAGED, has_owner=False)) is None


def test_wont_fix_only_by_owner_or_department_head_and_with_a_reason():
    outsider = facts(S.ASSIGNED, S.WONT_FIX, by_owner=False)
    assert "owner or the department head" in transition_refusal(outsider)
    head = facts(S.ASSIGNED, S.WONT_FIX, by_owner=False, by_department_head=True)
    assert transition_refusal(head) is None
    assert "Say why" in transition_refusal(facts(S.ASSIGNED, S.WONT_FIX, why="  "))


def test_only_the_owner_closes_and_reopening_needs_a_reason():
    assert transition_refusal(facts(S.VERIFIED, S.CLOSED, by_owner=False)) == (
        "Only the owner closes a verified issue."
    )
    assert transition_refusal(facts(S.FIXED, S.IN_PROGRESS, why="")) == (
        "Say why the issue is reopened."
    )
    # Starting work is not a reopening: no reason needed.
    assert transition_refusal(facts(S.ASSIGNED, S.IN_PROGRESS, why="")) is None


def test_a_merged_issue_does_not_move():
    assert "merged" in transition_refusal(facts(S.NEW, S.TRIAGED, merged=True))


def test_sla_due_in_wall_clock_hours():
    assert sla_due(T0, SlaHours(response=4, resolution=72)) == (
        T0 + timedelta(hours=4),
        T0 + timedelta(hours=72),
    )


def test_overdue_clock_boundaries():
    due = T0 + timedelta(hours=4)
    args = {"response_due_at": due, "responded_at": None, "resolution_due_at": None}
    assert overdue_clock(now=due, fixed_at=None, **args) is None  # exactly at: not yet
    assert overdue_clock(now=due + timedelta(seconds=1), fixed_at=None, **args) == "response"
    responded = args | {"responded_at": T0, "resolution_due_at": due}
    assert overdue_clock(now=due + timedelta(seconds=1), fixed_at=None, **responded) == (
        "resolution"
    )
    assert overdue_clock(now=due + timedelta(days=9), fixed_at=due, **responded) is None


def test_sla_state():
    due = T0 + timedelta(hours=48)
    assert sla_state(now=T0, due_at=None, stopped_at=None) == "none"
    assert sla_state(now=T0, due_at=due, stopped_at=None) == "on_track"
    assert sla_state(now=due - timedelta(hours=24), due_at=due, stopped_at=None) == "due_soon"
    assert sla_state(now=due - timedelta(hours=25), due_at=due, stopped_at=None) == "on_track"
    assert sla_state(now=due + timedelta(seconds=1), due_at=due, stopped_at=None) == "breached"
    assert sla_state(now=due + timedelta(days=3), due_at=due, stopped_at=due) == "met"
    late = due + timedelta(seconds=1)
    assert sla_state(now=late, due_at=due, stopped_at=late) == "breached"


def test_escalation_chain_skips_missing_and_repeated_people():
    assert escalation_chain(owner_id=1, owner_manager_id=2, sponsor_id=3) == [
        (1, 1),
        (2, 2),
        (3, 3),
    ]
    assert escalation_chain(owner_id=1, owner_manager_id=None, sponsor_id=3) == [(1, 1), (3, 3)]
    # The owner's manager is also the sponsor: told once, at level 2.
    assert escalation_chain(owner_id=1, owner_manager_id=3, sponsor_id=3) == [(1, 1), (2, 3)]
    assert escalation_chain(owner_id=None, owner_manager_id=None, sponsor_id=None) == []


def test_next_escalation_step_one_level_at_a_time():
    chain = [(1, 10), (2, 20), (3, 30)]
    assert next_escalation_step(chain, done_levels=[]) == (1, 10)
    assert next_escalation_step(chain, done_levels=[1]) == (2, 20)
    assert next_escalation_step(chain, done_levels=[1, 2, 3]) is None
