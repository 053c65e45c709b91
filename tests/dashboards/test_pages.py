"""The dashboard page, its HTMX fragments and the drill-downs: who may open them, filters kept in
every URL, customer text escaped, a bounded number of queries that does not grow with the
data, keyset pages that list every row once, and the exports."""

import csv
import io
from datetime import date

import pytest
import time_machine
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from tests.dashboards import world
from voc.dashboards import drill as drill_module
from voc.dashboards.filters import MONTH, filters_from, period_days
from voc.dashboards.panels import PANELS

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def data(cast, settings):
    settings.VOC_REPORTING_TIME_ZONE = world.TZ
    with time_machine.travel(world.TODAY, tick=False):
        reasons = world.make_reasons(cast)
        world.make_contacts(cast, reasons)
        world.make_feedback(cast, reasons)
        yield reasons


def test_a_rep_is_refused_and_the_anonymous_sent_to_sign_in(cast, client):
    for name in ("dashboards:executive", "dashboards:drill-contacts", "dashboards:drill-feedback"):
        assert client.get(reverse(name)).status_code == 302
        client.force_login(cast.rep)
        assert client.get(reverse(name)).status_code == 403
        client.logout()
    client.force_login(cast.rep)
    url = reverse("dashboards:panel", args=["top-drivers"])
    assert client.get(url, headers=HTMX).status_code == 403


def test_an_unknown_panel_is_not_found(cast, client):
    client.force_login(cast.executive)
    assert client.get(reverse("dashboards:panel", args=["nope"])).status_code == 404


def test_the_page_loads_each_panel_on_its_own_with_the_filters(cast, client, data):
    client.force_login(cast.executive)
    params = world.query(channel="email", team_id=cast.team_a.id, segment="consumer")
    response = client.get(reverse("dashboards:executive"), params)
    page = response.content.decode()
    assert response.status_code == 200
    for key in PANELS:
        fragment = reverse("dashboards:panel", args=[key])
        assert f'hx-get="{fragment}?period=custom&amp;start=2026-10-26&amp;end=2026-11-22' in page
    assert page.count('hx-trigger="load"') == len(PANELS)
    assert "channel=email" in page and f"team={cast.team_a.id}" in page
    assert "<script>" not in page.split("</head>")[1]  # no inline script (CSP)


def test_a_fragment_is_a_fragment_for_htmx_and_a_page_without(cast, client, data):
    client.force_login(cast.executive)
    url = reverse("dashboards:panel", args=["top-drivers"])
    fragment = client.get(url, world.query(), headers=HTMX).content.decode()
    assert "<html" not in fragment and 'data-testid="top-drivers-table"' in fragment
    page = client.get(url, world.query()).content.decode()
    assert "<html" in page and 'data-testid="top-drivers-table"' in page


@pytest.mark.parametrize("key", list(PANELS))
def test_customer_text_is_escaped_in_every_panel(cast, client, data, key):
    client.force_login(cast.executive)
    url = reverse("dashboards:panel", args=[key])
    body = client.get(url, world.query(), headers=HTMX).content.decode()
    assert world.XSS not in body
    assert "<script>alert" not in body


def test_the_weekly_chart_reads_an_escaped_json_island(cast, client, data):
    client.force_login(cast.executive)
    url = reverse("dashboards:panel", args=["reasons-by-week"])
    body = client.get(url, world.query(), headers=HTMX).content.decode()
    assert '<script id="chart-reasons-by-week" type="application/json">' in body
    assert "\\u003Cscript\\u003Ealert" in body  # the reason's name, escaped for JSON in HTML
    assert "&lt;script&gt;alert(&#x27;reason&#x27;)&lt;/script&gt;" in body  # and in the table


def test_the_drill_down_escapes_verbatims(cast, client, data):
    client.force_login(cast.executive)
    body = client.get(reverse("dashboards:drill-contacts"), world.query()).content.decode()
    assert "I called about outage &lt;script&gt;alert(" in body  # the verbatim, escaped
    assert "<script>alert" not in body
    body = client.get(reverse("dashboards:drill-feedback"), world.query()).content.decode()
    assert "&lt;script&gt;alert(&#x27;fb&#x27;)" in body


# --- queries ------------------------------------------------------------------------------------

# Per fragment, signed in as an executive (session and user: 2), with the filter form's teams
# (1) and the panel's own reads (see each panel's docstring; the reasons' names are one more).
FRAGMENT_QUERIES = {
    "reasons-by-week": 5,
    "top-drivers": 6,
    "rising-drivers": 5,  # + 1 for the names when a reason ranks (none does in this world)
    "avoidable": 8,  # three rollup reads, the names, the business settings
    "service": 5,
    "scores": 5,
    "survey-fatigue": 4,
    "open-issues": 7,  # open issues per age and SLA state, code reds, escalations, verdicts
    "closing-the-loop": 6,  # follow-ups opened, durations of those closed, notices sent
    "listening": 5,  # one read for every executive, the weekly target
    "make-it-right": 6,  # + 2 for the reasons' and teams' names when gestures were given
    "customer-math": 5,  # + 2 for the names and the open issues when customers were lost
    "stories": 6,  # the counts, the latest of each thumb
    "pingpong": 7,  # the email threads, the ping-pong ones, those waiting, the longest
}


def _count(client, url, params) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, params, headers=HTMX).status_code == 200
    return len(queries)


@pytest.mark.parametrize("key", list(PANELS))
def test_each_fragment_reads_a_pinned_number_of_queries_whatever_the_data(
    cast, client, data, key, settings
):
    """Rollups, not contacts: four times the contacts cost no query more (prevents a query
    per reason, week or row creeping into a panel)."""
    client.force_login(cast.executive)
    url = reverse("dashboards:panel", args=[key])
    with time_machine.travel(world.TODAY, tick=False):
        small = _count(client, url, world.query())
        others = {key: reason for key, reason in data.items() if key != "xss"}  # renamed
        world.make_contacts(cast, others, n=480, seed=99, prefix="more")
        large = _count(client, url, world.query())
    assert small == large == FRAGMENT_QUERIES[key]


def test_a_managers_fragment_adds_only_the_scope_queries(cast, client, data):
    client.force_login(cast.manager)
    url = reverse("dashboards:panel", args=["top-drivers"])
    assert _count(client, url, world.query()) <= FRAGMENT_QUERIES["top-drivers"] + 8


def test_the_page_itself_reads_no_rollup(cast, client, data, django_assert_max_num_queries):
    client.force_login(cast.executive)
    with django_assert_max_num_queries(3):
        client.get(reverse("dashboards:executive"), world.query())


# --- drill-down: keyset pages and exports --------------------------------------------------------


def _pages(client, url, params) -> list[list[str]]:
    pages = []
    while True:
        response = client.get(url, params)
        assert response.status_code == 200
        pages.append([str(row.id) for row in response.context["rows"]])
        following = response.context["next_params"]
        if following is None:
            return pages
        params = following


def test_keyset_pages_list_every_contact_once_newest_first(cast, client, data, monkeypatch):
    monkeypatch.setattr(drill_module, "PAGE_SIZE", 7)
    client.force_login(cast.executive)
    pages = _pages(client, reverse("dashboards:drill-contacts"), world.query())
    f = world.filters()
    expected = sorted(
        world.contacts_counted(cast.executive, f), key=lambda c: (c.occurred_at, c.id), reverse=True
    )
    assert [row for page in pages for row in page] == [str(c.id) for c in expected]
    assert all(len(page) == 7 for page in pages[:-1]) and 1 <= len(pages[-1]) <= 7


def test_a_page_of_exactly_page_size_rows_has_no_next_page(cast, client, data, monkeypatch):
    client.force_login(cast.executive)
    url = reverse("dashboards:drill-contacts")
    total = len(world.contacts_counted(cast.executive, world.filters()))
    monkeypatch.setattr(drill_module, "PAGE_SIZE", total)
    assert client.get(url, world.query()).context["next_params"] is None
    monkeypatch.setattr(drill_module, "PAGE_SIZE", total - 1)
    assert client.get(url, world.query()).context["next_params"] is not None


def test_contacts_at_the_same_instant_are_split_by_id(cast, client, settings, monkeypatch):
    from contacts.ingest.service import contacts_ingest

    settings.VOC_REPORTING_TIME_ZONE = world.TZ
    contacts_ingest(
        rows=[
            {"source": "tie", "external_id": str(n), "channel": "phone",
             "occurred_at": "2026-11-10T12:00:00Z", "team": cast.team_a.name}
            for n in range(5)
        ]
    )  # fmt: skip
    monkeypatch.setattr(drill_module, "PAGE_SIZE", 2)
    client.force_login(cast.executive)
    pages = _pages(client, reverse("dashboards:drill-contacts"), world.query())
    assert [len(page) for page in pages] == [2, 2, 1]
    ids = [row for page in pages for row in page]
    assert ids == sorted(ids, key=int, reverse=True)


def test_a_bad_position_or_drill_is_refused(cast, client):
    client.force_login(cast.executive)
    url = reverse("dashboards:drill-contacts")
    assert client.get(url, {"after": "yesterday~1"}).status_code == 400
    assert client.get(url, {"after": "2026-11-10T12:00:00~1"}).status_code == 400  # naive
    assert client.get(url, {"measure": "everything"}).status_code == 400
    assert client.get(url, {"day_from": "2026-11-10"}).status_code == 400
    assert client.get(url, {"format": "pdf"}).status_code == 400


def test_the_drill_down_exports_to_csv_and_excel(cast, client, data):
    client.force_login(cast.manager)
    url = reverse("dashboards:drill-contacts")
    params = world.query() | {"avoidable": "1"}
    expected = [
        c for c in world.contacts_counted(cast.manager, world.filters())
        if c.reason and c.reason.avoidable
    ]  # fmt: skip
    assert expected
    response = client.get(url, params | {"format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["When", "Channel", "Team", "Reason"]
    assert sorted(int(row[-1]) for row in rows[1:]) == sorted(c.id for c in expected)
    response = client.get(url, params | {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    ids = [row[-1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert sorted(ids) == sorted(c.id for c in expected)


def test_the_feedback_drill_down_exports_a_band(cast, client, data):
    client.force_login(cast.executive)
    params = world.query() | {"kind": "nps", "band": "negative", "format": "csv"}
    response = client.get(reverse("dashboards:drill-feedback"), params)
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    expected = [
        i for i in world.items_counted(cast.executive, world.filters())
        if i.kind == "nps" and i.band == "negative"
    ]  # fmt: skip
    assert len(rows) - 1 == len(expected) > 0
    assert {row[2] for row in rows[1:]} <= {str(n) for n in range(7)}


# --- filters ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "period, start, end",
    [
        ("week", date(2026, 11, 23), date(2026, 11, 25)),
        ("month", date(2026, 11, 1), date(2026, 11, 25)),
        ("quarter", date(2026, 10, 1), date(2026, 11, 25)),
        ("last_quarter", date(2026, 7, 1), date(2026, 9, 30)),
    ],
)
def test_named_periods_and_the_previous_period_of_the_same_length(cast, period, start, end):
    f, _ = filters_from(
        QueryDict(f"period={period}"), viewer=cast.executive, today=date(2026, 11, 25)
    )
    assert (f.start, f.end) == (start, end)
    assert f.previous_end == start.fromordinal(start.toordinal() - 1)
    assert f.days == (end - start).days + 1
    assert (f.previous_end - f.previous_start).days + 1 == f.days


def test_a_bad_filter_falls_back_and_says_why(cast):
    today = date(2026, 11, 25)
    f, form = filters_from(
        QueryDict("period=custom&start=2026-11-20&end=2026-11-01&channel=pigeon"),
        viewer=cast.executive,
        today=today,
    )
    assert (f.start, f.end) == period_days(MONTH, today=today)
    assert f.channel == ""
    assert form.errors
    f, _ = filters_from(QueryDict(f"team={cast.team_b.id}"), viewer=cast.manager, today=today)
    assert f.team_id is None  # not a team of theirs: not offered, not applied
    f, _ = filters_from(QueryDict(f"team={cast.team_a.id}"), viewer=cast.manager, today=today)
    assert f.team_id == cast.team_a.id


def test_a_custom_period_of_exactly_the_limit_is_accepted(cast):
    f, form = filters_from(
        QueryDict("period=custom&start=2025-01-01&end=2026-12-31"), viewer=cast.executive
    )
    assert form.is_valid() and f.days == 730
    f, form = filters_from(
        QueryDict("period=custom&start=2025-01-01&end=2027-01-01"), viewer=cast.executive
    )
    assert f.days == 731 and form.is_valid()
    _, form = filters_from(
        QueryDict("period=custom&start=2025-01-01&end=2027-01-02"), viewer=cast.executive
    )
    assert not form.is_valid()


def test_a_panel_that_cannot_apply_a_filter_says_so(cast, client, monkeypatch):
    from dataclasses import replace

    from voc.dashboards import panels

    service = panels.PANELS["service"]
    monkeypatch.setitem(
        panels.PANELS, "service", replace(service, ignores={"segment": "<b>no segment</b> here"})
    )
    client.force_login(cast.executive)
    url = reverse("dashboards:panel", args=["service"])
    body = client.get(url, world.query(segment="consumer"), headers=HTMX).content.decode()
    assert 'data-testid="ignored-filter"' in body
    assert "does not apply the segment filter: &lt;b&gt;no segment&lt;/b&gt; here" in body
    other = client.get(reverse("dashboards:panel", args=["scores"]), headers=HTMX)
    assert 'data-testid="ignored-filter"' not in other.content.decode()


def test_a_filter_a_panel_ignores_is_mentioned_only_when_it_is_set(cast, client, monkeypatch):
    from dataclasses import replace

    from voc.dashboards import panels

    service = panels.PANELS["service"]
    ignores = {"channel": "no channel", "team": "no team", "segment": "no segment"}
    monkeypatch.setitem(panels.PANELS, "service", replace(service, ignores=ignores))
    client.force_login(cast.executive)
    url = reverse("dashboards:panel", args=["service"])
    team = cast.team_a.pk
    for params, said in (
        ({}, []),
        ({"channel": "email"}, ["channel"]),
        ({"team_id": team}, ["team"]),
        ({"segment": "consumer", "channel": "phone"}, ["channel", "segment"]),
    ):
        body = client.get(url, world.query(**params), headers=HTMX).content.decode()
        assert body.count('data-testid="ignored-filter"') == len(said), params
        for name in said:
            assert f"does not apply the {name} filter" in body
