"""The contact page as a rep reads it, on a laptop and on a phone: the repeat banner against
the whole timeline, roads explained, a suggestion that differs from the road set (and "Use
it"), sentiment in words, greyed timeline rows that say why, no internal ids."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason
from tests.browser.test_layout import LAPTOP, PHONE, page_overflow
from tests.browser.test_navigation import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def seed(cast) -> Contact:
    ContactReason.objects.create(name="Outage", department=cast.dept_b)
    rows = [
        {"external_id": "old", "team": cast.team_a.name, "days": 0, "text": "Slow internet"},
        {"external_id": "b", "team": cast.team_b.name, "days": 40, "reason": "Outage",
         "text": "Private words of team B"},
        {"external_id": "prev", "team": cast.team_a.name, "days": 60, "text": "Still slow"},
        {"external_id": "now", "team": cast.team_a.name, "days": 62, "outcome": "resolved",
         "road": 3, "subject": "Third time I write about this",
         "text": "This is the third time I write. Still not working, I am furious."},
    ]  # fmt: skip
    for row in rows:
        row.update(source="voc", channel="email", customer_ref="CRM-P",
                   customer_name="Pat Customer", rep=cast.rep.username,
                   occurred_at=(T0 + timedelta(days=row.pop("days"))).isoformat())  # fmt: skip
    assert not contacts_ingest(rows=rows).rejected
    contact = Contact.objects.get(external_id="now")
    Contact.objects.filter(id=contact.id).update(sentiment=-0.62)
    return contact


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366", "390"])
def test_a_rep_reads_the_contact_page_with_its_jargon_explained(
    page: Page, cast, viewport, screenshot_dir
):
    contact = seed(cast)
    page.set_viewport_size(viewport)
    sign_in(page, cast.rep.username, cast.password)
    page.goto(reverse("contacts:contact-detail", args=[contact.id]))
    assert page_overflow(page) == 0

    banner = page.get_by_test_id("repeat-banner")
    expect(banner).to_contain_text("Spoke to us 2 times in the last 7 days")
    expect(page.get_by_test_id("repeat-window")).to_have_text(
        "This counts the contacts in the 7 days up to this one (the repeat window). The customer "
        "timeline below shows all 4 of their contacts, since 2026-11-02."
    )
    expect(page.get_by_test_id("timeline").locator("li")).to_have_count(4)

    sentiment = page.get_by_test_id("sentiment").locator(".sentiment")
    expect(sentiment).to_have_text("negative")
    expect(sentiment).to_have_attribute(
        "title", "Score -0.62, from −1 (most negative) to +1 (most positive)"
    )
    expect(page.get_by_test_id("source")).to_have_text("Logged in VoC")

    greyed = page.locator(".timeline-entry.restricted")
    expect(greyed).to_have_count(1)
    expect(greyed).to_contain_text("Email · Outage")
    expect(greyed).to_contain_text("not in your contacts")
    expect(page.get_by_test_id("timeline-restricted-note")).to_contain_text(
        "you see when and why the customer got in touch, not what was said"
    )
    assert "Private words of team B" not in page.content()

    legend = page.get_by_test_id("road-legend").first
    expect(legend.locator("dl")).to_be_hidden()
    legend.locator("summary").click()
    expect(legend.locator("dl")).to_be_visible()
    expect(legend).to_contain_text("4 · Go away")
    assert page_overflow(page) == 0

    # The suggestion (1: a repeat contact) differs from the road set (3) and says why.
    suggestion = page.locator("#road-suggestion")
    expect(suggestion.get_by_test_id("road-suggestion")).to_have_attribute("data-road", "1")
    expect(suggestion.get_by_test_id("road-differs")).to_contain_text("The road set is 3, not 1")
    suggestion.get_by_role("button", name="Use it").click()
    expect(page.locator("#id_road")).to_have_value("1")
    expect(suggestion.get_by_test_id("road-differs")).to_have_count(0)  # asked again: agrees
    expect(suggestion.get_by_role("button", name="Use it")).to_have_count(0)
    assert Contact.objects.get(id=contact.id).road == 3  # nothing is saved until Save

    if viewport is LAPTOP:
        page.screenshot(path=screenshot_dir / "contact-page-1366.png", full_page=True)


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366", "390"])
def test_tags_typed_on_the_contact_page_are_saved_by_its_one_save_button(
    page: Page, cast, viewport
):
    contact = seed(cast)
    page.set_viewport_size(viewport)
    sign_in(page, cast.rep.username, cast.password)
    page.goto(reverse("contacts:contact-detail", args=[contact.id]))
    form = page.locator("#edit-form")
    form.locator("input[name=tags]").fill("Refund, App")
    form.locator("textarea[name=notes]").fill("Called back, refunded")
    form.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Contact updated.")).to_be_visible()
    expect(page.get_by_test_id("contact-tags")).to_contain_text("refund")
    contact.refresh_from_db()
    assert (contact.tags, contact.notes) == (["app", "refund"], "Called back, refunded")
    assert page.get_by_role("button", name="Save tags").count() == 0  # one form, one save


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366", "390"])
def test_enter_on_an_empty_log_form_stores_nothing_and_a_mistake_can_be_deleted(
    page: Page, cast, viewport
):
    ContactReason.objects.create(name="Billing", department=cast.dept_a)
    page.set_viewport_size(viewport)
    sign_in(page, cast.rep.username, cast.password)
    page.goto(reverse("contacts:contact-log"))
    page.locator("input[name=subject]").press("Enter")
    expect(page.get_by_text("Give a reason, a subject or what was said")).to_be_visible()
    assert Contact.objects.count() == 0

    page.locator("input[name=subject]").fill("Logged on the wrong customer")
    page.locator("input[name=customer_name]").fill("Ann Caller")
    page.locator("input[name=customer_email]").fill("ann@example.com")
    page.locator("input[name=subject]").press("Enter")
    expect(page.get_by_test_id("delete-contact")).to_be_visible()
    assert Contact.objects.count() == 1
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete contact").click()
    expect(page.get_by_text("Contact deleted.")).to_be_visible()
    assert Contact.objects.count() == 0
