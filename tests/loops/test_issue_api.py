"""The issues API: scope and filters of the list, open, edit, assign, change status (an
illegal move is a 409 with the rules' message), merge, and evidence list, add and remove."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from loops.models import Issue, IssueEvidence
from loops.services.issues import evidence_add
from tests.loops.world import T0, contact_of, open_issue, reason

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def issues(cast):
    billing = reason("Double charge", department=cast.dept_a)
    a = open_issue(cast, title="Charged twice", reasons=[billing], severity="high")
    b = open_issue(cast, title="Outage", department=cast.dept_b, by=cast.other_manager)
    return a, b, billing


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["results"]]


def test_the_list_is_scoped_and_filtered(api, cast, issues):
    a, b, billing = issues
    api.force_authenticate(cast.manager)
    assert ids(api.get(reverse("api-issue-list"))) == [a.pk]
    api.force_authenticate(cast.executive)
    assert ids(api.get(reverse("api-issue-list"))) == [a.pk, b.pk]
    assert ids(api.get(reverse("api-issue-list"), {"severity": "high"})) == [a.pk]
    assert ids(api.get(reverse("api-issue-list"), {"reason": billing.pk})) == [a.pk]
    assert ids(api.get(reverse("api-issue-list"), {"q": "outage"})) == [b.pk]
    row = api.get(reverse("api-issue-list")).json()["results"][0]
    assert row["reason_ids"] == [billing.pk] and row["status"] == "new"
    for bad in ({"severity": "huge"}, {"owner": "x"}, {"status": "nope"}, {"q": "x" * 101}):
        assert api.get(reverse("api-issue-list"), bad).status_code == 400, bad
    api.force_authenticate(cast.rep)
    assert ids(api.get(reverse("api-issue-list"))) == []


def test_the_list_s_queries_do_not_grow(api, cast, django_assert_max_num_queries):
    for n in range(15):
        open_issue(cast, title=f"Issue {n}", reasons=[reason(f"R{n}", department=cast.dept_a)])
    api.force_authenticate(cast.executive)
    with django_assert_max_num_queries(4):  # count, rows, their reasons
        assert len(ids(api.get(reverse("api-issue-list"), {"limit": 50}))) == 15


def test_open_an_issue(api, cast, issues):
    _, _, billing = issues
    api.force_authenticate(cast.manager)
    response = api.post(
        reverse("api-issue-create"),
        {"title": "Late refunds", "reason_ids": [billing.pk], "severity": "low",
         "owner_id": cast.manager.pk, "ticket_url": "https://tracker.example/T-9"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201
    body = response.json()
    assert (body["title"], body["department"], body["owner"], body["reason_ids"]) == (
        "Late refunds", cast.dept_a.pk, cast.manager.pk, [billing.pk],
    )  # fmt: skip
    refused = api.post(
        reverse("api-issue-create"), {"title": "X", "owner_id": cast.rep.pk}, format="json"
    )
    assert refused.status_code == 409
    assert refused.json() == {"owner": ["The owner must be an active manager."]}
    missing = api.post(reverse("api-issue-create"), {"title": "X", "reason_ids": [10**9]},
                       format="json")  # fmt: skip
    assert missing.status_code == 409
    assert api.post(reverse("api-issue-create"), {"title": ""}, format="json").status_code == 400


def test_assign_transition_and_an_illegal_move(api, cast, issues):
    a, _, _ = issues
    api.force_authenticate(cast.manager)
    url = reverse("api-issue-assign", args=[a.pk])
    assert api.post(url, {"owner_id": cast.manager.pk}, format="json").json()["status"] == (
        "assigned"
    )
    illegal = api.post(reverse("api-issue-transition", args=[a.pk]), {"to": "closed"},
                       format="json")  # fmt: skip
    assert illegal.status_code == 409
    assert illegal.json() == {
        "detail": [
            "An issue that is assigned cannot become closed; it can become: in progress, won't fix."
        ]
    }
    moved = api.post(reverse("api-issue-transition", args=[a.pk]), {"to": "in_progress"},
                     format="json")  # fmt: skip
    assert moved.status_code == 200 and moved.json()["status"] == "in_progress"


def test_out_of_scope_is_404_and_running_someone_else_s_issue_403(api, cast, issues):
    a, b, _ = issues
    api.force_authenticate(cast.manager)
    for name in ("api-issue-detail", "api-issue-evidence-list"):
        assert api.get(reverse(name, args=[b.pk])).status_code == 404
    assert api.post(reverse("api-issue-edit", args=[b.pk]), {}, format="json").status_code == 404
    api.force_authenticate(cast.admin)
    assert api.get(reverse("api-issue-detail", args=[b.pk])).status_code == 200
    edit = api.post(reverse("api-issue-edit", args=[a.pk]), {"title": "X"}, format="json")
    assert edit.status_code == 403


def test_edit_changes_only_the_fields_given(api, cast, issues):
    a, _, billing = issues
    api.force_authenticate(cast.executive)
    response = api.post(
        reverse("api-issue-edit", args=[a.pk]),
        {"severity": "code_red", "sponsor_id": cast.executive.pk},
        format="json",
    )
    assert response.status_code == 200
    a.refresh_from_db()
    assert (a.title, a.severity, a.sponsor_id) == ("Charged twice", "code_red", cast.executive.pk)
    assert list(a.reasons.values_list("id", flat=True)) == [billing.pk]


def test_merge_through_the_api(api, cast, issues):
    a, _, _ = issues
    duplicate = open_issue(cast, title="Double", department=cast.dept_a)
    evidence_add(issue=duplicate, source=contact_of(cast.team_a, at=T0), by=cast.manager)
    api.force_authenticate(cast.manager)
    response = api.post(reverse("api-issue-merge", args=[duplicate.pk]),
                        {"survivor_id": a.pk}, format="json")  # fmt: skip
    assert response.status_code == 200 and response.json()["id"] == a.pk
    assert response.json()["evidence_count"] == 1
    again = api.post(reverse("api-issue-merge", args=[duplicate.pk]),
                     {"survivor_id": a.pk}, format="json")  # fmt: skip
    assert again.status_code == 409
    assert Issue.objects.get(pk=duplicate.pk).merged_into_id == a.pk


def test_evidence_list_add_and_remove(api, cast, issues):
    a, _, _ = issues
    api.force_authenticate(cast.manager)
    contact = contact_of(cast.team_a, at=T0)
    add = reverse("api-issue-evidence-add", args=[a.pk])
    first = api.post(add, {"contact_id": contact.pk}, format="json")
    assert first.status_code == 201 and first.json()["contact"] == contact.pk
    assert api.post(add, {"contact_id": contact.pk}, format="json").status_code == 200
    assert api.post(add, {}, format="json").status_code == 400
    team_b = contact_of(cast.team_b, at=T0)
    assert api.post(add, {"contact_id": team_b.pk}, format="json").status_code == 404
    listed = api.get(reverse("api-issue-evidence-list", args=[a.pk])).json()["results"]
    assert [row["contact"] for row in listed] == [contact.pk]
    remove = reverse("api-issue-evidence-remove", args=[a.pk, listed[0]["id"]])
    assert api.post(remove, {"why": "Mistake"}, format="json").status_code == 204
    assert not IssueEvidence.objects.filter(issue=a).exists()
    assert Issue.objects.get(pk=a.pk).evidence_count == 0
