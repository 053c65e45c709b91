from datetime import timedelta

from celery import shared_task
from django.conf import settings

from voc.core import services
from voc.core.jobs import periodic_job
from voc.core.mail import TRANSIENT_EMAIL_ERRORS


@shared_task(
    name="core.email_send",
    acks_late=True,
    autoretry_for=TRANSIENT_EMAIL_ERRORS,
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
)
def email_send_task(message: dict) -> None:
    """Send one rendered email (see voc.core.mail.email_queue); retried on transient errors."""
    services.email_send_rendered(message=message)


@periodic_job(
    "core.heartbeat",
    every=timedelta(minutes=1),
    description="Proves worker and beat are alive; the home page shows its age to admins.",
)
def heartbeat() -> int:
    return 0


@periodic_job(
    "core.clear_expired_sessions",
    crontab={"minute": "17", "hour": "3"},
    description="Deletes expired login sessions.",
)
def clear_expired_sessions() -> int:
    return services.session_delete_expired()


@periodic_job(
    "core.prune_records",
    crontab={"minute": "27", "hour": "3"},
    description="Deletes job-run records and outbox mail past their retention.",
)
def prune_records() -> int:
    return services.records_prune(
        job_runs_older_than=settings.JOB_RUN_RETENTION, outbox_older_than=settings.OUTBOX_RETENTION
    )
