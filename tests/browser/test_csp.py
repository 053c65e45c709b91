"""The pages and the API docs under the enforced Content-Security-Policy: Chromium reports no
violation, and the behaviour that moved out of inline handlers (static/js/voc.js) still works."""

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason
from tests.browser.test_navigation import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Runs before any page script; a CDP-injected script is not itself subject to the page's CSP.
RECORD_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (event) => {
  window.__cspViolations.push(`${event.violatedDirective} ${event.blockedURI}`);
});
"""


@pytest.fixture
def watched(page: Page):
    """The page, and every CSP complaint Chromium logs to its console."""
    complaints: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda message: (
            complaints.append(message.text)
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    page.on("pageerror", lambda error: complaints.append(f"page error: {error}"))
    return page, complaints


def assert_no_violation(page: Page, complaints: list[str], where: str) -> None:
    recorded = page.evaluate("window.__cspViolations || []")
    assert complaints == [] and recorded == [], (where, complaints, recorded)


@pytest.fixture
def contact(cast):
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a)
    ContactReason.objects.create(name="Double charge", parent=billing, department=cast.dept_a)
    contacts_ingest(
        rows=[
            {
                "source": "genesys",
                "external_id": "c-1",
                "channel": "phone",
                "occurred_at": "2026-11-02T09:30:00Z",
                "team": cast.team_a.name,
                "reason": "Billing › Double charge",
                "customer_ref": "CRM-1",
                "customer_name": "Ada Customer",
                "customer_email": "ada@example.com",
                "text": "You charged me twice!",
                "outcome": "resolved",
            }
        ]
    )
    return Contact.objects.get(external_id="c-1")


def test_the_main_pages_load_without_a_csp_violation(watched, live_server, cast, contact):
    page, complaints = watched
    page.goto(reverse("login"))
    assert_no_violation(page, complaints, "login")
    sign_in(page, cast.admin.username, cast.password)
    expect(page.get_by_test_id("whoami")).to_be_visible()
    urls = [
        reverse("home"),
        reverse("contacts:contact-list"),
        reverse("contacts:contact-detail", args=[contact.id]),
        reverse("contacts:contact-log"),
        reverse("contacts:customer-search") + "?q=Ada",
        reverse("contacts:customer-detail", args=[contact.customer_id]),
        reverse("contacts:message-search") + "?q=charged",
        reverse("people:directory"),
        reverse("people:tokens"),
        reverse("core:jobs"),
        reverse("core:outbox"),
        reverse("inbound:ops"),
        reverse("password_change"),
        "/admin/",
        "/admin/contacts/contact/",
        f"/admin/contacts/contact/{contact.id}/change/",
    ]
    for url in urls:
        response = page.goto(url)
        assert response is not None and response.status == 200, url
        page.wait_for_load_state("networkidle")
        assert_no_violation(page, complaints, url)


def test_the_api_docs_load_under_the_csp(watched, live_server, cast):
    page, complaints = watched
    sign_in(page, cast.rep.username, cast.password)
    expect(page.get_by_test_id("whoami")).to_be_visible()
    page.goto(reverse("api-docs"))
    # The title comes from the schema: the start-up script ran and fetched it.
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("VoC API")
    expect(page.locator(".opblock").first).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert_no_violation(page, complaints, "api docs")


def test_the_moved_handlers_still_work(watched, live_server, cast, contact):
    page, complaints = watched
    sign_in(page, cast.rep.username, cast.password)
    expect(page.get_by_test_id("whoami")).to_be_visible()

    # Enter in the customer search does not submit the log form.
    page.goto(reverse("contacts:contact-log"))
    search = page.locator("#customer-q")
    search.fill("Ada")
    search.press("Enter")
    expect(page.locator("#customer-results")).to_contain_text("Ada Customer")
    assert page.url.endswith(reverse("contacts:contact-log"))

    # "Use it" puts the suggested road into the form.
    page.goto(reverse("contacts:contact-detail", args=[contact.id]))
    suggestion = page.get_by_test_id("road-suggestion")
    if suggestion.get_attribute("data-road"):
        page.get_by_role("button", name="Use it").click()
        expect(page.locator("#id_road")).to_have_value(suggestion.get_attribute("data-road"))

    # A refused tag list comes back with its message next to the field.
    page.locator("#edit-form input[name=tags]").fill(",".join(f"t{n}" for n in range(31)))
    page.locator("#edit-form").get_by_role("button", name="Save").click()
    expect(page.locator("#edit-form")).to_contain_text("at most 30 tags")
    assert_no_violation(page, complaints, "handlers")
