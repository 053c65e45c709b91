"""The due-date reminders (voc.core.jobs); imported from LoopsConfig.ready()."""

from datetime import timedelta

from loops.notifications.services import due_reminders_send
from voc.core.jobs import periodic_job


@periodic_job(
    "loops.due_reminders",
    every=timedelta(minutes=15),
    description="Reminds owners of issues and follow-ups due within a day, once per deadline.",
)
def due_reminders_job() -> int:
    return due_reminders_send()
