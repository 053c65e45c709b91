"""Verification as the owner meets it: the numbers of a fix that worked, the 30-day check
still under way, a confirmation refused without a reason when the numbers do not show it,
then given with one (htmx swaps the panel, no page load), on a laptop and a phone."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from loops.models import Issue
from tests.browser.test_layout import PHONE, page_overflow
from tests.browser.test_navigation import sign_in
from tests.loops.test_verification_pages import check, fixed_issue

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_owner_reads_the_check_and_confirms_the_fix(page: Page, cast, screenshot_dir):
    issue = fixed_issue(cast, title="Double charge <b>on renewal</b>")
    check(issue, verdict="not_shown", rate_ratio=0.9, ci_low=0.7, ci_high=1.15, p_value=0.21,
          explanation="No fall is shown: p = 0.21 > 0.025.")  # fmt: skip
    check(issue, "day_30", window_days=14, verdict="too_early",
          explanation="Too early: 2 of 6 weeks of the window have passed.")  # fmt: skip

    page.on("dialog", lambda dialog: dialog.dismiss())
    sign_in(page, cast.manager.username, cast.password)
    page.goto(reverse("loops:issue-verification", args=[issue.pk]))
    expect(page.get_by_text("Double charge <b>on renewal</b>")).to_be_visible()
    at_fix = page.get_by_test_id("verification-at_fix")
    expect(at_fix.get_by_test_id("before")).to_contain_text("305 of 1105")
    expect(at_fix.get_by_test_id("change")).to_have_text("-10 %")
    expect(at_fix.get_by_test_id("interval")).to_have_text("-30 % to 15 %")
    expect(at_fix.get_by_test_id("verdict")).to_contain_text("Not shown")
    day_30 = page.get_by_test_id("verification-day_30")
    expect(day_30).to_contain_text("2 of 6 weeks")
    expect(day_30.get_by_test_id("change")).to_contain_text("so far")
    expect(at_fix.get_by_test_id("p")).to_have_text("0.21")
    page.screenshot(path=str(screenshot_dir / "verification-owner.png"), full_page=True)

    page.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("verification-error")).to_contain_text("say why you confirm it")
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.FIXED

    page.get_by_label("Why, if the numbers do not show it").fill("The vendor's log shows it.")
    page.get_by_test_id("confirm").click()
    expect(page.get_by_test_id("confirm")).to_have_count(0)
    expect(page.get_by_test_id("reopen")).to_be_visible()
    assert Issue.objects.get(pk=issue.pk).status == Issue.Status.VERIFIED

    page.set_viewport_size(PHONE)
    page.reload()
    assert page_overflow(page) == 0
    page.screenshot(path=str(screenshot_dir / "verification-owner-390.png"), full_page=True)
