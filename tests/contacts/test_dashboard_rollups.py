"""Rollups the dashboards can use: the segment at contact time, roads, first-contact
resolution, outcomes, handle and wait time, complaints, days without a time, and the scoped
read selectors (contacts.reporting)."""

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db.models import Count, Q, Sum
from django.test import override_settings

from contacts.ingest.imports import import_file
from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason, ContactRollup, Customer
from contacts.reporting import (
    RollupFilters,
    complaint_reason_ids,
    rollup_totals,
    rollups_visible,
)
from contacts.rollups import COLUMNS, OUTCOME_COLUMNS
from contacts.selectors import contact_list_visible
from contacts.services.contacts import contact_update
from contacts.services.customers import customer_merge, customer_update
from tests.contacts.rollup_checks import assert_rollups_match_rebuild as rollups_match_rebuild
from tests.factories import UserFactory
from voc.people.roles import Role

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)
WEEK = RollupFilters(start=date(2026, 10, 26), end=date(2026, 11, 15))


def assert_rollups_match_rebuild():
    rollups_match_rebuild()
    call_command("rebuild_rollups", "--check")


def ingest(*rows, **options):
    result = contacts_ingest(rows=list(rows), **options)
    assert not result.rejected, result.rejected
    return result


def row(n, **fields):
    return {
        "source": "acd",
        "external_id": f"c-{n}",
        "channel": "phone",
        "occurred_at": (T0 + timedelta(hours=n)).isoformat(),
        "text": f"call {n}",
        **fields,
    }


@pytest.fixture
def reasons(cast):
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a, complaint=True)
    return {
        "billing": billing,
        "double": ContactReason.objects.create(
            name="Double charge", parent=billing, department=cast.dept_a
        ),
        "outage": ContactReason.objects.create(name="Outage", department=cast.dept_b),
        "password": ContactReason.objects.create(
            name="Password", department=cast.dept_b, avoidable=True
        ),
    }


def test_every_outcome_has_its_column():
    assert set(OUTCOME_COLUMNS) == set(Contact.Outcome.values)
    fields = {f.name for f in ContactRollup._meta.get_fields()}
    assert set(COLUMNS) <= fields


def test_a_rollup_row_counts_roads_resolution_outcomes_handle_and_wait(cast, reasons):
    team = cast.team_a.name
    ingest(
        row(1, team=team, road=4, first_contact_resolution=True, outcome="resolved",
            handle_seconds=300, wait_seconds=60),
        row(2, team=team, road=4, first_contact_resolution=False, outcome="callback",
            handle_seconds=100),
        row(3, team=team, road=1, outcome="resolved", wait_seconds=0),
        row(4, team=team),
    )  # fmt: skip

    (rollup,) = ContactRollup.objects.all()
    assert (rollup.day, rollup.channel, rollup.team_id, rollup.segment) == (
        date(2026, 11, 2), "phone", cast.team_a.id, ""
    )  # fmt: skip
    assert (rollup.contacts, rollup.handle_seconds, rollup.handled_contacts) == (4, 400, 2)
    # A wait of 0 seconds is a wait given (it counts in the average), an empty one is not.
    assert (rollup.wait_seconds, rollup.waited_contacts) == (60, 2)
    assert (rollup.road_1, rollup.road_2, rollup.road_3, rollup.road_4) == (1, 0, 0, 2)
    assert (rollup.fcr_yes, rollup.fcr_no) == (1, 1)
    assert (rollup.outcome_resolved, rollup.outcome_callback, rollup.outcome_open) == (2, 1, 0)
    assert_rollups_match_rebuild()


def test_changing_a_road_or_outcome_moves_the_counts(cast, reasons):

    ingest(row(1, team=cast.team_a.name, road=2, outcome="open", first_contact_resolution=False))
    contact = Contact.objects.get()

    contact_update(
        contact=contact,
        changes={"road": 4, "outcome": "resolved", "first_contact_resolution": True,
                 "wait_seconds": 45},
        by=cast.manager,
    )  # fmt: skip

    rollup = ContactRollup.objects.get()
    assert (rollup.road_2, rollup.road_4) == (0, 1)
    assert (rollup.outcome_open, rollup.outcome_resolved) == (0, 1)
    assert (rollup.fcr_no, rollup.fcr_yes) == (0, 1)
    assert (rollup.wait_seconds, rollup.waited_contacts) == (45, 1)
    assert_rollups_match_rebuild()


# --- The customer's segment at contact time ---------------------------------------------------


def test_a_contact_keeps_the_segment_its_customer_had_when_it_came(cast):
    ingest(row(1, customer_ref="CRM-1", customer_segment="enterprise"))
    customer = Customer.objects.get(external_ref="CRM-1")
    assert Contact.objects.get().customer_segment == "enterprise"

    customer_update(customer=customer, changes={"segment": "consumer"}, by=cast.admin)
    ingest(row(2, customer_ref="CRM-1"))

    segments = dict(Contact.objects.values_list("external_id", "customer_segment"))
    assert segments == {"c-1": "enterprise", "c-2": "consumer"}
    by_segment = dict(ContactRollup.objects.values_list("segment", "contacts"))
    assert by_segment == {"enterprise": 1, "consumer": 1}
    # Sent again unchanged or changed, with the same customer: the segment it came with stays.
    ingest(row(1, customer_ref="CRM-1", customer_segment="enterprise", subject="changed"))
    assert Contact.objects.get(external_id="c-1").customer_segment == "enterprise"
    assert_rollups_match_rebuild()


def test_a_contact_without_a_customer_has_no_segment_and_moving_it_takes_the_new_ones(cast):
    ingest(row(1), row(2, customer_ref="SB-1", customer_segment="small_business"))
    assert dict(Contact.objects.values_list("external_id", "customer_segment")) == {
        "c-1": "",
        "c-2": "small_business",
    }
    ingest(row(1, customer_ref="SB-1", subject="now linked"))  # the source links it later

    assert Contact.objects.get(external_id="c-1").customer_segment == "small_business"
    assert dict(ContactRollup.objects.values_list("segment", "contacts")) == {"small_business": 2}
    assert_rollups_match_rebuild()


def test_a_merge_gives_the_moved_contacts_the_surviving_records_segment(cast):
    ingest(
        row(1, customer_ref="A-1", customer_segment="consumer"),
        row(2, customer_ref="B-1", customer_segment="enterprise"),
    )
    source, target = (
        Customer.objects.get(external_ref="A-1"),
        Customer.objects.get(external_ref="B-1"),
    )

    customer_merge(source=source, target=target, by=cast.admin)

    assert set(Contact.objects.values_list("customer_segment", flat=True)) == {"enterprise"}
    assert dict(ContactRollup.objects.values_list("segment", "contacts")) == {"enterprise": 2}
    assert_rollups_match_rebuild()


# --- Days without a time ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "zone", ["America/Chicago", "America/Los_Angeles", "Pacific/Kiritimati", "Europe/Paris"]
)
def test_a_day_without_a_time_counts_on_that_day_in_every_reporting_time_zone(cast, zone):
    with override_settings(VOC_REPORTING_TIME_ZONE=zone):
        ingest(row(1, occurred_at="2024-03-05"))
        contact = Contact.objects.get()
        assert contact.occurred_date_only
        assert contact.occurred_at == datetime(2024, 3, 5, 12, tzinfo=UTC)
        assert list(ContactRollup.objects.values_list("day", flat=True)) == [date(2024, 3, 5)]
        assert_rollups_match_rebuild()


@override_settings(VOC_REPORTING_TIME_ZONE="America/Chicago")
def test_a_time_still_counts_on_its_day_in_the_reporting_time_zone(cast):
    ingest(row(1, occurred_at="2024-03-05T03:00:00Z"))  # 21:00 the day before in Chicago

    contact = Contact.objects.get()
    assert not contact.occurred_date_only
    assert list(ContactRollup.objects.values_list("day", flat=True)) == [date(2024, 3, 4)]


@override_settings(VOC_REPORTING_TIME_ZONE="America/Los_Angeles", TIME_ZONE="America/Los_Angeles")
def test_a_regulator_complaint_keeps_its_date_received_on_pages_and_rollups(cast, tmp_path, client):
    mapping = (
        Path(__file__).resolve().parents[2] / "docs" / "mappings" / "regulator-complaints.toml"
    )
    path = tmp_path / "complaints.csv"
    path.write_text(
        "Date received,Product,Issue,Sub-issue,Consumer complaint narrative,Submitted via,"
        "Company response to consumer,Complaint ID\n"
        "03/05/24,Mortgage,Trouble paying,,I was charged twice,Web,In progress,900001\n"
        "2024-03-06,Mortgage,Trouble paying,,Again,Web,In progress,900002\n"
    )

    summary = import_file(path=path, mapping=str(mapping))

    assert summary.counts()["created"] == 2
    days = dict(Contact.objects.values_list("external_id", "occurred_at"))
    assert days == {
        "900001": datetime(2024, 3, 5, 12, tzinfo=UTC),
        "900002": datetime(2024, 3, 6, 12, tzinfo=UTC),
    }
    assert sorted(ContactRollup.objects.values_list("day", flat=True)) == [
        date(2024, 3, 5),
        date(2024, 3, 6),
    ]
    contact = Contact.objects.get(external_id="900001")
    client.force_login(cast.admin)
    page = client.get(f"/contacts/{contact.id}/").content.decode()
    assert '<time datetime="2024-03-05">2024-03-05</time>' in page
    assert "2024-03-04" not in page and "2024-03-05 04:00" not in page
    listing = client.get("/contacts/").content.decode()
    assert '<time datetime="2024-03-05">2024-03-05</time>' in listing
    assert_rollups_match_rebuild()


def test_the_api_takes_a_day_and_says_it_is_one(cast, client):
    client.force_login(cast.rep)
    answer = client.post(
        "/api/v1/contacts/create/",
        {"external_id": "d-1", "channel": "phone", "occurred_at": "2024-03-05", "text": "hi",
         "wait_seconds": 604800},
        content_type="application/json",
    )  # fmt: skip
    assert answer.status_code == 201, answer.content
    body = answer.json()
    assert (body["occurred_at"], body["occurred_date_only"], body["wait_seconds"]) == (
        "2024-03-05T12:00:00Z", True, 604800
    )  # fmt: skip

    for bad in ("2024-02-30", "2024-3-5", "0999-03-05"):
        refused = client.post(
            "/api/v1/contacts/create/",
            {"external_id": "d-2", "channel": "phone", "occurred_at": bad, "text": "hi"},
            content_type="application/json",
        )
        assert refused.status_code == 400, bad
        assert list(refused.json()) == ["occurred_at"], refused.json()


@pytest.mark.parametrize(
    ("value", "accepted"), [(0, True), (604800, True), (604801, False), (-1, False)]
)
def test_wait_seconds_is_a_whole_number_of_at_most_a_week(cast, value, accepted):
    result = contacts_ingest(rows=[row(1, wait_seconds=value)])
    if accepted:
        assert not result.rejected
        assert Contact.objects.get().wait_seconds == value
    else:
        assert [(r.field, r.reason) for r in result.rejected] == [
            ("wait_seconds", "must be between 0 and 604800")
        ]
        assert not Contact.objects.exists()


def test_a_file_column_maps_to_wait_seconds(cast, tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text(
        "external_id,channel,occurred_at,wait_seconds,handle_seconds\n"
        "w-1,phone,2026-11-02T09:00:00Z,95,300\n"
        "w-2,phone,2026-11-02T10:00:00Z,lots,300\n"
    )
    summary = import_file(path=path, source="acd")

    assert (summary.counts()["created"], summary.counts()["rejected"]) == (1, 1)
    assert Contact.objects.get().wait_seconds == 95
    assert ContactRollup.objects.get().wait_seconds == 95


# --- Complaints -------------------------------------------------------------------------------


def test_a_sub_reason_inherits_its_parents_complaint_flag(cast, reasons, client):
    assert complaint_reason_ids() == {reasons["billing"].id, reasons["double"].id}
    assert reasons["double"].is_complaint and not reasons["outage"].is_complaint

    client.force_login(cast.admin)
    listed = {r["name"]: r for r in client.get("/api/v1/reasons/?page_size=100").json()["results"]}
    assert (listed["Double charge"]["complaint"], listed["Double charge"]["is_complaint"]) == (
        False, True
    )  # fmt: skip
    assert listed["Billing"]["complaint"] is True
    changed = client.post(
        f"/api/v1/reasons/{reasons['outage'].id}/update/", {"complaint": True},
        content_type="application/json",
    )  # fmt: skip
    assert changed.status_code == 200, changed.content
    assert ContactReason.objects.get(pk=reasons["outage"].id).complaint


# --- Scoped read selectors --------------------------------------------------------------------


@pytest.fixture
def spread(cast, reasons):
    """Contacts over both teams, reasons of both departments and none, three segments."""
    rows = []
    teams = [cast.team_a.name, cast.team_b.name, ""]
    reason_names = ["Billing › Double charge", "Billing", "Outage", "Password", ""]
    segments = ["consumer", "enterprise", "small_business"]
    for n in range(60):
        rows.append(
            row(
                n,
                team=teams[n % 3],
                reason=reason_names[n % 5],
                channel=["phone", "email"][n % 2],
                customer_ref=f"CRM-{n % 7}",
                customer_segment=segments[n % 7 % 3],
                handle_seconds=60 * (n % 4) if n % 4 else None,
                wait_seconds=n,
                road=n % 5 or None,
                outcome=["resolved", "open", "", "escalated"][n % 4],
                first_contact_resolution=[True, False, None][n % 3],
                occurred_at=(T0 + timedelta(hours=7 * n)).isoformat(),
            )
        )
    ingest(*rows)
    return rows


def counted_from_contacts(viewer, filters: RollupFilters) -> dict[str, int]:
    """What the rollups should say, counted from the contacts the viewer may see."""
    from contacts.rollups import reporting_day, reporting_tz

    tz = reporting_tz()
    contacts = [
        c
        for c in contact_list_visible(viewer=viewer).select_related("reason")
        if filters.start
        <= reporting_day(c.occurred_at, date_only=c.occurred_date_only, tz=tz)
        <= filters.end
        and (not filters.channels or c.channel in filters.channels)
        and (not filters.segments or c.customer_segment in filters.segments)
        and (not filters.complaints_only or (c.reason and c.reason.is_complaint))
        and (not filters.avoidable_only or (c.reason and c.reason.avoidable))
    ]
    return {
        "contacts": len(contacts),
        "handle_seconds": sum(c.handle_seconds or 0 for c in contacts),
        "waited_contacts": sum(c.wait_seconds is not None for c in contacts),
        "wait_seconds": sum(c.wait_seconds or 0 for c in contacts),
        "road_4": sum(c.road == 4 for c in contacts),
        "fcr_yes": sum(c.first_contact_resolution is True for c in contacts),
        "outcome_open": sum(c.outcome == "open" for c in contacts),
    }


def non_heading_manager(cast):
    """A manager in dept_a who heads no department and leads no team."""
    return UserFactory(username="deputy", role=Role.MANAGER, department=cast.dept_a)


@pytest.mark.parametrize(
    "who", ["rep", "teammate", "outsider", "manager", "other_manager", "deputy", "executive",
            "admin"],
)  # fmt: skip
@pytest.mark.parametrize(
    "filters",
    [
        RollupFilters(start=date(2026, 10, 1), end=date(2026, 12, 31)),
        RollupFilters(start=date(2026, 11, 3), end=date(2026, 11, 9), channels=frozenset({"email"})),
        RollupFilters(start=date(2026, 10, 1), end=date(2026, 12, 31),
                      segments=frozenset({"small_business", "enterprise"}), complaints_only=True),
        RollupFilters(start=date(2026, 10, 1), end=date(2026, 12, 31), avoidable_only=True),
    ],
    ids=["all", "one-week-email", "complaints-vip-business", "avoidable"],
)  # fmt: skip
def test_each_roles_totals_equal_counting_the_contacts_it_may_see(cast, spread, who, filters):
    viewer = non_heading_manager(cast) if who == "deputy" else getattr(cast, who)
    columns = ["contacts", "handle_seconds", "waited_contacts", "wait_seconds", "road_4",
               "fcr_yes", "outcome_open"]  # fmt: skip

    (totals,) = rollup_totals(viewer=viewer, filters=filters, columns=columns)

    assert totals == counted_from_contacts(viewer, filters)


def test_scopes_differ_as_the_roles_do(cast, spread):
    everything = RollupFilters(start=date(2026, 10, 1), end=date(2026, 12, 31))

    def contacts(viewer):
        return rollup_totals(viewer=viewer, filters=everything, columns=["contacts"])[0]["contacts"]

    assert contacts(cast.executive) == contacts(cast.admin) == 60
    # team_a is every third contact (20); the manager of dept_a also owns the Billing reasons.
    assert contacts(cast.rep) == contacts(cast.teammate) == 20
    assert contacts(cast.outsider) == 20
    billing_elsewhere = (
        Contact.objects.filter(reason__department=cast.dept_a).exclude(team=cast.team_a).count()
    )
    assert billing_elsewhere > 0
    assert contacts(cast.manager) == 20 + billing_elsewhere
    # The same rows through the plain scoped queryset.
    assert rollups_visible(viewer=cast.rep).aggregate(n=Sum("contacts"))["n"] == 20


def test_grouped_by_week_reason_and_segment_in_one_query(cast, spread, django_assert_num_queries):
    filters = RollupFilters(start=date(2026, 10, 1), end=date(2026, 12, 31))
    with django_assert_num_queries(1):  # an executive's scope needs no lookup
        weeks = rollup_totals(viewer=cast.executive, filters=filters, group_by=["week"],
                              columns=["contacts"])  # fmt: skip
    assert [w["week"].weekday() for w in weeks] == [0] * len(weeks)  # Mondays
    assert sum(w["contacts"] for w in weeks) == 60
    expected_weeks = Contact.objects.values_list("occurred_at", flat=True)
    mondays = {
        (at.astimezone(UTC).date() - timedelta(days=at.astimezone(UTC).weekday()))
        for at in expected_weeks
    }
    assert {w["week"] for w in weeks} == mondays

    by_reason = rollup_totals(viewer=cast.executive, filters=filters, group_by=["reason_id"],
                              columns=["contacts"])  # fmt: skip
    expected = dict(
        Contact.objects.values("reason_id").annotate(n=Count("id")).values_list("reason_id", "n")
    )
    assert {r["reason_id"] or None: r["contacts"] for r in by_reason} == expected

    by_segment = rollup_totals(viewer=cast.manager, filters=filters, group_by=["segment"],
                               columns=["contacts"])  # fmt: skip
    visible = contact_list_visible(viewer=cast.manager)
    assert {r["segment"]: r["contacts"] for r in by_segment} == dict(
        visible.values("customer_segment")
        .annotate(n=Count("id"))
        .values_list("customer_segment", "n")
    )


def test_a_parent_reason_filter_includes_its_sub_reasons(cast, spread, reasons):
    filters = RollupFilters(
        start=date(2026, 10, 1), end=date(2026, 12, 31),
        reason_ids=frozenset({reasons["billing"].id}),
    )  # fmt: skip
    (totals,) = rollup_totals(viewer=cast.admin, filters=filters, columns=["contacts"])
    assert (
        totals["contacts"]
        == Contact.objects.filter(
            Q(reason=reasons["billing"]) | Q(reason__parent=reasons["billing"])
        ).count()
    )


def test_nothing_matching_gives_zeros_and_bad_groups_are_refused(cast):
    (totals,) = rollup_totals(viewer=cast.rep, filters=WEEK)
    assert totals == dict.fromkeys(COLUMNS, 0)
    with pytest.raises(ValueError):
        rollup_totals(viewer=cast.rep, filters=WEEK, group_by=["customer_id"])  # type: ignore[list-item]
    with pytest.raises(ValueError):
        RollupFilters(start=date(2026, 11, 2), end=date(2026, 11, 1))
