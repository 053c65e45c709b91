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


# --- feedback items: sentiment of the verbatims a batch brought in ----------------------------

from celery import shared_task  # noqa: E402

from feedback.items.services import (  # noqa: E402
    SENTIMENT_BATCH,
    SENTIMENT_SWEEP,
    SENTIMENT_TASK,
    feedback_item_ids_unscored,
    feedback_items_score_sentiment,
)


@shared_task(name=SENTIMENT_TASK, acks_late=True, ignore_result=True)
def feedback_items_sentiment_task(item_ids: list[int]) -> int:
    # Idempotent: only items still without sentiment are scored.
    return feedback_items_score_sentiment(item_ids=item_ids)


@periodic_job(
    SENTIMENT_SWEEP,
    every=timedelta(minutes=5),
    description="Scores feedback items whose sentiment task was lost or has not run yet.",
)
def feedback_items_sentiment_sweep() -> int:
    scored = 0
    for _ in range(10):  # at most 10 batches a run; the next run goes on
        ids = feedback_item_ids_unscored(limit=SENTIMENT_BATCH)
        done = feedback_items_score_sentiment(item_ids=ids) if ids else 0
        scored += done
        if done == 0:
            break
    return scored


# Post-contact surveys: the invitation job lives with its feature.
from feedback.surveys.tasks import survey_invitations  # noqa: E402, F401
