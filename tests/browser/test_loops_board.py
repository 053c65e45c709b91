"""A manager runs the board: filters it, assigns an issue from the issue page, moves it to
fixed and sees the verification panel; on a phone (390 px) neither page scrolls sideways."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from loops.models import Issue
from tests.browser.test_layout import LAPTOP, PHONE, page_overflow
from tests.browser.test_navigation import sign_in
from tests.loops.world import open_issue, reason

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def issues(cast):
    billing = reason("Double charge", department=cast.dept_a)
    target = open_issue(
        cast, title="Charged twice on <b>renewal</b>", reasons=[billing], severity="code_red"
    )
    open_issue(cast, title="Renewal email arrives late", department=cast.dept_a, severity="low")
    open_issue(cast, title="Outage in the north", department=cast.dept_b, by=cast.other_manager)
    return target


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366", "390"])
def test_a_manager_filters_assigns_and_fixes_an_issue(
    page: Page, cast, issues, viewport, screenshot_dir
):
    page.set_viewport_size(viewport)
    sign_in(page, cast.manager.username, cast.password)
    page.goto(reverse("loops:issue-board"))
    rows = page.get_by_test_id("board-row")
    expect(rows).to_have_count(2)  # department B's outage is not theirs
    assert page_overflow(page) == 0
    page.get_by_label("Severity").select_option("code_red")
    page.get_by_role("button", name="Show").click()
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Charged twice on <b>renewal</b>")
    expect(rows.first.get_by_test_id("sla")).to_have_text("Due soon")
    page.screenshot(path=str(screenshot_dir / f"loops-board-{viewport['width']}.png"),
                    full_page=True)  # fmt: skip

    rows.first.get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Charged twice")
    assert page_overflow(page) == 0
    assign = page.get_by_test_id("assign-form")
    assign.get_by_label("Owner").select_option(str(cast.manager.pk))
    assign.get_by_role("button", name="Assign").click()
    expect(page.get_by_test_id("issue-owner")).to_have_text(str(cast.manager))
    expect(page.get_by_test_id("issue-status")).to_contain_text("Assigned")

    status = page.get_by_test_id("transition-form")
    # Only the legal moves are offered.
    expect(status.locator("option")).to_have_text(["In progress", "Won't fix"])
    status.get_by_label("New status").select_option("in_progress")
    status.get_by_role("button", name="Change status").click()
    expect(page.get_by_test_id("issue-status")).to_contain_text("In progress")
    page.get_by_test_id("transition-form").get_by_label("New status").select_option("fixed")
    page.get_by_test_id("transition-form").get_by_role("button", name="Change status").click()
    expect(page.get_by_test_id("issue-status")).to_contain_text("Fixed")
    expect(page.locator("[data-panel='loops.verification']")).to_be_visible()
    expect(page.get_by_test_id("issue-timeline")).to_contain_text("changed the status")
    assert page_overflow(page) == 0
    page.screenshot(path=str(screenshot_dir / f"loops-issue-fixed-{viewport['width']}.png"),
                    full_page=True)  # fmt: skip
    assert Issue.objects.get(pk=issues.pk).status == "fixed"
