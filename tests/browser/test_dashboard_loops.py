"""The loops panels in Chromium: a department head opens the dashboard, sees their open issues
by age and SLA state and the oldest code reds, opens a code red's page from the panel, drills
into the breached issues and exports them; on a 390 px phone the panels scroll inside
themselves; no Content-Security-Policy violation anywhere."""

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.test_csp import RECORD_VIOLATIONS, assert_no_violation
from tests.browser.test_dashboards import watched  # noqa: F401 (a fixture)
from tests.browser.test_navigation import sign_in
from tests.dashboards.test_loop_panels import make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_opens_a_code_red_and_the_breached_issues(
    watched,  # noqa: F811
    live_server,
    cast,
    screenshot_dir,
):
    page, complaints = watched
    built = make_world(cast)
    sign_in(page, cast.manager.username, cast.password)
    page.goto(live_server.url + reverse("dashboards:executive") + "?period=quarter")
    panel = page.locator('[data-panel="open-issues"]')
    expect(panel.get_by_test_id("oldest-code-reds")).to_be_visible()
    expect(panel.get_by_test_id("oldest-code-reds").locator("li")).to_have_count(2)
    expect(panel).not_to_contain_text("Outage every Monday")  # department B's
    expect(page.locator('[data-panel="closing-the-loop"] .loading')).to_have_count(0)
    panel.screenshot(path=screenshot_dir / "dashboard-open-issues.png")
    page.locator('[data-panel="closing-the-loop"]').screenshot(
        path=screenshot_dir / "dashboard-closing-the-loop.png"
    )
    assert_no_violation(page, complaints, "dashboard")

    panel.get_by_role("link", name="Exactly ninety").click()
    expect(page).to_have_url(
        live_server.url + reverse("loops:issue-detail", args=[built.issues.at_90.id])
    )
    page.go_back()
    breached = page.locator('[data-panel="open-issues"]').get_by_test_id("open-issues-breached")
    shown = int(breached.inner_text())  # the world's clocks are set in November: more by now
    assert shown >= 2
    breached.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("breached")
    rows = page.get_by_test_id("drill-table").locator("tbody tr")
    expect(rows).to_have_count(shown)
    expect(page.get_by_test_id("drill-table")).to_contain_text("Just under thirty")
    assert_no_violation(page, complaints, "issues drill-down")
    with page.expect_download() as download_info:
        page.get_by_test_id("export-csv").click()
    with open(download_info.value.path(), encoding="utf-8-sig") as file:
        lines = file.read().splitlines()
    assert len(lines) == shown + 1 and lines[0].startswith("Opened,Title,Severity")


def test_the_loops_panels_fit_a_390_px_phone(live_server, cast, browser, screenshot_dir):
    make_world(cast)
    phone = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = phone.new_page()
    try:
        page.add_init_script(RECORD_VIOLATIONS)
        sign_in(page, cast.executive.username, cast.password)
        page.goto(reverse("dashboards:panel", args=["open-issues"]) + "?period=quarter")
        expect(page.get_by_test_id("open-issues-table")).to_be_visible()
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        page.screenshot(path=screenshot_dir / "dashboard-open-issues-390.png", full_page=True)
        assert page.evaluate("window.__cspViolations") == []
    finally:
        phone.close()
