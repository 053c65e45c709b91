"""The issue page: who may open it, what it shows (escaped), its evidence and its panels."""

import pytest
from django.urls import reverse

from loops.models import Issue
from loops.services.issues import evidence_add
from tests.loops.world import T0, contact_of, open_issue, reason

pytestmark = pytest.mark.django_db


@pytest.fixture
def issue(cast):
    billing = reason("Double charge", department=cast.dept_a)
    issue = open_issue(
        cast,
        title="<b>Charged</b> twice",
        description="<script>alert(1)</script> on renewal",
        reasons=[billing],
    )
    for subject in ("First <i>one</i>", "Second"):
        evidence_add(
            issue=issue,
            source=contact_of(cast.team_a, reason=billing, subject=subject, at=T0),
            by=cast.manager,
        )
    return issue


def url(issue: Issue) -> str:
    return reverse("loops:issue-detail", args=[issue.pk])


@pytest.mark.parametrize("username", ["manager", "executive", "admin"])
def test_the_department_head_executives_and_admins_read_it_escaped(client, cast, issue, username):
    client.force_login(getattr(cast, username))
    response = client.get(url(issue))
    assert response.status_code == 200
    page = response.content.decode()
    assert "&lt;b&gt;Charged&lt;/b&gt; twice" in page and "<b>Charged</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; on renewal" in page
    assert "<script>alert(1)</script>" not in page
    assert "First &lt;i&gt;one&lt;/i&gt;" in page and "Second" in page
    assert "2 pieces of evidence" in page
    assert [e.pk for e in response.context["evidence"]] == list(
        issue.evidence.order_by("-occurred_at", "-id").values_list("pk", flat=True)
    )


@pytest.mark.parametrize("username", ["other_manager", "rep", "outsider"])
def test_others_get_a_404_not_the_issue(client, cast, issue, username):
    # other_manager heads another department; a rep sees only what they flagged or opened.
    client.force_login(getattr(cast, username))
    response = client.get(url(issue))
    assert response.status_code == 404
    assert "Charged" not in response.content.decode()


def test_anonymous_visitors_are_sent_to_log_in(client, issue):
    response = client.get(url(issue))
    assert response.status_code == 302 and "login" in response["Location"]


def test_a_merged_duplicate_sends_you_to_its_survivor(client, cast, issue):
    survivor = open_issue(cast, title="Double charges")
    Issue.objects.filter(pk=issue.pk).update(merged_into=survivor)
    client.force_login(cast.manager)
    response = client.get(url(issue))
    assert response.status_code == 302 and response["Location"] == url(survivor)
    shown = client.get(url(issue) + "?merged=show").content.decode()
    assert f'Merged into <a href="{url(survivor)}">#{survivor.pk} Double charges</a>' in shown


def test_the_evidence_list_costs_the_same_queries_for_many_rows(client, cast, issue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(cast.manager)
    client.get(url(issue))  # warm the session and caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url(issue)).status_code == 200
        return len(captured.captured_queries)

    with_two = queries()
    for n in range(20):
        evidence_add(
            issue=issue,
            source=contact_of(cast.team_a, subject=f"more {n}", at=T0),
            by=cast.manager,
        )
    assert queries() == with_two  # 22 rows of evidence cost what 2 did
