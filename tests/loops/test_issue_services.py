"""Opening, assigning, moving and evidencing issues through loops.services.issues."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError

from loops.models import Flag, Issue, IssueEvidence, Severity, SlaPolicy
from loops.selectors import issue_get_visible, issue_list_visible
from loops.services.issues import (
    TransitionRefused,
    evidence_add,
    evidence_remove,
    issue_assign,
    issue_edit,
    issue_open,
    issue_transition,
)
from tests.factories import UserFactory
from tests.loops.world import T0, assigned_issue, contact_of, open_issue, reason
from voc.core.models import AuditEntry
from voc.people.roles import Role

pytestmark = pytest.mark.django_db
S = Issue.Status


def test_open_sets_department_from_reasons_and_sla_from_policy(cast):
    SlaPolicy.objects.create(severity=Severity.HIGH, response_hours=5, resolution_hours=50)
    billing = reason("Billing", department=cast.dept_a)
    issue = issue_open(
        title="  Card 4111 1111 1111 1111 charged twice ",
        reasons=[billing],
        severity=Severity.HIGH,
        by=cast.manager,
        at=T0,
    )
    assert issue.department == cast.dept_a
    assert "4111" not in issue.title and issue.title.endswith("charged twice")
    assert issue.response_due_at == T0 + timedelta(hours=5)
    assert issue.resolution_due_at == T0 + timedelta(hours=50)
    assert issue.status == S.NEW and issue.created_by == cast.manager
    entry = AuditEntry.objects.get(action="issue.open", target_id=issue.pk)
    assert entry.changes["severity"] == [None, "high"]


def test_open_without_policy_uses_defaults_and_refuses_bad_input(cast):
    issue = open_issue(cast, severity=Severity.CODE_RED, at=T0)
    assert issue.response_due_at == T0 + timedelta(hours=4)
    with pytest.raises(ValidationError) as refused:
        issue_open(title="  ", by=cast.manager)
    assert "title" in refused.value.message_dict
    with pytest.raises(ValidationError):
        issue_open(title="x" * 201, by=cast.manager)
    assert issue_open(title="x" * 200, by=cast.manager).title == "x" * 200
    with pytest.raises(ValidationError) as refused:
        issue_open(title="ok", owner=cast.rep, by=cast.manager)
    assert refused.value.message_dict["owner"] == ["The owner must be an active manager."]


def test_assign_moves_new_to_assigned_and_stops_the_response_clock(cast):
    issue = open_issue(cast)
    issue = issue_assign(issue=issue, owner=cast.manager, by=cast.executive)
    assert issue.status == S.ASSIGNED and issue.responded_at is not None
    entry = AuditEntry.objects.get(action="issue.assign", target_id=issue.pk)
    assert entry.changes == {"owner": [None, cast.manager.pk], "status": ["new", "assigned"]}
    # Reassigning keeps the status and the response time.
    responded = issue.responded_at
    issue = issue_assign(issue=issue, owner=cast.other_manager, by=cast.executive)
    assert issue.status == S.ASSIGNED and issue.responded_at == responded


def test_full_lifecycle_and_its_timestamps(cast):
    issue = assigned_issue(cast)
    issue = issue_transition(issue=issue, to=S.IN_PROGRESS, by=cast.manager)
    issue = issue_transition(issue=issue, to=S.FIXED, by=cast.manager)
    assert issue.fixed_at is not None
    issue = issue_transition(issue=issue, to=S.IN_PROGRESS, why="came back", by=cast.manager)
    assert issue.fixed_at is None
    issue = issue_transition(issue=issue, to=S.FIXED, by=cast.manager)
    issue = issue_transition(issue=issue, to=S.VERIFIED, by=cast.manager)
    assert issue.verified_at is not None
    with pytest.raises(TransitionRefused, match="Only the owner closes"):
        issue_transition(issue=issue, to=S.CLOSED, by=cast.executive)
    issue = issue_transition(issue=issue, to=S.CLOSED, by=cast.manager)
    assert issue.closed_at is not None
    statuses = [
        e.changes["status"]
        for e in AuditEntry.objects.filter(action="issue.status", target_id=issue.pk).order_by("id")
    ]
    assert statuses == [
        ["assigned", "in_progress"],
        ["in_progress", "fixed"],
        ["fixed", "in_progress"],
        ["in_progress", "fixed"],
        ["fixed", "verified"],
        ["verified", "closed"],
    ]


def test_illegal_transition_is_refused_and_nothing_changes(cast):
    issue = open_issue(cast)
    with pytest.raises(TransitionRefused) as refused:
        issue_transition(issue=issue, to=S.FIXED, by=cast.manager)
    assert refused.value.messages == [
        "An issue that is new cannot become fixed; it can become: triaged, assigned, won't fix."
    ]
    issue.refresh_from_db()
    assert issue.status == S.NEW
    assert not AuditEntry.objects.filter(action="issue.status").exists()


def test_wont_fix_by_department_head_not_by_a_member_who_does_not_head_it(cast):
    member = UserFactory(username="member", role=Role.MANAGER, department=cast.dept_a)
    issue = assigned_issue(
        cast, owner=cast.other_manager, reasons=[reason("R", department=cast.dept_a)]
    )
    with pytest.raises(TransitionRefused, match="owner or the department head"):
        issue_transition(issue=issue, to=S.WONT_FIX, why="policy", by=member)
    issue = issue_transition(issue=issue, to=S.WONT_FIX, why="By design: policy", by=cast.manager)
    assert issue.status == S.WONT_FIX and issue.wont_fix_reason == "By design: policy"


def test_edit_severity_moves_deadlines_from_opening(cast):
    issue = open_issue(cast, at=T0)
    issue = issue_edit(issue=issue, severity=Severity.CODE_RED, by=cast.manager)
    assert issue.response_due_at == T0 + timedelta(hours=4)
    assert AuditEntry.objects.get(action="issue.edit").changes["severity"] == ["medium", "code_red"]


def test_evidence_once_per_source_with_first_and_last_seen(cast):
    issue = open_issue(cast)
    early = contact_of(cast.team_a, at=T0)
    late = contact_of(cast.team_a, at=T0 + timedelta(days=3))
    evidence, created = evidence_add(issue=issue, source=late, by=cast.rep)
    assert created and evidence.customer_id == late.customer_id
    assert evidence_add(issue=issue, source=late, by=cast.manager)[1] is False
    evidence_add(issue=issue, source=early, by=cast.rep)
    issue.refresh_from_db()
    assert issue.evidence_count == 2
    assert (issue.first_seen_at, issue.last_seen_at) == (early.occurred_at, late.occurred_at)
    evidence_remove(evidence=evidence, by=cast.manager)
    issue.refresh_from_db()
    assert issue.evidence_count == 1
    assert issue.first_seen_at == issue.last_seen_at == early.occurred_at
    assert IssueEvidence.objects.filter(issue=issue).count() == 1


def test_scope_of_every_role(cast):
    dept_a_issue = open_issue(cast, reasons=[reason("A", department=cast.dept_a)])
    dept_b_issue = open_issue(
        cast, reasons=[reason("B", department=cast.dept_b)], by=cast.other_manager
    )
    flagged = open_issue(cast, reasons=[reason("C", department=cast.dept_b)], by=cast.executive)
    Flag.objects.create(issue=flagged, contact=contact_of(cast.team_a), flagged_by=cast.rep)
    Flag.objects.create(issue=flagged, contact=contact_of(cast.team_a), flagged_by=cast.rep)
    member = UserFactory(username="member", role=Role.MANAGER, department=cast.dept_a)

    def ids(user):
        return sorted(issue_list_visible(viewer=user).values_list("id", flat=True))

    assert (
        ids(cast.executive)
        == ids(cast.admin)
        == sorted([dept_a_issue.pk, dept_b_issue.pk, flagged.pk])
    )
    assert ids(cast.manager) == [dept_a_issue.pk]
    assert ids(member) == [dept_a_issue.pk]  # a member who does not head it sees it too
    assert ids(cast.other_manager) == sorted([dept_b_issue.pk, flagged.pk])
    assert ids(cast.rep) == [flagged.pk]  # flagged twice, listed once
    assert ids(cast.outsider) == []
    with pytest.raises(Issue.DoesNotExist):
        issue_get_visible(viewer=cast.outsider, issue_id=flagged.pk)
