"""An executive promotes a side-by-side note to a new issue: from the note on the session page,
through the promote page (the note's words shown as text, the title and reason suggested), in
one click, to the issue; the page keeps to the Content-Security-Policy. Then the same note is
added to the issue again from the promote page and still counts once."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from contacts.models import ContactReason
from feedback.models import Session, SessionNote
from loops.models import Issue, IssueEvidence
from loops.promote.views import issue_landing_url
from tests.browser.test_csp import RECORD_VIOLATIONS
from tests.browser.test_navigation import sign_in
from tests.loops.world import contact_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = "<b>Customer</b> read out the error code from the checkout; the rep had no way to see it."


@pytest.fixture
def note(cast):
    billing = ContactReason.objects.create(name="Checkout", department=cast.dept_a)
    start = timezone.now() - timedelta(hours=2)
    session = Session.objects.create(
        executive=cast.executive, rep=cast.rep, scheduled_by=cast.executive,
        scheduled_start=start, status=Session.Status.ENDED, started_at=start,
        ended_at=start + timedelta(hours=1), duration_seconds=3600,
    )  # fmt: skip
    note = SessionNote.objects.create(
        session=session, author=cast.executive, text=WORDS, client_id=uuid.uuid4(),
        noted_at=start + timedelta(minutes=20),
    )  # fmt: skip
    note.contacts.add(contact_of(cast.team_a, reason=billing))
    return note


def test_an_executive_promotes_a_session_note_to_a_new_issue(
    page: Page, cast, note, screenshot_dir
):
    violations: list[str] = []
    page.add_init_script(RECORD_VIOLATIONS)
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Refused to" in message.text else None,
    )
    sign_in(page, cast.executive.username, cast.password)
    page.goto(reverse("feedback:session-detail", args=[note.session_id]))
    entry = page.locator(f"li[data-client-id='{note.client_id}']")
    expect(entry.locator(".note-text")).to_have_text(WORDS)  # text, not markup
    entry.get_by_role("link", name="Promote to issue").click()

    expect(page.get_by_role("heading", name="Promote to issue")).to_be_visible()
    expect(page.get_by_test_id("source-text")).to_have_text(WORDS)
    expect(page.get_by_test_id("no-suggestions")).to_be_visible()
    title = page.get_by_label("Title")
    expect(title).to_have_value(
        "<b>Customer</b> read out the error code from the checkout; the rep had no way…"
    )
    expect(page.get_by_label("Reasons it explains")).to_have_values(
        [str(note.contacts.get().reason_id)]
    )
    title.fill("Reps cannot see the checkout error code")
    page.get_by_label("Severity").select_option("high")
    page.screenshot(path=str(screenshot_dir / "loops-promote-note.png"), full_page=True)
    page.get_by_test_id("open-issue").click()

    issue = Issue.objects.get()
    expect(page).to_have_url(f"{page.url.split('/loops/')[0]}{issue_landing_url(issue.pk)}")
    expect(
        page.get_by_text(f"Issue #{issue.pk} opened, with the side-by-side note")
    ).to_be_visible()
    expect(page.get_by_text("Reps cannot see the checkout error code").first).to_be_visible()
    assert (issue.severity, issue.department_id, issue.evidence_count) == (
        "high",
        cast.dept_a.pk,
        1,
    )
    assert IssueEvidence.objects.get().session_note == note

    # Promoted again, to the issue now suggested: it counts once.
    page.goto(reverse("loops:promote", args=["session_note", note.pk]))
    row = page.locator(f"tr[data-issue='{issue.pk}']")
    expect(row.get_by_test_id("same-reason")).to_be_visible()
    expect(row.get_by_test_id("has-source")).to_have_text("evidence already")
    expect(page.get_by_test_id("held")).to_contain_text(f"#{issue.pk}")
    page.get_by_label("Issue number").fill(str(issue.pk))
    page.get_by_role("button", name="Add as evidence", exact=True).click()
    expect(page.get_by_text("was evidence on issue")).to_contain_text("it counts once")
    issue.refresh_from_db()
    assert issue.evidence_count == 1
    assert violations == [] and page.evaluate("window.__cspViolations || []") == []
