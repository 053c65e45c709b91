"""The contact and customer lists: sorting by their main columns, paging with a "go to page"
form, each role's scope kept whatever the order."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason, Customer
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def rows(cast):
    """Four team-A contacts and one of team B, each column in a different order than time."""
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a)
    ContactReason.objects.create(name="Refund", parent=billing, department=cast.dept_a)
    ContactReason.objects.create(name="Access", department=cast.dept_a)
    specs = [
        # subject, customer name, channel, reason, road, team
        ("s1", "Carla", "phone", "Billing › Refund", 2, cast.team_a),
        ("s2", "Anna", "email", "Billing", 4, cast.team_a),
        ("s3", "", "chat", "Access", 1, cast.team_a),  # a customer without a name
        ("s4", None, "web_form", "", None, cast.team_a),  # no customer, reason or road
        ("s5", "Bert", "phone", "Access", 3, cast.team_b),
    ]
    data = []
    for n, (subject, name, channel, reason, road, team) in enumerate(specs):
        row = {"source": "lists", "external_id": subject, "channel": channel, "team": team.name,
               "occurred_at": (T0 + timedelta(hours=n)).isoformat(), "subject": subject}  # fmt: skip
        if name is not None:
            row.update(customer_ref=f"REF-{subject}", customer_name=name)
        if reason:
            row["reason"] = reason
        if road:
            row["road"] = road
        data.append(row)
    result = contacts_ingest(rows=data)
    assert not result.rejected, result.rejected
    return data


def subjects(client, **params) -> list[str]:
    response = client.get(reverse("contacts:contact-list"), params)
    assert response.status_code == 200
    return [contact.subject for contact in response.context["page"]]


@pytest.mark.parametrize(
    "sort, expected",
    [
        ("", ["s5", "s4", "s3", "s2", "s1"]),  # newest first
        ("-when", ["s5", "s4", "s3", "s2", "s1"]),
        ("when", ["s1", "s2", "s3", "s4", "s5"]),
        # A–Z; a blank name and no customer at all go last, either way (ties: oldest first).
        ("customer", ["s2", "s5", "s1", "s3", "s4"]),
        ("-customer", ["s1", "s5", "s2", "s4", "s3"]),
        ("channel", ["s3", "s2", "s1", "s5", "s4"]),  # chat < email < phone < web_form
        # A parent before its children, by name; no reason last.
        ("reason", ["s3", "s5", "s2", "s1", "s4"]),
        ("team", ["s1", "s2", "s3", "s4", "s5"]),  # Billing Care, then Tech Tier 1
        ("-team", ["s5", "s4", "s3", "s2", "s1"]),
        ("road", ["s3", "s1", "s5", "s2", "s4"]),
        ("-road", ["s2", "s5", "s1", "s3", "s4"]),
        ("subject", ["s5", "s4", "s3", "s2", "s1"]),  # not a sortable column: the default
        ("-;drop", ["s5", "s4", "s3", "s2", "s1"]),
    ],
)
def test_the_contact_list_sorts_by_its_main_columns(client, cast, rows, sort, expected):
    client.force_login(cast.admin)
    assert subjects(client, sort=sort) == expected


def test_sorting_keeps_the_scope_and_the_filters(client, cast, rows):
    client.force_login(cast.rep)
    assert subjects(client, sort="customer") == ["s2", "s1", "s3", "s4"]
    assert subjects(client, sort="-road", channel="phone") == ["s1"]


def test_the_header_links_toggle_the_direction_and_say_how_it_is_sorted(client, cast, rows):
    client.force_login(cast.admin)
    url = reverse("contacts:contact-list")
    html = client.get(url).content.decode()
    assert "5 contacts, newest first." in html
    assert re.search(r'<th class="c-when" aria-sort="descending"><a href="\?sort=when"', html)
    assert 'href="?sort=customer" data-sort="customer">Customer</a>' in html
    assert 'href="?sort=-road"' not in html  # roads sort 1–4 on the first click
    html = client.get(url, {"sort": "customer", "page": "1", "channel": "phone"}).content.decode()
    assert "1 contact, by customer, A–Z." not in html  # two phone contacts for the admin
    assert "2 contacts, by customer, A–Z." in html
    # Sorting again starts from the first page and keeps the filters.
    assert 'href="?sort=-customer&amp;channel=phone"' in html
    assert 'aria-sort="ascending"' in html
    html = client.get(url, {"sort": "road"}).content.decode()
    assert "5 contacts, by road, 1–4." in html


def test_the_pager_jumps_to_a_page_and_keeps_the_sort_and_filters(client, cast, rows):
    contacts_ingest(
        rows=[
            {"source": "lists", "external_id": f"bulk-{n}", "channel": "phone",
             "team": cast.team_a.name, "occurred_at": (T0 - timedelta(minutes=n + 1)).isoformat(),
             "subject": f"bulk {n:03d}"}
            for n in range(120)
        ]
    )  # fmt: skip
    client.force_login(cast.rep)
    url = reverse("contacts:contact-list")
    response = client.get(url, {"sort": "when", "channel": "phone", "page": "3"})
    page = response.context["page"]
    assert page.number == 3 and page.paginator.num_pages == 3
    assert page.paginator.count == 121  # 120 bulk and s1
    assert [c.subject for c in page][-1] == "s1"  # oldest first: s1 is the newest phone call
    html = response.content.decode()
    assert '<input type="number" id="page-jump" name="page" min="1" max="3" value="3"' in html
    assert '<input type="hidden" name="sort" value="when">' in html
    assert '<input type="hidden" name="channel" value="phone">' in html
    assert 'name="page" value="3"' not in html.split('id="page-jump"')[0]  # not carried twice
    assert 'rel="first"' in html and 'rel="last"' not in html
    # Past the end, or not a number: the nearest page, never an error.
    assert client.get(url, {"page": "99"}).context["page"].number == 3
    assert client.get(url, {"page": "x"}).context["page"].number == 1


def test_the_customer_list_lists_sorts_and_pages_the_visible_customers(client, cast, rows):
    client.force_login(cast.rep)
    url = reverse("contacts:customer-search")

    def names(**params) -> list[str]:
        response = client.get(url, params)
        assert response.status_code == 200
        return [customer.name for customer in response.context["results"]]

    # The rep's team has Anna, Carla and a customer without a name; Bert is team B's.
    assert names() == ["Anna", "Carla", ""]
    assert names(sort="-name") == ["Carla", "Anna", ""]
    assert names(sort="ref") == ["Carla", "Anna", ""]  # REF-s1, REF-s2, REF-s3
    assert names(q="anna") == ["Anna"]
    assert names(q="bert") == []
    assert names(q="a") == []  # too short: an error, not every customer
    html = client.get(url, {"q": "a"}).content.decode()
    assert "Ensure this value has at least 2 characters" in html

    client.force_login(cast.executive)
    CustomerFactory.create_batch(60, name="Zed")
    response = client.get(url, {"sort": "name", "page": "2"})
    assert response.context["page"].paginator.count == 64
    assert len(response.context["results"]) == 14
    assert 'max="2" value="2"' in response.content.decode()
    assert Customer.objects.count() == 64
    assert Contact.objects.count() == 5


def test_the_customer_list_reads_a_fixed_number_of_queries(client, cast, rows):
    client.force_login(cast.executive)
    url = reverse("contacts:customer-search")

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url, {"sort": "-since"}).status_code == 200
        return len(queries)

    few = count()
    CustomerFactory.create_batch(60)
    # A page of 50 rows reads no more than a page of 4 (prevents a query per row).
    assert count() == few
