"""Merging a duplicate into its survivor, and a deactivated owner's issues handed to their
department head."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from loops.models import Flag, Issue, IssueEvidence
from loops.selectors import BoardFilters, issue_board_queryset
from loops.services.issues import evidence_add, issue_merge
from tests.factories import UserFactory
from tests.loops.world import T0, assigned_issue, contact_of, open_issue
from voc.core.models import AuditEntry
from voc.people.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(cast):
    survivor = open_issue(cast, title="Double charge on renewal", department=cast.dept_a)
    duplicate = open_issue(cast, title="Charged twice", department=cast.dept_a)
    shared = contact_of(cast.team_a, at=T0 - timedelta(days=3))
    evidence_add(issue=survivor, source=shared, by=cast.manager)
    evidence_add(issue=survivor, source=contact_of(cast.team_a, at=T0), by=cast.manager)
    evidence_add(issue=duplicate, source=shared, by=cast.manager)  # on both: not doubled
    only_dup = contact_of(cast.team_a, at=T0 - timedelta(days=9))
    evidence_add(issue=duplicate, source=only_dup, by=cast.manager)
    Flag.objects.create(issue=survivor, contact=shared, flagged_by=cast.rep)
    Flag.objects.create(issue=duplicate, contact=shared, flagged_by=cast.rep)  # the same flag
    Flag.objects.create(issue=duplicate, contact=shared, flagged_by=cast.teammate)
    Flag.objects.create(issue=duplicate, contact=only_dup, flagged_by=cast.rep)
    return survivor, duplicate, shared, only_dup


def test_evidence_flags_and_reporters_move_once_and_counts_are_recomputed(cast, pair):
    survivor, duplicate, shared, only_dup = pair
    result = issue_merge(duplicate=duplicate, survivor=survivor, by=cast.manager, why="Same")
    assert result.pk == survivor.pk
    assert result.evidence_count == 3
    assert sorted(
        IssueEvidence.objects.filter(issue=survivor).values_list("contact_id", flat=True)
    ) == sorted([shared.pk, only_dup.pk, *IssueEvidence.objects.filter(
        issue=survivor).exclude(contact__in=[shared, only_dup]).values_list("contact_id", flat=True)])  # fmt: skip
    assert result.first_seen_at == T0 - timedelta(days=9) and result.last_seen_at == T0
    assert Flag.objects.filter(issue=survivor).count() == 3  # the rep's shared flag once
    assert not IssueEvidence.objects.filter(issue=duplicate).exists()
    assert not Flag.objects.filter(issue=duplicate).exists()
    duplicate.refresh_from_db()
    assert duplicate.merged_into_id == survivor.pk
    assert (duplicate.evidence_count, duplicate.first_seen_at) == (0, None)
    assert not duplicate.is_open


def test_a_merge_is_audited_on_both_issues(cast, pair):
    survivor, duplicate, *_ = pair
    issue_merge(duplicate=duplicate, survivor=survivor, by=cast.manager, why="Same bug")
    on_dup = AuditEntry.objects.get(action="issue.merge", target_id=duplicate.pk)
    assert on_dup.changes == {"merged_into": [None, survivor.pk]} and on_dup.why == "Same bug"
    assert on_dup.actor == cast.manager
    on_survivor = AuditEntry.objects.get(action="issue.merged_in", target_id=survivor.pk)
    assert on_survivor.changes == {
        "duplicate": [None, duplicate.pk],
        "evidence_moved": [0, 1],
        "evidence_already_here": [0, 1],
        "flags_moved": [0, 2],
        "flags_already_here": [0, 1],
    }


def test_the_merged_duplicate_leaves_the_board(cast, pair):
    survivor, duplicate, *_ = pair
    issue_merge(duplicate=duplicate, survivor=survivor, by=cast.manager)
    for status in ("open", "any"):
        board = issue_board_queryset(
            viewer=cast.manager, filters=BoardFilters(status=status), now=T0
        )
        assert list(board.values_list("id", flat=True)) == [survivor.pk]


def test_refusals_merging_into_itself_twice_or_into_a_merged_issue(cast, pair):
    survivor, duplicate, *_ = pair
    with pytest.raises(ValidationError, match="itself"):
        issue_merge(duplicate=survivor, survivor=survivor, by=cast.manager)
    issue_merge(duplicate=duplicate, survivor=survivor, by=cast.manager)
    with pytest.raises(ValidationError, match="already merged"):
        issue_merge(duplicate=duplicate, survivor=survivor, by=cast.manager)
    third = open_issue(cast, title="Third")
    with pytest.raises(ValidationError, match="itself merged"):
        issue_merge(duplicate=third, survivor=duplicate, by=cast.manager)


def test_the_merge_action_on_the_page_leads_to_the_survivor(client, cast, pair):
    survivor, duplicate, *_ = pair
    client.force_login(cast.manager)
    response = client.post(
        reverse("loops:issue-merge", args=[duplicate.pk]), {"survivor": survivor.pk}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("loops:issue-detail", args=[survivor.pk])
    assert Issue.objects.get(pk=duplicate.pk).merged_into_id == survivor.pk


def test_the_page_refuses_a_survivor_the_user_does_not_run(client, cast, pair):
    _, duplicate, *_ = pair
    theirs = open_issue(cast, title="B's", department=cast.dept_b, by=cast.other_manager)
    client.force_login(cast.manager)
    response = client.post(
        reverse("loops:issue-merge", args=[duplicate.pk]), {"survivor": theirs.pk}
    )
    assert response.status_code == 400
    assert "No such issue that you run." in response.content.decode()
    assert Issue.objects.get(pk=duplicate.pk).merged_into_id is None


# --- handover -----------------------------------------------------------------------------


def test_a_deactivated_owner_s_open_issues_go_to_their_department_head(cast):
    owner = UserFactory(username="owner", role=Role.MANAGER, department=cast.dept_a)
    open_one = assigned_issue(cast, owner=owner, department=cast.dept_a)
    other_dept = assigned_issue(cast, owner=owner, department=cast.dept_b)
    closed = assigned_issue(cast, owner=owner)
    Issue.objects.filter(pk=closed.pk).update(status="wont_fix", wont_fix_reason="No")
    owner.is_active = False
    owner.save()
    # Their own department's head, whichever department the issue is in.
    assert Issue.objects.get(pk=open_one.pk).owner_id == cast.manager.pk
    assert Issue.objects.get(pk=other_dept.pk).owner_id == cast.manager.pk
    assert Issue.objects.get(pk=closed.pk).owner_id == owner.pk
    entry = AuditEntry.objects.filter(action="issue.assign", target_id=open_one.pk).latest("id")
    assert entry.actor is None and entry.actor_name == "people:deactivation"
    assert entry.changes["owner"] == [owner.pk, cast.manager.pk]
    assert entry.why == "owner was deactivated: handed to the department head."


def test_without_a_department_of_their_own_the_issue_s_department_head_takes_over(cast):
    owner = UserFactory(username="owner", role=Role.MANAGER, department=None)
    issue = assigned_issue(cast, owner=owner, department=cast.dept_b)
    owner.is_active = False
    owner.save()
    assert Issue.objects.get(pk=issue.pk).owner_id == cast.other_manager.pk


def test_a_deactivated_head_keeps_what_nobody_can_take_and_saves_stay_cheap(
    cast, django_assert_max_num_queries
):
    issue = assigned_issue(cast, owner=cast.manager, department=cast.dept_a)
    cast.manager.is_active = False
    cast.manager.save()  # they head dept_a themselves: nobody to hand it to
    assert Issue.objects.get(pk=issue.pk).owner_id == cast.manager.pk
    cast.rep.is_active = False
    with django_assert_max_num_queries(2):  # the update and one look-up
        cast.rep.save()
