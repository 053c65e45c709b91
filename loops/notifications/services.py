"""Loops emails to people (design: docs/loops-sla.md): an issue or a follow-up assigned to me,
escalations, and due dates coming up. Each kind can be switched off per user
(``NotificationPreference``; no row: on), except escalations to oneself: a missed deadline
reaches the person it is escalated to whatever they chose (the escalation sweep reads no
preference, and :func:`notification_preference_set` refuses to switch them off).

Every email goes through the send-once helper (``voc.core.sendonce``), keyed so that a
retried job or a signal delivered twice asks for the same email again and nothing more is sent:

- assignment of an issue: ``issue:<id>:assign:<audit entry id>`` (each assignment once);
- assignment of a follow-up: ``follow_up:<id>:assignee:<user id>``;
- due-date reminders: ``issue:<id>:resolution:<due time>`` and ``follow_up:<id>:due:<due time>``
  (once per target and deadline: a deadline moved by a severity change is reminded again).

The emails are built in the worker from the ids (loops/notifications/emails.py), with a link
back to the page; customer text is escaped in the HTML part.
"""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from loops.models import FollowUp, Issue, NotificationKind, NotificationPreference
from loops.sla.rules import reminder_due
from loops.sla.services import open_issues
from voc.core.audit import Actor, SystemActor, audit_record
from voc.core.models import AuditEntry
from voc.core.sendonce import OnceEmail, send_once_many
from voc.people.models import User

NOTIFICATIONS = SystemActor("loops-notifications")
ASSIGNMENT_PURPOSE = "loops.assignment"
DUE_PURPOSE = "loops.due"
ASSIGNMENT_TEMPLATE = "loops-assignment"
DUE_TEMPLATE = "loops-due"
REMINDER_HOURS = 24
Kind = NotificationKind

AUDIT_LABELS = {"notification.preference": "changed their loops emails"}

ALWAYS_ON: dict[str, str] = {
    Kind.ESCALATION: "Escalations to you cannot be switched off: a missed deadline that is "
    "now yours to act on always reaches you."
}


# --- Preferences --------------------------------------------------------------------------------


def notification_preferences(*, user: User) -> dict[str, bool]:
    """Every kind, on or off, for ``user`` (absent rows are on; escalations always are)."""
    stored = dict(NotificationPreference.objects.filter(user=user).values_list("kind", "enabled"))
    return {kind: kind in ALWAYS_ON or stored.get(kind, True) for kind in Kind.values}


def notification_preference_set(*, user: User, kind: str, enabled: bool, by: Actor) -> bool:
    """Switch one kind on or off for ``user`` (audited); returns whether anything changed.
    Only the user themself changes their own choice."""
    if kind not in Kind.values:
        raise ValidationError({"kind": f"“{kind}” is not a kind of email."})
    if kind in ALWAYS_ON and not enabled:
        raise ValidationError({"kind": ALWAYS_ON[kind]})
    if isinstance(by, User) and by.pk != user.pk:
        raise ValidationError("Only the person themself chooses which emails they get.")
    with transaction.atomic():
        row, _ = NotificationPreference.objects.select_for_update().get_or_create(
            user=user, kind=kind
        )
        if row.enabled == enabled:
            return False
        before, row.enabled = row.enabled, enabled
        row.save(update_fields=["enabled"])
        audit_record(
            by=by, action="notification.preference", target=row, changes={kind: [before, enabled]}
        )
    return True


def _wanting(kind: str) -> Exists:
    """A filter for users who switched ``kind`` off (use with ~ on a user's id)."""
    return Exists(
        NotificationPreference.objects.filter(user_id=OuterRef("pk"), kind=kind, enabled=False)
    )


def users_wanting(kind: str, user_ids: Iterable[int]) -> dict[int, str]:
    """{user id: address} of the active users among ``user_ids`` with an address who did not
    switch ``kind`` off (one query)."""
    return dict(
        User.objects.filter(id__in=list(user_ids), is_active=True)
        .exclude(email="")
        .exclude(_wanting(kind))
        .values_list("id", "email")
    )


# --- Assignment ---------------------------------------------------------------------------------


def issue_assignment_notify(*, issue_id: int, owner_id: int) -> int:
    """Email the issue's new owner (unless they assigned it to themself or switched the kind
    off). Returns the emails asked for (0 or 1)."""
    entry = (
        AuditEntry.objects.filter(
            target_type=Issue._meta.label_lower, target_id=issue_id, action="issue.assign"
        )
        .order_by("-at", "-id")
        .values_list("id", "actor_id")
        .first()
    )
    if entry is None:
        return 0
    entry_id, actor_id = entry
    if actor_id == owner_id:
        return 0  # they took it themself: nothing to tell them
    address = users_wanting(Kind.ASSIGNMENT, [owner_id]).get(owner_id)
    if address is None:
        return 0
    with transaction.atomic():
        return len(
            send_once_many(
                purpose=ASSIGNMENT_PURPOSE,
                template=ASSIGNMENT_TEMPLATE,
                emails=[
                    OnceEmail(
                        key=f"issue:{issue_id}:assign:{entry_id}",
                        to=[address],
                        context={"issue_id": issue_id, "user_id": owner_id},
                    )
                ],
                by=NOTIFICATIONS,
            )
        )


def follow_up_assignment_notify(*, follow_up_ids: Sequence[int]) -> int:
    """Email each open follow-up's assignee (once per follow-up and assignee), in a fixed
    number of queries whatever the number of follow-ups."""
    rows = list(
        FollowUp.objects.filter(
            id__in=list(follow_up_ids), status=FollowUp.Status.OPEN, assignee__isnull=False
        ).values_list("id", "assignee_id", "customer_id")
    )
    addresses = users_wanting(Kind.ASSIGNMENT, {assignee for _, assignee, _ in rows})
    emails = [
        OnceEmail(
            key=f"follow_up:{follow_up_id}:assignee:{assignee_id}",
            to=[addresses[assignee_id]],
            context={"follow_up_id": follow_up_id, "user_id": assignee_id},
            customer_id=customer_id,
        )
        for follow_up_id, assignee_id, customer_id in rows
        if assignee_id in addresses
    ]
    with transaction.atomic():
        return len(
            send_once_many(
                purpose=ASSIGNMENT_PURPOSE,
                template=ASSIGNMENT_TEMPLATE,
                emails=emails,
                by=NOTIFICATIONS,
            )
        )


# --- Due-date reminders -------------------------------------------------------------------------


def due_reminders_send(*, now: datetime | None = None) -> int:
    """Remind owners of open issues whose resolution is due within ``REMINDER_HOURS`` and
    assignees of open follow-ups due within as long (see the module's docstring for the
    keys). A fixed number of queries; returns the emails asked for this time."""
    now = now or timezone.now()
    until = now + timedelta(hours=REMINDER_HOURS)
    issues = list(
        open_issues()
        .filter(
            fixed_at__isnull=True,
            resolution_due_at__gt=now,
            resolution_due_at__lte=until,
            owner__isnull=False,
        )
        .values_list("id", "owner_id", "resolution_due_at")
    )
    follow_ups = list(
        FollowUp.objects.filter(
            status=FollowUp.Status.OPEN, due_at__gt=now, due_at__lte=until, assignee__isnull=False
        ).values_list("id", "assignee_id", "due_at", "customer_id")
    )
    people = {owner for _, owner, _ in issues} | {assignee for _, assignee, _, _ in follow_ups}
    addresses = users_wanting(Kind.DUE, people)
    emails = [
        OnceEmail(
            key=f"issue:{issue_id}:resolution:{due_at.isoformat()}",
            to=[addresses[owner_id]],
            context={"issue_id": issue_id, "user_id": owner_id, "due_at": due_at.isoformat()},
        )
        for issue_id, owner_id, due_at in issues
        if owner_id in addresses and reminder_due(now=now, due_at=due_at)
    ]
    emails += [
        OnceEmail(
            key=f"follow_up:{follow_up_id}:due:{due_at.isoformat()}",
            to=[addresses[assignee_id]],
            context={
                "follow_up_id": follow_up_id,
                "user_id": assignee_id,
                "due_at": due_at.isoformat(),
            },
            customer_id=customer_id,
        )
        for follow_up_id, assignee_id, due_at, customer_id in follow_ups
        if assignee_id in addresses and reminder_due(now=now, due_at=due_at)
    ]
    if not emails:
        return 0
    with transaction.atomic():
        return len(
            send_once_many(
                purpose=DUE_PURPOSE, template=DUE_TEMPLATE, emails=emails, by=NOTIFICATIONS
            )
        )
