"""Email ping-pong as a rep meets it, on a laptop and on a phone: the thread whose customer has
written three times is on the home page's worklist with the number, the contact page says
"call the customer", and both go once the rep logs the call from the nudge."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact
from tests.browser.test_layout import LAPTOP, PHONE, page_overflow
from tests.browser.test_navigation import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NAME = "Pat <b>Customer</b>"
PHONE_NUMBER = "+15551234567"


def seed(cast) -> tuple[Contact, Contact]:
    """Two email threads of the rep's team: one whose customer wrote three times (replies in
    between), one whose customer wrote twice (replies do not count)."""
    start = timezone.now() - timedelta(hours=5)

    def messages(directions: str) -> list[dict]:
        return [
            {"external_id": f"m{i}", "direction": "incoming" if d == "c" else "outgoing",
             "sent_at": (start + timedelta(minutes=30 * i)).isoformat(),
             "text": "The replacement does not work either." if d == "c" else "Our policy is…"}
            for i, d in enumerate(directions)
        ]  # fmt: skip

    rows = [
        {"external_id": "three", "customer_ref": "PAT", "customer_name": NAME,
         "customer_phone": PHONE_NUMBER, "subject": "Replacement device not working",
         "messages": messages("crcrc")},
        {"external_id": "two", "customer_ref": "SAM", "customer_name": "Sam Writer",
         "customer_phone": "+15557654321", "subject": "Invoice question",
         "messages": messages("crcrr")},
    ]  # fmt: skip
    for row in rows:
        row.update(source="crm", channel="email", team=cast.team_a.name,
                   occurred_at=start.isoformat())  # fmt: skip
    assert not contacts_ingest(rows=rows).rejected
    return Contact.objects.get(external_id="three"), Contact.objects.get(external_id="two")


@pytest.mark.parametrize("viewport", [LAPTOP, PHONE], ids=["1366", "390"])
def test_the_rep_is_told_to_call_until_the_call_is_logged(
    page: Page, cast, viewport, screenshot_dir
):
    three, two = seed(cast)
    page.set_viewport_size(viewport)
    sign_in(page, cast.rep.username, cast.password)
    width = viewport["width"]

    # Home: the worklist names the customer (as text, not markup) with the number to call.
    expect(page).to_have_title("Home · VoC")
    worklist = page.get_by_test_id("call-worklist")
    expect(worklist).to_be_visible()
    expect(page.get_by_test_id("call-count")).to_have_text("1")
    expect(worklist.locator("li")).to_have_count(1)
    expect(worklist).to_contain_text(NAME)
    expect(worklist).not_to_contain_text("Sam Writer")
    expect(worklist.get_by_test_id("call-phone")).to_have_attribute("href", f"tel:{PHONE_NUMBER}")
    assert page_overflow(page) == 0
    page.screenshot(path=screenshot_dir / f"call-worklist-{width}.png", full_page=True)

    # The contact page: "call the customer" with the number, at the top.
    worklist.get_by_role("link", name=NAME).click()
    detail = reverse("contacts:contact-detail", args=[three.id])
    expect(page).to_have_url(re.compile(re.escape(detail) + "$"))
    nudge = page.get_by_test_id("call-nudge")
    expect(nudge).to_be_visible()
    expect(nudge).to_contain_text("Call the customer")
    expect(nudge).to_contain_text(f"{NAME} has written 3 times in this thread")
    expect(nudge.get_by_test_id("call-nudge-phone")).to_have_text(PHONE_NUMBER)
    expect(nudge.get_by_test_id("call-nudge-phone")).to_have_attribute(
        "href", f"tel:{PHONE_NUMBER}"
    )
    assert nudge.bounding_box()["y"] < page.get_by_test_id("messages").bounding_box()["y"]
    assert page_overflow(page) == 0
    page.screenshot(path=screenshot_dir / f"call-nudge-{width}.png", full_page=True)

    # Two customer messages and three replies: no nudge.
    page.goto(reverse("contacts:contact-detail", args=[two.id]))
    expect(page.get_by_test_id("messages").locator("li")).to_have_count(5)
    expect(page.get_by_test_id("call-nudge")).to_have_count(0)

    # Log the call from the nudge: the form comes with the customer, phone and outbound.
    page.goto(detail)
    page.get_by_test_id("call-nudge").get_by_role("link", name="Log the call").click()
    form = page.get_by_test_id("log-form")
    expect(form.locator("input[name=customer]:checked")).to_have_value(str(three.customer_id))
    expect(form.locator("select[name=channel]")).to_have_value("phone")
    expect(form.locator("select[name=direction]")).to_have_value("outbound")
    form.locator("input[name=subject]").fill("Called about the replacement")
    form.locator("select[name=outcome]").select_option("resolved")
    form.locator("input[name=subject]").press("Enter")
    expect(page.get_by_text("Contact logged.")).to_be_visible()
    call = Contact.objects.exclude(id__in=[three.id, two.id]).get()
    assert (call.channel, call.direction, call.customer_id) == (
        "phone",
        "outbound",
        three.customer_id,
    )

    # Gone from the thread's page and from the home page.
    page.goto(detail)
    expect(page.get_by_test_id("messages")).to_be_visible()
    expect(page.get_by_test_id("call-nudge")).to_have_count(0)
    page.goto(reverse("home"))
    expect(page).to_have_title("Home · VoC")
    expect(page.get_by_test_id("call-worklist")).to_have_count(0)
    assert Contact.objects.get(id=three.id).outcome == ""  # the thread itself is unchanged
