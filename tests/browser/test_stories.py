"""A rep tells a thumbs-down story from a contact page; an executive reads it on the wall,
reached from the home page's widget."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact
from feedback.models import Story
from tests.browser.test_navigation import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = "Third email, <nobody> picked up the phone"
STORY = "Same question three times by email.\nShe asked: can a human please call me?"


def test_a_rep_tells_a_story_and_an_executive_reads_it_on_the_wall(
    page: Page, cast, screenshot_dir
):
    assert not contacts_ingest(
        rows=[{"source": "crm", "external_id": "e-1", "channel": "email", "team": cast.team_a.name,
               "customer_ref": "NOOR", "customer_name": "Noor Haddad",
               "subject": "Double charge", "occurred_at": "2026-11-30T10:00:00Z",
               "text": "I was charged twice."}]
    ).rejected  # fmt: skip
    contact = Contact.objects.get(external_id="e-1")

    sign_in(page, cast.rep.username, cast.password)
    page.goto(reverse("contacts:contact-detail", args=[contact.id]))
    panel = page.locator('[data-panel="feedback.stories"]')
    expect(panel).to_contain_text("Tell a story about this contact")
    panel.get_by_test_id("thumb-down").check()
    panel.get_by_label("Title").fill(TITLE)
    panel.get_by_label("The story").fill(STORY + " Card 4111 1111 1111 1111.")
    panel.get_by_test_id("story-save").click()

    expect(page).to_have_url(f"{page.url.split('/contacts/')[0]}/contacts/{contact.id}/")
    expect(page.locator(".messages")).to_contain_text("Story saved")
    story = Story.objects.get()
    assert (story.thumb, story.title, story.author_id) == ("down", TITLE, cast.rep.id)
    assert "4111" not in story.text
    expect(panel.get_by_test_id("story")).to_contain_text(TITLE)
    page.screenshot(path=str(screenshot_dir / "story-contact-panel.png"), full_page=True)

    page.context.clear_cookies()
    sign_in(page, cast.executive.username, cast.password)
    expect(page.get_by_test_id("home-stories")).to_contain_text(TITLE)
    page.get_by_test_id("story-wall-link").click()
    card = page.get_by_test_id("story-card").first
    expect(card.locator("h2")).to_have_text(TITLE)  # escaped: the angle brackets are text
    expect(card.get_by_test_id("thumb")).to_contain_text("Thumbs down")
    expect(card).to_contain_text("can a human please call me?")
    expect(card).to_contain_text(f"Told by {cast.rep}")
    page.get_by_test_id("thumb-filter").get_by_role("link", name="Thumbs up").click()
    expect(page.get_by_test_id("story-card")).to_have_count(0)
    page.get_by_test_id("thumb-filter").get_by_role("link", name="Thumbs down").click()
    expect(page.get_by_test_id("story-card")).to_have_count(1)
    page.screenshot(path=str(screenshot_dir / "story-wall.png"), full_page=True)
    card = page.get_by_test_id("story-card").first
    card.get_by_role("link", name="the contact with Noor Haddad").click()
    expect(page.locator(f"#story-{story.id}")).to_contain_text(TITLE)
