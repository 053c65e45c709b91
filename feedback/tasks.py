from datetime import timedelta

from feedback.services.sessions import sessions_close_overdue
from voc.core.jobs import periodic_job


@periodic_job(
    "feedback.close_overdue_sessions",
    every=timedelta(minutes=5),
    description="Ends side-by-side sessions left running for more than 4 hours, at 4 hours.",
)
def close_overdue_sessions() -> int:
    return sessions_close_overdue()
