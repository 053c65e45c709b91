"""Make it right as people meet it: a rep gives a gesture above their allowance on the contact
page; their team lead approves it in one click from the home page; the rep sees it approved."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from contacts.models import Gesture
from tests.browser.test_layout import PHONE, page_overflow
from tests.browser.test_navigation import sign_in
from tests.contacts.gesture_helpers import contact_of, set_allowance
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_out(page: Page) -> None:
    page.context.clear_cookies()


def test_a_rep_gives_over_the_allowance_and_the_manager_approves_from_home(
    page: Page, cast, screenshot_dir
):
    set_allowance(cast, per_gesture="50.00", per_month="120.00")
    contact = contact_of(cast.team_a, customer=CustomerFactory(name="Pat <b>Customer</b>"))

    sign_in(page, cast.rep.username, cast.password)
    page.goto(reverse("contacts:contact-detail", args=[contact.id]))
    panel = page.locator('[data-panel="contacts.gestures"]')
    expect(panel.get_by_test_id("gesture-allowance")).to_contain_text(
        "You can give up to 50.00 USD per gesture, 120.00 USD left this month."
    )
    panel.get_by_label("Gesture").select_option("refund")
    panel.get_by_label("Value").fill("80.00")
    panel.get_by_label("Note").fill("Refund of three months <script>x</script>")
    panel.get_by_test_id("gesture-give").click()
    expect(page.get_by_text("is above your allowance")).to_be_visible()
    gesture = panel.get_by_test_id("gesture").first
    expect(gesture.get_by_test_id("gesture-state")).to_have_text("Waiting for approval")
    expect(gesture.get_by_test_id("gesture-note")).to_have_text(
        "Refund of three months <script>x</script>"
    )
    page.screenshot(path=str(screenshot_dir / "gestures-rep-waiting.png"), full_page=True)

    sign_out(page)
    sign_in(page, cast.manager.username, cast.password)
    page.goto(reverse("home"))
    waiting = page.get_by_test_id("gesture-waiting")
    expect(waiting).to_have_count(1)
    expect(waiting).to_contain_text("Refund of 80.00 USD")
    expect(waiting).to_contain_text("Pat <b>Customer</b>")
    page.screenshot(path=str(screenshot_dir / "gestures-home-waiting.png"), full_page=True)
    page.set_viewport_size(PHONE)  # the widget and its buttons fit a phone
    assert page_overflow(page) == 0
    page.screenshot(path=str(screenshot_dir / "gestures-home-waiting-390.png"), full_page=True)
    waiting.get_by_label("Reason for your decision").fill("Weeks of outage")
    waiting.get_by_test_id("gesture-approve").click()
    expect(page.get_by_text("Refund of 80.00 USD approved.")).to_be_visible()
    expect(page.get_by_test_id("gesture-waiting")).to_have_count(0)
    assert page.url.endswith(reverse("home"))

    stored = Gesture.objects.get()
    assert (stored.state, stored.decided_by, stored.decision_reason) == (
        "approved",
        cast.manager,
        "Weeks of outage",
    )

    sign_out(page)
    sign_in(page, cast.rep.username, cast.password)
    page.goto(reverse("contacts:contact-detail", args=[contact.id]))
    gesture = page.locator('[data-panel="contacts.gestures"]').get_by_test_id("gesture").first
    expect(gesture.get_by_test_id("gesture-state")).to_have_text("Approved")
    expect(gesture.get_by_test_id("gesture-reason")).to_have_text("Why: Weeks of outage")
    # Approved gestures are given on the approver's word: the rep's month is untouched.
    expect(page.get_by_test_id("gesture-allowance")).to_contain_text("120.00 USD left this month")
