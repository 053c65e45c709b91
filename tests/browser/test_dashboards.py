"""The dashboard in Chromium: an executive filters to a quarter, every panel loads on its own,
the weekly chart is drawn, a driver leads to its verbatims, which export to Excel; a phone at
390 px scrolls no page sideways; no Content-Security-Policy violation anywhere."""

import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from contacts.ingest.service import contacts_ingest
from contacts.models import ContactReason
from tests.browser.test_csp import RECORD_VIOLATIONS, assert_no_violation
from tests.browser.test_navigation import sign_in
from voc.dashboards.panels import PANELS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def watched(page: Page):
    complaints: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            complaints.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: complaints.append(f"page error: {error}"))
    return page, complaints


@pytest.fixture
def contacts(cast):
    """Contacts of the last few days (inside this quarter), two reasons, one avoidable."""
    ContactReason.objects.create(name="Double charge", department=cast.dept_a)
    ContactReason.objects.create(name="Password reset", department=cast.dept_b, avoidable=True)
    now = timezone.now()
    rows = [
        {"source": "browser", "external_id": f"b-{n}", "channel": "phone" if n % 2 else "email",
         "occurred_at": (now - timedelta(hours=3 + n * 5)).isoformat(),
         "team": (cast.team_a if n % 3 else cast.team_b).name,
         "reason": "Double charge" if n % 4 else "Password reset",
         "road": 4 if n % 5 == 0 else 2, "handle_seconds": 120, "wait_seconds": 30,
         "text": f"You charged me twice <script>alert({n})</script> (call {n})"}
        for n in range(24)
    ]  # fmt: skip
    assert not contacts_ingest(rows=rows).rejected


def test_an_executive_filters_to_a_quarter_drills_and_exports(
    watched, live_server, cast, contacts, screenshot_dir
):
    page, complaints = watched
    sign_in(page, cast.executive.username, cast.password)
    page.get_by_test_id("main-nav").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()

    page.get_by_label("Period").select_option("quarter")
    page.get_by_test_id("apply-filters").click()
    expect(page).to_have_url(
        f"{live_server.url}{reverse('dashboards:executive')}?period=quarter&start=&end=&channel=&team=&segment="
    )
    for key in PANELS:  # every panel has swapped its placeholder for its content
        expect(page.locator(f'[data-panel="{key}"] .loading')).to_have_count(0)
        expect(page.locator(f'[data-panel="{key}"]')).not_to_have_attribute("aria-busy", "true")
    expect(
        page.locator('canvas[data-chart="chart-reasons-by-week"][data-drawn="1"]')
    ).to_have_count(1)
    expect(page.get_by_test_id("contacts-total")).to_contain_text("24")
    assert_no_violation(page, complaints, "dashboard")
    page.screenshot(path=screenshot_dir / "dashboard-quarter.png", full_page=True)

    page.get_by_test_id("driver-link").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Double charge")
    rows = page.get_by_test_id("drill-table").locator("tbody tr")
    expect(rows).to_have_count(18)  # 24 contacts, every fourth a password reset
    expect(rows.first).to_contain_text("<script>alert(")  # shown as text, not run
    assert_no_violation(page, complaints, "drill-down")

    with page.expect_download() as download_info:
        page.get_by_test_id("export-xlsx").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as file:  # no .xlsx suffix: openpyxl reads bytes
        sheet = load_workbook(io.BytesIO(file.read())).active
    assert sheet.max_row == 19  # the header and the 18 contacts
    assert all(row[3] == "Double charge" for row in sheet.iter_rows(min_row=2, values_only=True))


def test_the_dashboard_fits_a_390_px_phone(live_server, cast, contacts, browser, screenshot_dir):
    phone = browser.new_context(base_url=live_server.url, viewport={"width": 390, "height": 844})
    page = phone.new_page()
    try:
        page.add_init_script(RECORD_VIOLATIONS)
        sign_in(page, cast.manager.username, cast.password)
        page.goto(reverse("dashboards:executive") + "?period=quarter")
        for key in PANELS:
            expect(page.locator(f'[data-panel="{key}"] .loading')).to_have_count(0)
        overflow = page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth"
        )
        assert overflow <= 0
        page.screenshot(path=screenshot_dir / "dashboard-390.png", full_page=True)
        assert page.evaluate("window.__cspViolations") == []
    finally:
        phone.close()
