"""The verification panel and page, and the owner's two buttons, for every role and scope."""

from datetime import UTC, datetime

import pytest
from django.test import Client, RequestFactory
from django.urls import reverse

from loops.models import Issue, Verification
from loops.registry import issue_panels_shown
from loops.services.issues import issue_open, issue_transition
from loops.verification.panel import verification_panel
from tests.factories import UserFactory
from tests.loops.world import reason
from voc.core.models import AuditEntry
from voc.people.roles import Role

pytestmark = pytest.mark.django_db
S = Issue.Status
C = Verification.Checkpoint
FIXED_AT = datetime(2026, 6, 3, 15, tzinfo=UTC)


def fixed_issue(cast, *, owner=None, title="Double charge on renewal") -> Issue:
    billing = reason("Billing", department=cast.dept_a)
    owner = owner or cast.manager
    issue = issue_open(title=title, reasons=[billing], owner=owner, by=owner)
    for status in (S.ASSIGNED, S.IN_PROGRESS):
        issue = issue_transition(issue=issue, to=status, by=owner)
    return issue_transition(issue=issue, to=S.FIXED, by=owner, at=FIXED_AT)


def check(issue: Issue, checkpoint=C.AT_FIX, **fields) -> Verification:
    values = {
        "window_days": 42,
        "before_count": 305,
        "before_total": 1105,
        "after_count": 90,
        "after_total": 990,
        "test_name": "Exact conditional test of the Poisson rate ratio (one-sided, α = 0.025)",
        "rate_ratio": 0.33,
        "ci_low": 0.26,
        "ci_high": 0.42,
        "p_value": 1e-20,
        "verdict": "worked",
        "explanation": "The fall is shown: p = 1e-20 ≤ 0.025.",
    } | fields
    return Verification.objects.create(
        issue=issue, checkpoint=checkpoint, fixed_at=issue.fixed_at, **values
    )


def page(issue: Issue) -> str:
    return reverse("loops:issue-verification", args=[issue.pk])


def confirm(issue: Issue) -> str:
    return reverse("loops:issue-verification-confirm", args=[issue.pk])


def reopen(issue: Issue) -> str:
    return reverse("loops:issue-verification-reopen", args=[issue.pk])


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_owner_sees_the_numbers_and_both_buttons(cast):
    issue = fixed_issue(cast)
    check(issue)
    response = client_for(cast.manager).get(page(issue))
    assert response.status_code == 200
    html = response.content.decode()
    assert "305 of 1105" in html and "90 of 990" in html
    assert "276.0 per 1,000" in html and "90.9 per 1,000" in html  # 305/1105, 90/990
    assert "-67 %" in html and "-74 % to -58 %" in html
    assert 'data-testid="p">&lt;&nbsp;0.0001</td>' in html
    assert "Exact conditional test of the Poisson rate ratio" in html
    assert "Clopper–Pearson 95 % interval" in html
    assert 'data-testid="confirm"' in html and 'data-testid="reopen"' in html


@pytest.mark.parametrize("role", ["executive", "admin"])
def test_readers_see_the_panel_without_buttons_and_cannot_answer(cast, role):
    issue = fixed_issue(cast)
    check(issue)
    client = client_for(getattr(cast, role))
    response = client.get(page(issue))
    assert response.status_code == 200
    assert 'data-testid="confirm"' not in response.content.decode()
    assert client.post(confirm(issue)).status_code == 403
    assert client.post(reopen(issue), {"why": "No."}).status_code == 403
    assert Issue.objects.get(pk=issue.pk).status == S.FIXED


@pytest.mark.parametrize("role", ["rep", "teammate", "outsider", "other_manager"])
def test_out_of_scope_users_get_a_404(cast, role):
    issue = fixed_issue(cast)
    check(issue)
    client = client_for(getattr(cast, role))
    assert client.get(page(issue)).status_code == 404
    expected = 404 if role == "other_manager" else 403  # reps lack the capability first
    assert client.post(confirm(issue)).status_code == expected
    assert client.post(reopen(issue), {"why": "x"}).status_code == expected
    assert Issue.objects.get(pk=issue.pk).status == S.FIXED


def test_anonymous_callers_are_sent_to_sign_in(cast):
    issue = fixed_issue(cast)
    for response in (Client().get(page(issue)), Client().post(confirm(issue))):
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_a_department_head_who_is_not_the_owner_may_look_but_not_answer(cast):
    owner = UserFactory(username="owner", role=Role.MANAGER, department=cast.dept_a)
    issue = fixed_issue(cast, owner=owner)
    check(issue)
    head = client_for(cast.manager)  # heads dept_a, does not own the issue
    response = head.get(page(issue))
    assert response.status_code == 200 and 'data-testid="confirm"' not in response.content.decode()
    assert head.post(confirm(issue)).status_code == 403
    assert client_for(owner).post(confirm(issue)).status_code == 302
    assert Issue.objects.get(pk=issue.pk).status == S.VERIFIED


def test_the_owner_confirms_through_htmx_and_gets_the_panel_back(cast):
    issue = fixed_issue(cast)
    check(issue)
    response = client_for(cast.manager).post(confirm(issue), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="verification-' in html and 'data-testid="confirm"' not in html
    assert 'data-testid="reopen"' in html  # a verified issue can still reopen
    assert Issue.objects.get(pk=issue.pk).status == S.VERIFIED


def test_confirming_without_the_numbers_needs_a_reason_shown_in_the_panel(cast):
    issue = fixed_issue(cast)
    check(issue, verdict="too_early", window_days=14, explanation="Too early.")
    client = client_for(cast.manager)
    response = client.post(confirm(issue), {"why": " "}, HTTP_HX_REQUEST="true")
    assert response.status_code == 422
    assert "say why you confirm it" in response.content.decode()
    assert Issue.objects.get(pk=issue.pk).status == S.FIXED
    response = client.post(confirm(issue), {"why": "The vendor's log shows it."})
    assert response.status_code == 302 and response["Location"] == page(issue)
    assert Issue.objects.get(pk=issue.pk).status == S.VERIFIED


def test_the_owner_reopens_with_a_reason(cast):
    issue = fixed_issue(cast)
    check(issue, verdict="not_shown")
    client = client_for(cast.manager)
    response = client.post(reopen(issue), {"why": ""}, follow=True)
    assert "Say why the issue is reopened." in response.content.decode()
    assert Issue.objects.get(pk=issue.pk).status == S.FIXED
    client.post(reopen(issue), {"why": "Contacts <b>came back</b>."})
    issue.refresh_from_db()
    assert issue.status == S.IN_PROGRESS
    entry = AuditEntry.objects.filter(action="issue.status", target_id=issue.pk).first()
    assert entry is not None and entry.why == "Contacts <b>came back</b>."
    # The checks of the earlier fix stay, marked as such; no buttons on an issue in progress.
    html = client.get(page(issue)).content.decode()
    assert "These checks are of an earlier fix" in html and 'data-testid="reopen"' not in html


def test_the_answers_refuse_get(cast):
    issue = fixed_issue(cast)
    assert client_for(cast.manager).get(confirm(issue)).status_code == 405


def test_customer_words_in_the_title_are_escaped(cast):
    issue = fixed_issue(cast, title="<script>alert(1)</script> charged twice")
    html = client_for(cast.manager).get(page(issue)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; charged twice" in html


def test_the_30_day_check_says_the_contacts_came_back(cast):
    issue = fixed_issue(cast)
    check(issue)
    check(issue, C.DAY_30, verdict="not_shown", rate_ratio=1.1, ci_low=0.9, ci_high=1.3)
    check(issue, C.DAY_90, verdict="worked")
    html = client_for(cast.manager).get(page(issue)).content.decode()
    row_30 = html.split('data-testid="verification-day_30"')[1].split("</tr>")[0]
    row_90 = html.split('data-testid="verification-day_90"')[1].split("</tr>")[0]
    assert "The contacts came back." in row_30
    assert "The contacts stayed down." in row_90


def test_an_unfinished_check_says_it_is_not_final_yet(cast):
    issue = fixed_issue(cast)
    check(issue, C.DAY_30, window_days=0, verdict="too_early", rate_ratio=None, ci_low=None,
          ci_high=None, p_value=None, explanation="Too early: 0 of 6 weeks.")  # fmt: skip
    html = client_for(cast.manager).get(page(issue)).content.decode()
    row = html.split('data-testid="verification-day_30"')[1].split("</tr>")[0]
    assert "no whole week yet" in row and "came back" not in row.lower()
    assert 'data-testid="p">–</td>' in row


def test_the_panel_is_on_the_issue_page_only_once_the_issue_was_fixed(cast):
    issue = fixed_issue(cast)
    never = issue_open(title="Not fixed", by=cast.manager)
    request = RequestFactory().get("/")
    request.user = cast.manager
    assert [p.key for p in issue_panels_shown(issue=issue, request=request)].count(
        "loops.verification"
    ) == 1
    assert verification_panel(never, cast.manager) is None
    html = client_for(cast.manager).get(page(never)).content.decode()
    assert "has not been fixed yet" in html
    # Fixed, but no check computed yet (the task is on its way).
    fragment = verification_panel(issue, cast.manager)
    assert fragment is not None and fragment.context["rows"] == []
    assert (
        "The first check is being computed"
        in client_for(cast.manager).get(page(issue)).content.decode()
    )


def test_a_fixed_issue_without_reasons_says_there_is_nothing_to_measure(cast):
    issue = issue_open(title="Vague", owner=cast.manager, by=cast.manager)
    for status in (S.ASSIGNED, S.IN_PROGRESS, S.FIXED):
        issue = issue_transition(issue=issue, to=status, by=cast.manager)
    html = client_for(cast.manager).get(page(issue)).content.decode()
    assert "names no contact reasons" in html
