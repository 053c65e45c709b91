from datetime import timedelta

from celery import shared_task

from contacts import services
from voc.core.jobs import periodic_job

SENTIMENT_BATCH = 1000


def enqueue_sentiment(contact_ids: list[int]) -> None:
    """Queue sentiment scoring in batches (called after the ingest transaction commits)."""
    for start in range(0, len(contact_ids), SENTIMENT_BATCH):
        contact_sentiment_task.delay(contact_ids[start : start + SENTIMENT_BATCH])


@shared_task(name="contacts.sentiment", acks_late=True, ignore_result=True)
def contact_sentiment_task(contact_ids: list[int]) -> int:
    # Idempotent: only contacts still without sentiment are scored.
    return services.contact_sentiment_update(contact_ids=contact_ids)


@periodic_job(
    "contacts.sentiment_sweep",
    every=timedelta(minutes=5),
    description="Scores contacts whose sentiment task was lost or has not run yet.",
)
def sentiment_sweep() -> int:
    scored = 0
    for _ in range(10):  # at most 10 batches a run; the next run goes on
        ids = services.contacts_without_sentiment(limit=SENTIMENT_BATCH)
        if not ids:
            break
        done = services.contact_sentiment_update(contact_ids=ids)
        scored += done
        if done == 0:
            break
    return scored
