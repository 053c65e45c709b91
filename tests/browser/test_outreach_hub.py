"""An executive makes this month's call lists from the hub, logs a call from a customer card,
and the home page counts it."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from contacts.models import CustomerEvent
from feedback.models import OutreachCall
from tests.browser.test_navigation import sign_in
from tests.factories import CustomerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_executive_logs_a_call_from_the_hub(page: Page, cast, screenshot_dir):
    for days, name in ((2, "Ann Lee"), (9, "Bob Ray")):
        customer = CustomerFactory(name=name, phone="+15550100000")
        CustomerEvent.objects.create(
            customer=customer, kind="lost", reason_text="Moved to a rival",
            occurred_on=timezone.localdate() - timedelta(days=days),
        )  # fmt: skip
    sign_in(page, cast.executive.username, cast.password)
    expect(page.get_by_test_id("outreach-progress")).to_contain_text("not made yet")
    page.get_by_test_id("outreach-hub-link").click()
    page.get_by_test_id("generate").click()
    cards = page.get_by_test_id("call-card")
    expect(cards).to_have_count(2)
    expect(cards.first).to_contain_text("Ann Lee")
    expect(cards.first.get_by_test_id("why")).to_contain_text("Moved to a rival")
    cards.first.get_by_text("Log the call").click()
    cards.first.get_by_label("Minutes on the phone").fill("12")
    cards.first.get_by_label("Outcome").select_option("won_back")
    cards.first.get_by_label("What you heard").fill("She would come back for a fair price.")
    cards.first.get_by_role("button", name="Save the call").click()
    expect(page.get_by_test_id("outreach-progress")).to_contain_text("1 of 2")
    page.screenshot(path=str(screenshot_dir / "outreach-hub.png"), full_page=True)
    call = OutreachCall.objects.get(customer__name="Ann Lee")
    assert (call.duration_minutes, call.outcome) == (12, "won_back")
    page.goto(reverse("home"))
    expect(page.get_by_test_id("outreach-progress")).to_contain_text("1 of 2")
