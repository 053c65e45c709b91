"""Follow-ups: a detractor or a complainer is called back.

``follow_ups_open`` (a periodic job, every few minutes) finds what calls for a call back since
its last look: feedback items that are complaints or detractor scores (loops/followups/rules.py)
and contacts whose reason is marked complaint (a sub-reason inherits its parent's flag). Each
becomes one follow-up (database constraints: one per feedback item, one per contact; a contact
already followed up through one of its feedback items is not followed up again), owned by the
triggering contact's team lead, else by its reason's department head, due within the business
setting ``follow_up_callback_hours``. The contact budget's callback rule is asked for every customer at
once; a "no" (opted out of callbacks, erased, merged away) closes the follow-up at once as "not
allowed" with the budget's words, so nobody calls a customer who asked not to be called.

The run is one transaction: two runs at once cannot both insert a row (the constraints make the
second roll back, budget claims included) and the next run finds what is left.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from contacts.budget.services import budget_claim_many
from contacts.models import BudgetPurpose, Contact, ContactReason
from contacts.redaction_rules import redactor
from feedback.models import FeedbackItem
from loops import signals
from loops.followups.rules import DETRACTOR_AT_MOST, calls_for_follow_up
from loops.followups.selectors import follow_up_list_visible
from loops.models import FollowUp
from voc.core.audit import Actor, SystemActor, audit_record, audit_record_many
from voc.core.business import business_setting
from voc.core.capabilities import effective_role
from voc.people.models import User
from voc.people.roles import Role

FOLLOW_UPS = SystemActor("follow-ups")
# How far back a run looks: runs are minutes apart, so this only matters after an outage.
LOOKBACK = timedelta(days=7)
MAX_NOTES = 4000
Trigger, Outcome = FollowUp.Trigger, FollowUp.Outcome

AUDIT_LABELS = {
    "follow_up.open": "opened the follow-up",
    "follow_up.close": "recorded the call back",
    "follow_up.reassign": "reassigned the follow-up",
}


def _detractor_q() -> Q:
    condition = Q(kind=FeedbackItem.Kind.COMPLAINT)
    for kind, at_most in DETRACTOR_AT_MOST.items():
        condition |= Q(kind=kind, score__lte=at_most)
    return condition


def _complaint_reason_q(prefix: str) -> Q:
    return Q(**{f"{prefix}complaint": True}) | Q(**{f"{prefix}parent__complaint": True})


@dataclass(frozen=True)
class Owner:
    assignee_id: int | None
    team_id: int | None
    department_id: int | None


def _owner(*, contact: Contact | None, team_id: int | None, reason: ContactReason | None) -> Owner:
    """The triggering contact's team lead, else its reason's department head."""
    if contact is not None:
        team_id = contact.team_id
        reason = contact.reason or reason
    lead_id = contact.team.lead_id if contact is not None and contact.team else None
    department = reason.department if reason is not None else None
    head_id = department.head_id if department is not None else None
    return Owner(lead_id or head_id, team_id, department.pk if department else None)


@dataclass(frozen=True)
class FollowUpRun:
    opened: int
    not_allowed: int


def follow_ups_open(*, now: datetime | None = None, by: Actor = FOLLOW_UPS) -> FollowUpRun:
    """Open a follow-up for everything that calls for one since ``LOOKBACK`` (see the module)."""
    now = now or timezone.now()
    since = now - LOOKBACK
    due = now + timedelta(hours=int(business_setting("follow_up_callback_hours")))
    followed_contacts = FollowUp.objects.filter(contact__isnull=False).values("contact_id")
    related = ("contact__team", "contact__reason__department", "reason__department")
    items = (
        FeedbackItem.objects.filter(_detractor_q(), created_at__gte=since, follow_up__isnull=True)
        .exclude(contact_id__in=followed_contacts)
        .select_related(*related)
        .order_by("id")
    )
    contacts = (
        Contact.objects.filter(_complaint_reason_q("reason__"), updated_at__gte=since)
        .exclude(id__in=followed_contacts)
        .select_related("team", "reason__department")
        .order_by("id")
    )
    rows: list[FollowUp] = []
    seen_contacts: set[int] = set()
    for item in items:
        trigger = calls_for_follow_up(item.kind, item.score)
        if trigger is None or (item.contact_id is not None and item.contact_id in seen_contacts):
            continue
        if item.contact_id is not None:
            seen_contacts.add(item.contact_id)
        owner = _owner(contact=item.contact, team_id=item.team_id, reason=item.reason)
        rows.append(
            FollowUp(
                trigger=trigger,
                feedback_item=item,
                contact_id=item.contact_id,
                customer_id=item.customer_id,
                assignee_id=owner.assignee_id,
                team_id=owner.team_id,
                department_id=owner.department_id,
                created_at=now,
                due_at=due,
            )
        )
    for contact in contacts:
        if contact.pk in seen_contacts:
            continue
        owner = _owner(contact=contact, team_id=None, reason=None)
        rows.append(
            FollowUp(
                trigger=Trigger.COMPLAINT_CONTACT,
                contact=contact,
                customer_id=contact.customer_id,
                assignee_id=owner.assignee_id,
                team_id=owner.team_id,
                department_id=owner.department_id,
                created_at=now,
                due_at=due,
            )
        )
    if not rows:
        return FollowUpRun(0, 0)
    try:
        with transaction.atomic():
            claimed = [row for row in rows if row.customer_id is not None]
            answers = budget_claim_many(
                claims=[(row.customer_id, "") for row in claimed if row.customer_id],
                purpose=BudgetPurpose.CALLBACK,
                by=by,
            )
            not_allowed = 0
            for row, answer in zip(claimed, answers, strict=True):
                if not answer.allowed:
                    not_allowed += 1
                    row.status = FollowUp.Status.CANCELLED
                    row.outcome = Outcome.NOT_ALLOWED
                    row.notes = f"Not called: {answer.explanation}."
                    row.closed_at = now
            created = FollowUp.objects.bulk_create(rows)
            audit_record_many(
                (
                    {
                        "action": "follow_up.open",
                        "target": row,
                        "changes": {"trigger": row.trigger, "assignee": row.assignee_id},
                        "customer_id": row.customer_id,
                    }
                    for row in created
                ),
                by=by,
                at=now,
            )
            assigned = [row.pk for row in created if row.status == FollowUp.Status.OPEN]
            if assigned:
                transaction.on_commit(
                    lambda: signals.follow_up_assigned.send(sender=FollowUp, follow_up_ids=assigned)
                )
    except IntegrityError:
        # Another run opened some of them first: the next run picks up the rest.
        return FollowUpRun(0, 0)
    return FollowUpRun(len(created), not_allowed)


def may_work_follow_up(user: User, follow_up: FollowUp) -> bool:
    """The assignee, or a manager whose scope holds it (its team's lead, its department's)."""
    if effective_role(user) != Role.MANAGER:
        return False
    if follow_up.assignee_id == user.pk:
        return True
    return follow_up_list_visible(viewer=user).filter(pk=follow_up.pk).exists()


def follow_up_close(*, follow_up: FollowUp, outcome: str, notes: str = "", by: User) -> FollowUp:
    """Record the call back's outcome and close the follow-up."""
    if not may_work_follow_up(by, follow_up):
        raise PermissionDenied("Only the follow-up's owner or their manager records the call.")
    if outcome not in Outcome.values or outcome == Outcome.NOT_ALLOWED:
        raise ValidationError({"outcome": "Choose what happened on the call."})
    notes = notes.strip()
    if len(notes) > MAX_NOTES:
        raise ValidationError({"notes": f"Keep the notes to {MAX_NOTES} characters."})
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if follow_up.status != FollowUp.Status.OPEN:
            raise ValidationError(
                f"This follow-up is already {follow_up.get_status_display().lower()}."
            )
        follow_up.status = FollowUp.Status.DONE
        follow_up.outcome = outcome
        follow_up.notes = redactor().text(notes)
        follow_up.closed_at = timezone.now()
        follow_up.closed_by = by
        follow_up.save()
        audit_record(
            by=by,
            action="follow_up.close",
            target=follow_up,
            changes={"status": ["open", "done"], "outcome": [None, outcome]},
            customer_id=follow_up.customer_id,
        )
    return follow_up


def follow_up_reassign(*, follow_up: FollowUp, assignee: User, by: User) -> FollowUp:
    """Give an open follow-up to another active manager."""
    if not may_work_follow_up(by, follow_up):
        raise PermissionDenied("Only the follow-up's owner or their manager reassigns it.")
    if not assignee.is_active or effective_role(assignee) != Role.MANAGER:
        raise ValidationError({"assignee": "Give it to an active manager."})
    with transaction.atomic():
        follow_up = FollowUp.objects.select_for_update().get(pk=follow_up.pk)
        if follow_up.status != FollowUp.Status.OPEN:
            raise ValidationError("Only an open follow-up can be reassigned.")
        before = follow_up.assignee_id
        follow_up.assignee = assignee
        follow_up.save(update_fields=["assignee"])
        audit_record(
            by=by,
            action="follow_up.reassign",
            target=follow_up,
            changes={"assignee": [before, assignee.pk]},
            customer_id=follow_up.customer_id,
        )
        if before != assignee.pk:
            follow_up_id = follow_up.pk
            transaction.on_commit(
                lambda: signals.follow_up_assigned.send(
                    sender=FollowUp, follow_up_ids=[follow_up_id]
                )
            )
    return follow_up


def follow_ups_erase(*, customer_ids: list[int], erasure: object = None) -> dict[str, int]:
    """Erasure: the notes of an erased customer's calls go; the rows stay (counted in the
    closed-loop rate) without the customer."""
    cleared = FollowUp.objects.filter(customer_id__in=customer_ids).update(notes="", customer=None)
    return {"follow_ups": cleared}
