"""The escalation sweep and the due-date reminders (voc.core.jobs); imported from
LoopsConfig.ready() so the worker and beat know them."""

from datetime import timedelta

from loops.notifications.services import due_reminders_send
from loops.sla.services import escalations_sweep
from voc.core.jobs import periodic_job


@periodic_job(
    "loops.escalate_overdue",
    every=timedelta(minutes=1),
    description="Escalates every overdue issue and follow-up one step up its chain (owner, "
    "their manager, the sponsor or department head) and emails each step once.",
)
def escalate_overdue_job() -> int:
    return escalations_sweep().escalated


@periodic_job(
    "loops.due_reminders",
    every=timedelta(minutes=15),
    description="Reminds owners of issues and follow-ups due within a day, once per deadline.",
)
def due_reminders_job() -> int:
    return due_reminders_send()
