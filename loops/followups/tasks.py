"""The follow-up job (voc.core.jobs); imported by loops.tasks, which beat's autodiscovery finds."""

from datetime import timedelta

from loops.followups.services import follow_ups_open
from voc.core.jobs import periodic_job


@periodic_job(
    "loops.follow_ups_open",
    every=timedelta(minutes=5),
    description="Opens a call-back follow-up for each new detractor, complaint and contact "
    "on a complaint reason, for its team lead (else its department head).",
)
def follow_ups_open_job() -> int:
    return follow_ups_open().opened
