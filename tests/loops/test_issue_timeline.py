"""The issue page's timeline shows its escalations beside its audit trail: who was told, at
which level, which deadline was missed and when, newest first, names escaped, and at a cost in
queries that does not grow with the escalations."""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from loops.models import Escalation, Severity
from loops.selectors import ESCALATION_ACTOR, EscalationItem
from loops.services.issues import issue_assign
from loops.sla.services import escalations_sweep
from tests.factories import UserFactory
from tests.loops.world import T0, open_issue
from voc.people.roles import Role

pytestmark = pytest.mark.django_db
SECOND = timedelta(seconds=1)
STEP = timedelta(hours=24)  # sla_escalation_step_hours' default


@pytest.fixture
def lead(cast):
    return UserFactory(
        username="lead",
        first_name="<b>Lea</b>",
        last_name="Lead",
        role=Role.MANAGER,
        department=cast.dept_a,
        reports_to=cast.manager,
    )


@pytest.fixture
def issue(cast, lead):
    """A code red (fix due 72 h after T0) opened and assigned to the lead at T0."""
    with time_machine.travel(T0, tick=False):
        issue = open_issue(
            cast, severity=Severity.CODE_RED, department=cast.dept_a, sponsor=cast.executive, at=T0
        )
        return issue_assign(issue=issue, owner=lead, by=cast.manager)


def detail(issue):
    return reverse("loops:issue-detail", args=[issue.pk])


def name(user):
    return user.get_full_name() or user.get_username()


def test_each_escalation_is_on_the_timeline_newest_first(client, cast, lead, issue):
    due = issue.resolution_due_at
    assert due == T0 + timedelta(hours=72)
    first, second = due + SECOND, due + STEP + SECOND
    assert escalations_sweep(now=first).escalated == 1
    assert escalations_sweep(now=second).escalated == 1

    client.force_login(cast.manager)
    timeline = client.get(detail(issue)).context["timeline"]
    assert [(e.action, e.at) for e in timeline] == [
        ("sla.escalation", second),
        ("sla.escalation", first),
        ("issue.assign", T0),
        ("issue.open", T0),
    ]
    assert timeline[:2] == [
        EscalationItem(
            at=second, level=2, clock="resolution", due_at=due, notified_name=name(cast.manager)
        ),
        EscalationItem(at=first, level=1, clock="resolution", due_at=due, notified_name=name(lead)),
    ]
    assert timeline[1].label == (
        "escalated to <b>Lea</b> Lead (level 1): the resolution deadline of 5 Nov 2026, 09:30 passed"
    )

    page = client.get(detail(issue)).content.decode()
    assert (
        f"{ESCALATION_ACTOR} escalated to {name(cast.manager)} (level 2): the resolution deadline"
        " of 5 Nov 2026, 09:30 passed"
    ) in page
    assert "escalated to &lt;b&gt;Lea&lt;/b&gt; Lead (level 1)" in page
    assert "<b>Lea</b>" not in page


def test_a_deleted_person_and_both_clocks_are_told_apart(client, cast):
    # Nobody owns it: the response clock and the resolution clock both escalate, to the head.
    with time_machine.travel(T0, tick=False):
        issue = open_issue(cast, severity=Severity.CODE_RED, department=cast.dept_a, at=T0)
    late = issue.resolution_due_at + SECOND
    assert escalations_sweep(now=late).escalated == 2
    Escalation.objects.filter(issue=issue, clock="response").update(notified=None)

    client.force_login(cast.executive)
    timeline = client.get(detail(issue)).context["timeline"]
    escalated = sorted(
        (e.clock, e.level, e.notified_name) for e in timeline if e.action == "sla.escalation"
    )
    assert escalated == [("resolution", 1, name(cast.manager)), ("response", 1, "")]
    page = client.get(detail(issue)).content.decode()
    assert "escalated to a user since deleted (level 1): the response deadline" in page


def test_escalations_cost_one_query_however_many(client, cast, lead, issue):
    client.force_login(cast.manager)
    client.get(detail(issue))  # warm the session and caches

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(detail(issue)).status_code == 200
        return len(captured.captured_queries)

    none = queries()
    due = issue.resolution_due_at
    for n in range(3):
        escalations_sweep(now=due + n * STEP + SECOND)
    assert Escalation.objects.filter(issue=issue).count() == 3
    assert queries() == none  # one query reads them, with the names of who was told


def test_only_this_issues_escalations_are_shown(client, cast, lead, issue):
    with time_machine.travel(T0, tick=False):
        other = open_issue(cast, severity=Severity.CODE_RED, department=cast.dept_a, at=T0)
    escalations_sweep(now=other.resolution_due_at + SECOND)
    assert Escalation.objects.filter(issue=other).count() == 2
    assert Escalation.objects.filter(issue=issue).count() == 1
    client.force_login(cast.manager)
    timeline = client.get(detail(issue)).context["timeline"]
    assert [e.level for e in timeline if e.action == "sla.escalation"] == [1]
