"""The issue page's actions, for who may run the issue (its owner, its department head, an
executive): assign and reassign, change status with only the legal targets offered (an
illegal POST gets the rules' message and a 400), won't fix with the reporters' reason, edit,
remove evidence; the timeline from the audit trail; the cost and lost-customer sections."""

import pytest
from django.urls import reverse

from loops.models import Issue, IssueEvidence
from loops.services.issues import evidence_add, issue_assign, issue_open
from tests.factories import UserFactory
from tests.loops.world import T0, contact_of, open_issue, reason
from voc.core.models import AuditEntry
from voc.people.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue(cast):
    billing = reason("Double charge", department=cast.dept_a)
    return open_issue(cast, title="Charged twice", reasons=[billing], department=cast.dept_a)


def detail(issue):
    return reverse("loops:issue-detail", args=[issue.pk])


def act(client, name, issue, **data):
    return client.post(reverse(f"loops:{name}", args=[issue.pk]), data)


@pytest.mark.parametrize("username", ["manager", "executive"])
def test_the_head_and_executives_get_the_actions(client, cast, issue, username):
    client.force_login(getattr(cast, username))
    response = client.get(detail(issue))
    assert response.context["may_manage"] is True
    assert 'data-testid="assign-form"' in response.content.decode()


def test_admins_and_managers_who_only_opened_it_read_without_actions(client, cast, issue):
    lone = UserFactory(username="lone", role=Role.MANAGER, department=cast.dept_b)
    theirs = issue_open(title="Lone's", department=cast.dept_a, by=lone)
    client.force_login(lone)
    response = client.get(detail(theirs))
    assert response.status_code == 200 and response.context["may_manage"] is False
    assert act(client, "issue-transition", theirs, to="triaged").status_code == 403
    client.force_login(cast.admin)
    assert client.get(detail(issue)).context["may_manage"] is False
    assert act(client, "issue-transition", issue, to="triaged").status_code == 403


def test_the_owner_who_does_not_head_the_department_runs_it(client, cast, issue):
    owner = UserFactory(username="owner", role=Role.MANAGER, department=cast.dept_b)
    issue_assign(issue=issue, owner=owner, by=cast.manager)
    client.force_login(owner)
    response = act(client, "issue-transition", issue, to="in_progress")
    assert response.status_code == 302
    assert Issue.objects.get(pk=issue.pk).status == "in_progress"


def test_out_of_scope_managers_get_404_on_every_action(client, cast, issue):
    client.force_login(cast.other_manager)
    for name in ("issue-assign", "issue-transition", "issue-edit", "issue-merge"):
        assert act(client, name, issue).status_code == 404, name


def test_assign_then_reassign_only_to_a_manager(client, cast, issue):
    client.force_login(cast.manager)
    response = act(client, "issue-assign", issue, owner=cast.manager.pk, why="Mine")
    assert response.status_code == 302
    issue.refresh_from_db()
    assert (issue.owner_id, issue.status) == (cast.manager.pk, "assigned")
    refused = act(client, "issue-assign", issue, owner=cast.rep.pk)
    assert refused.status_code == 400  # a rep is not offered, nor taken
    assert Issue.objects.get(pk=issue.pk).owner_id == cast.manager.pk
    assert act(client, "issue-assign", issue, owner=cast.other_manager.pk).status_code == 302
    assert Issue.objects.get(pk=issue.pk).owner_id == cast.other_manager.pk


def targets(client, issue) -> list[str]:
    return [value for value, _ in client.get(detail(issue)).context["targets"]]


def test_only_the_legal_targets_are_offered_to_each(client, cast, issue):
    client.force_login(cast.manager)
    # Without an owner "assigned" is the assign form's job; the head may decide won't fix.
    assert targets(client, issue) == ["triaged", "wont_fix"]
    page = client.get(detail(issue)).content.decode()
    assert '<option value="fixed">' not in page
    client.force_login(cast.executive)
    assert targets(client, issue) == ["triaged"]  # won't fix is the owner's or the head's
    issue_assign(issue=issue, owner=cast.manager, by=cast.manager)
    assert targets(client, issue) == ["in_progress"]
    client.force_login(cast.manager)
    assert targets(client, issue) == ["in_progress", "wont_fix"]


def test_an_illegal_move_is_refused_with_the_rules_message(client, cast, issue):
    client.force_login(cast.manager)
    response = act(client, "issue-transition", issue, to="fixed")
    assert response.status_code == 400
    page = response.content.decode()
    assert (
        "An issue that is new cannot become fixed; it can become: triaged, assigned, "
        "won&#x27;t fix." in page
    )
    assert Issue.objects.get(pk=issue.pk).status == "new"
    assert act(client, "issue-transition", issue, to="nonsense").status_code == 400


def test_won_t_fix_needs_a_reason_the_reporters_see(client, cast, issue):
    client.force_login(cast.manager)
    refused = act(client, "issue-transition", issue, to="wont_fix", why="  ")
    assert refused.status_code == 400
    assert "Say why it will not be fixed" in refused.content.decode()
    done = act(client, "issue-transition", issue, to="wont_fix", why="<script>x</script> policy")
    assert done.status_code == 302
    page = client.get(detail(issue)).content.decode()
    assert "&lt;script&gt;x&lt;/script&gt; policy" in page and "<script>x</script>" not in page


def test_the_executive_may_not_declare_won_t_fix_but_may_move_it(client, cast, issue):
    client.force_login(cast.executive)
    response = act(client, "issue-transition", issue, to="wont_fix", why="No")
    assert response.status_code == 400
    assert "Only the owner or the department head" in response.content.decode()
    assert act(client, "issue-transition", issue, to="triaged").status_code == 302


def test_edit_title_description_severity_sponsor_and_ticket(client, cast, issue):
    client.force_login(cast.manager)
    response = act(
        client, "issue-edit", issue, title="Charged twice on renewal", description="Details",
        severity="high", sponsor=cast.executive.pk, ticket_url="https://tracker.example/T-1",
    )  # fmt: skip
    assert response.status_code == 302
    issue.refresh_from_db()
    assert (issue.title, issue.severity, issue.sponsor_id, issue.ticket_url) == (
        "Charged twice on renewal", "high", cast.executive.pk, "https://tracker.example/T-1",
    )  # fmt: skip
    refused = act(client, "issue-edit", issue, title="", severity="high")
    assert refused.status_code == 400
    not_exec = act(client, "issue-edit", issue, title="X", severity="low", sponsor=cast.rep.pk)
    assert not_exec.status_code == 400
    assert Issue.objects.get(pk=issue.pk).sponsor_id == cast.executive.pk


def test_remove_evidence_recounts_and_is_audited(client, cast, issue):
    kept = contact_of(cast.team_a, at=T0)
    gone = contact_of(cast.team_a, at=T0.replace(day=20))
    evidence_add(issue=issue, source=kept, by=cast.manager)
    evidence, _ = evidence_add(issue=issue, source=gone, by=cast.manager)
    client.force_login(cast.manager)
    url = reverse("loops:issue-evidence-remove", args=[issue.pk, evidence.pk])
    assert client.post(url, {"why": "Wrong one"}).status_code == 302
    issue.refresh_from_db()
    assert (issue.evidence_count, issue.last_seen_at) == (1, T0)
    assert not IssueEvidence.objects.filter(pk=evidence.pk).exists()
    assert client.post(url).status_code == 404  # gone already
    assert AuditEntry.objects.filter(action="issue.evidence_remove", why="Wrong one").exists()


def test_the_timeline_says_who_did_what_when_and_why(client, cast, issue):
    client.force_login(cast.manager)
    act(client, "issue-assign", issue, owner=cast.manager.pk, why="<i>my</i> team")
    timeline = client.get(detail(issue)).context["timeline"]
    assert [entry.action for entry in timeline] == ["issue.assign", "issue.open"]
    assert timeline[0].actor == cast.manager and timeline[0].why == "<i>my</i> team"
    page = client.get(detail(issue)).content.decode()
    assert "assigned the issue" in page and "&lt;i&gt;my&lt;/i&gt; team" in page
    # The owner is named, not numbered.
    assert f"owner — → {cast.manager.get_full_name()}" in page


def test_the_page_shows_deadline_cost_customer_time_and_lost_customers(client, cast, issue):
    client.force_login(cast.manager)
    page = client.get(detail(issue)).content.decode()
    assert 'data-testid="issue-deadline">Response due' in page
    assert 'data-testid="cost-per-week">0.00' in page
    assert "Customers&#x27; own time" in page or "Customers' own time" in page
    assert 'data-testid="lost-customers">0 customers' in page


def test_a_merged_duplicate_shown_has_no_actions(client, cast, issue):
    survivor = open_issue(cast, title="Survivor", department=cast.dept_a)
    Issue.objects.filter(pk=issue.pk).update(merged_into=survivor)
    client.force_login(cast.manager)
    response = client.get(detail(issue) + "?merged=show")
    assert response.context["may_manage"] is False
