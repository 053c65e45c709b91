from typing import TypedDict

from django.db.models import Max

from voc.core.jobs import PeriodicJob, registered_jobs
from voc.core.models import JobRun


def job_run_list_recent(*, job: str | None = None, limit: int = 100) -> list[JobRun]:
    runs = JobRun.objects.all()
    if job:
        runs = runs.filter(job=job)
    return list(runs[:limit])


class JobStatus(TypedDict):
    job: PeriodicJob
    last_run: JobRun | None


def job_status_list() -> list[JobStatus]:
    """Every registered job with its schedule and its latest run (one query for all runs)."""
    jobs = registered_jobs()
    latest_ids = (
        JobRun.objects.filter(job__in=list(jobs))
        .values("job")
        .annotate(latest=Max("id"))
        .values_list("latest", flat=True)
    )
    latest = {run.job: run for run in JobRun.objects.filter(id__in=list(latest_ids))}
    return [{"job": job, "last_run": latest.get(name)} for name, job in jobs.items()]


def last_heartbeat() -> JobRun | None:
    return (
        JobRun.objects.filter(job="core.heartbeat", status=JobRun.Status.SUCCEEDED)
        .order_by("-started_at")
        .first()
    )
