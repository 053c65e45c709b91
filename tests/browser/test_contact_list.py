"""The contact list as a rep uses it: on a phone (390 px) as cards with nothing off-screen, on
a laptop (1366 px) with dates on one line and no "no tags" filler, sorted by a click on a
column and paged with "go to page"; the customer list the same way."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from contacts.ingest.service import contacts_ingest
from tests.browser.test_layout import LAPTOP, PHONE, page_overflow
from tests.browser.test_navigation import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
NAMES = ["Maximiliane Oberhollenzer-Wittgenstein", "Bo Li", "Ada Quinn"]


def seed(cast, n: int = 3) -> None:
    rows = [
        {"source": "list", "external_id": f"c-{i}", "channel": ["phone", "email", "chat"][i % 3],
         "team": cast.team_a.name, "rep": cast.rep.username,
         "occurred_at": (T0 + timedelta(hours=i)).isoformat(), "customer_ref": f"R-{i % 3}",
         "customer_name": NAMES[i % 3], "road": i % 4 + 1,
         "subject": f"Contact {i:03d}: the router keeps dropping the connection every evening",
         "tags": "callback,second-time" if i % 3 == 0 else "", "text": "Hello"}
        for i in range(n)
    ]  # fmt: skip
    assert not contacts_ingest(rows=rows).rejected


def test_on_a_phone_the_list_is_cards_with_nothing_off_screen(page: Page, cast, screenshot_dir):
    seed(cast)
    page.set_viewport_size(PHONE)
    sign_in(page, cast.rep.username, cast.password)
    page.goto(reverse("contacts:contact-list"))
    table = page.get_by_test_id("contact-table")
    expect(table.locator("tbody tr")).to_have_count(3)
    assert page_overflow(page) == 0
    # Every card, and everything in it, fits the screen; the subject leads each card.
    rights = table.locator("tbody tr, tbody td").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().right)"
    )
    assert max(rights) <= PHONE["width"]
    first = table.locator("tbody tr").first
    subject = first.locator(".c-subject")
    assert subject.bounding_box()["y"] < first.locator(".c-when").bounding_box()["y"]
    expect(first.locator(".c-team")).to_be_visible()
    expect(first.locator(".c-team")).to_contain_text("Billing Care")
    # The column headers become "sort by" buttons.
    expect(table.locator("thead a[data-sort]")).to_have_count(6)
    table.locator('thead a[data-sort="customer"]').click()
    expect(page.get_by_test_id("list-total")).to_have_text("3 contacts, by customer, A–Z.")
    assert page_overflow(page) == 0
    page.screenshot(path=screenshot_dir / "contact-list-390.png", full_page=True)


def test_on_a_laptop_dates_stay_on_one_line_and_no_tags_is_left_blank(page: Page, cast):
    seed(cast)
    page.set_viewport_size(LAPTOP)
    sign_in(page, cast.rep.username, cast.password)
    page.goto(reverse("contacts:contact-list"))
    table = page.get_by_test_id("contact-table")
    lines = table.locator("tbody .c-when time").evaluate_all(
        "times => times.map(t => t.getClientRects().length)"
    )
    assert lines == [1, 1, 1]
    expect(table).not_to_contain_text("no tags")
    tags = table.locator("tbody .c-tags").evaluate_all(
        "cells => cells.map(c => [...c.querySelectorAll('.tag')].map(t => t.textContent))"
    )
    assert tags == [[], [], ["callback", "second-time"]]
    assert page_overflow(page) == 0


def test_the_list_sorts_by_a_click_on_a_column_and_jumps_to_a_page(page: Page, cast):
    seed(cast, n=120)
    page.set_viewport_size(LAPTOP)
    sign_in(page, cast.rep.username, cast.password)
    page.goto(reverse("contacts:contact-list"))
    total = page.get_by_test_id("list-total")
    expect(total).to_have_text("120 contacts, newest first.")
    table = page.get_by_test_id("contact-table")
    header = table.locator('thead a[data-sort="road"]')
    header.click()
    expect(total).to_have_text("120 contacts, by road, 1–4.")
    expect(table.locator("thead th.c-road")).to_have_attribute("aria-sort", "ascending")
    roads = table.locator("tbody .c-road")
    assert roads.all_inner_texts() == ["1"] * 30 + ["2"] * 20  # 30 contacts on each road
    table.locator('thead a[data-sort="road"]').click()
    expect(total).to_have_text("120 contacts, by road, 4–1.")
    assert roads.all_inner_texts() == ["4"] * 30 + ["3"] * 20

    jump = page.get_by_test_id("page-jump")
    jump.get_by_label("Page").fill("3")
    jump.get_by_role("button", name="Go").click()
    expect(jump.get_by_label("Page")).to_have_value("3")
    expect(total).to_have_text("120 contacts, by road, 4–1.")  # the sort is kept
    expect(table.locator("tbody tr")).to_have_count(20)
    assert roads.all_inner_texts() == ["1"] * 20
    page.get_by_role("link", name="« First").click()
    expect(jump.get_by_label("Page")).to_have_value("1")


def test_the_customer_list_sorts_and_is_reachable_from_the_navigation(page: Page, cast):
    seed(cast)
    page.set_viewport_size(LAPTOP)
    sign_in(page, cast.rep.username, cast.password)
    page.get_by_test_id("main-nav").locator('a[data-nav="customers"]').click()
    expect(page).to_have_title("Customers · VoC")
    results = page.get_by_test_id("customer-results")
    names = results.locator("tbody .c-subject")
    expect(names).to_have_text(sorted(NAMES))
    results.locator('thead a[data-sort="name"]').click()
    expect(names).to_have_text(sorted(NAMES, reverse=True))
    page.set_viewport_size(PHONE)
    assert page_overflow(page) == 0
