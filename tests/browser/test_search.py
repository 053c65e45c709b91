"""A rep searches through the box in the bar: customers by name, email, phone or ref and
messages by their words, grouped, their own team's only; words and a filter, highlighted
matches, and on to the contact or the customer."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact
from tests.browser.test_navigation import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def test_a_rep_finds_their_teams_messages_highlighted(page: Page, live_server, cast):
    rows = [
        {"external_id": "mine", "team": cast.team_a.name, "channel": "chat",
         "text": "The router <b>blinks</b> red since Monday"},
        {"external_id": "mine-phone", "team": cast.team_a.name, "channel": "phone",
         "text": "Router replaced by the technician"},
        {"external_id": "theirs", "team": cast.team_b.name, "channel": "chat",
         "text": "Router blinks in the other team"},
    ]  # fmt: skip
    for hours, row in enumerate(rows):
        row.update(source="browser", occurred_at=(T0 + timedelta(hours=hours)).isoformat())
    assert not contacts_ingest(rows=rows).rejected

    sign_in(page, cast.rep.username, cast.password)
    # The box in the bar, then the search page's filters to narrow it.
    nav_box = page.get_by_test_id("nav-search").get_by_role("searchbox")
    nav_box.fill("router blinks")
    nav_box.press("Enter")
    expect(page).to_have_title("Search · VoC")
    expect(page.get_by_label("Words")).to_have_value("router blinks")
    page.get_by_label("Channel").select_option("chat")
    page.get_by_role("button", name="Search", exact=True).click()

    expect(page.get_by_test_id("search-total")).to_contain_text("1 message, newest first")
    hits = page.get_by_test_id("search-hits")
    # The customer's "<b>" is no element (PostgreSQL's excerpts leave tags out, elsewhere it
    # is shown as text); the matches are marked.
    expect(hits.locator("li")).to_have_count(1)
    expect(hits).to_contain_text("red since Monday")
    expect(hits.locator("b")).to_have_count(0)
    marked = hits.locator("mark").all_inner_texts()
    assert sorted(text.lower() for text in marked) == ["blinks", "router"]
    assert "other team" not in page.content()

    hits.locator("li a").first.click()
    mine = Contact.objects.get(source="browser", external_id="mine")
    expect(page).to_have_url(
        f"{live_server.url}{reverse('contacts:contact-detail', args=[mine.id])}"
    )


def test_one_box_finds_a_customer_by_email_phone_or_ref_and_groups_the_results(
    page: Page, live_server, cast
):
    rows = [
        {"external_id": "ada", "team": cast.team_a.name, "customer_ref": "CRM-7731",
         "customer_name": "Ada Lovelace", "customer_email": "ada@analytical.example",
         "customer_phone": "+12025550143", "text": "Please call me at ada@analytical.example"},
        {"external_id": "other", "team": cast.team_b.name, "customer_ref": "CRM-9001",
         "customer_name": "Ada Byron", "customer_email": "byron@poets.example",
         "text": "ada@analytical.example told me about you"},
    ]  # fmt: skip
    for hours, row in enumerate(rows):
        row.update(source="browser", channel="email",
                   occurred_at=(T0 + timedelta(hours=hours)).isoformat())  # fmt: skip
    assert not contacts_ingest(rows=rows).rejected
    ada = Contact.objects.get(source="browser", external_id="ada")

    sign_in(page, cast.rep.username, cast.password)
    nav_box = page.get_by_test_id("nav-search").get_by_role("searchbox")
    for query in ("ada@analytical.example", "202 555 0143", "crm-7731"):
        nav_box = page.get_by_test_id("nav-search").get_by_role("searchbox")
        nav_box.fill(query)
        nav_box.press("Enter")
        customers = page.get_by_test_id("search-customers")
        expect(customers.locator("li")).to_have_count(1)
        expect(customers.locator("li a")).to_have_text("Ada Lovelace")
    # Grouped: customers first, then the contacts whose messages match (the rep's team only).
    page.goto(f"{reverse('contacts:message-search')}?q=ada%40analytical.example")
    headings = page.locator("main h2").all_inner_texts()
    assert headings == ["Customers", "Contacts"]
    expect(page.get_by_test_id("search-hits").locator("li")).to_have_count(1)
    assert "Ada Byron" not in page.content()
    page.get_by_test_id("search-customers").get_by_role("link", name="Ada Lovelace").click()
    expect(page).to_have_url(
        f"{live_server.url}{reverse('contacts:customer-detail', args=[ada.customer_id])}"
    )
    # Nothing found is said in a sentence, not as item "1." of an empty list.
    nav_box = page.get_by_test_id("nav-search").get_by_role("searchbox")
    nav_box.fill("zebra")
    nav_box.press("Enter")
    expect(page.get_by_test_id("search-empty")).to_have_text("No messages you can see match.")
    expect(page.get_by_test_id("no-customers")).to_be_visible()
    expect(page.locator("main ol li")).to_have_count(0)
