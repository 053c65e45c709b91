from datetime import datetime, timedelta

from django.contrib.sessions.models import Session
from django.utils import timezone

from voc.core.mail import EmailData, TransientEmailError, email_build, is_transient
from voc.core.models import JobRun, OutboxMessage


def email_send_rendered(*, message: EmailData) -> None:
    """Send a rendered message; transient failures are raised as TransientEmailError so the
    task retries them, anything else fails for good."""
    try:
        email_build(message).send()
    except Exception as exc:
        if is_transient(exc):
            raise TransientEmailError(str(exc)) from exc
        raise


def session_delete_expired() -> int:
    deleted, _ = Session.objects.filter(expire_date__lt=timezone.now()).delete()
    return deleted


def job_runs_mark_lost(*, started_before: datetime) -> int:
    """Runs still "running" long after any task could have finished: their worker died or hit
    the hard time limit, so nothing else will ever close them."""
    return JobRun.objects.filter(
        status=JobRun.Status.RUNNING, started_at__lt=started_before
    ).update(
        status=JobRun.Status.FAILED,
        finished_at=timezone.now(),
        error="The run never finished: its worker stopped or hit the time limit.",
    )


def records_prune(*, job_runs_older_than: timedelta, outbox_older_than: timedelta) -> int:
    now = timezone.now()
    runs, _ = JobRun.objects.filter(started_at__lt=now - job_runs_older_than).delete()
    mails, _ = OutboxMessage.objects.filter(created_at__lt=now - outbox_older_than).delete()
    return runs + mails
