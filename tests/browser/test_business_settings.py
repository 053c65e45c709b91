"""An admin changes the cost per minute in the browser and sees it saved and in the history."""

from decimal import Decimal

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from tests.browser.test_navigation import sign_in
from voc.core.business import business_setting, business_settings_forget_cached
from voc.core.models import AuditEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_admin_edits_the_cost_per_minute(page: Page, live_server, cast, screenshot_dir):
    sign_in(page, cast.admin.username, cast.password)
    page.get_by_test_id("main-nav").get_by_role("link", name="Settings").click()
    expect(page.get_by_role("heading", name="Business settings")).to_be_visible()
    money = page.get_by_test_id("settings-money")
    expect(money.locator('tr[data-setting="cost_per_minute"]')).to_contain_text("1.00 USD")

    money.get_by_role("link", name="Cost per minute").click()
    expect(page).to_have_url(
        f"{live_server.url}{reverse('core:business-setting', args=['cost_per_minute'])}"
    )
    value = page.get_by_label("Cost per minute")
    expect(value).to_have_value("1.00")

    # A value with too many decimals is refused next to the field, and keeps what was typed.
    value.fill("1.355")
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field.has-errors")).to_contain_text("Use at most 2 decimal places.")
    expect(page.get_by_label("Cost per minute")).to_have_value("1.355")
    assert business_setting("cost_per_minute") == Decimal("1.00")

    page.get_by_label("Cost per minute").fill("1.35")
    page.get_by_label("Why").fill("Rates for 2027")
    page.get_by_role("button", name="Save").click()

    expect(page.locator(".message-success")).to_have_text("Cost per minute saved.")
    expect(page.get_by_test_id("value-everyone")).to_have_text("1.35")
    expect(page.get_by_label("Cost per minute")).to_have_value("1.35")
    history = page.locator(".history-list > li").first
    expect(history).to_contain_text("admin")
    expect(history).to_contain_text("1.00 → 1.35")
    expect(history).to_contain_text("Rates for 2027")
    page.screenshot(
        path=str(screenshot_dir / "business-setting-cost-per-minute.png"), full_page=True
    )

    business_settings_forget_cached()  # the live server's thread wrote; this one cached 1.00
    assert business_setting("cost_per_minute") == Decimal("1.35")
    entry = AuditEntry.objects.get()
    assert (entry.actor, entry.changes["value"]) == (cast.admin, ["1.00", "1.35"])
