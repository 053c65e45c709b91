"""The escalation sweep (voc.core.jobs); imported from LoopsConfig.ready() so the worker and
beat know it."""

from datetime import timedelta

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
