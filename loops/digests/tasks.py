"""The digest jobs (voc.core.jobs); imported by loops.tasks."""

from datetime import timedelta

from loops.digests.services import digests_send_due, digests_send_instant
from voc.core.jobs import periodic_job


@periodic_job(
    "loops.digests_due",
    every=timedelta(minutes=5),
    description="Builds and queues the daily and weekly bcc digests whose period ended, once "
    "per subscription and period (missed periods merged into one).",
)
def digests_due_job() -> int:
    run = digests_send_due()
    return run.queued + run.empty


@periodic_job(
    "loops.digests_instant",
    every=timedelta(minutes=1),
    description="Sends instant subscriptions what arrived since their last digest, batched.",
)
def digests_instant_job() -> int:
    return digests_send_instant().queued
