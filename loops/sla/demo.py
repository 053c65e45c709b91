"""The demo's escalated code red: an outage-alert issue owned by the support tier-1 lead,
answered in time but not fixed for weeks, escalated to the lead, then to the head of support,
then to the COO who sponsors it. Its issue page shows "Code red for 40 days" and the three
escalations. Nothing happens where the demo has no such people (a partial seed)."""

from datetime import timedelta

from django.utils import timezone

from loops.models import Clock, Issue, Severity
from loops.services.issues import issue_open
from loops.sla.rules import ChainPeople, chain_of, step_due_at
from loops.sla.services import Claim, escalation_step, escalations_claim
from voc.core.demo import DemoContext
from voc.people.models import Department, User

TITLE = "Outage alerts never reach customers by text"
DESCRIPTION = (
    "Customers in the north region hear about network outages from their neighbours: the SMS "
    "alert goes out hours late or not at all, and they call us to ask whether it is just them."
)
AGE_DAYS = 40


def seed_escalations(ctx: DemoContext) -> None:
    lead = User.objects.filter(username="lead.support").first()
    sponsor = (
        User.objects.filter(username="coo").first()
        or User.objects.filter(role="executive").order_by("id").first()
    )
    department = Department.objects.filter(name="Technical Support").first()
    if lead is None or sponsor is None or department is None:
        return
    opened = timezone.now() - timedelta(days=AGE_DAYS, hours=3)
    issue = issue_open(
        title=TITLE,
        description=DESCRIPTION,
        department=department,
        severity=Severity.CODE_RED,
        owner=lead,
        sponsor=sponsor,
        by=lead.reports_to or lead,
        at=opened,
    )
    # Answered within the response time, worked on, never fixed.
    Issue.objects.filter(pk=issue.pk).update(
        status=Issue.Status.IN_PROGRESS,
        responded_at=opened + timedelta(hours=2),
        status_changed_at=opened + timedelta(hours=3),
    )
    issue.refresh_from_db()
    assert issue.resolution_due_at is not None
    chain = chain_of(ChainPeople(first=lead.pk, first_manager=lead.reports_to_id, last=sponsor.pk))
    step = escalation_step()
    for position, (level, user_id) in enumerate(chain):
        at = step_due_at(issue.resolution_due_at, position=position, step=step)
        escalations_claim(
            [
                Claim(
                    issue_id=issue.pk,
                    follow_up_id=None,
                    clock=Clock.RESOLUTION,
                    level=level,
                    notified_id=user_id,
                    due_at=issue.resolution_due_at,
                )
            ],
            now=at + timedelta(minutes=1),
        )
    ctx.stdout(f"  an escalated code red: #{issue.pk} ({len(chain)} escalations)")
