"""The customer-math panel and its drill-down count the same distinct customers: each figure
(gained, lost, won back, lost per reason) is the number of rows its drill-down lists, page by
page and exported, each customer once; the issues behind the losses follow parent reasons and
merges. Per role, on the world of tests/contacts/customer_math_world.py."""

import csv
import io
from urllib.parse import parse_qsl

import pytest
from django.urls import reverse

from tests.contacts import customer_math_world as w
from voc.dashboards import drill as drill_module

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
DASHBOARD_ROLES = ["head", "member", "other_head", "executive", "admin"]
DRILL = "dashboards:drill-customers"


@pytest.fixture
def world(cast):
    return w.build(cast)


def panel(client, **more):
    url = reverse("dashboards:panel", args=["customer-math"])
    response = client.get(url, w.filters(**more).params(), headers=HTMX)
    assert response.status_code == 200
    return response


def drilled(client, **params) -> list[str]:
    """Every customer the drill-down lists, following its pages."""
    params = w.filters().params() | params
    listed = []
    while True:
        response = client.get(reverse(DRILL), params)
        assert response.status_code == 200
        listed += [event.customer.name for event in response.context["rows"]]
        if response.context["next_after"] is None:
            return listed
        params = params | {"after": response.context["next_after"]}


@pytest.mark.parametrize("role", DASHBOARD_ROLES)
def test_each_figure_is_the_customers_its_drill_down_lists(cast, client, world, role, monkeypatch):
    monkeypatch.setattr(drill_module, "PAGE_SIZE", 2)  # several pages
    client.force_login(w.viewers(cast, world)[role])
    gained, lost, won_back, _before = w.COUNTED[role]
    now = panel(client).context["now"]
    assert (now.gained, now.lost, now.won_back) == (len(gained), len(lost), len(won_back))
    assert now.net == len(gained) + len(won_back) - len(lost)
    for kind, expected in (("gained", gained), ("lost", lost), ("won_back", won_back)):
        listed = drilled(client, kind=kind)
        assert sorted(listed) == sorted(expected), kind  # each customer once


@pytest.mark.parametrize("role", DASHBOARD_ROLES)
def test_each_reason_row_is_the_customers_its_link_lists(cast, client, world, role):
    client.force_login(w.viewers(cast, world)[role])
    rows = panel(client).context["reasons"]
    assert rows
    for row in rows:
        params = dict(parse_qsl(row["query"]))
        assert len(drilled(client, **params)) == row["lost"], row["reason"]


def test_the_executives_panel_reads_customers_not_events(cast, client, world):
    client.force_login(cast.executive)
    response = panel(client)
    now, before = response.context["now"], response.context["before"]
    assert (now.gained, now.won_back, now.lost, now.net) == (2, 2, 6, -2)
    assert (before.gained, before.won_back, before.lost) == (0, 0, 1)
    assert {row["reason"]: row["lost"] for row in response.context["reasons"]} == {
        "Billing › Double charge": 3,  # c1, c2 (lost twice), c8 (for Refunds, merged into it)
        "Outage": 2,
        "Billing": 1,
        "No reason from the list": 1,
    }
    body = response.content.decode()
    assert 'data-testid="customers-lost">6<' in body and 'data-testid="customers-net">-2' in body


def test_the_drill_down_lists_each_customer_at_their_latest_loss(cast, client, world, monkeypatch):
    monkeypatch.setattr(drill_module, "PAGE_SIZE", 1)
    client.force_login(cast.executive)
    assert drilled(client, kind="lost") == ["c7", "c2", "c1", "c3", "c8", "c4"]  # newest first


def test_the_export_has_the_same_customers(cast, client, world):
    client.force_login(cast.executive)
    response = client.get(reverse(DRILL), w.filters().params() | {"kind": "lost", "format": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert sorted(row[2] for row in rows[1:]) == ["c1", "c2", "c3", "c4", "c7", "c8"]


# Issue -> customers lost behind it (see tests/loops/test_losses.py), as the panel shows them.
ISSUES = {
    "head": [("On Billing", 3), ("On Double charge", 3), ("On Refunds", 3), ("On Outage", 1)],
    "member": [("On Billing", 3), ("On Double charge", 3), ("On Refunds", 3)],
    "other_head": [("On Outage", 2), ("On Double charge and Outage", 2)],
    "executive": [
        ("On Double charge and Outage", 5),
        ("On Billing", 3),
        ("On Double charge", 3),
        ("On Refunds", 3),
        ("On Outage", 2),
    ],
}
ISSUES["admin"] = ISSUES["executive"]


@pytest.mark.parametrize("role", DASHBOARD_ROLES)
def test_the_issues_behind_the_losses_follow_parent_reasons_and_merges(cast, client, world, role):
    client.force_login(w.viewers(cast, world)[role])
    rows = panel(client).context["issues"]
    assert [(row["issue"].title, row["lost"]) for row in rows] == ISSUES[role]


def test_an_issue_names_the_reasons_it_is_behind(cast, client, world):
    client.force_login(cast.executive)
    rows = {row["issue"].title: row["reasons"] for row in panel(client).context["issues"]}
    assert rows["On Billing"] == "Billing"
    assert rows["On Refunds"] == "Billing › Double charge"
    assert rows["On Double charge and Outage"] == "Billing › Double charge, Outage"


def test_a_rep_sees_neither(cast, client, world):
    client.force_login(cast.rep)
    url = reverse("dashboards:panel", args=["customer-math"])
    assert client.get(url, w.filters().params(), headers=HTMX).status_code == 403
    assert client.get(reverse(DRILL), {"kind": "lost"}).status_code == 403
