"""A customer answers a post-contact survey on a phone (390×844): taps a score, says why,
sends, and sees the thank-you page; the answer is a FeedbackItem."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from feedback.models import FeedbackItem, SurveyInvitation
from feedback.surveys.links import survey_answer_path
from feedback.surveys.services import survey_invitations_send
from tests.browser.test_layout import PHONE, page_overflow
from tests.feedback.surveys_common import closed_contact, setting

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_customer_answers_on_a_phone(page: Page, screenshot_dir):
    setting("survey_share_percent", 100)
    closed_contact(closed_at=timezone.now() - timedelta(hours=1))
    assert survey_invitations_send().invited == 1
    invitation = SurveyInvitation.objects.get()
    page.set_viewport_size(PHONE)
    page.goto(survey_answer_path(invitation))
    expect(page.get_by_role("heading")).to_contain_text("How likely are you to recommend")
    buttons = page.locator(".score span")
    expect(buttons).to_have_count(11)
    # Big enough for a thumb, and all on the screen without sideways scrolling.
    boxes = buttons.evaluate_all("els => els.map(e => e.getBoundingClientRect().toJSON())")
    assert min(box["height"] for box in boxes) >= 44
    assert min(box["width"] for box in boxes) >= 44
    assert max(box["right"] for box in boxes) <= PHONE["width"]
    assert page_overflow(page) == 0
    page.locator(".score", has_text="9").first.click()
    expect(page.get_by_test_id("score-9")).to_be_checked()
    page.get_by_label("Tell us why (optional)").fill("Sorted on the first call, thank you.")
    page.screenshot(path=screenshot_dir / "survey-390.png", full_page=True)
    page.get_by_test_id("survey-send").click()
    expect(page.get_by_test_id("survey-thanks")).to_be_visible()
    assert page_overflow(page) == 0
    page.screenshot(path=screenshot_dir / "survey-thanks-390.png", full_page=True)
    item = FeedbackItem.objects.get()
    assert (item.kind, item.score, item.source) == ("nps", 9, "survey")
    assert item.verbatim == "Sorted on the first call, thank you."
    assert item.contact_id == invitation.contact_id
