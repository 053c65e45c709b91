"""The open issues behind lost customers (loops/losses.py): an issue on a parent reason is
behind the losses for its children, one on a child only behind its own, one on a merged reason
behind the losses moved to the survivor; each customer counts once per issue; per role, on
the world of tests/contacts/customer_math_world.py."""

import pytest

from contacts.customer_math import customer_events_between
from loops.losses import issues_behind_losses
from tests.contacts import customer_math_world as w

pytestmark = pytest.mark.django_db

# Issue -> customers lost behind it, per role (the issues the role may see, most first).
#   I1 (Billing): Billing and its children -> c1, c2, c8 (c1 lost for both, once)
#   I2 (Double charge), I4 (Refunds, merged into Double charge) -> c1, c2, c8
#   I3 (Outage) -> c3, c4; I7 (Double charge and Outage) -> c1, c2, c8, c3, c4
#   I5 (Wrong amount): nobody lost for it (c1's loss for its parent is not its loss)
BEHIND = {
    "rep": [("I2", 3)],  # the issue the rep opened
    "head": [("I1", 3), ("I2", 3), ("I4", 3), ("I3", 1)],  # owns I3; sees only c4 of its losses
    "member": [("I1", 3), ("I2", 3), ("I4", 3)],
    "other_head": [("I3", 2), ("I7", 2)],
    "executive": [("I7", 5), ("I1", 3), ("I2", 3), ("I4", 3), ("I3", 2)],
    "admin": [("I7", 5), ("I1", 3), ("I2", 3), ("I4", 3), ("I3", 2)],
}


@pytest.fixture
def world(cast):
    return w.build(cast)


def behind(viewer, world, **more):
    losses = customer_events_between(
        viewer=viewer, start=w.START, end=w.END, kinds=["lost"], **more
    )
    titles = {issue.pk: key for key, issue in world.issues.items()}
    return [
        (titles[row.issue.pk], row.lost)
        for row in issues_behind_losses(viewer=viewer, losses=losses)
    ]


@pytest.mark.parametrize("role", list(BEHIND))
def test_each_role_sees_the_issues_behind_its_losses(cast, world, role):
    assert behind(w.viewers(cast, world)[role], world) == BEHIND[role]


def test_an_issue_names_its_reasons_that_customers_were_lost_for(
    cast, world, django_assert_num_queries
):
    losses = customer_events_between(
        viewer=cast.executive, start=w.START, end=w.END, kinds=["lost"]
    )
    with django_assert_num_queries(2):  # the issues' links, then their losses in one pass
        rows = {
            row.issue.pk: row for row in issues_behind_losses(viewer=cast.executive, losses=losses)
        }
    r = world.reasons
    assert rows[world.issues["I1"].pk].reason_ids == (r["billing"].id,)
    assert rows[world.issues["I4"].pk].reason_ids == (r["double"].id,)  # what Refunds became
    assert rows[world.issues["I7"].pk].reason_ids == (r["double"].id, r["outage"].id)


def test_the_limit_keeps_the_most_losses(cast, world):
    losses = customer_events_between(
        viewer=cast.executive, start=w.START, end=w.END, kinds=["lost"]
    )
    rows = issues_behind_losses(viewer=cast.executive, losses=losses, limit=2)
    assert [row.issue for row in rows] == [world.issues["I7"], world.issues["I1"]]


def test_no_loss_on_a_listed_reason_is_no_issue(cast, world, django_assert_num_queries):
    # The 31st: only c7, lost for no reason from the list.
    losses = customer_events_between(viewer=cast.executive, start=w.END, end=w.END, kinds=["lost"])
    with django_assert_num_queries(1):
        assert issues_behind_losses(viewer=cast.executive, losses=losses) == []


def test_an_issue_on_a_child_is_not_behind_a_loss_for_its_parent(cast, world):
    # 20 October: c1 lost for Billing itself. Only I1 (on Billing) is behind it; I2, I4, I5
    # and I7 are on Billing's children.
    losses = customer_events_between(
        viewer=cast.executive, start=w.day(20), end=w.day(20), kinds=["lost"]
    )
    rows = issues_behind_losses(viewer=cast.executive, losses=losses)
    assert [(row.issue, row.lost) for row in rows] == [(world.issues["I1"], 1)]
