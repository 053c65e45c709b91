"""The promote API: POST promote/<kind>/<id>/new-issue/ and .../evidence/, every role's
scope, the codes and messages of its refusals."""

import pytest
import time_machine
from rest_framework.test import APIClient

from loops.models import Issue, IssueEvidence
from loops.services.issues import issue_transition
from tests.loops.promote_world import NOW, make_world
from tests.loops.world import open_issue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(cast):
    return make_world(cast)


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def new_issue(client, kind, source, **body):
    return client.post(
        f"/api/v1/promote/{kind}/{source.pk}/new-issue/",
        {"title": "Promoted", **body},
        format="json",
    )


def evidence(client, kind, source, issue_id):
    return client.post(
        f"/api/v1/promote/{kind}/{source.pk}/evidence/", {"issue_id": issue_id}, format="json"
    )


@pytest.mark.parametrize(
    "kind", ["feedback", "session_note", "outreach_call", "exercise", "forum_topic"]
)
def test_an_executive_promotes_each_kind_to_a_new_issue_then_to_it_again(cast, world, kind):
    source = world.sources()[kind]
    client = api(cast.executive)
    response = new_issue(client, kind, source, reason_ids=[world.billing.pk, world.billing.pk],
                         severity="code_red", description="Seen")  # fmt: skip
    assert response.status_code == 201, response.json()
    issue = Issue.objects.get()
    body = response.json()
    assert body == {
        "issue": {"id": issue.pk, "title": "Promoted", "status": "new", "severity": "code_red",
                  "evidence_count": 1, "reason_ids": [world.billing.pk]},
        "evidence_id": IssueEvidence.objects.get().pk,
        "opened": True,
        "added": True,
    }  # fmt: skip
    again = evidence(client, kind, source, issue.pk)
    assert again.status_code == 200
    assert (again.json()["added"], again.json()["issue"]["evidence_count"]) == (False, 1)
    assert new_issue(client, kind, source).status_code == 409
    assert Issue.objects.count() == 1


def test_evidence_on_an_existing_issue_is_201_then_200(cast, world):
    issue = open_issue(cast, reasons=[world.billing])
    client = api(cast.manager)
    first = evidence(client, "feedback", world.item_a, issue.pk)
    assert first.status_code == 201 and first.json()["added"] is True
    assert first.json()["opened"] is False
    second = evidence(client, "feedback", world.item_a, issue.pk)
    assert second.status_code == 200 and second.json()["issue"]["evidence_count"] == 1


# who -> (new-issue status, evidence status) for a source the role cannot read
REFUSED = {
    "anonymous": 401,
    "admin": 403,  # reads everything, promotes nothing
}


@pytest.mark.parametrize("who", ["anonymous", "admin"])
def test_callers_without_the_capability_are_refused(cast, world, who):
    client = api(None if who == "anonymous" else cast.admin)
    issue = open_issue(cast)
    assert new_issue(client, "feedback", world.item_a).status_code == REFUSED[who]
    assert evidence(client, "feedback", world.item_a, issue.pk).status_code == REFUSED[who]
    assert Issue.objects.count() == 1 and not IssueEvidence.objects.exists()


def test_a_manager_cannot_promote_a_session_note(cast, world):
    issue = open_issue(cast, reasons=[world.billing])
    client = api(cast.manager)
    assert new_issue(client, "session_note", world.note).status_code == 404
    assert evidence(client, "session_note", world.note, issue.pk).status_code == 404
    assert not IssueEvidence.objects.exists()


def test_a_rep_promotes_only_what_they_read_to_issues_they_see(cast, world):
    client = api(cast.rep)
    mine = open_issue(cast, title="Mine", by=cast.rep)
    managers = open_issue(cast, title="The manager's", reasons=[world.billing])
    assert new_issue(client, "feedback", world.item_b).status_code == 404  # team B's
    assert evidence(client, "feedback", world.item_b, mine.pk).status_code == 404
    assert new_issue(client, "session_note", world.note_other).status_code == 404  # not theirs
    assert evidence(client, "outreach_call", world.call, mine.pk).status_code == 404
    assert evidence(client, "feedback", world.item_a, managers.pk).status_code == 404
    assert not IssueEvidence.objects.exists()
    assert evidence(client, "session_note", world.note, mine.pk).status_code == 201
    response = new_issue(client, "forum_topic", world.topic)
    assert response.status_code == 201
    # The rep opened it: it is in their scope.
    assert Issue.objects.get(pk=response.json()["issue"]["id"]).created_by == cast.rep


def test_unknown_kinds_and_ids_are_404(cast, world):
    client = api(cast.executive)
    assert client.post(f"/api/v1/promote/contact/{world.contact_a.pk}/new-issue/",
                       {"title": "X"}, format="json").status_code == 404  # fmt: skip
    assert client.post("/api/v1/promote/feedback/999999999/evidence/",
                       {"issue_id": 1}, format="json").status_code == 404  # fmt: skip
    assert evidence(client, "feedback", world.item_a, 10**12).status_code == 404


def test_an_unknown_reason_is_a_conflict_and_opens_nothing(cast, world):
    response = new_issue(
        api(cast.executive), "feedback", world.item_a, reason_ids=[world.billing.pk, 987654]
    )
    assert response.status_code == 409
    assert response.json() == {"reason_ids": ["No reason 987654."]}
    assert not Issue.objects.exists()


def test_closed_and_merged_targets_are_conflicts_with_a_message(cast, world):
    client = api(cast.manager)
    issue = open_issue(cast, reasons=[world.billing])
    issue_transition(issue=issue, to="wont_fix", by=cast.manager, why="Not ours")
    response = evidence(client, "feedback", world.item_a, issue.pk)
    assert response.status_code == 409
    assert "won't fix" in response.json()["issue"][0]
    survivor = open_issue(cast, reasons=[world.billing])
    merged = open_issue(cast, reasons=[world.billing])
    Issue.objects.filter(pk=merged.pk).update(merged_into=survivor)
    response = evidence(client, "feedback", world.item_a, merged.pk)
    assert response.status_code == 409
    assert f"merged into #{survivor.pk}" in response.json()["issue"][0]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": ""}, "title"),
        ({"title": "   "}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"title": 5}, "title"),
        ({"title": "ok\x00"}, "title"),
        ({"title": "ok", "severity": "urgent"}, "severity"),
        ({"title": "ok", "reason_ids": ["1"]}, "reason_ids[0]"),
        ({"title": "ok", "reason_ids": list(range(1, 22))}, "reason_ids"),
        ({"title": "ok", "description": "d" * 10_001}, "description"),
    ],
)
def test_invalid_new_issue_bodies_are_400_by_field(cast, world, body, field):
    response = api(cast.executive).post(
        f"/api/v1/promote/exercise/{world.exercise.pk}/new-issue/", body, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert not Issue.objects.exists()


def test_limits_exactly_at_the_edge_are_taken(cast, world):
    from tests.loops.world import reason

    reasons = [reason(f"R{n}").pk for n in range(20)]
    response = new_issue(api(cast.executive), "exercise", world.exercise, title="x" * 200,
                         description="d" * 10_000, reason_ids=reasons)  # fmt: skip
    assert response.status_code == 201
    assert len(response.json()["issue"]["reason_ids"]) == 20


@pytest.mark.parametrize("body", [{}, {"issue_id": 0}, {"issue_id": "3"}, {"issue_id": True}])
def test_invalid_evidence_bodies_are_400(cast, world, body):
    response = api(cast.executive).post(
        f"/api/v1/promote/exercise/{world.exercise.pk}/evidence/", body, format="json"
    )
    assert response.status_code == 400 and "issue_id" in response.json()
