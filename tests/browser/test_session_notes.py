"""An executive runs a side-by-side session in the browser: schedules it, starts it, takes
notes with a prompt and a shortcut, keeps typing with the network down, reloads, and every note
is stored exactly once; then ends the session and sees the 5% tracker move."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from feedback.models import Session, SessionNote
from tests.browser.test_navigation import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NOTES_API = "**/api/v1/sessions/*/notes/"


def saved(page: Page) -> None:
    expect(page.get_by_test_id("save-state")).to_have_text("All notes saved.")


def test_an_executive_runs_a_session_and_no_note_is_lost_or_doubled(
    page: Page, cast, screenshot_dir
):
    sign_in(page, cast.executive.username, cast.password)
    page.locator("[data-nav=sessions]").click()
    page.get_by_test_id("schedule-link").click()
    page.get_by_label("Rep to sit beside").select_option(str(cast.rep.id))
    start = (timezone.localtime() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    page.get_by_label("Starts").fill(start)
    page.get_by_label("Topic").fill("Billing calls")
    page.get_by_role("button", name="Schedule").click()
    expect(page.get_by_test_id("session-status")).to_have_text("Scheduled")
    expect(page.get_by_test_id("not-a-review")).to_contain_text("Not a performance review")
    session = Session.objects.get()

    page.get_by_test_id("session-start").click()
    expect(page.get_by_test_id("session-status")).to_have_text("Running")
    text = page.get_by_test_id("note-text")

    # A prompt is one click away: it starts a question.
    page.get_by_role("button", name="Does that always happen?").click()
    expect(page.locator("input[name=kind][value=question]")).to_be_checked()
    text.press_sequentially("The rep says every month end.")
    text.press("Enter")
    saved(page)

    # A shortcut: Alt+Q makes the next note a quote.
    page.keyboard.press("Alt+KeyQ")
    expect(page.locator("input[name=kind][value=quote]")).to_be_checked()
    text.press_sequentially("I have called three times about this charge")
    text.press("Enter")
    saved(page)
    assert SessionNote.objects.count() == 2

    # The network drops: the note waits in the browser.
    page.context.set_offline(True)
    text.press_sequentially("Typed while the network was down")
    text.press("Enter")
    expect(page.get_by_test_id("save-state")).to_contain_text("no connection")
    expect(page.locator("li.pending")).to_contain_text("Typed while the network was down")
    text.press_sequentially("half a thought")  # a draft, not yet saved
    assert SessionNote.objects.count() == 2

    # Back on the network, but the server is not reachable yet: reload the page. The waiting
    # note and the draft are still there (localStorage).
    page.route(NOTES_API, lambda route: route.abort())
    page.context.set_offline(False)
    page.reload()
    expect(page.locator("li.pending")).to_contain_text("Typed while the network was down")
    expect(text).to_have_value("half a thought")
    assert SessionNote.objects.count() == 2

    # The server gets the note but its answer is lost: the browser sends it again, and the
    # client id keeps it to one stored note.
    page.unroute(NOTES_API)
    answers_lost = []

    def lose_the_answer(route):
        if not answers_lost:
            try:
                response = route.fetch()
                answers_lost.append(response.status)
            finally:
                route.abort()
        else:
            route.continue_()

    page.route(NOTES_API, lose_the_answer)
    expect(page.get_by_test_id("save-state")).to_have_text("All notes saved.", timeout=15_000)
    assert answers_lost == [201]
    texts = list(SessionNote.objects.order_by("noted_at").values_list("kind", "text"))
    assert texts == [
        ("question", "Does that always happen? The rep says every month end."),
        ("quote", "I have called three times about this charge"),
        ("observation", "Typed while the network was down"),
    ]
    expect(page.get_by_test_id("notes").locator("li")).to_have_count(3)
    expect(page.locator("li.pending")).to_have_count(0)
    page.screenshot(path=str(screenshot_dir / "session-notes.png"), full_page=True)

    # An hour and a half of listening (moved back so the tracker has something to show).
    Session.objects.filter(id=session.id).update(started_at=timezone.now() - timedelta(minutes=90))
    page.get_by_test_id("session-end").click()
    expect(page.get_by_test_id("session-status")).to_have_text("Ended")
    page.goto(reverse("home"))
    expect(page.get_by_test_id("tracker-week")).to_contain_text("1.5 h")
    expect(page.get_by_test_id("tracker-week")).to_contain_text("of 2")
