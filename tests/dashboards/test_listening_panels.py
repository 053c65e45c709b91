"""The listening panels (the 5% tracker and outreach, make it right, customer math, stories)
and the customers drill-down, on a small world of their own whose figures are known: each
figure equals the rows put in, with rows on the period's first and last days counted and the
days either side left out, for the CEO, another executive and a department head.

The period is October 2026 in New York (31 days), compared with the 31 days before it.
"""

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from openpyxl import load_workbook

from contacts.models import Contact, ContactReason, CustomerEvent, Gesture, Message
from contacts.rollups import rollups_rebuild
from feedback.models import (
    OutreachCall,
    OutreachExercise,
    OutreachList,
    Session,
    Story,
)
from loops.models import Issue
from tests.factories import CustomerFactory, UserFactory
from voc.dashboards import drill as drill_module
from voc.dashboards.filters import CUSTOM, DashboardFilters
from voc.dashboards.listening import (
    customer_math_panel,
    listening_tracker_panel,
    make_it_right_panel,
    pingpong_panel,
    stories_panel,
)
from voc.people.roles import Role

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
TZ = "America/New_York"
NY = ZoneInfo(TZ)
START, END = date(2026, 10, 1), date(2026, 10, 31)
NOW = datetime(2026, 11, 5, 15, 0, tzinfo=UTC)
XSS = "<script>alert('story')</script>"
FORMULA = '=HYPERLINK("http://evil.example")'


def local(*args) -> datetime:
    return datetime(*args, tzinfo=NY)


def filters(**more) -> DashboardFilters:
    return DashboardFilters(period=CUSTOM, start=START, end=END, **more)


def query(**more) -> dict[str, str]:
    return filters(**more).params()


@pytest.fixture
def world(cast, settings):
    settings.VOC_REPORTING_TIME_ZONE = TZ
    with time_machine.travel(NOW, tick=False):
        yield build(cast)


def build(cast):
    w = {}
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a)
    outage = ContactReason.objects.create(name="Outage", department=cast.dept_b)
    w["billing"], w["outage"] = billing, outage

    # --- executives and their listening ------------------------------------------------------
    ceo = cast.executive  # reports to no one: sees every executive
    vp = UserFactory(username="vp", role=Role.EXECUTIVE, reports_to=ceo, last_name="Aaron")
    idle = UserFactory(username="idle", role=Role.EXECUTIVE, reports_to=ceo, last_name="Zed")
    w["vp"], w["idle"] = vp, idle

    def session(executive, started, seconds, status=Session.Status.ENDED):
        Session.objects.create(
            executive=executive, rep=cast.rep, scheduled_by=executive, scheduled_start=started,
            status=status, started_at=started if status != Session.Status.SCHEDULED else None,
            ended_at=started + timedelta(seconds=seconds) if status == Session.Status.ENDED else None,
            duration_seconds=seconds if status == Session.Status.ENDED else None,
        )  # fmt: skip

    session(ceo, local(2026, 10, 1, 0, 0), 3600)  # the first instant of the period
    session(ceo, local(2026, 10, 31, 23, 30), 1800)  # the last day
    session(ceo, local(2026, 11, 1, 0, 0), 7200)  # the day after
    session(ceo, local(2026, 9, 30, 23, 59), 7200)  # the day before
    session(ceo, local(2026, 10, 10, 9, 0), 0, status=Session.Status.SCHEDULED)
    session(vp, local(2026, 10, 15, 10, 0), 7200)

    def calls(executive, program, month, logged):
        outreach = OutreachList.objects.create(
            executive=executive, program=program, month=month, size=5, generated_by="test"
        )
        for n, called_at in enumerate(logged):
            OutreachCall.objects.create(
                outreach_list=outreach, month=month, customer=CustomerFactory(), position=n,
                called_at=called_at, duration_minutes=None if called_at is None else 30,
                outcome="reached" if called_at else "",
            )  # fmt: skip

    # October's lost list: one call in the period, one logged the day after it, one not yet.
    calls(vp, "lost", date(2026, 10, 1), [local(2026, 10, 31, 23, 0), local(2026, 11, 1, 9), None])
    calls(vp, "loyal", date(2026, 10, 1), [local(2026, 10, 2, 12, 0), None])
    calls(vp, "lost", date(2026, 9, 1), [local(2026, 9, 15, 12, 0)])  # another month's list
    calls(vp, "lost", date(2026, 11, 1), [None, None])  # and the next month's
    OutreachExercise.objects.create(
        executive=vp, task="call_support", done_at=local(2026, 10, 20, 12), minutes_spent=45,
        outcome="hard",
    )  # fmt: skip

    # --- customers, their contacts and lifecycle events -----------------------------------------
    def customer(team, segment, reason):
        c = CustomerFactory(segment=segment)
        contact = Contact.objects.create(
            source="t", external_id=f"c-{c.pk}", channel="phone", customer=c, team=team,
            reason=reason, customer_segment=segment, occurred_at=local(2026, 9, 1, 12),
        )  # fmt: skip
        return c, contact

    def event(c, kind, day, reason=None, text=""):
        return CustomerEvent.objects.create(
            customer=c, kind=kind, occurred_on=day, reason=reason, reason_text=text
        )

    a1, a1_contact = customer(cast.team_a, "consumer", billing)
    b1, b1_contact = customer(cast.team_b, "enterprise", outage)
    a2, _ = customer(cast.team_a, "consumer", billing)
    b2, _ = customer(cast.team_b, "consumer", outage)
    b3, b3_contact = customer(cast.team_b, "consumer", outage)
    b4, _ = customer(cast.team_b, "consumer", None)
    a3, _ = customer(cast.team_a, "small_business", billing)
    a4, _ = customer(cast.team_a, "consumer", billing)
    w["lost"] = [
        event(a1, "lost", START, billing),  # the first day
        event(b1, "lost", END, outage),  # the last day
        event(b4, "lost", date(2026, 10, 5), text=XSS),  # no listed reason, their own words
        event(b2, "lost", date(2026, 10, 5), text=FORMULA),  # the same day: split by id
    ]
    event(a2, "lost", date(2026, 11, 1), billing)  # the day after
    event(b2, "lost", date(2026, 9, 30), outage)  # the day before: the previous period
    w["gained"] = [event(a3, "gained", date(2026, 10, 10)), event(b3, "gained", END)]
    w["won_back"] = [event(a4, "won_back", date(2026, 10, 20), billing)]
    w["customers"] = {"a1": a1, "b1": b1, "b2": b2, "b4": b4}

    # Open issues on the losses' reasons; a closed one is not shown.
    w["billing_issue"] = Issue.objects.create(title="Double billing", department=cast.dept_a)
    w["billing_issue"].reasons.add(billing)
    w["outage_issue"] = Issue.objects.create(title="Outages <b>again</b>", department=cast.dept_b)
    w["outage_issue"].reasons.add(outage)
    closed = Issue.objects.create(title="Old", department=cast.dept_a, status="closed")
    closed.reasons.add(billing)

    # --- make it right ----------------------------------------------------------------------------
    def gesture(contact, value, state, given_at, team):
        Gesture.objects.create(
            contact=contact, kind="credit", value=Decimal(value), currency="EUR", state=state,
            given_by=cast.rep, team=team, given_at=given_at,
        )  # fmt: skip

    gesture(a1_contact, "25.00", "granted", local(2026, 10, 1, 0, 10), cast.team_a)  # lost after
    gesture(b3_contact, "40.00", "approved", local(2026, 10, 31, 23, 50), cast.team_b)
    gesture(b3_contact, "99.00", "granted", local(2026, 11, 1, 0, 10), cast.team_b)  # day after
    gesture(b3_contact, "15.00", "declined", local(2026, 10, 12), cast.team_b)
    gesture(b3_contact, "15.00", "pending", local(2026, 10, 12), cast.team_b)
    # The customer came back about the first gesture's contact.
    Contact.objects.create(
        source="t", external_id="again", channel="phone", customer=a1, team=cast.team_a,
        occurred_at=local(2026, 10, 3, 12), repeat_of=a1_contact,
    )  # fmt: skip

    # --- stories ----------------------------------------------------------------------------------
    def story(contact, thumb, at, title="A story", text="It went well.", erased=False):
        return Story.objects.create(
            contact=contact, thumb=thumb, title=title, text=text, author=cast.rep, created_at=at,
            erased_at=at if erased else None,
        )  # fmt: skip

    w["up"] = [
        story(a1_contact, "up", local(2026, 10, 1, 0, 0) + timedelta(hours=n), title=f"Up {n}")
        for n in range(6)
    ]
    w["down"] = story(b1_contact, "down", local(2026, 10, 31, 23, 59), title=XSS, text=XSS)
    story(a1_contact, "up", local(2026, 11, 1, 0, 0))  # the day after
    story(a1_contact, "down", local(2026, 10, 9), erased=True)  # erased: its words are gone

    # --- email ping-pong ----------------------------------------------------------------------
    def thread(name, team, c, opened, incoming, outgoing=0, outcome="", subject=""):
        contact = Contact.objects.create(
            source="t", external_id=name, channel="email", customer=c, team=team,
            occurred_at=opened, outcome=outcome, subject=subject or name,
        )  # fmt: skip
        for n in range(incoming + outgoing):
            Message.objects.create(
                contact=contact, external_id=f"{name}-{n}", position=n, text="Hello again",
                direction="incoming" if n < incoming else "outgoing",
                sent_at=opened + timedelta(hours=n),
            )  # fmt: skip
        return contact

    w["threads"] = {
        # The period's first day: three customer emails, unresolved, nobody called.
        "waiting": thread("t1", cast.team_a, a3, local(2026, 10, 1, 0, 5), 3, 2, subject=XSS),
        # The last day: four customer emails, but resolved.
        "resolved": thread("t2", cast.team_b, b1, local(2026, 10, 31, 23, 0), 4, 0, "resolved"),
        # Three customer emails, then somebody called the customer.
        "called": thread("t3", cast.team_b, b3, local(2026, 10, 15, 9), 3),
        # Two customer emails and three replies: not ping-pong.
        "short": thread("t4", cast.team_a, a2, local(2026, 10, 10, 9), 2, 3),
    }
    Contact.objects.create(
        source="t", external_id="call-b3", channel="phone", customer=b3, team=cast.team_b,
        occurred_at=local(2026, 10, 16, 9),
    )  # fmt: skip
    thread("t5", cast.team_a, a4, local(2026, 11, 1, 0, 5), 5)  # the day after
    thread("t6", cast.team_a, a4, local(2026, 9, 30, 23, 55), 5)  # the day before
    # The contacts above were made directly: their rollups and counts of customer messages
    # as the write paths would have kept them.
    rollups_rebuild()
    return w


# --- the 5% tracker ------------------------------------------------------------------------------


def test_the_tracker_lists_every_executive_with_their_hours_and_calls(cast, world):
    rows = {
        row.executive.username: row
        for row in listening_tracker_panel(cast.executive, filters())["rows"]
    }
    assert set(rows) == {"vp", "executive", "idle"}
    ceo, vp, idle = rows["executive"], rows["vp"], rows["idle"]
    # The sessions on the first and last day; not the ones the day before and after, nor the
    # scheduled one.
    assert (ceo.sessions, ceo.seconds) == (2, 3600 + 1800)
    # One session, October's calls logged in October (30 min), the exercise (45 min).
    assert (vp.sessions, vp.seconds) == (1, 7200 + 30 * 60 + 30 * 60 + 45 * 60)
    assert (vp.lost_planned, vp.lost_done, vp.loyal_planned, vp.loyal_done) == (3, 1, 2, 1)
    assert (idle.sessions, idle.seconds, idle.lost_planned, idle.lost_done) == (0, 0, 0, 0)
    target = 2 * 3600 * 31 // 7  # the default 2 h a week, for 31 days
    assert {row.target_seconds for row in rows.values()} == {target}
    assert (ceo.hours, vp.hours, idle.hours, ceo.target_hours) == (
        Decimal("1.5"),
        Decimal("3.8"),
        Decimal("0.0"),
        Decimal("8.9"),
    )
    assert all(row.behind for row in rows.values())


def test_the_tracker_fragment_shows_zero_for_an_executive_without_sessions(cast, client, world):
    client.force_login(cast.executive)
    url = reverse("dashboards:panel", args=["listening"])
    body = client.get(url, query(), headers=HTMX).content.decode()
    assert body.count('data-testid="listening-row"') == 3
    idle_row = body.split('data-testid="listening-row"')[3]
    assert idle_row.split("</tr>")[0].count('<td class="num">0') >= 2
    assert "1 of 3</a> to lost customers" in body and "1 of 2</a> to loyal ones" in body
    assert "does not apply" not in body  # no filter set, nothing to excuse
    body = client.get(url, query(team_id=cast.team_a.id), headers=HTMX).content.decode()
    assert "does not apply the team filter" in body
    assert "1 of 3</a> to lost customers" in body  # the same figures: the team is ignored


def test_an_executive_who_is_not_the_ceo_sees_their_own_row(cast, world):
    rows = listening_tracker_panel(world["vp"], filters())["rows"]
    assert [row.executive for row in rows] == [world["vp"]]


def test_an_executives_listening_drills_down_to_what_it_is_made_of(cast, client, world):
    client.force_login(cast.executive)
    url = reverse("dashboards:drill-listening")
    vp = world["vp"]
    response = client.get(url, query(team_id=cast.team_a.id) | {"executive": vp.id})
    entries = response.context["entries"]
    assert [e.kind for e in entries] == ["call", "exercise", "session", "call"]  # newest first
    assert sum(e.seconds for e in entries) == 7200 + 30 * 60 + 30 * 60 + 45 * 60
    body = response.content.decode()
    assert f"team={cast.team_a.id}" in body  # back to the dashboard with the filters
    entries = client.get(url, query() | {"executive": cast.executive.id}).context["entries"]
    assert [(e.kind, e.seconds) for e in entries] == [("session", 1800), ("session", 3600)]
    idle = client.get(url, query() | {"executive": world["idle"].id})
    assert idle.context["entries"] == [] and "Nothing here." in idle.content.decode()
    response = client.get(url, query() | {"executive": vp.id, "format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == ["When", "Kind", "Minutes", "What"]
    assert [row[2] for row in rows[1:]] == ["30.0", "45.0", "120.0", "30.0"]
    response = client.get(url, query() | {"executive": vp.id, "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == [
        "Outreach call", "Be a customer", "Side-by-side session", "Outreach call"
    ]  # fmt: skip
    assert client.get(url, query() | {"executive": "x"}).status_code == 400
    assert client.get(url, query() | {"executive": cast.rep.id}).status_code == 404


def _listening_pages(client, params) -> list[list[tuple[str, int]]]:
    url = reverse("dashboards:drill-listening")
    pages = []
    while True:
        response = client.get(url, params)
        assert response.status_code == 200
        pages.append([(e.kind, e.id) for e in response.context["entries"]])
        after = response.context["next_after"]
        if after is None:
            return pages
        body = response.content.decode()
        assert f"team={params['team']}" in body.split('rel="next"')[0].rsplit("<a ", 1)[1]
        params = params | {"after": after}


def test_the_listening_drill_down_pages_by_keyset_keeping_the_filters(
    cast, client, world, monkeypatch
):
    vp = world["vp"]
    # Three entries at one instant, one of each kind: the kind then the id order them.
    tie = local(2026, 10, 25, 9, 0)
    session = Session.objects.create(
        executive=vp, rep=cast.rep, scheduled_by=vp, scheduled_start=tie, started_at=tie,
        status=Session.Status.ENDED, ended_at=tie + timedelta(minutes=10), duration_seconds=600,
    )  # fmt: skip
    exercise = OutreachExercise.objects.create(
        executive=vp, task="call_support", done_at=tie, minutes_spent=5, outcome="easy"
    )
    outreach = OutreachList.objects.get(executive=vp, program="loyal", month=date(2026, 10, 1))
    call = OutreachCall.objects.create(
        outreach_list=outreach, month=outreach.month, customer=CustomerFactory(), position=9,
        called_at=tie, duration_minutes=15, outcome="reached",
    )  # fmt: skip
    monkeypatch.setattr(drill_module, "PAGE_SIZE", 2)
    client.force_login(cast.executive)
    params = query(team_id=cast.team_a.id) | {"executive": vp.id}
    pages = _listening_pages(client, params)
    listed = [entry for page in pages for entry in page]
    assert [len(page) for page in pages] == [2, 2, 2, 1]
    assert listed[1:4] == [("session", session.id), ("exercise", exercise.id), ("call", call.id)]
    assert [kind for kind, _ in listed] == [
        "call", "session", "exercise", "call", "exercise", "session", "call"
    ]  # fmt: skip
    assert len(set(listed)) == 7  # each entry once
    # Every page says what the whole period holds; the export has every row.
    response = client.get(
        reverse("dashboards:drill-listening"), params | {"after": pages_after(client, params)}
    )
    assert response.context["totals"].entries == 7
    minutes = 120 + 30 + 30 + 45 + 10 + 5 + 15
    assert f'data-testid="listening-minutes">{minutes}<' in response.content.decode()
    exported = client.get(
        reverse("dashboards:drill-listening"),
        params | {"after": pages_after(client, params), "format": "csv"},
    )
    rows = list(csv.reader(io.StringIO(b"".join(exported.streaming_content).decode("utf-8-sig"))))
    assert len(rows) == 1 + 7


def pages_after(client, params) -> str:
    """The position after the first page."""
    response = client.get(reverse("dashboards:drill-listening"), params)
    return response.context["next_after"]


def test_a_listening_page_reads_as_many_queries_whatever_the_entries(
    cast, client, world, monkeypatch, django_assert_num_queries
):
    """Keyset pages: each kind reads at most a page's rows, so a deep page costs what the
    first does."""
    monkeypatch.setattr(drill_module, "PAGE_SIZE", 1)
    client.force_login(cast.executive)
    params = query() | {"executive": world["vp"].id}
    url = reverse("dashboards:drill-listening")
    # Signed in (2), the filter form's teams (1), the executive with the totals (1), the
    # executive again and each kind's page (4).
    after = pages_after(client, params)
    with django_assert_num_queries(8):
        second = client.get(url, params | {"after": after})
    with django_assert_num_queries(8):
        client.get(url, params | {"after": second.context["next_after"]})


def test_a_bad_listening_position_is_refused(cast, client, world):
    client.force_login(cast.executive)
    url = reverse("dashboards:drill-listening")
    params = query() | {"executive": world["vp"].id}
    for after in ("2026-10-01T00:00:00~1", "2026-10-01T00:00:00~visit~1", "x~call~1",
                  "2026-10-01T00:00:00~call~1"):  # fmt: skip
        assert client.get(url, params | {"after": after}).status_code == 400, after
    ok = client.get(url, params | {"after": "2026-10-20T16:00:00+00:00~exercise~1"})
    assert ok.status_code == 200
    assert [e.kind for e in ok.context["entries"]] == ["session", "call"]


def test_listening_drill_down_follows_the_trackers_scope(cast, client, world):
    url = reverse("dashboards:drill-listening")
    client.force_login(world["vp"])
    assert client.get(url, query() | {"executive": world["vp"].id}).status_code == 200
    assert client.get(url, query() | {"executive": cast.executive.id}).status_code == 404
    client.force_login(cast.manager)
    assert client.get(url, query() | {"executive": world["vp"].id}).status_code == 404
    member = UserFactory(username="member", role=Role.MANAGER, department=cast.dept_a)
    client.force_login(member)
    assert client.get(url, query() | {"executive": world["vp"].id}).status_code == 404
    client.force_login(cast.admin)
    assert client.get(url, query() | {"executive": world["vp"].id}).status_code == 200
    client.force_login(cast.rep)
    assert client.get(url, query() | {"executive": world["vp"].id}).status_code == 403


def test_a_manager_sees_no_ones_listening(cast, client, world):
    assert listening_tracker_panel(cast.manager, filters())["rows"] == []
    client.force_login(cast.manager)
    body = client.get(
        reverse("dashboards:panel", args=["listening"]), query(), headers=HTMX
    ).content.decode()
    assert 'data-testid="listening-none"' in body and "listening-row" not in body


# --- make it right --------------------------------------------------------------------------------


def test_make_it_right_reports_the_periods_gestures_and_what_followed(cast, world):
    (total,) = make_it_right_panel(cast.executive, filters())["report"].total
    # Granted on the first day and approved on the last; not the day after, declined, pending.
    assert (total.gestures, total.value, total.currency) == (2, Decimal("65.00"), "EUR")
    assert (total.followed, total.contacts) == (1, 2)  # the customer came back about one
    assert (total.lost, total.customers) == (1, 2)  # lost on the day of the gesture


def test_make_it_right_applies_the_channel_team_and_segment(cast, world):
    def total(**more):
        return [
            (row.gestures, row.value)
            for row in make_it_right_panel(cast.executive, filters(**more))["report"].total
        ]

    assert total(team_id=cast.team_a.id) == [(1, Decimal("25.00"))]
    assert total(team_id=cast.team_b.id) == [(1, Decimal("40.00"))]
    assert total(segment="consumer") == [(2, Decimal("65.00"))]
    assert total(segment="enterprise") == total(channel="email") == []
    assert total(channel="phone") == [(2, Decimal("65.00"))]


def test_make_it_right_for_a_manager_is_their_scope(cast, client, world):
    (total,) = make_it_right_panel(cast.manager, filters())["report"].total
    assert (total.gestures, total.value) == (1, Decimal("25.00"))
    client.force_login(cast.manager)
    body = client.get(
        reverse("dashboards:panel", args=["make-it-right"]), query(), headers=HTMX
    ).content.decode()
    assert "25.00 EUR" in body and "65.00" not in body
    assert "since=2026-10-01&amp;until=2026-10-31" in body  # the report, for the same days


def test_the_spend_drills_down_to_its_gestures(cast, client, world, monkeypatch):
    monkeypatch.setattr(drill_module, "PAGE_SIZE", 1)
    client.force_login(cast.executive)
    url = reverse("dashboards:drill-gestures")
    pages, params = [], query()
    while True:
        response = client.get(url, params)
        pages.append([(g.value, g.followed, g.lost) for g in response.context["rows"]])
        if response.context["next_after"] is None:
            break
        params = params | {"after": response.context["next_after"]}
    # The spend's gestures, newest first: what the panel adds up to 65.00.
    assert pages == [[(Decimal("40.00"), False, False)], [(Decimal("25.00"), True, True)]]
    response = client.get(url, query(team_id=cast.team_a.id) | {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [(row[2], row[8], row[9]) for row in rows[1:]] == [("25.00", "yes", "yes")]
    response = client.get(url, query() | {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sorted(float(row[2]) for row in sheet.iter_rows(min_row=2, values_only=True)) == [25, 40]
    client.force_login(cast.manager)
    assert [g.value for g in client.get(url, query()).context["rows"]] == [Decimal("25.00")]
    body = client.get(
        reverse("dashboards:panel", args=["make-it-right"]), query(channel="phone"), headers=HTMX
    ).content.decode()
    assert f"{url}?period=custom&amp;start=2026-10-01&amp;end=2026-10-31&amp;channel=phone" in body


# --- customer math --------------------------------------------------------------------------------


def test_customer_math_counts_the_periods_events(cast, world):
    panel = customer_math_panel(cast.executive, filters())
    now, before = panel["now"], panel["before"]
    assert (now.gained, now.won_back, now.lost, now.net) == (2, 1, 4, -1)
    assert (before.gained, before.won_back, before.lost) == (0, 0, 1)
    reasons = {row["reason"]: row["lost"] for row in panel["reasons"]}
    assert reasons == {"No reason from the list": 2, "Billing": 1, "Outage": 1}
    issues = {row["issue"].title: row["lost"] for row in panel["issues"]}
    assert issues == {"Double billing": 1, "Outages <b>again</b>": 1}  # not the closed one


def test_customer_math_for_a_department_head_and_one_segment(cast, world):
    panel = customer_math_panel(cast.manager, filters())
    assert (panel["now"].gained, panel["now"].won_back, panel["now"].lost) == (1, 1, 1)
    assert [row["issue"].title for row in panel["issues"]] == ["Double billing"]
    panel = customer_math_panel(cast.executive, filters(segment="consumer"))
    assert (panel["now"].gained, panel["now"].won_back, panel["now"].lost) == (1, 1, 3)
    panel = customer_math_panel(cast.executive, filters(segment="none"))
    assert (panel["now"].gained, panel["now"].lost) == (0, 0)  # an event always has a customer


def test_customer_math_fragment_links_every_figure_with_the_filters(cast, client, world):
    client.force_login(cast.executive)
    body = client.get(
        reverse("dashboards:panel", args=["customer-math"]),
        query(segment="consumer"),
        headers=HTMX,
    ).content.decode()
    drill = reverse("dashboards:drill-customers")
    assert (
        f'{drill}?period=custom&amp;start=2026-10-01&amp;end=2026-10-31&amp;segment=consumer&amp;kind=lost"'
        in body
    )
    assert f"kind=lost&amp;reason={world['billing'].id}" in body
    assert "does not apply" not in body  # the segment applies
    channel = client.get(
        reverse("dashboards:panel", args=["customer-math"]),
        query(segment="consumer", channel="email"),
        headers=HTMX,
    ).content.decode()
    assert "does not apply the channel filter" in channel
    assert "does not apply the team filter" not in channel
    body = client.get(
        reverse("dashboards:panel", args=["customer-math"]), query(), headers=HTMX
    ).content.decode()
    assert "Outages &lt;b&gt;again&lt;/b&gt;" in body and "<b>again" not in body


# --- stories ---------------------------------------------------------------------------------------


def test_stories_counts_and_the_latest_of_each_thumb(cast, world):
    panel = stories_panel(cast.executive, filters())
    assert panel["counts"] == {"up": 6, "down": 1}  # not the day after, not the erased one
    assert [s.title for s in panel["up"]] == ["Up 5", "Up 4", "Up 3", "Up 2", "Up 1"]
    assert [s.id for s in panel["down"]] == [world["down"].id]
    assert stories_panel(cast.executive, filters(team_id=cast.team_a.id))["counts"] == {
        "up": 6, "down": 0
    }  # fmt: skip
    assert stories_panel(cast.executive, filters(segment="enterprise"))["counts"] == {
        "up": 0, "down": 1
    }  # fmt: skip


def test_a_manager_reads_the_stories_of_their_scope(cast, world):
    panel = stories_panel(cast.manager, filters())
    assert panel["counts"] == {"up": 6, "down": 0}


def test_story_text_is_escaped(cast, client, world):
    client.force_login(cast.executive)
    body = client.get(
        reverse("dashboards:panel", args=["stories"]), query(), headers=HTMX
    ).content.decode()
    assert XSS not in body and "<script>alert" not in body
    assert "&lt;script&gt;alert(&#x27;story&#x27;)&lt;/script&gt;" in body
    assert f"#story-{world['down'].id}" in body
    assert "31 Oct 2026</time>" in body  # 23:59 in New York is still the 31st there


def test_the_story_counts_drill_down_to_their_stories(cast, client, world, monkeypatch):
    monkeypatch.setattr(drill_module, "PAGE_SIZE", 2)
    client.force_login(cast.executive)
    url = reverse("dashboards:drill-stories")
    pages, params = [], query() | {"thumb": "up"}
    while True:
        response = client.get(url, params)
        pages.append([story.id for story in response.context["rows"]])
        if response.context["next_after"] is None:
            break
        params = params | {"after": response.context["next_after"]}
    assert pages == [[s.id for s in reversed(world["up"])][n : n + 2] for n in (0, 2, 4)]
    response = client.get(url, query(team_id=cast.team_b.id) | {"thumb": "down"})
    assert [s.id for s in response.context["rows"]] == [world["down"].id]
    body = response.content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;alert(&#x27;story&#x27;)" in body
    response = client.get(url, query() | {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert sorted(int(row[-1]) for row in rows[1:]) == sorted(
        [s.id for s in world["up"]] + [world["down"].id]
    )
    response = client.get(url, query() | {"thumb": "down", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [row[2] for row in sheet.iter_rows(min_row=2, values_only=True)] == [XSS]
    client.force_login(cast.manager)
    assert list(client.get(url, query() | {"thumb": "down"}).context["rows"]) == []
    body = client.get(
        reverse("dashboards:panel", args=["stories"]), query(segment="consumer"), headers=HTMX
    ).content.decode()
    assert (
        f"{url}?period=custom&amp;start=2026-10-01&amp;end=2026-10-31&amp;segment=consumer&amp;thumb=up"
        in body
    )


# --- the customers drill-down ------------------------------------------------------------------------


def _pages(client, params) -> list[list[int]]:
    url = reverse("dashboards:drill-customers")
    pages = []
    while True:
        response = client.get(url, params)
        assert response.status_code == 200
        pages.append([event.id for event in response.context["rows"]])
        after = response.context["next_after"]
        if after is None:
            return pages
        params = params | {"after": after}


def test_keyset_pages_list_every_lost_customer_once_newest_first(cast, client, world, monkeypatch):
    monkeypatch.setattr(drill_module, "PAGE_SIZE", 1)
    client.force_login(cast.executive)
    pages = _pages(client, query() | {"kind": "lost"})
    expected = sorted(world["lost"], key=lambda e: (e.occurred_on, e.id), reverse=True)
    assert pages == [[e.id] for e in expected]


def test_the_drill_down_keeps_the_reason_and_the_scope(cast, client, world):
    client.force_login(cast.executive)
    url = reverse("dashboards:drill-customers")
    rows = client.get(url, query() | {"kind": "lost", "reason": world["billing"].id}).context[
        "rows"
    ]
    assert [e.customer for e in rows] == [world["customers"]["a1"]]
    rows = client.get(url, query() | {"kind": "lost", "reason": 0}).context["rows"]
    assert {e.customer for e in rows} == {world["customers"]["b2"], world["customers"]["b4"]}
    body = client.get(url, query() | {"kind": "lost", "reason": 0}).content.decode()
    assert "&lt;script&gt;alert(&#x27;story&#x27;)" in body and "<script>alert" not in body
    client.force_login(cast.manager)
    rows = client.get(url, query() | {"kind": "lost"}).context["rows"]
    assert [e.customer for e in rows] == [world["customers"]["a1"]]


def test_a_bad_customer_drill_is_refused(cast, client):
    client.force_login(cast.executive)
    url = reverse("dashboards:drill-customers")
    assert client.get(url).status_code == 400  # no kind
    assert client.get(url, {"kind": "lost", "after": "2026-10-01T00:00~1"}).status_code == 400
    assert client.get(url, {"kind": "lost", "after": "2026-13-01~1"}).status_code == 400
    assert client.get(url, {"kind": "lost", "format": "pdf"}).status_code == 400
    client.force_login(cast.rep)
    assert client.get(url, {"kind": "lost"}).status_code == 403


def test_the_customers_drill_down_exports_to_csv_and_excel(cast, client, world):
    client.force_login(cast.executive)
    url = reverse("dashboards:drill-customers")
    expected = sorted(e.id for e in world["lost"])
    response = client.get(url, query() | {"kind": "lost", "format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0] == [
        "Day", "Event", "Customer", "Customer ref", "Segment", "Reason", "In their words",
        "Customer id", "Event id",
    ]  # fmt: skip
    assert sorted(int(row[-1]) for row in rows[1:]) == expected
    assert "'" + FORMULA in [row[6] for row in rows[1:]]  # never a formula
    response = client.get(url, query() | {"kind": "lost", "format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = list(sheet.iter_rows(min_row=2, values_only=True))
    assert sorted(row[-1] for row in values) == expected
    assert {row[1] for row in values} == {"Lost"}


# --- email ping-pong ------------------------------------------------------------------------------


def test_pingpong_counts_the_periods_threads(cast, world):
    panel = pingpong_panel(cast.executive, filters())
    assert (panel["threads"], panel["pingpong"], panel["waiting"]) == (4, 3, 1)
    threads = world["threads"]
    # Most emails first, then the newest contact (the higher id).
    expected = [threads["resolved"], threads["called"], threads["waiting"]]
    assert [c.id for c in panel["longest"]] == [c.id for c in expected]
    assert [c.thread_customer_messages for c in panel["longest"]] == [4, 3, 3]
    panel = pingpong_panel(cast.manager, filters())
    assert (panel["threads"], panel["pingpong"], panel["waiting"]) == (2, 1, 1)
    panel = pingpong_panel(cast.executive, filters(channel="phone"))
    assert (panel["threads"], panel["pingpong"], panel["waiting"]) == (0, 0, 0)
    panel = pingpong_panel(cast.executive, filters(team_id=cast.team_b.id))
    assert (panel["threads"], panel["pingpong"], panel["waiting"]) == (2, 2, 0)


def test_pingpong_fragment_escapes_subjects_and_links_its_threads(cast, client, world):
    client.force_login(cast.executive)
    body = client.get(
        reverse("dashboards:panel", args=["pingpong"]), query(), headers=HTMX
    ).content.decode()
    assert "<script>alert" not in body and "&lt;script&gt;alert(&#x27;story&#x27;)" in body
    drill = reverse("dashboards:drill-threads")
    assert f"{drill}?period=custom&amp;start=2026-10-01&amp;end=2026-10-31&amp;waiting=1" in body


def test_the_threads_drill_down_pages_and_exports_its_threads(cast, client, world, monkeypatch):
    monkeypatch.setattr(drill_module, "PAGE_SIZE", 1)
    client.force_login(cast.executive)
    url = reverse("dashboards:drill-threads")
    threads = world["threads"]
    pages, params = [], query()
    while True:
        response = client.get(url, params)
        pages.append([c.id for c in response.context["rows"]])
        if response.context["next_params"] is None:
            break
        params = response.context["next_params"]
    expected = sorted(
        [threads["waiting"], threads["resolved"], threads["called"]],
        key=lambda c: c.occurred_at, reverse=True,
    )  # fmt: skip
    assert pages == [[c.id] for c in expected]
    rows = client.get(url, query() | {"waiting": "1"}).context["rows"]
    assert [c.id for c in rows] == [threads["waiting"].id]
    response = client.get(url, query() | {"waiting": "1", "format": "csv"})
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert [int(line[-1]) for line in lines[1:]] == [threads["waiting"].id]
    response = client.get(url, query() | {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    ids = sorted(row[-1] for row in sheet.iter_rows(min_row=2, values_only=True))
    assert ids == sorted(c.id for c in expected)
    client.force_login(cast.manager)
    rows = client.get(url, query()).context["rows"]
    assert [c.id for c in rows] == [threads["waiting"].id]


# --- queries -----------------------------------------------------------------------------------------

# With data on every panel (the fragment counts in test_pages.py are for a world without it):
# signed in (2), the filter form's teams (1), then each panel's own reads. Customer math
# reads one more than it did: the customers lost behind each issue are counted in the
# database (each once per issue), after the query that finds the issues.
WITH_DATA = {
    "listening": 5, "make-it-right": 8, "customer-math": 8, "stories": 6, "pingpong": 7
}  # fmt: skip


@pytest.mark.parametrize("key", list(WITH_DATA))
def test_each_listening_fragment_reads_a_pinned_number_of_queries(
    cast, client, world, key, django_assert_num_queries
):
    """Set-based reads: more executives, events and stories cost no query more."""
    client.force_login(cast.executive)
    url = reverse("dashboards:panel", args=[key])
    with django_assert_num_queries(WITH_DATA[key]):
        client.get(url, query(), headers=HTMX)
    for n in range(3):
        UserFactory(username=f"more{n}", role=Role.EXECUTIVE)
        c = CustomerFactory()
        CustomerEvent.objects.create(
            customer=c, kind="lost", occurred_on=START, reason=world["outage"]
        )
        contact = Contact.objects.create(
            source="more", external_id=str(n), channel="email", customer=c,
            occurred_at=local(2026, 10, 7, 9),
        )  # fmt: skip
        for m in range(4):
            Message.objects.create(
                contact=contact, external_id=str(m), position=m, direction="incoming", text="?"
            )
    rollups_rebuild()  # counts the new threads' customer messages
    with django_assert_num_queries(WITH_DATA[key]):
        client.get(url, query(), headers=HTMX)
