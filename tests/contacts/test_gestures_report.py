"""The make-it-right report: spend against what happened next, exact at its boundaries (the
customer's next contact on the 7th day counts, on the 8th not; a customer lost on the 90th day
after the gesture counts, on the 91st not), scoped, and in a fixed number of queries."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from contacts.gestures.selectors import gesture_report
from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason, CustomerEvent, Gesture
from tests.contacts.gesture_helpers import lead_only_manager

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 9, 1, 10, 0, tzinfo=UTC)
GIVEN_AT = T0 + timedelta(hours=1)
DAY0 = date(2026, 9, 1)
PERIOD = {"since": date(2026, 8, 1), "until": date(2026, 9, 30)}


def ingest(cast, rows) -> None:
    for row in rows:
        row.setdefault("source", "crm")
        row.setdefault("channel", "phone")
        row.setdefault("team", cast.team_a.name)
    outcome = contacts_ingest(rows=rows)
    assert not outcome.rejected, outcome.rejected


def gesture(contact: Contact, by, value="10.00", state=Gesture.State.GRANTED, at=GIVEN_AT):
    return Gesture.objects.create(
        contact=contact,
        kind=Gesture.Kind.CREDIT,
        value=Decimal(value),
        currency="EUR",
        state=state,
        given_by=by,
        team=by.team,
        given_at=at,
    )


def lost(contact: Contact, on: date) -> None:
    CustomerEvent.objects.create(customer=contact.customer, kind="lost", occurred_on=on)


@pytest.fixture
def world(cast):
    """Four customers, each with a gesture on their first contact at T0:

    - A (Billing): came back exactly 7 days later; lost on the 90th day after the gesture;
    - B (Outage): came back 7 days and 1 second later; lost on the 91st day;
    - C (Outage): came back 8 days later; lost the day before the gesture;
    - D (Router, department B, team B): came back after 3 days; lost on the gesture's own day.
    """
    ContactReason.objects.create(name="Billing", department=cast.dept_a)
    ContactReason.objects.create(name="Outage", department=cast.dept_a)
    ContactReason.objects.create(name="Router", department=cast.dept_b)
    at = T0.isoformat()
    ingest(
        cast,
        [
            {"external_id": "a1", "customer_ref": "A", "reason": "Billing", "occurred_at": at},
            {"external_id": "a2", "customer_ref": "A", "reason": "Billing",
             "occurred_at": (T0 + timedelta(days=7)).isoformat()},
            {"external_id": "b1", "customer_ref": "B", "reason": "Outage", "occurred_at": at},
            {"external_id": "b2", "customer_ref": "B", "reason": "Outage",
             "occurred_at": (T0 + timedelta(days=7, seconds=1)).isoformat()},
            {"external_id": "c1", "customer_ref": "C", "reason": "Outage", "occurred_at": at},
            {"external_id": "c2", "customer_ref": "C", "reason": "Outage",
             "occurred_at": (T0 + timedelta(days=8)).isoformat()},
            {"external_id": "d1", "customer_ref": "D", "reason": "Router", "occurred_at": at,
             "team": cast.team_b.name},
            {"external_id": "d2", "customer_ref": "D", "reason": "Router",
             "occurred_at": (T0 + timedelta(days=3)).isoformat(), "team": cast.team_b.name},
        ],
    )  # fmt: skip
    first = {c.external_id: c for c in Contact.objects.filter(external_id__endswith="1")}
    gesture(first["a1"], cast.rep, "25.00")
    gesture(first["b1"], cast.rep, "10.00")
    gesture(first["c1"], cast.teammate, "5.50")
    gesture(first["d1"], cast.outsider, "40.00")
    lost(first["a1"], DAY0 + timedelta(days=90))
    lost(first["b1"], DAY0 + timedelta(days=91))
    lost(first["c1"], DAY0 - timedelta(days=1))
    lost(first["d1"], DAY0)
    # Neither waiting nor declined gestures were given: the report leaves them out.
    gesture(first["a1"], cast.rep, "500.00", state=Gesture.State.PENDING)
    gesture(first["b1"], cast.rep, "300.00", state=Gesture.State.DECLINED)
    return first


def figures(row) -> tuple:
    return (row.label, row.gestures, row.value, row.contacts, row.followed, row.customers, row.lost)


def test_the_repeat_links_are_what_the_boundaries_need(world):
    followed = set(
        Contact.objects.filter(repeats__isnull=False).values_list("external_id", flat=True)
    )
    assert followed == {"a1", "d1"}


def test_the_figures_are_exact_at_the_boundaries(cast, world):
    report = gesture_report(viewer=cast.executive, **PERIOD)
    assert [figures(row) for row in report.total] == [
        ("All gestures", 4, Decimal("80.50"), 4, 2, 4, 2)
    ]
    assert [figures(row) for row in report.by_reason] == [
        ("Router", 1, Decimal("40.00"), 1, 1, 1, 1),  # D: back on day 3, lost on day 0
        ("Billing", 1, Decimal("25.00"), 1, 1, 1, 1),  # A: back on day 7, lost on day 90
        ("Outage", 2, Decimal("15.50"), 2, 0, 2, 0),  # B: 7 days + 1 s, day 91; C: day 8, day -1
    ]
    assert [figures(row) for row in report.by_team] == [
        ("Billing Care", 3, Decimal("40.50"), 3, 1, 3, 1),  # the most spent first
        ("Tech Tier 1", 1, Decimal("40.00"), 1, 1, 1, 1),
    ]
    assert (report.repeat_days, report.lost_days) == (7, 90)
    assert report.by_reason[0].followed_share == 1.0 and report.by_reason[2].lost_share == 0.0


def test_a_manager_sees_their_scope_only(cast, world):
    report = gesture_report(viewer=cast.manager, **PERIOD)
    assert [figures(row) for row in report.by_team] == [
        ("Billing Care", 3, Decimal("40.50"), 3, 1, 3, 1)
    ]
    lead = lead_only_manager(cast)
    assert gesture_report(viewer=lead, **PERIOD).total[0].gestures == 3


def test_the_period_includes_both_of_its_days(cast, world):
    assert gesture_report(viewer=cast.admin, since=DAY0, until=DAY0).total[0].gestures == 4
    before = gesture_report(viewer=cast.admin, since=date(2026, 8, 1), until=date(2026, 8, 31))
    assert before.total == [] and before.by_reason == [] and before.by_team == []


def test_the_report_costs_the_same_queries_for_many_gestures(
    cast, world, django_assert_max_num_queries, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        gesture_report(viewer=cast.manager, **PERIOD)
    for n in range(40):
        gesture(world["a1" if n % 2 else "c1"], cast.rep, "1.00")
    # Prevents an N+1 over gestures, reasons or teams: three aggregates, two label lookups
    # and the manager's scope.
    with django_assert_num_queries(len(few.captured_queries)):
        report = gesture_report(viewer=cast.manager, **PERIOD)
    assert report.total[0].gestures == 43
    assert len(few.captured_queries) <= 8


def test_the_report_page(client, cast, world):
    client.force_login(cast.manager)
    response = client.get(
        reverse("contacts:gesture-report"), {"since": "2026-08-01", "until": "2026-09-30"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Billing Care" in page and "Tech Tier 1" not in page
    assert "40.50 EUR" in page
    bad = client.get(
        reverse("contacts:gesture-report"), {"since": "2026-09-30", "until": "2026-08-01"}
    )
    assert bad.status_code == 400
    assert "Choose a start on or before the end." in bad.content.decode()


@pytest.mark.parametrize(("role", "status"), [("rep", 403), ("executive", 200), ("admin", 200)])
def test_who_opens_the_report(client, cast, role, status):
    client.force_login(getattr(cast, role))
    assert client.get(reverse("contacts:gesture-report")).status_code == status
