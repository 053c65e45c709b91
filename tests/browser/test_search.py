"""A rep searches the messages through the page: the Search entry of the bar, words and a
filter, highlighted matches of their own team only, and on to the contact."""

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
    expect(page).to_have_title("Search messages · VoC")
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
