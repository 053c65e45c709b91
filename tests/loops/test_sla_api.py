"""GET /api/v1/issues/<id>/escalations/: the issue page's scope, escalated managers included."""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from loops.models import Severity
from loops.services.issues import issue_assign
from loops.sla.services import escalations_sweep
from tests.factories import UserFactory
from tests.loops.world import T0, open_issue
from voc.people.roles import Role

pytestmark = pytest.mark.django_db
SECOND = timedelta(seconds=1)


def url(issue_id: int) -> str:
    return f"/api/v1/issues/{issue_id}/escalations/"


@pytest.fixture
def escalated(cast):
    """A department-A code red whose owner reports to the head of department B: after two
    sweeps, the owner and other_manager were told."""
    lead = UserFactory(
        username="lead", role=Role.MANAGER, department=cast.dept_a, reports_to=cast.other_manager
    )
    issue = open_issue(
        cast, severity=Severity.CODE_RED, department=cast.dept_a, sponsor=cast.executive, at=T0
    )
    issue = issue_assign(issue=issue, owner=lead, by=cast.manager)
    escalations_sweep(now=issue.resolution_due_at + SECOND)
    escalations_sweep(now=issue.resolution_due_at + timedelta(hours=24) + SECOND)
    return issue


def get(user, issue_id):
    client = APIClient()
    client.force_authenticate(user)
    return client.get(url(issue_id))


def test_the_escalations_oldest_first(cast, escalated):
    response = get(cast.executive, escalated.pk)
    assert response.status_code == 200
    body = response.json()
    assert [(row["clock"], row["level"]) for row in body] == [("resolution", 1), ("resolution", 2)]
    assert body[1]["notified"] == cast.other_manager.pk
    assert body[1]["notified_name"] == cast.other_manager.get_full_name()
    assert body[0]["due_at"].startswith("2026-11-05T09:30:00")


def test_the_escalated_manager_outside_the_department_may_read_them(cast, escalated):
    assert get(cast.other_manager, escalated.pk).status_code == 200
    assert get(cast.manager, escalated.pk).status_code == 200  # heads department A


def test_outside_the_scope_or_missing_is_404(cast, escalated):
    assert get(cast.rep, escalated.pk).status_code == 404
    assert get(cast.executive, escalated.pk + 1000).status_code == 404
    assert get(cast.executive, 2**63).status_code == 404


def test_anonymous_is_refused():
    assert APIClient().get(url(1)).status_code == 401
