from datetime import timedelta

from feedback.services.reminders import listening_reminders_send
from feedback.services.sessions import sessions_close_overdue
from voc.core.jobs import periodic_job


@periodic_job(
    "feedback.close_overdue_sessions",
    every=timedelta(minutes=5),
    description="Ends side-by-side sessions left running for more than 4 hours, at 4 hours.",
)
def close_overdue_sessions() -> int:
    return sessions_close_overdue()


@periodic_job(
    "feedback.listening_reminders",
    # Hourly, because crontab times are UTC: the service sends from Monday 08:00 in the
    # reporting time zone, whatever that is, and each reminder once.
    crontab={"minute": "0"},
    description="Reminds executives below the weekly listening target last week, once a week "
    "(from Monday 08:00, reporting time).",
)
def listening_reminders() -> int:
    return listening_reminders_send()


# Post-contact surveys: the invitation job lives with its feature.
from feedback.surveys.tasks import survey_invitations  # noqa: E402, F401
