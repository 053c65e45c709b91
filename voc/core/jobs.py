"""Periodic jobs: a registry, a run record for every run, and the beat schedule kept in the
database (django-celery-beat) in step with the registry.

An app declares a job next to its tasks::

    @periodic_job("loops.escalate_overdue", every=timedelta(minutes=1))
    def escalate_overdue() -> int:
        return issue_escalate_overdue()  # rows touched

and ``manage.py sync_periodic_jobs`` (also run after every ``migrate``) writes the schedule.
"""

import functools
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import shared_task
from celery.app.task import Task
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

from voc.core.models import JobRun

logger = logging.getLogger(__name__)

# Beat rows this module manages carry this marker, so jobs removed from the code are removed
# from the schedule while rows an admin added by hand are left alone.
MANAGED_MARKER = "[managed by VoC]"


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    every: timedelta | None
    crontab: dict[str, str] | None
    description: str


_registry: dict[str, PeriodicJob] = {}


def periodic_job(
    name: str,
    *,
    every: timedelta | None = None,
    crontab: dict[str, str] | None = None,
    description: str = "",
) -> Callable[[Callable[[], int]], Task[[], int]]:
    """Register ``fn`` (returning the number of rows it touched) as a Celery task named ``name``
    that beat runs on the given schedule, recording each run as a JobRun."""
    if (every is None) == (crontab is None):
        raise ValueError("a periodic job needs exactly one of every= or crontab=")

    def decorate(fn: Callable[[], int]) -> Task[[], int]:
        @shared_task(name=name, acks_late=True, ignore_result=True)
        @functools.wraps(fn)
        def task() -> int:
            return run_recorded(name, fn)

        _registry[name] = PeriodicJob(
            name=name, every=every, crontab=crontab, description=description or (fn.__doc__ or "")
        )
        return task

    return decorate


def run_recorded(name: str, fn: Callable[[], int]) -> int:
    run = JobRun.objects.create(job=name, started_at=timezone.now(), worker=socket.gethostname())
    try:
        touched = fn() or 0
    except Exception as exc:
        run.status = JobRun.Status.FAILED
        run.error = f"{type(exc).__name__}: {exc}"[:4000]
        run.finished_at = timezone.now()
        run.save(update_fields=["status", "error", "finished_at"])
        logger.exception("periodic job %s failed", name)
        raise
    run.status = JobRun.Status.SUCCEEDED
    run.rows_touched = touched
    run.finished_at = timezone.now()
    run.save(update_fields=["status", "rows_touched", "finished_at"])
    return touched


def registered_jobs() -> dict[str, PeriodicJob]:
    autodiscover_modules("tasks")
    return dict(sorted(_registry.items()))


@transaction.atomic
def periodic_jobs_sync() -> list[str]:
    """Write the registry into django-celery-beat's tables. Returns the names it wrote.

    An admin's choice to disable a job in the admin survives a sync; its schedule does not."""
    from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

    def schedule_row(model: Any, **fields: object) -> Any:
        # Schedules have no unique constraint and the admin can add duplicates, so take the
        # first match rather than get_or_create (MultipleObjectsReturned would break migrate).
        return model.objects.filter(**fields).order_by("id").first() or model.objects.create(
            **fields
        )

    jobs = registered_jobs()
    for job in jobs.values():
        # A managed job's schedule is the code's: clear any solar or clocked one set by hand
        # (PeriodicTask.save() refuses a task with two schedules).
        schedule: dict[str, Any] = {
            "interval": None,
            "crontab": None,
            "solar": None,
            "clocked": None,
        }
        if job.every is not None:
            seconds = int(job.every.total_seconds())
            schedule["interval"] = schedule_row(
                IntervalSchedule, every=seconds, period=IntervalSchedule.SECONDS
            )
        else:
            # Every field in the lookup: "17 3 * * *" must not match a hand-made "17 3 * * 1".
            fields = {
                "minute": "0",
                "hour": "*",
                "day_of_week": "*",
                "day_of_month": "*",
                "month_of_year": "*",
                **(job.crontab or {}),
            }
            schedule["crontab"] = schedule_row(CrontabSchedule, timezone="UTC", **fields)
        PeriodicTask.objects.update_or_create(
            name=job.name,
            defaults={
                "task": job.name,
                # A run beat queued while no worker was up is dropped once the next one is due,
                # instead of piling up and all running when the worker returns.
                "expire_seconds": int(job.every.total_seconds()) if job.every else 3600,
                "description": f"{MANAGED_MARKER} {job.description}".strip(),
                **schedule,
            },
        )
    PeriodicTask.objects.filter(description__startswith=MANAGED_MARKER).exclude(
        name__in=list(jobs)
    ).delete()
    return list(jobs)


def sync_periodic_jobs_after_migrate(**kwargs: object) -> None:
    periodic_jobs_sync()
