"""Customer math counts distinct customers, not lifecycle events (contacts/customer_math.py):
a customer lost twice is one customer lost, one lost and won back counts in both figures, and
the rows behind a figure are exactly the customers it counts; per role, on the world of
tests/contacts/customer_math_world.py."""

import pytest

from contacts.customer_math import customer_counts, customers_counted, losses_by_reason
from tests.contacts import customer_math_world as w

pytestmark = pytest.mark.django_db
PERIODS = [(w.START, w.END), (w.PREVIOUS_START, w.PREVIOUS_END)]


@pytest.fixture
def world(cast):
    return w.build(cast)


def names(events) -> set[str]:
    return {event.customer.name for event in events}


@pytest.mark.parametrize("role", list(w.COUNTED))
def test_each_figure_counts_distinct_customers_in_the_viewers_scope(cast, world, role):
    viewer = w.viewers(cast, world)[role]
    gained, lost, won_back, lost_before = w.COUNTED[role]
    now, before = customer_counts(viewer=viewer, periods=PERIODS)
    assert (now.gained, now.lost, now.won_back) == (len(gained), len(lost), len(won_back))
    assert now.net == len(gained) + len(won_back) - len(lost)
    assert (before.gained, before.lost, before.won_back) == (0, len(lost_before), 0)


def test_the_executives_figures_are_customers_not_events(cast, world):
    (now,) = customer_counts(viewer=cast.executive, periods=[(w.START, w.END)])
    # Events: 3 gains (c5 twice), 7 losses (c1 and c2 twice), 2 win-backs.
    assert (now.gained, now.lost, now.won_back, now.net) == (2, 6, 2, -2)


def test_a_customer_lost_and_won_back_counts_in_both_figures(cast, world):
    # 3-10 October: c1 lost on the 3rd and won back on the 10th; c2 and c4 lost.
    (now,) = customer_counts(viewer=cast.executive, periods=[(w.day(3), w.day(10))])
    assert (now.lost, now.won_back, now.net) == (3, 1, -2)
    lost = customers_counted(viewer=cast.executive, start=w.day(3), end=w.day(10), kind="lost")
    won_back = customers_counted(
        viewer=cast.executive, start=w.day(3), end=w.day(10), kind="won_back"
    )
    assert names(lost) == {"c1", "c2", "c4"} and names(won_back) == {"c1"}
    # To the 20th, c1 was lost again: still one customer lost (and c3, c8 joined them).
    (now,) = customer_counts(viewer=cast.executive, periods=[(w.day(3), w.day(20))])
    assert (now.lost, now.won_back) == (5, 1)


def test_the_periods_edges_are_its_first_and_last_days(cast, world):
    # c5 gained on the 1st and the 31st, c7 lost on the 31st; c6 lost on the days either side.
    (first,) = customer_counts(viewer=cast.executive, periods=[(w.START, w.START)])
    (last,) = customer_counts(viewer=cast.executive, periods=[(w.END, w.END)])
    assert (first.gained, first.lost) == (1, 0)
    assert (last.gained, last.lost) == (1, 1)
    (after,) = customer_counts(viewer=cast.executive, periods=[(w.day(31), w.day(31))])
    assert after.lost == 1  # not c6's loss on 1 November


@pytest.mark.parametrize("role", list(w.COUNTED))
def test_the_rows_behind_each_figure_are_the_customers_it_counts(cast, world, role):
    viewer = w.viewers(cast, world)[role]
    gained, lost, won_back, lost_before = w.COUNTED[role]
    for kind, expected in (("gained", gained), ("lost", lost), ("won_back", won_back)):
        rows = list(customers_counted(viewer=viewer, start=w.START, end=w.END, kind=kind))
        assert len(rows) == len(expected), kind  # one row per customer
        assert names(rows) == expected, kind
    rows = customers_counted(viewer=viewer, start=w.PREVIOUS_START, end=w.PREVIOUS_END, kind="lost")
    assert names(rows) == lost_before


def test_a_customer_stands_for_their_latest_event_of_the_figure(cast, world):
    rows = {
        e.customer.name: e
        for e in customers_counted(viewer=cast.executive, start=w.START, end=w.END, kind="lost")
    }
    assert (rows["c1"].occurred_on, rows["c1"].reason) == (w.day(20), world.reasons["billing"])
    assert rows["c2"].occurred_on == w.day(25)
    # For one reason, the latest loss for that reason.
    double = customers_counted(
        viewer=cast.executive, start=w.START, end=w.END, kind="lost",
        reason_id=world.reasons["double"].id,
    )  # fmt: skip
    assert {(e.customer.name, e.occurred_on) for e in double} == {
        ("c1", w.day(3)), ("c2", w.day(25)), ("c8", w.day(12))
    }  # fmt: skip


@pytest.mark.parametrize(
    "role, expected",
    [
        # double, billing, outage, none: c1 counts under Double charge and Billing both.
        ("rep", {"double": 3, "billing": 1}),
        ("head", {"double": 3, "billing": 1, "outage": 1}),
        ("member", {"double": 3, "billing": 1, "outage": 1}),
        ("other_head", {"outage": 2, "none": 1}),
        ("executive", {"double": 3, "billing": 1, "outage": 2, "none": 1}),
        ("admin", {"double": 3, "billing": 1, "outage": 2, "none": 1}),
    ],
)
def test_losses_per_reason_count_customers_and_match_their_rows(cast, world, role, expected):
    viewer = w.viewers(cast, world)[role]
    ids = {reason.id: name for name, reason in world.reasons.items()} | {0: "none"}
    lost = losses_by_reason(viewer=viewer, start=w.START, end=w.END)
    assert {ids[r]: n for r, n in lost.items()} == expected
    for reason_id, n in lost.items():
        rows = customers_counted(
            viewer=viewer, start=w.START, end=w.END, kind="lost", reason_id=reason_id
        )
        assert rows.count() == n


def test_the_segment_narrows_to_its_customers(cast, world):
    (now,) = customer_counts(
        viewer=cast.executive, periods=[(w.START, w.END)], segments=["enterprise"]
    )
    assert (now.gained, now.lost, now.won_back) == (1, 1, 0)  # c3
    rows = customers_counted(
        viewer=cast.executive, start=w.START, end=w.END, kind="lost", segments=["enterprise"]
    )
    assert names(rows) == {"c3"}
