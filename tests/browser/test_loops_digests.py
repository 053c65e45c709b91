"""A manager searches the customers' words, clicks "Get these messages in a digest", previews
it, subscribes, sees the digest in their history once the job has run, opens it, and stops it
from the email's signed link without signing in. Customer text with <script> stays text
everywhere, and the email's HTML fits 360 px and 600 px wide screens without scrolling
sideways."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from contacts.models import Message
from loops.digests.services import digests_send_due
from loops.models import Digest, DigestSubscription
from tests.browser.test_navigation import sign_in
from tests.loops.world import contact_of
from voc.core.models import SendOnce
from voc.core.sendonce import send_once_deliver

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCRIPT = "<script>alert('digest')</script> my router drops every evening"
LONG = "router-log: " + "x" * 180 + " https://example.com/" + "a/" * 60


@pytest.fixture
def messages(cast):
    at = timezone.now() - timedelta(hours=2)
    for n, text in enumerate([SCRIPT, LONG, "The router light is red since Monday."]):
        contact = contact_of(cast.team_a, at=at - timedelta(minutes=n))
        Message.objects.create(
            contact=contact, external_id="m", position=0, direction="incoming", text=text,
            sent_at=at - timedelta(minutes=n),
        )  # fmt: skip
    outside = contact_of(cast.team_b, at=at)  # another department's: never in the digest
    Message.objects.create(
        contact=outside, external_id="m", position=0, direction="incoming",
        text="Router outside the manager's scope", sent_at=at,
    )  # fmt: skip


def no_horizontal_overflow(page: Page, width: int) -> bool:
    page.set_viewport_size({"width": width, "height": 800})
    return page.evaluate(
        "() => document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_a_manager_subscribes_from_a_search_and_stops_from_the_email(
    page: Page, browser, live_server, cast, messages, screenshot_dir
):
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    sign_in(page, cast.manager.username, cast.password)
    page.goto(reverse("contacts:message-search") + "?q=router")
    page.get_by_test_id("subscribe-to-search").click()

    expect(page.get_by_role("heading", name="Subscribe to a digest")).to_be_visible()
    expect(page.get_by_label("Keywords")).to_have_value("router")
    with page.context.expect_page() as opened:
        page.get_by_role("button", name="Preview the last day").click()
    preview = opened.value
    preview.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    expect(preview.get_by_text("Preview: this is what the last period")).to_be_visible()
    expect(preview.get_by_text(SCRIPT)).to_be_visible()  # shown as text
    expect(preview.get_by_text("The router light is red since Monday.")).to_be_visible()
    expect(preview.get_by_text("outside the manager's scope")).to_have_count(0)
    preview.close()

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("Subscribed to")).to_be_visible()
    subscription = DigestSubscription.objects.get(user=cast.manager)
    assert subscription.keywords == "router"
    expect(page.get_by_test_id("digest-history").get_by_text("None yet.")).to_be_visible()

    # As if subscribed yesterday (a new subscription starts from now: no flood of the past),
    # the job runs at the end of the period, and the worker sends it.
    DigestSubscription.objects.update(sent_until=timezone.now() - timedelta(days=1))
    run = digests_send_due(now=timezone.now() + timedelta(days=1))
    assert run.queued == 1
    for email in SendOnce.objects.filter(status="pending"):
        assert send_once_deliver(email_id=email.id) == "sent"
    digest = Digest.objects.get()
    assert digest.thread_count == 3

    page.goto(reverse("loops:digest-list"))
    history = page.get_by_test_id("digest-history")
    expect(history.get_by_role("link", name=digest.subject)).to_be_visible()
    page.screenshot(path=str(screenshot_dir / "loops-digests-list.png"), full_page=True)
    history.get_by_role("link", name=digest.subject).click()
    expect(page.get_by_text(SCRIPT)).to_be_visible()
    expect(page.get_by_text("outside the manager's scope")).to_have_count(0)

    # Opened in the browser, its own styles apply (a phone's width fits).
    assert no_horizontal_overflow(page, 360)
    page.set_viewport_size({"width": 1280, "height": 800})

    # The email's HTML, as mail clients get it, at a phone's width and at its own.
    [sent] = mail.outbox
    html = next(content for content, kind in sent.alternatives if kind == "text/html")
    email = page.context.new_page()
    email.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    email.set_content(html)
    expect(email.get_by_text(SCRIPT)).to_be_visible()
    assert email.locator("script").count() == 0
    assert no_horizontal_overflow(email, 360)
    email.screenshot(path=str(screenshot_dir / "loops-digest-email-360.png"), full_page=True)
    assert no_horizontal_overflow(email, 600)
    email.close()
    assert dialogs == []

    # The email's own unsubscribe link, in a browser that never signed in.
    link = sent.extra_headers["List-Unsubscribe"].strip("<>")
    anonymous = browser.new_context(base_url=live_server.url)
    try:
        stranger = anonymous.new_page()
        stranger.goto(urlsplit(link).path)
        expect(stranger.get_by_role("heading", name=f"Stop “{subscription.name}”?")).to_be_visible()
        stranger.get_by_test_id("digest-unsubscribe").click()
        expect(stranger.get_by_role("heading", name="Stopped")).to_be_visible()
    finally:
        anonymous.close()
    subscription.refresh_from_db()
    assert not subscription.active
    # Edited to name another subscription, the link does nothing.
    token = urlsplit(link).path.rstrip("/").split("/")[-1]
    forged = reverse("loops:digest-unsubscribe", args=[token[:-3] + "abc"])
    page.goto(forged)
    expect(page.get_by_role("heading", name="This link does not work")).to_be_visible()
