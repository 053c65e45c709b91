"""Journeys in Chromium, one per role:

- an executive filters the dashboard to last quarter, drills from a rising driver to its
  verbatims and exports them to Excel (every row, past the page's 50);
- a manager opens their department's dashboard: the figures of their scope, their teams only;
- a rep opens their home page, their worklist: the callback they promised, the state of what
  they flagged with the won't-fix reason.
"""

import io
from datetime import datetime, time, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason
from contacts.rollups import reporting_tz
from loops.models import Flag, Issue
from loops.services.issues import issue_open
from tests.browser.test_csp import RECORD_VIOLATIONS, assert_no_violation
from tests.browser.test_navigation import sign_in
from tests.factories import CustomerFactory
from voc.dashboards.filters import LAST_QUARTER, DashboardFilters, period_days, reporting_today
from voc.dashboards.panels import PANELS, rising_windows

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# "Double charge" contacts in the quarter's last 13 weeks and the 13 before; "Outage" in each.
# (The exact test needs some 600 contacts of a reason to judge a rise: fewer is "too early".)
RISING, RISING_BEFORE, STEADY = 500, 150, 450


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


def spread(first, last, n: int) -> list[datetime]:
    """``n`` noons spread over the days [first, last], in the reporting time zone."""
    days = (last - first).days + 1
    return [
        datetime.combine(first + timedelta(days=(k * days) // n), time(12), tzinfo=reporting_tz())
        for k in range(n)
    ]


@pytest.fixture
def quarter(cast):
    """Last quarter: "Double charge" (department A, team A) rises from 150 contacts in the 13
    weeks before to 500 in its last 13 weeks; "Outage" (department B, team B) stays at 450."""
    ContactReason.objects.create(name="Double charge", department=cast.dept_a)
    ContactReason.objects.create(name="Outage", department=cast.dept_b)
    start, end = period_days(LAST_QUARTER, today=reporting_today())
    before_start, _before_end, after_start, after_end = rising_windows(
        DashboardFilters(period=LAST_QUARTER, start=start, end=end)
    )
    before_last = start - timedelta(days=1)  # the "before" contacts stay out of the quarter
    plan = [
        ("Double charge", cast.team_a, spread(after_start, after_end, RISING)),
        ("Double charge", cast.team_a, spread(before_start, before_last, RISING_BEFORE)),
        ("Outage", cast.team_b, spread(after_start, after_end, STEADY)),
        ("Outage", cast.team_b, spread(before_start, before_last, STEADY)),
    ]
    rows = [
        {"source": "journey", "external_id": f"{reason}-{n}-{at.isoformat()}", "channel": "email",
         "occurred_at": at.isoformat(), "team": team.name, "reason": reason,
         "text": f"{reason}: charged twice <script>alert({n})</script> (case {n})"}
        for reason, team, times in plan
        for n, at in enumerate(times)
    ]  # fmt: skip
    assert not contacts_ingest(rows=rows).rejected
    return after_start, after_end


def wait_for_panels(page: Page) -> None:
    for key in PANELS:  # every panel has swapped its placeholder for its content
        expect(page.locator(f'[data-panel="{key}"] .loading')).to_have_count(0)


def test_an_executive_drills_from_a_rising_driver_to_its_verbatims_and_exports_them(
    watched, cast, quarter, screenshot_dir
):
    page, complaints = watched
    sign_in(page, cast.executive.username, cast.password)
    page.get_by_test_id("main-nav").get_by_role("link", name="Dashboard").click()
    page.get_by_label("Period").select_option(LAST_QUARTER)
    page.get_by_test_id("apply-filters").click()
    wait_for_panels(page)
    expect(page.get_by_test_id("contacts-total")).to_contain_text(str(RISING + STEADY))
    rising = page.get_by_test_id("rising-driver-link")
    expect(rising).to_have_count(1)  # the steady reason does not rank
    expect(rising).to_have_text("Double charge")
    assert_no_violation(page, complaints, "dashboard")
    page.screenshot(path=screenshot_dir / "journey-rising-driver.png", full_page=True)

    rising.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Double charge")
    rows = page.get_by_test_id("drill-table").locator("tbody tr")
    expect(rows).to_have_count(50)  # the first keyset page
    expect(rows.first).to_contain_text("<script>alert(")  # the verbatim, shown as text
    assert_no_violation(page, complaints, "drill-down")

    with page.expect_download() as download_info:
        page.get_by_test_id("export-xlsx").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    with open(download.path(), "rb") as file:
        sheet = load_workbook(io.BytesIO(file.read())).active
    header = [cell.value for cell in sheet[1]]
    rows_read = [
        dict(zip(header, row, strict=True)) for row in sheet.iter_rows(min_row=2, values_only=True)
    ]
    # Every contact of the rising weeks, each once (not only the page's 50), with its verbatim.
    after_start, _after_end = quarter
    expected = set(
        Contact.objects.filter(
            reason__name="Double charge",
            occurred_at__gte=datetime.combine(after_start, time(), tzinfo=reporting_tz()),
        ).values_list("id", flat=True)
    )
    assert len(expected) == len(rows_read) == RISING
    assert {row["Contact id"] for row in rows_read} == expected
    assert {row["Reason"] for row in rows_read} == {"Double charge"}
    assert all(
        row["Verbatim"].startswith("Double charge: charged twice <script>alert(")
        for row in rows_read
    )


def test_a_manager_opens_their_department_dashboard(watched, cast, quarter, screenshot_dir):
    page, complaints = watched
    sign_in(page, cast.manager.username, cast.password)
    page.get_by_test_id("main-nav").get_by_role("link", name="Dashboard").click()
    expect(page.get_by_role("heading", name="Dashboard", level=1)).to_be_visible()
    page.get_by_label("Period").select_option(LAST_QUARTER)
    page.get_by_test_id("apply-filters").click()
    wait_for_panels(page)
    # Department A's contacts only: the rising "Double charge", not team B's outages.
    expect(page.get_by_test_id("contacts-total")).to_contain_text(str(RISING))
    teams = page.get_by_label("Team").locator("option")
    expect(teams).to_have_text(["All teams", cast.team_a.name])
    expect(page.locator("main")).not_to_contain_text("Outage")
    assert_no_violation(page, complaints, "department dashboard")
    page.screenshot(path=screenshot_dir / "journey-department.png", full_page=True)


@pytest.fixture
def worklist(cast):
    """The rep's callback promised two days ago (overdue), a callback a teammate promised, and
    two flags: one on an issue nobody will fix (with the reason), one on an open issue."""
    now = timezone.now()
    customer = CustomerFactory(name="Ada <b>Lovelace</b>")
    Contact.objects.create(
        source="journey", external_id="promise", channel="phone", rep=cast.rep,
        team=cast.team_a, customer=customer, outcome="callback",
        occurred_at=now - timedelta(hours=50), subject="Wants the refund explained",
    )  # fmt: skip
    Contact.objects.create(
        source="journey", external_id="teammate", channel="phone", rep=cast.teammate,
        team=cast.team_a, customer=CustomerFactory(name="Not yours"), outcome="callback",
        occurred_at=now - timedelta(hours=1),
    )  # fmt: skip
    flagged = Contact.objects.create(
        source="journey", external_id="flagged", channel="email", rep=cast.rep,
        team=cast.team_a, customer=customer, outcome="resolved", occurred_at=now,
    )  # fmt: skip
    wont = issue_open(title="Paper invoices", department=cast.dept_a, by=cast.manager)
    Issue.objects.filter(pk=wont.pk).update(
        status=Issue.Status.WONT_FIX, wont_fix_reason="Required by law until 2028"
    )
    still_open = issue_open(title="Refunds take a month", department=cast.dept_a, by=cast.manager)
    Flag.objects.create(issue=wont, contact=flagged, flagged_by=cast.rep)
    Flag.objects.create(issue=still_open, contact=flagged, flagged_by=cast.rep)
    return wont, still_open


def test_a_rep_opens_their_worklist(watched, cast, worklist, screenshot_dir):
    page, complaints = watched
    wont, still_open = worklist
    sign_in(page, cast.rep.username, cast.password)
    callbacks = page.locator('[data-widget="contacts.callbacks"]')
    expect(callbacks.get_by_role("heading")).to_have_text("Callbacks I promised")
    expect(callbacks.get_by_test_id("home-callback")).to_have_count(1)
    expect(callbacks.get_by_test_id("home-callback")).to_contain_text("Ada <b>Lovelace</b>")
    expect(callbacks.get_by_test_id("home-callback")).to_contain_text("overdue since")
    expect(callbacks).not_to_contain_text("Not yours")

    flags = page.locator('[data-widget="loops.my_flags"]')
    expect(flags.get_by_test_id("home-flag")).to_have_count(2)
    wont_row = flags.locator(f'[data-issue="{wont.pk}"]')
    expect(wont_row.get_by_test_id("home-flag-status")).to_have_text("Won't fix")
    expect(wont_row.get_by_test_id("wont-fix-reason")).to_have_text(
        "Won't fix: Required by law until 2028"
    )
    expect(
        flags.locator(f'[data-issue="{still_open.pk}"]').get_by_test_id("home-flag-status")
    ).to_have_text("New")
    assert_no_violation(page, complaints, "rep home")
    page.screenshot(path=screenshot_dir / "journey-rep-worklist.png", full_page=True)

    callbacks.get_by_role("link", name="Ada <b>Lovelace</b>").click()
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert page.url.endswith(
        reverse("contacts:contact-detail", args=[Contact.objects.get(external_id="promise").pk])
    )
