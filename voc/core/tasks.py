from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from voc.core import links, sendonce, services  # sendonce also holds the core.send_once task
from voc.core.jobs import periodic_job
from voc.core.mail import EMAIL_SEND_TASK, EmailData, TransientEmailError


@shared_task(
    name=EMAIL_SEND_TASK,
    acks_late=True,
    # The service raises every transient failure as TransientEmailError; anything else it
    # re-raises is permanent (a 554 greeting is an SMTPConnectError too) and must not retry.
    autoretry_for=(TransientEmailError,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=6,
)
def email_send_task(message: EmailData) -> None:
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
    description="Closes runs whose worker died; deletes job runs and outbox mail past retention.",
)
def prune_records() -> int:
    lost = services.job_runs_mark_lost(
        started_before=timezone.now() - timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT * 2)
    )
    return (
        lost
        + services.records_prune(
            job_runs_older_than=settings.JOB_RUN_RETENTION,
            outbox_older_than=settings.OUTBOX_RETENTION,
        )
        + links.link_uses_prune()
    )


@periodic_job(
    "core.send_once_sweep",
    every=timedelta(minutes=5),
    description="Re-queues send-once emails whose task was lost; marks those a worker left "
    "half-sent as unknown, for a person to check (never resent blindly).",
)
def send_once_sweep_job() -> int:
    return sendonce.send_once_sweep()
