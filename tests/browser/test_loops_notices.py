"""A manager tells the customers who reported a fixed issue: from the issue page, through the
notice's audience and preview (a customer's name shown as text, never markup), an edit, the
approval, to the panel on the issue page with what was sent. The email escapes the name too;
the pages keep to the Content-Security-Policy."""

import pytest
from django.core import mail
from django.urls import reverse
from playwright.sync_api import Page, expect

from loops.models import FixNotice
from loops.notices.services import notices_reconcile
from tests.browser.test_csp import RECORD_VIOLATIONS
from tests.browser.test_navigation import sign_in
from tests.factories import CustomerFactory
from tests.loops.notices_world import fixed_issue, send_all

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

EVIL = '<script>alert("pwned")</script> Ada'


def test_a_manager_previews_edits_approves_and_sends_a_notice(page: Page, cast, screenshot_dir):
    world = fixed_issue(cast, customers=[CustomerFactory(name=EVIL), CustomerFactory()])
    violations: list[str] = []
    dialogs: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Refused to" in message.text else None,
    )
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, cast.manager.username, cast.password)
    page.goto(reverse("loops:issue-detail", args=[world.issue.pk]))
    page.get_by_test_id("notice-new").click()

    expect(page.get_by_role("heading", name="Tell customers it is fixed")).to_be_visible()
    expect(page.get_by_test_id("notice-audience")).to_contain_text("2 customers, 2 of them")
    page.get_by_label("Subject").fill("We fixed the double charge")
    page.get_by_label("Text").fill("The renewal charged some of you twice. It no longer does.")
    page.get_by_role("button", name="Save and preview").click()

    notice = FixNotice.objects.get()
    expect(page.get_by_test_id("notice-preview-subject")).to_have_text("We fixed the double charge")
    body = page.get_by_test_id("notice-preview-body")
    expect(body).to_contain_text(f"Hello {EVIL},")  # the name as text, not a script
    expect(body).to_contain_text("It no longer does.")
    expect(page.get_by_test_id("notice-first-customers")).to_contain_text(EVIL)

    page.get_by_label("Text").fill("The renewal charged some of you twice. Refunds are on the way.")
    page.get_by_role("button", name="Save and preview").click()
    expect(page.get_by_test_id("notice-preview-body")).to_contain_text("Refunds are on the way.")
    page.screenshot(path=str(screenshot_dir / "loops-notice-preview.png"), full_page=True)
    page.get_by_role("button", name="Approve and send").click()
    expect(page.get_by_text("Approved: the notice is on its way")).to_be_visible()
    notice.refresh_from_db()
    assert notice.status == FixNotice.Status.APPROVED

    # The workers' part (plan, chunk, send-once), here in the test's process.
    send_all(notice)
    notices_reconcile()
    assert sorted(m.to[0] for m in mail.outbox) == sorted(c.email for c in world.reporters)
    html = next(m for m in mail.outbox if "Ada" in m.body).alternatives[0][0]
    assert "<script>" not in html and "&lt;script&gt;" in html

    page.goto(reverse("loops:issue-detail", args=[world.issue.pk]))
    panel = page.get_by_test_id("notices-panel")
    expect(panel).to_contain_text("We fixed the double charge")
    expect(panel.locator("tbody tr td").nth(2)).to_have_text("2")  # sent
    panel.get_by_role("link", name="We fixed the double charge").click()
    expect(page.get_by_test_id("count-sent")).to_have_text("2")
    expect(page.get_by_test_id("notice-recipients")).to_contain_text(EVIL)
    page.screenshot(path=str(screenshot_dir / "loops-notice-sent.png"), full_page=True)
    assert dialogs == []
    assert violations == [] and page.evaluate("window.__cspViolations || []") == []
