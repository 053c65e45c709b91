"""A rep opens a contact, sees the known issues most like it (the one in the contact's words
first, though three share its reason), adds a "me too" in one click, and sees the issue and
its status on their home page; the pages keep to the Content-Security-Policy."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from loops.models import Flag, IssueEvidence
from tests.browser.test_csp import RECORD_VIOLATIONS
from tests.browser.test_navigation import sign_in
from tests.loops.flags_world import make_world
from tests.loops.world import contact_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = "<b>Charged</b> twice for my renewal again, two identical charges on the card."


def test_a_rep_flags_a_contact_me_too_and_sees_it_at_home(page: Page, cast, screenshot_dir):
    world = make_world(cast)
    # The world's evidence happened yesterday: two contacts in 28 days, 0.1 a day.
    IssueEvidence.objects.update(occurred_at=timezone.now() - timedelta(days=1))
    contact = contact_of(cast.team_a, reason=world.billing, notes=WORDS, subject="Charged twice")
    violations: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Refused to" in message.text else None,
    )
    sign_in(page, cast.rep.username, cast.password)
    page.goto(reverse("contacts:contact-detail", args=[contact.pk]))

    panel = page.locator("[data-panel='loops.flags']")
    expect(panel.get_by_role("heading", name="Flag a recurring issue")).to_be_visible()
    rows = panel.get_by_test_id("flag-suggestion")
    expect(rows).to_have_count(3)  # the three Billing issues; the wifi issue is department B's
    expect(rows.first).to_have_attribute("data-issue", str(world.double.pk))
    expect(rows.first).to_contain_text("Double charge on renewal")
    expect(rows.first.get_by_test_id("per-day")).to_have_text("0.1")
    page.screenshot(path=str(screenshot_dir / "loops-flags-panel.png"), full_page=True)
    rows.first.get_by_test_id("me-too").click()

    expect(
        page.get_by_text(f"Flagged: this contact is issue #{world.double.pk} too.")
    ).to_be_visible()
    panel = page.locator("[data-panel='loops.flags']")
    expect(panel.get_by_test_id("flag-suggestion").first.get_by_test_id("flagged")).to_be_visible()
    assert Flag.objects.filter(issue=world.double, contact=contact, flagged_by=cast.rep).exists()
    assert IssueEvidence.objects.filter(issue=world.double, contact=contact).count() == 1

    page.goto(reverse("home"))
    mine = page.get_by_test_id("home-flag")
    expect(mine).to_have_count(1)
    expect(mine).to_contain_text(f"#{world.double.pk} Double charge on renewal")
    expect(mine.get_by_test_id("home-flag-status")).to_have_text("New")
    page.screenshot(path=str(screenshot_dir / "loops-flags-home.png"), full_page=True)
    mine.get_by_role("link").click()
    expect(page.get_by_test_id("issue-flags")).to_contain_text("1 flag by 1 person")
    assert page.evaluate("window.__cspViolations || []") == []
    assert violations == []
