"""A manager opens a complaint from the "Complaints to thank" home widget and thanks the
customer in one click: the page then says who thanked and when, and the widget lets go."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from feedback.items.services import feedback_item_record
from feedback.models import ComplaintThanks
from tests.browser.test_navigation import sign_in
from tests.feedback.feedback_pages_world import ingest_contact
from voc.core.models import SendOnce

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_manager_thanks_a_customer_from_the_home_widget(page: Page, cast):
    from contacts.models import ContactReason

    ContactReason.objects.create(name="Double charge", department=cast.dept_a)
    contact = ingest_contact(
        external_id="a-1", team=cast.team_a, reason="Double charge", ref="CUST-A",
        email="ann@customer.example", when=timezone.now() - timedelta(days=3),
    )  # fmt: skip
    complaint = feedback_item_record(
        kind="complaint", source="voc", verbatim="<b>Charged twice</b> for one order",
        contact=contact, received_at=timezone.now() - timedelta(days=1), by=cast.rep,
    ).item  # fmt: skip

    sign_in(page, cast.manager.username, cast.password)
    page.goto(reverse("home"))
    widget = page.get_by_test_id("complaints-to-thank")
    expect(widget).to_contain_text("Customer CUST-A")
    widget.get_by_role("link", name="Customer CUST-A").click()
    expect(page).to_have_url(reverse("feedback:complaint-detail", args=[complaint.id]))
    expect(page.get_by_test_id("verbatim")).to_have_text("<b>Charged twice</b> for one order")
    expect(page.get_by_test_id("customer-email")).to_have_text("ann@customer.example")
    expect(page.get_by_test_id("fix-topic")).to_have_text("Double charge")

    page.get_by_test_id("thank").click()
    expect(page.get_by_text("Thank-you on its way to the customer.")).to_be_visible()
    expect(page.get_by_test_id("thanked")).to_contain_text("Thanked by")
    expect(page.get_by_test_id("thank")).to_have_count(0)
    assert ComplaintThanks.objects.get().thanked_by == cast.manager
    assert SendOnce.objects.filter(purpose="feedback.complaint_thanks").count() == 1

    page.goto(reverse("home"))
    expect(page.get_by_test_id("complaints-to-thank")).to_have_count(0)
    expect(page.get_by_test_id("feedback-list-link")).to_be_visible()
