"""The digest jobs (voc.core.jobs) and the build task; imported by loops.tasks."""

from datetime import timedelta

from celery import shared_task

from loops.digests.services import (
    BUILD_TASK,
    DUE_JOB,
    digests_build,
    digests_dispatch_due,
    digests_send_instant,
)
from voc.core.jobs import periodic_job


@periodic_job(
    DUE_JOB,
    every=timedelta(minutes=5),
    description="Queues the daily and weekly bcc digests whose period ended for the workers to "
    "build, once per subscription and period (missed periods merged into one).",
)
def digests_due_job() -> int:
    return digests_dispatch_due()


# acks_late: a chunk delivered again (its worker died) claims nothing twice; the cursor and
# the unique (subscription, period) constraint see to that.
@shared_task(name=BUILD_TASK, acks_late=True, ignore_result=True)
def digests_build_task(subscription_ids: list[int]) -> int:
    run = digests_build(subscription_ids=subscription_ids)
    return run.queued + run.empty


@periodic_job(
    "loops.digests_instant",
    every=timedelta(minutes=1),
    description="Sends instant subscriptions what arrived since their last digest, batched.",
)
def digests_instant_job() -> int:
    return digests_send_instant().queued
