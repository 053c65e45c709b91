"""The verification task (queued when an issue is fixed) and the daily job that re-checks
every fix until its 90-day checkpoint is final."""

from celery import shared_task

from loops.verification.services import verification_refresh, verification_sweep
from voc.core.jobs import periodic_job

COMPUTE_TASK = "loops.verification_compute"
SWEEP_JOB = "loops.verification_sweep"


@shared_task(name=COMPUTE_TASK, acks_late=True, ignore_result=True)
def verification_compute_task(issue_id: int) -> int:
    # Idempotent: it rewrites the issue's unfinished checkpoints from the rollups.
    return verification_refresh(issue_id=issue_id)


@periodic_job(
    SWEEP_JOB,
    # Daily, in the small hours UTC; the windows follow reporting days whenever it runs.
    crontab={"minute": "23", "hour": "3"},
    description="Re-checks every fixed issue's verification (at the fix, after 30 and after "
    "90 days) until each is final, and catches up fixes whose first check was not queued.",
)
def verification_sweep_job() -> int:
    return verification_sweep()
