"""The frame around every page, as people use it on a laptop (1366 px) and a phone (390 px):
one line of navigation for the admin, a menu button on a phone, the current section marked on
its sub-pages, a skip link, the user menu, the branded 404, the favicon, the way back from the
API docs, and the Django admin's 403 for non-admins."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact
from tests.browser.test_navigation import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

LAPTOP = {"width": 1366, "height": 768}
PHONE = {"width": 390, "height": 844}
T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def page_overflow(page: Page) -> int:
    """How many pixels the page is wider than the window (0: no sideways scrolling)."""
    return page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )


def ingest_for(team, n: int = 1, **fields) -> list[Contact]:
    rows = [
        {"source": "layout", "external_id": f"l-{i}", "channel": "phone", "team": team.name,
         "occurred_at": (T0 + timedelta(hours=i)).isoformat(), "customer_ref": f"L-{i}",
         "customer_name": f"Customer {i}", "subject": f"Subject {i}", "text": "Hello", **fields}
        for i in range(n)
    ]  # fmt: skip
    result = contacts_ingest(rows=rows)
    assert not result.rejected
    return list(Contact.objects.filter(id__in=result.written_contact_ids))


def test_the_admins_bar_fits_on_one_line_on_a_laptop(page: Page, cast):
    # A long name must not push the bar onto a second line (the name is cut with "…").
    cast.admin.first_name, cast.admin.last_name = "Maximiliane", "Oberhollenzer-Wittgenstein"
    cast.admin.save()
    page.set_viewport_size(LAPTOP)
    sign_in(page, cast.admin.username, cast.password)
    links = page.get_by_test_id("main-nav").locator("a[data-nav]")
    expect(links).to_have_count(11)  # Home, Dashboard … Settings, Admin
    tops = links.evaluate_all("links => links.map(a => Math.round(a.getBoundingClientRect().top))")
    assert len(set(tops)) == 1, tops
    # The search box and the user menu share that line; the bar is one row high.
    bar = page.get_by_test_id("topbar").bounding_box()
    for testid in ("nav-search", "user-menu"):
        box = page.get_by_test_id(testid).bounding_box()
        assert box["y"] >= bar["y"] and box["y"] + box["height"] <= bar["y"] + bar["height"]
    assert bar["height"] < 60, bar
    expect(page.get_by_test_id("menu-toggle")).to_be_hidden()
    assert page_overflow(page) == 0


def test_on_a_phone_the_navigation_is_a_menu_behind_a_button(page: Page, cast):
    page.set_viewport_size(PHONE)
    sign_in(page, cast.admin.username, cast.password)
    nav = page.get_by_test_id("main-nav")
    toggle = page.get_by_test_id("menu-toggle")
    expect(nav).to_be_hidden()
    expect(toggle).to_have_attribute("aria-expanded", "false")
    bar = page.get_by_test_id("topbar").bounding_box()
    assert bar["height"] < 60  # no longer a third of the screen
    assert page_overflow(page) == 0

    toggle.click()
    expect(nav).to_be_visible()
    expect(toggle).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_test_id("nav-search")).to_be_visible()
    for box in nav.locator("a").evaluate_all(
        "links => links.map(a => a.getBoundingClientRect().right)"
    ):
        assert box <= PHONE["width"]
    assert page_overflow(page) == 0
    nav.locator('a[data-nav="contacts"]').click()
    expect(page).to_have_title("Contacts · VoC")
    expect(nav).to_be_hidden()  # a new page starts with the menu closed

    toggle.click()
    expect(nav).to_be_visible()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(toggle).to_be_focused()


def test_the_user_menu_holds_the_account_and_developer_pages(page: Page, cast):
    page.set_viewport_size(LAPTOP)
    sign_in(page, cast.rep.username, cast.password)
    menu = page.get_by_test_id("user-menu")
    tokens = menu.get_by_role("link", name="API tokens")
    expect(tokens).to_be_hidden()
    menu.locator("summary").click()
    expect(tokens).to_be_visible()
    expect(menu.get_by_role("link", name="API docs")).to_be_visible()
    expect(menu.get_by_role("link", name="Password")).to_be_visible()
    expect(menu.get_by_role("button", name="Sign out")).to_be_visible()
    page.locator("h1").click()  # a click elsewhere closes it
    expect(tokens).to_be_hidden()
    menu.locator("summary").click()
    tokens.click()
    expect(page).to_have_url(re.compile(re.escape(reverse("people:tokens")) + "$"))
    expect(menu.locator('a[data-nav="tokens"]')).to_have_attribute("aria-current", "page")


def test_the_current_section_stays_marked_on_its_sub_pages(page: Page, cast):
    contact = ingest_for(cast.team_a)[0]
    sign_in(page, cast.rep.username, cast.password)
    nav = page.get_by_test_id("main-nav")
    cases = [
        (reverse("contacts:contact-list"), "contacts", "page"),
        (reverse("contacts:contact-detail", args=[contact.id]), "contacts", "true"),
        (reverse("contacts:contact-log"), "contacts", "true"),
        (reverse("contacts:customer-search"), "customers", "page"),
        (reverse("contacts:customer-detail", args=[contact.customer_id]), "customers", "true"),
        (reverse("people:directory"), "people", "page"),
    ]
    for url, key, current in cases:
        page.goto(url)
        marked = nav.locator("a[aria-current]")
        expect(marked).to_have_count(1)
        expect(marked).to_have_attribute("data-nav", key)
        expect(marked).to_have_attribute("aria-current", current)


def test_a_skip_link_jumps_over_the_navigation(page: Page, cast):
    sign_in(page, cast.rep.username, cast.password)
    skip = page.get_by_test_id("skip-link")
    assert skip.bounding_box()["y"] < 0  # out of sight until focused
    page.keyboard.press("Tab")
    expect(skip).to_be_focused()
    assert skip.bounding_box()["y"] >= 0
    expect(skip).to_have_text("Skip to content")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"
    page.keyboard.press("Tab")  # the next stop is in the page, not the navigation
    assert page.evaluate("!!document.activeElement.closest('main')")


def test_a_missing_page_is_a_branded_404_with_the_navigation(page: Page, cast, settings):
    assert settings.DEBUG is False
    sign_in(page, cast.rep.username, cast.password)
    for url in ("/no-such-page/", reverse("contacts:contact-detail", args=[999999])):
        response = page.goto(url)
        assert response is not None and response.status == 404
        expect(page).to_have_title("Page not found · VoC")
        expect(page.get_by_test_id("not-found")).to_contain_text("404 Not Found")
        expect(page.get_by_test_id("main-nav")).to_be_visible()
        page.get_by_test_id("not-found").get_by_role("link", name="Back to home").click()
        expect(page).to_have_title("Home · VoC")
    page.context.clear_cookies()
    response = page.goto("/no-such-page/")
    assert response.status == 404
    expect(page.get_by_test_id("not-found").get_by_role("link", name="Sign in")).to_be_visible()


def test_every_page_has_a_favicon(page: Page, live_server):
    page.goto(reverse("login"))
    href = page.locator('link[rel="icon"]').get_attribute("href")
    icon = page.request.get(f"{live_server.url}{href}")
    assert icon.status == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in icon.body()
    old_style = page.request.get(f"{live_server.url}/favicon.ico")  # follows the redirect
    assert old_style.status == 200 and old_style.body() == icon.body()


def test_the_api_docs_lead_back_to_the_app(page: Page, cast):
    sign_in(page, cast.rep.username, cast.password)
    page.get_by_test_id("user-menu").locator("summary").click()
    page.get_by_test_id("user-menu").get_by_role("link", name="API docs").click()
    back = page.get_by_test_id("back-to-app")
    expect(back).to_be_visible()
    expect(back).to_have_text("← Back to VoC")
    back.click()
    expect(page).to_have_title("Home · VoC")


@pytest.mark.parametrize("role", ["rep", "manager", "executive"])
def test_the_django_admin_refuses_non_admins_with_403(page: Page, cast, role):
    sign_in(page, getattr(cast, role).username, cast.password)
    response = page.goto(reverse("admin:index"))
    assert response is not None and response.status == 403
    expect(page.get_by_test_id("forbidden")).to_contain_text("403 Forbidden")
    expect(page.get_by_test_id("main-nav")).to_be_visible()
    assert reverse("admin:login") not in page.url


def test_no_page_scrolls_sideways_on_a_phone(page: Page, cast):
    """Wide tables (people, jobs, inbound email) scroll inside their card, not the page."""
    contact = ingest_for(cast.team_a)[0]
    page.set_viewport_size(PHONE)
    sign_in(page, cast.admin.username, cast.password)
    for url in (
        reverse("home"),
        reverse("contacts:contact-list"),
        reverse("contacts:contact-detail", args=[contact.id]),
        reverse("contacts:contact-log"),
        reverse("contacts:customer-search"),
        reverse("contacts:customer-detail", args=[contact.customer_id]),
        reverse("contacts:message-search") + "?q=hello",
        reverse("people:directory"),
        reverse("people:tokens"),
        reverse("core:jobs"),
        reverse("inbound:ops"),
        "/no-such-page/",
    ):
        page.goto(url)
        assert page_overflow(page) == 0, url
