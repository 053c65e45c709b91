"""The one search box: customers by name, email, phone or customer ref, and contacts by the
words of their messages, grouped, each in the searcher's row scope."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse

from contacts.ingest.service import contacts_ingest
from contacts.models import Customer
from contacts.search_views import CUSTOMER_HITS
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.fixture
def world(cast):
    rows = [
        {"external_id": "a", "team": cast.team_a.name, "customer_ref": "CRM-7731",
         "customer_name": "Ada Lovelace", "customer_email": "ada@analytical.example",
         "customer_phone": "+12025550143", "text": "My router blinks since the storm"},
        {"external_id": "b", "team": cast.team_b.name, "customer_ref": "CRM-9001",
         "customer_name": "Ada Byron", "customer_email": "byron@poets.example",
         "customer_phone": "+12025550999", "text": "Lovelace is my maiden name, router broken"},
    ]  # fmt: skip
    for n, row in enumerate(rows):
        row.update(source="search-page", channel="phone",
                   occurred_at=(T0 + timedelta(hours=n)).isoformat())  # fmt: skip
    result = contacts_ingest(rows=rows)
    assert not result.rejected, result.rejected
    return {c.external_ref: c for c in Customer.objects.all()}


def groups(client, q: str, **params):
    response = client.get(reverse("contacts:message-search"), {"q": q, **params})
    assert response.status_code == 200
    customers = [c.external_ref for c in response.context["customers"]]
    result = response.context["result"]
    contacts = [hit.message.contact.customer.external_ref for hit in result.rows]
    return customers, contacts, response.content.decode()


@pytest.mark.parametrize(
    "query",
    ["Ada Lovelace", "lovelace", "ADA@analytical", "CRM-7731", "crm-7731", "202-555-0143",
     '"Ada Lovelace"'],
)  # fmt: skip
def test_a_rep_finds_their_teams_customer_by_name_email_ref_or_phone(client, cast, world, query):
    client.force_login(cast.rep)
    customers, _, html = groups(client, query)
    assert customers == ["CRM-7731"]
    assert reverse("contacts:customer-detail", args=[world["CRM-7731"].id]) in html
    assert "Ada Byron" not in html and "byron@poets" not in html  # team B's customer


def test_customers_and_contacts_come_grouped_in_each_viewers_scope(client, cast, world):
    client.force_login(cast.rep)
    customers, contacts, html = groups(client, "lovelace")
    assert customers == ["CRM-7731"]
    assert contacts == []  # "Lovelace" is in team B's message only
    assert html.index("<h2>Customers</h2>") < html.index("<h2>Contacts</h2>")

    client.force_login(cast.executive)
    customers, contacts, _ = groups(client, "lovelace")
    assert customers == ["CRM-7731"]  # by name; Ada Byron's maiden name is in a message
    assert contacts == ["CRM-9001"]
    customers, contacts, _ = groups(client, "router")
    assert customers == [] and contacts == ["CRM-9001", "CRM-7731"]  # newest first
    customers, _, _ = groups(client, "ada")
    assert customers == ["CRM-9001", "CRM-7731"]  # by name: Byron, Lovelace

    client.force_login(cast.outsider)  # team B
    customers, contacts, _ = groups(client, "ada")
    assert customers == ["CRM-9001"]


def test_an_empty_result_is_a_sentence_not_a_numbered_item(client, cast, world):
    client.force_login(cast.rep)
    customers, contacts, html = groups(client, "zebra")
    assert customers == [] and contacts == []
    assert 'data-testid="no-customers"' in html and 'data-testid="search-empty"' in html
    assert "0 messages, newest first." in html
    assert not re.search(r"<ol[^>]*>\s*<li", html)  # nothing an <ol> would number "1."
    assert 'data-testid="search-hits"' not in html


def test_the_customer_group_shows_the_first_ten_and_links_to_the_rest(client, cast, world):
    CustomerFactory.create_batch(CUSTOMER_HITS + 1, name="Zoe Quarry")
    client.force_login(cast.admin)
    customers, _, html = groups(client, "quarry")
    assert len(customers) == CUSTOMER_HITS and 'data-testid="more-customers"' in html
    assert f"{reverse('contacts:customer-search')}?q=quarry" in html
    Customer.objects.filter(name="Zoe Quarry").first().delete()
    customers, _, html = groups(client, "quarry")  # exactly ten: all of them, no link
    assert len(customers) == CUSTOMER_HITS and 'data-testid="more-customers"' not in html


def test_customers_show_on_the_first_page_only_and_not_for_one_letter(client, cast, world):
    client.force_login(cast.admin)
    customers, _, html = groups(client, "router", page=2)
    assert customers == [] and 'data-testid="search-customers"' not in html
    customers, _, _ = groups(client, "a")
    assert customers == []


def test_an_anonymous_visitor_is_sent_to_sign_in(client, world):
    response = client.get(reverse("contacts:message-search"), {"q": "ada"})
    assert response.status_code == 302 and reverse("login") in response["Location"]
