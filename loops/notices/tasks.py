"""The notice tasks (queued by the services, by name) and the periodic catch-up."""

from datetime import timedelta

from celery import shared_task

from loops.notices.services import (
    CHUNK_TASK,
    PLAN_TASK,
    SWEEP_JOB,
    notice_plan,
    notice_send_chunk,
    notices_reconcile,
)
from voc.core.jobs import periodic_job


@shared_task(name=PLAN_TASK, acks_late=True, ignore_result=True)
def notice_plan_task(notice_id: int) -> int:
    # Idempotent: the recipients are inserted once; a rerun only queues what is unhanded.
    return notice_plan(notice_id=notice_id)


@shared_task(name=CHUNK_TASK, acks_late=True, ignore_result=True)
def notice_chunk_task(notice_id: int, first_id: int, last_id: int) -> int:
    # Idempotent: one transaction; a redelivered chunk finds its recipients handed over.
    return notice_send_chunk(notice_id=notice_id, first_id=first_id, last_id=last_id).asked


@periodic_job(
    SWEEP_JOB,
    every=timedelta(minutes=1),
    description="Fix notices: queues plans and chunks whose task was lost, writes send-once's "
    "outcomes (sent, failed, uncertain) on the recipients, marks finished notices sent.",
)
def notices_reconcile_job() -> int:
    return notices_reconcile().touched
