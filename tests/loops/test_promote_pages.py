"""The promote page: who may open it for which source, what it shows and suggests, and the
one POST that opens an issue or adds evidence; "Promote to issue" on feedback's pages."""

import pytest
import time_machine
from django.urls import reverse

from loops.models import Issue, IssueEvidence
from loops.promote.services import promote_to_issue
from loops.services.issues import issue_transition
from tests.factories import UserFactory
from tests.loops.promote_world import NOW, make_world
from tests.loops.world import open_issue, reason
from voc.people.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(cast):
    return make_world(cast)


def url(kind, source) -> str:
    return reverse("loops:promote", args=[kind, source.pk])


def landing(issue_id: int) -> str:
    from loops.promote.views import issue_landing_url

    return issue_landing_url(issue_id)


# --- who may promote what ----------------------------------------------------------------------

# who -> {source name: HTTP status of the promote page}
PAGE = {
    "rep": {"item_a": 200, "item_b": 404, "note": 200, "note_other": 404, "call": 404,
            "exercise": 404, "topic": 200},
    "manager": {"item_a": 200, "item_b": 404, "note": 404, "note_other": 404, "call": 404,
                "exercise": 404, "topic": 404},
    "deputy": {"item_a": 200, "item_b": 404, "note": 404, "note_other": 404, "call": 404,
               "exercise": 404, "topic": 404},
    "other_manager": {"item_a": 404, "item_b": 200, "note": 404, "note_other": 404,
                      "call": 404, "exercise": 404, "topic": 404},
    "executive": {"item_a": 200, "item_b": 200, "note": 200, "note_other": 200, "call": 200,
                  "exercise": 200, "topic": 200},
    "admin": dict.fromkeys(
        ("item_a", "item_b", "note", "note_other", "call", "exercise", "topic"), 403
    ),
}  # fmt: skip
KIND = {
    "item_a": "feedback",
    "item_b": "feedback",
    "note": "session_note",
    "note_other": "session_note",
    "call": "outreach_call",
    "exercise": "exercise",
    "topic": "forum_topic",
}


def user_for(cast, who):
    if who == "deputy":  # a manager in department A who heads nothing
        return UserFactory(username="deputy", role=Role.MANAGER, department=cast.dept_a)
    return getattr(cast, who)


@pytest.mark.parametrize("who", sorted(PAGE))
def test_each_role_opens_the_page_only_for_the_sources_it_reads(client, cast, world, who):
    client.force_login(user_for(cast, who))
    got = {
        name: client.get(url(KIND[name], getattr(world, name))).status_code for name in PAGE[who]
    }
    assert got == PAGE[who]


@pytest.mark.parametrize("who", sorted(PAGE))
def test_a_post_is_refused_alike_and_changes_nothing(client, cast, world, who):
    client.force_login(user_for(cast, who))
    for name, expected in PAGE[who].items():
        if expected == 200:
            continue
        response = client.post(
            url(KIND[name], getattr(world, name)), {"action": "new", "title": "Sneaky"}
        )
        assert response.status_code == expected, name
    assert not Issue.objects.filter(title="Sneaky").exists()


def test_anonymous_people_are_sent_to_sign_in(client, world):
    response = client.get(url("feedback", world.item_a))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert (
        client.post(url("feedback", world.item_a), {"action": "new", "title": "X"}).status_code
        == 302
    )
    assert not Issue.objects.exists()


def test_a_manager_cannot_promote_a_session_note_they_do_not_see(client, cast, world):
    client.force_login(cast.manager)  # heads the rep's department and leads the rep's team
    response = client.post(url("session_note", world.note), {"action": "new", "title": "Hm"})
    assert response.status_code == 404
    issue = open_issue(cast, reasons=[world.billing])  # one the manager does see
    response = client.post(
        url("session_note", world.note), {"action": "existing", "issue": issue.pk}
    )
    assert response.status_code == 404
    assert not IssueEvidence.objects.exists()


def test_a_rep_cannot_promote_an_item_outside_their_scope(client, cast, world):
    client.force_login(cast.rep)
    issue = open_issue(cast, by=cast.rep)
    response = client.post(url("feedback", world.item_b), {"action": "existing", "issue": issue.pk})
    assert response.status_code == 404
    response = client.post(url("feedback", world.item_b), {"action": "new", "title": "Outage"})
    assert response.status_code == 404
    assert Issue.objects.count() == 1 and not IssueEvidence.objects.exists()


def test_unknown_kinds_and_missing_sources_are_404(client, cast, world):
    client.force_login(cast.executive)
    assert (
        client.get(reverse("loops:promote", args=["contact", world.contact_a.pk])).status_code
        == 404
    )
    assert client.get(reverse("loops:promote", args=["nonsense", 1])).status_code == 404
    assert client.get(reverse("loops:promote", args=["feedback", 10**9])).status_code == 404


# --- what the page shows -------------------------------------------------------------------------


def test_the_source_text_is_escaped_and_prefills_the_new_issue(client, cast, world):
    client.force_login(cast.executive)
    html = client.get(url("session_note", world.note)).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&#x27;promote&#x27;)&lt;/script&gt; Checkout" in html
    assert (
        'name="title" value="&lt;script&gt;alert(&#x27;promote&#x27;)&lt;/script&gt; Checkout shows'
        in html
    )
    # The note's contact's reason is chosen for the new issue.
    assert f'<option value="{world.billing.pk}" selected>' in html
    assert reverse("feedback:session-detail", args=[world.session.pk]) in html


def test_suggestions_put_the_same_reason_first_then_the_most_recent(client, cast, world):
    other = reason("Late refund", department=cast.dept_a)
    with time_machine.travel(NOW.replace(day=1), tick=False):
        oldest_same = open_issue(cast, title="Billing oldest", reasons=[world.billing])
    with time_machine.travel(NOW.replace(day=10), tick=False):
        recent_other = open_issue(cast, title="Refunds recent", reasons=[other])
    with time_machine.travel(NOW.replace(day=5), tick=False):
        middle_same = open_issue(cast, title="Billing middle", reasons=[world.billing])
    newest = open_issue(cast, title="No reason, newest")
    closed = open_issue(cast, title="Closed one", reasons=[world.billing])
    Issue.objects.filter(pk=closed.pk).update(status="closed")
    merged = open_issue(cast, title="Merged one", reasons=[world.billing])
    Issue.objects.filter(pk=merged.pk).update(merged_into=middle_same)
    client.force_login(cast.executive)
    response = client.get(url("feedback", world.item_a))
    order = [suggestion.issue for suggestion, _ in response.context["suggestions"]]
    assert order == [middle_same, oldest_same, newest, recent_other]
    html = response.content.decode()
    assert html.count('data-testid="same-reason"') == 2


def test_suggestions_follow_evidence_recency_and_mark_what_holds_the_source(client, cast, world):
    with time_machine.travel(NOW.replace(day=1), tick=False):
        seen_lately = open_issue(cast, title="Opened long ago", reasons=[world.billing])
    with time_machine.travel(NOW.replace(day=8), tick=False):
        quiet = open_issue(cast, title="Opened later, never seen since", reasons=[world.billing])
    promote_to_issue(source=world.item_a, issue=seen_lately, by=cast.manager)  # seen 16 Nov
    client.force_login(cast.executive)
    response = client.get(url("feedback", world.item_a))
    suggestions = [suggestion for suggestion, _ in response.context["suggestions"]]
    assert [s.issue for s in suggestions] == [seen_lately, quiet]
    assert [s.has_source for s in suggestions] == [True, False]
    html = response.content.decode()
    assert html.count('data-testid="has-source"') == 1
    assert f'value="{quiet.pk}" data-testid="add-to"' in html
    assert f'value="{seen_lately.pk}" data-testid="add-to"' not in html
    assert 'data-testid="held"' in html and f"#{seen_lately.pk} Opened long ago" in html


def test_suggestions_stop_at_ten(client, cast, world):
    for number in range(11):
        open_issue(cast, title=f"Issue {number}", reasons=[world.billing])
    client.force_login(cast.executive)
    assert len(client.get(url("feedback", world.item_a)).context["suggestions"]) == 10


def test_a_rep_is_suggested_only_the_issues_they_may_see(client, cast, world):
    mine = open_issue(cast, title="Mine", by=cast.rep)
    open_issue(cast, title="The manager's", reasons=[world.billing])
    client.force_login(cast.rep)
    response = client.get(url("feedback", world.item_a))
    assert [s.issue for s, _ in response.context["suggestions"]] == [mine]
    assert "The manager&#x27;s" not in response.content.decode()


def test_issues_the_viewer_cannot_see_are_counted_not_named(client, cast, world):
    hidden = open_issue(cast, title="Secret title", reasons=[world.billing])
    promote_to_issue(source=world.topic, issue=hidden, by=cast.executive)
    client.force_login(cast.rep)
    html = client.get(url("forum_topic", world.topic)).content.decode()
    assert "1 issue you cannot see" in html and "Secret title" not in html


# --- the one POST --------------------------------------------------------------------------------


def test_an_executive_promotes_a_note_to_a_new_issue_and_lands_on_it(client, cast, world):
    client.force_login(cast.executive)
    response = client.post(
        url("session_note", world.note),
        {"action": "new", "title": "Checkout error hidden from reps", "description": "Seen live",
         "reasons": [world.billing.pk], "severity": "high"},
    )  # fmt: skip
    issue = Issue.objects.get()
    assert response.status_code == 302 and response["Location"] == landing(issue.pk)
    assert (issue.title, issue.severity, issue.department, issue.evidence_count) == (
        "Checkout error hidden from reps",
        "high",
        cast.dept_a,
        1,
    )
    assert list(issue.reasons.all()) == [world.billing]
    assert IssueEvidence.objects.get().session_note == world.note
    page = client.get(response["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Checkout error hidden from reps" in html
    assert f"Issue #{issue.pk} opened, with the side-by-side note as its evidence." in html


def test_the_result_page_is_scoped_to_the_issues_one_may_see(client, cast, world):
    issue = open_issue(cast, title="Billing", reasons=[world.billing])
    client.force_login(cast.rep)  # neither opened nor flagged it
    assert client.get(reverse("loops:promote-result", args=[issue.pk])).status_code == 404
    client.force_login(cast.other_manager)
    assert client.get(reverse("loops:promote-result", args=[issue.pk])).status_code == 404
    client.force_login(cast.manager)
    assert client.get(reverse("loops:promote-result", args=[issue.pk])).status_code == 200
    client.force_login(cast.admin)  # reads issues, does not promote
    assert client.get(reverse("loops:promote-result", args=[issue.pk])).status_code == 403


@pytest.mark.parametrize("who", ["rep", "manager", "executive"])
def test_every_promoting_role_adds_an_item_to_an_issue_it_sees_once(client, cast, world, who):
    user = getattr(cast, who)
    issue = open_issue(cast, title="Double charges", reasons=[world.billing], by=user)
    client.force_login(user)
    for _ in range(2):
        response = client.post(
            url("feedback", world.item_a), {"action": "existing", "issue": issue.pk}
        )
        assert response.status_code == 302 and response["Location"] == landing(issue.pk)
    issue.refresh_from_db()
    assert issue.evidence_count == 1
    assert IssueEvidence.objects.filter(issue=issue, feedback_item=world.item_a).count() == 1
    html = client.get(response["Location"]).content.decode()
    assert f"was evidence on issue #{issue.pk} already: it counts once." in html


def test_an_issue_out_of_scope_is_refused_like_a_missing_one(client, cast, world):
    theirs = open_issue(cast, title="Outage", by=cast.other_manager)
    client.force_login(cast.rep)
    for issue_id in (theirs.pk, 10**9):
        response = client.post(
            url("feedback", world.item_a), {"action": "existing", "issue": issue_id}
        )
        assert response.status_code == 400
        assert (
            f"There is no issue #{issue_id} among those you can see." in response.content.decode()
        )
    assert not IssueEvidence.objects.exists()


def test_a_second_new_issue_from_a_source_is_refused_on_the_page(client, cast, world):
    client.force_login(cast.executive)
    data = {"action": "new", "title": "Claims time out", "severity": "medium"}
    client.post(url("exercise", world.exercise), data)
    response = client.post(url("exercise", world.exercise), data)
    issue = Issue.objects.get()
    assert response.status_code == 409
    assert f"evidence on open issue #{issue.pk} already" in response.content.decode()
    assert issue.evidence_count == 1


def test_a_closed_issue_takes_no_evidence_on_the_page(client, cast, world):
    issue = open_issue(cast, reasons=[world.billing])
    issue_transition(issue=issue, to="wont_fix", by=cast.manager, why="Not ours")
    client.force_login(cast.manager)
    response = client.post(url("feedback", world.item_a), {"action": "existing", "issue": issue.pk})
    assert response.status_code == 409
    assert "won&#x27;t fix: open a new issue" in response.content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"action": "new", "title": "", "severity": "medium"}, "title"),
        ({"action": "new", "title": "x" * 201, "severity": "medium"}, "title"),
        ({"action": "new", "title": "Fine", "severity": "urgent"}, "severity"),
        ({"action": "new", "title": "Fine", "severity": "low", "reasons": ["999999"]}, "reasons"),
        ({"action": "existing", "issue": "0"}, "issue"),
        ({"action": "existing", "issue": "abc"}, "issue"),
    ],
)
def test_invalid_forms_are_400_with_the_field_named(client, cast, world, data, field):
    client.force_login(cast.executive)
    response = client.post(url("forum_topic", world.topic), data)
    assert response.status_code == 400
    form = response.context["new_form" if data["action"] == "new" else "existing_form"]
    assert field in form.errors
    assert not Issue.objects.exists()


def test_a_title_of_exactly_two_hundred_characters_is_taken(client, cast, world):
    client.force_login(cast.executive)
    response = client.post(
        url("forum_topic", world.topic), {"action": "new", "title": "x" * 200, "severity": "low"}
    )
    assert response.status_code == 302
    assert Issue.objects.get().title == "x" * 200


def test_a_post_without_an_action_is_refused(client, cast, world):
    client.force_login(cast.executive)
    response = client.post(url("forum_topic", world.topic), {"title": "No action"})
    assert response.status_code == 400
    assert "Choose what to do with it." in response.content.decode()
    assert not Issue.objects.exists()


# --- "Promote to issue" on feedback's pages ------------------------------------------------------


def _action(html: str, href: str) -> bool:
    return f'href="{href}" data-action="loops.promote">Promote to issue</a>' in html


def test_the_item_and_complaint_pages_offer_it_to_promoting_roles(client, cast, world):
    href = url("feedback", world.item_a)
    for who in ("rep", "manager", "executive"):
        client.force_login(getattr(cast, who))
        for page in ("feedback:item-detail", "feedback:complaint-detail"):
            html = client.get(reverse(page, args=[world.item_a.pk])).content.decode()
            assert _action(html, href), (who, page)
    client.force_login(cast.admin)
    html = client.get(reverse("feedback:item-detail", args=[world.item_a.pk])).content.decode()
    assert "Promote to issue" not in html


def test_each_note_of_a_session_offers_it_to_its_participants_and_executives(client, cast, world):
    page = reverse("feedback:session-detail", args=[world.session.pk])
    for who in ("rep", "executive"):
        client.force_login(getattr(cast, who))
        assert _action(client.get(page).content.decode(), url("session_note", world.note)), who
    client.force_login(cast.admin)  # reads sessions, does not promote
    assert "Promote to issue" not in client.get(page).content.decode()


def test_outreach_entries_offer_it(client, cast, world):
    client.force_login(cast.executive)
    html = client.get(reverse("feedback:outreach-call", args=[world.call.pk])).content.decode()
    assert _action(html, url("outreach_call", world.call))
    html = client.get(
        reverse("feedback:outreach-program", args=["exercise"]) + "?month=2026-11"
    ).content.decode()
    assert _action(html, url("exercise", world.exercise))
    html = client.get(
        reverse("feedback:forum-detail", args=[world.topic.forum_id])
    ).content.decode()
    assert _action(html, url("forum_topic", world.topic))
    client.force_login(cast.rep)  # reps see forums and promote their topics too
    html = client.get(
        reverse("feedback:forum-detail", args=[world.topic.forum_id])
    ).content.decode()
    assert _action(html, url("forum_topic", world.topic))


def test_the_page_costs_the_same_queries_for_two_or_ten_suggestions(client, cast, world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(cast.executive)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url("feedback", world.item_a)).status_code == 200
        return len(captured.captured_queries)

    for number in range(2):
        open_issue(cast, title=f"Issue {number}", reasons=[world.billing])
    two = queries()
    for number in range(8):
        open_issue(cast, title=f"More {number}", reasons=[world.billing, world.outage])
    # Suggestions with their reasons come in two queries, however many: no query per issue.
    assert queries() == two
