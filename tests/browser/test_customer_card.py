"""A rep on the phone with a customer of another team: the exact customer ref in the log
form's picker shows a card (name and ref), the rep picks it and logs the call, and the
customer's page opens with the whole record."""

from datetime import UTC, datetime

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason, Customer
from contacts.selectors import CUSTOMER_LOOKUP
from tests.browser.test_navigation import sign_in
from voc.core.models import AuditEntry

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_rep_finds_a_customer_of_another_team_by_ref_and_logs_the_call(page: Page, cast):
    ContactReason.objects.create(name="Outage", department=cast.dept_b)
    row = {"source": "crm", "external_id": "b-1", "channel": "phone", "team": cast.team_b.name,
           "reason": "Outage", "customer_ref": "CRM-B-7", "customer_name": "Ann Byrne",
           "customer_email": "ann.byrne@example.com", "text": "Private words of team B",
           "occurred_at": datetime(2026, 11, 2, 9, 30, tzinfo=UTC).isoformat()}  # fmt: skip
    assert not contacts_ingest(rows=[row]).rejected
    ann = Customer.objects.get(external_ref="CRM-B-7")
    sign_in(page, cast.rep.username, cast.password)
    page.goto(reverse("contacts:contact-log"))
    page.locator("#customer-q").fill("Ann")  # a partial match: nothing outside the scope
    expect(page.get_by_text("No customer you can see matches.")).to_be_visible()
    page.locator("#customer-q").fill("crm-b-7")
    card = page.get_by_test_id("customer-card")
    expect(card).to_contain_text("Ann Byrne")
    expect(card).to_contain_text("CRM-B-7")
    expect(page.locator("#customer-results")).not_to_contain_text("ann.byrne@example.com")
    card.locator("input[type=radio]").check()
    page.locator("input[name=subject]").fill("Asked whether the outage is over")
    page.locator("input[name=subject]").press("Enter")
    expect(page.get_by_test_id("delete-contact")).to_be_visible()
    assert Contact.objects.get(source="voc").customer_id == ann.id
    assert AuditEntry.objects.filter(action=CUSTOMER_LOOKUP, actor=cast.rep).count() == 1
    page.goto(reverse("contacts:customer-detail", args=[ann.id]))
    expect(page.get_by_text("ann.byrne@example.com")).to_be_visible()
