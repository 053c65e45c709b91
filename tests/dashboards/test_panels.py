"""Every panel's figures equal a direct count of the contacts or feedback items behind them, for
every role's scope and each filter, in a reporting time zone with a daylight-saving day and
with days given without a time; the drill-down of a figure lists exactly those rows."""

from collections import Counter
from datetime import timedelta
from fractions import Fraction

import pytest
import time_machine

from contacts.reporting import rollup_contacts
from feedback.items.reporting import rollup_feedback_items
from tests.dashboards import world
from voc.dashboards import panels
from voc.dashboards.drill import drill_contacts, drill_feedback, drill_from

pytestmark = pytest.mark.django_db

# "team_lead" leads team B and heads nothing: team B's rows only.
VIEWERS = ["executive", "admin", "manager", "other_manager", "team_lead", "rep", "bystander"]


@pytest.fixture
def data(cast, settings):
    settings.VOC_REPORTING_TIME_ZONE = world.TZ
    with time_machine.travel(world.TODAY, tick=False):
        reasons = world.make_reasons(cast)
        world.make_contacts(cast, reasons)
        world.make_feedback(cast, reasons)
        cast.bystander = world.manager_heading_nothing(cast)
        cast.team_lead = world.team_lead_of(cast.team_b)
        yield reasons


def filter_sets(cast):
    return [
        world.filters(),
        world.filters(channel="email"),
        world.filters(team_id=cast.team_a.id),
        world.filters(segment="consumer"),
        world.filters(segment="none"),
    ]


def test_the_edge_contacts_count_on_their_reporting_days(cast, data):
    """The daylight-saving day holds the four contacts of 1 November in New York (one UTC
    contact of the 2nd included, one of the 1st excluded) and the day given without a time."""
    f = world.filters()
    week = panels.reasons_by_week(cast.executive, f)
    outage = next(row for row in week["table"] if row["reason"] == "Outage")
    direct = Counter(
        world.reporting_day(c) for c in world.contacts_counted(cast.executive, f)
        if c.reason_id == data["outage"].id
    )  # fmt: skip
    edge_days = [world.reporting_day(c) for c in rollup_contacts(
        viewer=cast.executive, filters=f.rollup(start=world.DST_DAY, end=world.DST_DAY),
    ) if c.external_id.startswith("w-edge")]  # fmt: skip
    # 04:30, 05:30, 06:30 UTC on the 1st, 04:30 UTC on the 2nd; and the password reset day.
    assert len(edge_days) == 5
    assert outage["total"] == sum(direct.values())
    # The period's edge contacts: 3 of the 5 "password" days and 2 of the 4 "where" instants.
    counted = {c.external_id for c in world.contacts_counted(cast.executive, f)}
    assert {f"w-edge-{n}" for n in (5, 6, 7)} <= counted
    assert not {f"w-edge-{n}" for n in (8, 9, 11, 13)} & counted
    assert {"w-edge-10", "w-edge-12"} <= counted


@pytest.mark.parametrize("role", VIEWERS)
def test_top_drivers_equal_direct_counts(cast, data, role):
    viewer = getattr(cast, role)
    for f in filter_sets(cast):
        result = panels.top_drivers(viewer, f)
        now = world.by_reason(world.contacts_counted(viewer, f))
        before = world.by_reason(
            world.contacts_counted(viewer, f, start=f.previous_start, end=f.previous_end)
        )
        assert result["total"] == sum(now.values())
        assert result["previous_total"] == sum(before.values())
        shown = {d["reason"]: (d["contacts"], d["previous"]) for d in result["drivers"]}
        assert sorted(c for c, _ in shown.values()) == sorted(now.values())[-len(shown) :]
        assert len(shown) == min(panels.TOP_DRIVERS, len(now))
        # Each driver's drill-down lists exactly its contacts.
        for driver in result["drivers"][:3]:
            drill, _ = drill_from(_params(driver["query"]), filters=f)
            assert drill_contacts(viewer=viewer, drill=drill).count() == driver["contacts"]


def _params(query: str) -> dict[str, str]:
    from django.http import QueryDict

    return QueryDict(query).dict()


@pytest.mark.parametrize("role", VIEWERS)
def test_reasons_by_week_equal_direct_counts(cast, data, role):
    viewer = getattr(cast, role)
    for f in filter_sets(cast):
        result = panels.reasons_by_week(viewer, f)
        contacts = world.contacts_counted(viewer, f)
        direct = Counter(
            (c.reason_id or 0, world.reporting_day(c) - timedelta(world.reporting_day(c).weekday()))
            for c in contacts
        )
        mondays = [week["monday"] for week in result["weeks"]]
        assert mondays == [world.START + timedelta(weeks=n) for n in range(4)]
        from contacts.reporting import reason_paths

        names = reason_paths({reason for reason, _ in direct})
        got = {
            (row["reason"], monday): cell["count"]
            for row in result["table"]
            for monday, cell in zip(mondays, row["cells"], strict=True)
            if cell["count"]
        }
        assert got == {(names[reason], monday): n for (reason, monday), n in direct.items()}
        assert result["total"] == len(contacts)
        assert result["week_totals"] == [
            sum(n for (_, monday), n in direct.items() if monday == m) for m in mondays
        ]
        # The chart draws the same numbers: each week's stack adds up to the week's total.
        stacks = [sum(s["data"][n] for s in result["chart"]["datasets"]) for n in range(4)]
        assert stacks == result["week_totals"]


@pytest.mark.parametrize("role", VIEWERS)
def test_avoidable_contacts_cost_and_minutes_equal_direct_sums(cast, data, role, settings):
    from voc.core.business import business_setting_set

    business_setting_set(key="cost_per_minute", value="0.75", by=cast.admin)
    viewer = getattr(cast, role)
    for f in filter_sets(cast):
        result = panels.avoidable_contacts(viewer, f)
        avoidable = [
            c for c in world.contacts_counted(viewer, f) if c.reason and c.reason.avoidable
        ]
        handle = sum(c.handle_seconds or 0 for c in avoidable)
        wait = sum(c.wait_seconds or 0 for c in avoidable)
        assert result["total"]["contacts"] == len(avoidable)
        # Handle minutes × 0.75, rounded half up to the cent (27.625 is 27.63).
        cents = Fraction(handle * 75, 60)
        assert result["total"]["cost"] * 100 == int(cents + Fraction(1, 2))
        assert result["total"]["customer_minutes"] == round((handle + wait) / 60)
        assert sum(week["contacts"] for week in result["trend"]) == len(avoidable)
        everything = world.contacts_counted(viewer, f)
        assert result["all_contacts"] == len(everything)
        previous = [
            c for c in world.contacts_counted(viewer, f, start=f.previous_start, end=f.previous_end)
            if c.reason and c.reason.avoidable
        ]  # fmt: skip
        assert result["previous"]["contacts"] == len(previous)
        drill, _ = drill_from(_params(result["query"]), filters=f)
        assert drill_contacts(viewer=viewer, drill=drill).count() == len(avoidable)


@pytest.mark.parametrize("role", VIEWERS)
def test_road_4_repeats_and_first_contact_resolution_equal_direct_counts(cast, data, role):
    viewer = getattr(cast, role)
    for f in filter_sets(cast):
        now = panels.service_health(viewer, f)["now"]
        contacts = world.contacts_counted(viewer, f)
        with_road = [c for c in contacts if c.road]
        answered = [c for c in contacts if c.first_contact_resolution is not None]
        assert now["contacts"] == len(contacts)
        assert now["with_road"] == len(with_road)
        assert now["road_4"] == sum(c.road == 4 for c in contacts)
        assert now["repeat_contacts"] == sum(c.repeat_of_id is not None for c in contacts)
        assert now["fcr_yes"] == sum(c.first_contact_resolution is True for c in answered)
        assert now["fcr_answered"] == len(answered)
        if with_road:
            assert now["road_4_share"] == round(100 * now["road_4"] / len(with_road), 1)
        for measure, expected in (("road_4", now["road_4"]), ("fcr_no", now["fcr_no"])):
            rows = rollup_contacts(viewer=viewer, filters=f.rollup(), measure=measure)
            assert rows.count() == expected


@pytest.mark.parametrize("role", VIEWERS)
def test_nps_csat_ces_equal_direct_counts(cast, data, role):
    viewer = getattr(cast, role)
    for f in filter_sets(cast):
        scores = {s["kind"]: s for s in panels.survey_scores(viewer, f)["scores"]}
        items = world.items_counted(viewer, f)
        for kind in ("nps", "csat", "ces"):
            answers = [i for i in items if i.kind == kind]
            summary = scores[kind]["summary"]
            assert summary.answers == len(answers)
            assert summary.positive == sum(i.band == "positive" for i in answers)
            assert summary.negative == sum(i.band == "negative" for i in answers)
            assert summary.score_sum == sum(i.score for i in answers)
            if kind == "nps" and answers:
                promoters = sum(i.score >= 9 for i in answers)
                detractors = sum(i.score <= 6 for i in answers)
                assert scores[kind]["value"] == round(
                    100 * (promoters - detractors) / len(answers), 1
                )
            drill, _ = drill_from(_params(scores[kind]["query"]), filters=f)
            assert drill_feedback(viewer=viewer, drill=drill).count() == len(answers)


def test_the_daylight_saving_day_answer_counts_on_1_november(cast, data):
    day = world.filters().feedback(start=world.DST_DAY, end=world.DST_DAY, kinds=frozenset({"nps"}))
    items = rollup_feedback_items(viewer=cast.executive, filters=day)
    assert any(i.score == 10 and i.received_at.hour == 6 for i in items)


def test_a_manager_sees_nothing_of_a_department_they_do_not_head(cast, data):
    """The head of department A sees department B's reasons only where team A (which they
    lead) handled them; the head of B sees all of them; a manager heading nothing sees none."""
    f = world.filters()
    everything = world.contacts_counted(cast.executive, f)
    outage = [c for c in everything if c.reason_id == data["outage"].id]
    in_team_a = [c for c in outage if c.team_id == cast.team_a.id]
    assert len(outage) > len(in_team_a) > 0  # the world has both

    def outage_count(viewer):
        drivers = panels.top_drivers(viewer, f)["drivers"]
        return next((d["contacts"] for d in drivers if d["reason"] == "Outage"), 0)

    assert outage_count(cast.manager) == len(in_team_a)
    assert outage_count(cast.other_manager) == len(outage)
    assert outage_count(cast.executive) == len(outage)
    bystander = cast.bystander
    assert panels.top_drivers(bystander, f)["total"] == 0
    assert panels.avoidable_contacts(bystander, f)["total"]["contacts"] == 0
    assert panels.reasons_by_week(bystander, f)["total"] == 0
    assert all(s["summary"].answers == 0 for s in panels.survey_scores(bystander, f)["scores"])
    # The lead of team B sees team B's outage contacts: not team A's, not those of no team.
    in_team_b = [c for c in outage if c.team_id == cast.team_b.id]
    assert len(outage) > len(in_team_a) + len(in_team_b)  # some have no team
    assert outage_count(cast.team_lead) == len(in_team_b)
