"""The escalation sweep with live workers: two workers (each with its own embedded beat, so
beat runs twice too) and the job queued over and over escalate an overdue issue and an
overdue follow-up once per level, and email each level's person once (one email per person
and sweep, listing what it escalated to them)."""

from collections import Counter
from datetime import timedelta

import pytest
from django.db.models import F
from django.utils import timezone

from loops.models import Escalation, FollowUp, Severity
from loops.services.issues import issue_assign, issue_open
from loops.sla.services import ESCALATION_PURPOSE
from tests.factories import UserFactory
from tests.integration.conftest import wait_for
from tests.loops.world import contact_of
from voc.celery import app
from voc.core.models import OutboxMessage, SendOnce
from voc.people.roles import Role

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TIMEOUT = 120.0
RUNS = 8  # more than the levels: every run after the chain is done must change nothing


def test_two_workers_and_a_repeated_job_escalate_and_email_once_per_level(start_worker, cast):
    lead = UserFactory(
        username="lead", role=Role.MANAGER, department=cast.dept_a, reports_to=cast.manager
    )
    long_ago = timezone.now() - timedelta(days=30)
    # A code red fixed in 72 h, 27 days late: every level of its chain is due.
    issue = issue_open(
        title="Card <b>declined</b> at checkout",
        severity=Severity.CODE_RED,
        department=cast.dept_a,
        sponsor=cast.executive,
        by=cast.manager,
        at=long_ago,
    )
    issue_assign(issue=issue, owner=lead, by=cast.manager)
    contact = contact_of(cast.team_a)
    follow_up = FollowUp.objects.create(
        trigger=FollowUp.Trigger.COMPLAINT_CONTACT,
        contact=contact,
        customer=contact.customer,
        assignee=lead,
        team=cast.team_a,
        department=cast.dept_b,
        due_at=long_ago,
    )
    first, second = start_worker(), start_worker()

    def runs() -> int:
        text = first.log_text() + second.log_text()
        return sum(
            "loops.escalate_overdue[" in line and "succeeded" in line for line in text.splitlines()
        )

    # Three rounds, one per level: each round queues the job RUNS times to the two workers;
    # between rounds the escalations are moved two days back, as if a step had passed (a
    # level waits a step after the one before).
    for level in (1, 2, 3):
        before = runs()
        for _ in range(RUNS):
            app.send_task("loops.escalate_overdue")
        wait_for(
            lambda before=before: runs() >= before + RUNS,
            timeout=TIMEOUT,
            message=f"the job did not run every time (level {level})",
        )
        assert Escalation.objects.count() == 2 * level
        assert set(Escalation.objects.values_list("level", flat=True)) == set(range(1, level + 1))
        Escalation.objects.update(at=F("at") - timedelta(days=2))

    unfinished = (SendOnce.Status.PENDING, SendOnce.Status.SENDING)
    wait_for(
        lambda: (
            Escalation.objects.count() >= 6
            and not SendOnce.objects.filter(
                purpose=ESCALATION_PURPOSE, status__in=unfinished
            ).exists()
        ),
        timeout=TIMEOUT,
        message="the escalation emails were not sent",
    )
    outcomes = list(
        SendOnce.objects.filter(purpose=ESCALATION_PURPOSE).values_list("status", "error")
    )
    assert all(status == SendOnce.Status.SENT for status, _ in outcomes), outcomes
    # Both workers took part (the broker shares the runs out between them).
    assert "loops.escalate_overdue[" in first.log_text()
    assert "loops.escalate_overdue[" in second.log_text()

    levels = list(
        Escalation.objects.order_by("issue_id", "clock", "level").values_list(
            "issue_id", "follow_up_id", "clock", "level", "notified__username"
        )
    )
    assert levels == [
        (issue.pk, None, "resolution", 1, "lead"),
        (issue.pk, None, "resolution", 2, "manager"),
        (issue.pk, None, "resolution", 3, "executive"),
        (None, follow_up.pk, "follow_up", 1, "lead"),
        (None, follow_up.pk, "follow_up", 2, "manager"),
        (None, follow_up.pk, "follow_up", 3, "other_manager"),
    ]
    # One email per person and sweep, and every escalation in exactly one of them: the lead
    # is told of both (one sweep), then their manager of both, then the sponsor and the
    # follow-up's department head.
    emails = list(SendOnce.objects.filter(purpose=ESCALATION_PURPOSE))
    listed = Counter(i for email in emails for i in email.context["escalation_ids"])
    assert sorted(listed) == sorted(Escalation.objects.values_list("id", flat=True))
    assert set(listed.values()) == {1}
    # (The assignment email of the set-up was queued before the workers' broker was flushed:
    # it waits for the send-once sweep and is not counted here.)
    messages = list(OutboxMessage.objects.filter(subject__icontains="escalated"))
    messages += list(OutboxMessage.objects.filter(subject__startswith="Overdue"))
    assert len(messages) == len(emails)
    told = Counter(message.to[0] for message in messages)
    assert set(told) == {
        lead.email,
        cast.manager.email,
        cast.executive.email,
        cast.other_manager.email,
    }
    assert all(count <= 2 for count in told.values())
    issue_mail = next(m for m in messages if "declined" in m.body_text)
    assert "Card &lt;b&gt;declined&lt;/b&gt;" in issue_mail.body_html
    assert f"/loops/issues/{issue.pk}/" in issue_mail.body_text
