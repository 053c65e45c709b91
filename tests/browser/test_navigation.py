"""Each role signs in through the real login form and sees exactly the navigation it may use.

The expected entries come twice: from the registry (voc.core.navigation and
access.has_capability for that user) and hard-coded per role, so a change to either the
registry or the capability table that alters what a role sees fails here on purpose.
"""

import pytest
from django.conf import settings
from django.urls import reverse
from playwright.sync_api import Page, expect

from voc.core import navigation
from voc.core.capabilities import has_capability

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EVERYONE = ["home", "contacts", "customers", "issues", "people"]
USER_MENU = ["digests", "notifications", "tokens", "api-docs"]  # the user's own pages
# Reps and managers flag recurring issues: "My flags" comes first in their user menu.
FLAGGERS_USER_MENU = ["flags", *USER_MENU]
# Side-by-side sessions: for the people who take part in them (not managers: no reviews).
TAKING_PART = ["home", "contacts", "customers", "issues", "sessions", "people"]
# The dashboard, for those who see it (managers over their own scope), after Home.
DASHBOARD = ["home", "dashboard"]
EXPECTED_NAV = {
    "rep": TAKING_PART,
    "manager": [*DASHBOARD, *EVERYONE[1:]],
    "executive": [*DASHBOARD, *TAKING_PART[1:]],
    # outbox: tests.settings enables it
    "admin": [*DASHBOARD, *EVERYONE[1:], "jobs", "outbox", "inbound", "settings", "admin"],
}
ROLE_LABELS = {"rep": "Rep", "manager": "Manager", "executive": "Executive", "admin": "Admin"}


def registry_nav_keys(user, menu: str | None = navigation.MAIN) -> list[str]:
    """The entries of one menu (None: both) the registry grants this user, in their order."""
    items = sorted(navigation._items.values(), key=lambda i: (i.order, i.label))
    return [
        item.key
        for item in items
        if has_capability(user, item.capability)
        and (not item.enabled_setting or getattr(settings, item.enabled_setting, False))
        and menu in (None, item.menu)
    ]


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto(reverse("login"))
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def nav_keys(page: Page) -> list[str]:
    nav = page.get_by_test_id("main-nav")
    expect(nav).to_be_visible()
    return nav.locator("a[data-nav]").evaluate_all("links => links.map(a => a.dataset.nav)")


def user_menu_keys(page: Page) -> list[str]:
    menu = page.get_by_test_id("user-menu")
    return menu.locator("a[data-nav]").evaluate_all("links => links.map(a => a.dataset.nav)")


def sign_out(page: Page) -> None:
    page.get_by_test_id("user-menu").locator("summary").click()
    page.get_by_role("button", name="Sign out").click()


@pytest.mark.parametrize("role", list(EXPECTED_NAV))
def test_each_role_sees_exactly_its_navigation(page: Page, live_server, cast, role, screenshot_dir):
    user = getattr(cast, role)
    sign_in(page, user.username, cast.password)
    expect(page).to_have_url(f"{live_server.url}{reverse('home')}")

    # Two independent expectations that must agree with each other and with the page.
    expected = registry_nav_keys(user)
    assert expected == EXPECTED_NAV[role]
    main = [i["key"] for i in navigation.nav_items_for(user) if i["menu"] == navigation.MAIN]
    assert main == expected
    assert nav_keys(page) == expected
    # API tokens and API docs sit in the user menu, for every role.
    user_menu = FLAGGERS_USER_MENU if role in ("rep", "manager") else USER_MENU
    assert registry_nav_keys(user, navigation.USER) == user_menu
    assert user_menu_keys(page) == user_menu

    nav = page.get_by_test_id("main-nav")
    for item in navigation._items.values():
        menu = nav if item.menu == navigation.MAIN else page.get_by_test_id("user-menu")
        link = menu.locator(f'a[data-nav="{item.key}"]')
        if item.key in expected or item.key in user_menu:
            expect(link).to_have_attribute("href", reverse(item.url_name))
            expect(link).to_have_text(item.label)
        else:
            expect(link).to_have_count(0)
    expect(nav.locator('a[data-nav="home"]')).to_have_attribute("aria-current", "page")
    # The home page's tiles mirror both menus (everything but Home itself).
    tiles = page.locator("a[data-tile]").evaluate_all("ts => ts.map(t => t.dataset.tile)")
    assert tiles == [key for key in registry_nav_keys(user, None) if key != "home"]

    whoami = page.get_by_test_id("whoami")
    expect(whoami).to_be_visible()
    expect(whoami).to_contain_text(ROLE_LABELS[role])
    expect(whoami).to_contain_text(user.get_full_name())
    expect(whoami.locator(f".role.role-{role}")).to_have_text(ROLE_LABELS[role])

    page.screenshot(path=screenshot_dir / f"{role}-home.png", full_page=True)

    if role == "admin":
        nav.locator('a[data-nav="jobs"]').click()
        expect(page).to_have_title("Jobs · VoC")
        expect(page.get_by_test_id("jobs-table")).to_be_visible()
        expect(nav.locator('a[data-nav="jobs"]')).to_have_attribute("aria-current", "page")
        nav.locator('a[data-nav="outbox"]').click()
        expect(page).to_have_title("Outbox · VoC")
        expect(page.get_by_test_id("outbox-table")).to_be_visible()
        nav.locator('a[data-nav="admin"]').click()  # role admin is staff: no admin login
        expect(page.get_by_role("heading", name="Site administration")).to_be_visible()
    else:
        # Hidden is not enough: the server refuses the pages themselves.
        for url in (reverse("core:jobs"), reverse("core:outbox")):
            response = page.goto(url)
            assert response is not None and response.status == 403, url
            forbidden = page.get_by_test_id("forbidden")
            expect(forbidden).to_contain_text("Access denied")
            expect(forbidden).to_contain_text("403 Forbidden")
            expect(page.get_by_test_id("jobs-table")).to_have_count(0)
            expect(page.get_by_test_id("outbox-table")).to_have_count(0)
            # The 403 page keeps the role's navigation, so there is a way back.
            assert nav_keys(page) == expected


def test_a_wrong_password_shows_an_error_and_stays_on_the_login_page(page: Page, cast):
    sign_in(page, cast.rep.username, "not-the-password")
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    assert page.url.endswith(reverse("login"))
    expect(page.get_by_label("Username")).to_have_value(cast.rep.username)
    expect(page.get_by_test_id("main-nav")).to_have_count(0)
    expect(page.get_by_test_id("whoami")).to_have_count(0)


def test_signing_out_returns_to_the_login_page(page: Page, cast):
    sign_in(page, cast.manager.username, cast.password)
    expect(page.get_by_test_id("whoami")).to_contain_text("Manager")
    sign_out(page)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert page.url.endswith(reverse("login"))
    expect(page.get_by_test_id("main-nav")).to_have_count(0)
    # The session is really gone: home sends us back to sign in.
    page.goto(reverse("home"))
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    assert reverse("login") in page.url
