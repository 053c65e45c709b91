import logging
import random
from datetime import timedelta

from celery import shared_task

from contacts import services
from voc.core.jobs import periodic_job
from voc.core.queueing import enqueue

logger = logging.getLogger(__name__)

SENTIMENT_BATCH = 1000


def enqueue_sentiment(contact_ids: list[int]) -> None:
    """Queue sentiment scoring in batches (called after the ingest transaction commits).
    Never raises: with the broker down the contacts stay unscored and sentiment_sweep scores
    them, so the write that called this is not reported as failed."""
    for start in range(0, len(contact_ids), SENTIMENT_BATCH):
        batch = contact_ids[start : start + SENTIMENT_BATCH]
        if not enqueue(contact_sentiment_task, batch, catch_up="contacts.sentiment_sweep"):
            break  # the broker is down: the sweep takes the rest too


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


# --- inbound email ----------------------------------------------------------------------------

INBOUND_MAX_RETRIES = 6


def _transient_errors() -> tuple[type[Exception], ...]:
    """Errors worth another try: a lost connection, or a unique constraint that a concurrent
    worker won (two emails of one new thread at once). The COPY writer raises psycopg2's own."""
    from django.db import IntegrityError, OperationalError

    errors: list[type[Exception]] = [IntegrityError, OperationalError]
    try:
        import psycopg2

        errors += [psycopg2.IntegrityError, psycopg2.OperationalError]
    except ImportError:  # pragma: no cover - psycopg2 is a dependency
        pass
    return tuple(errors)


@shared_task(name="contacts.inbound_thread", bind=True, acks_late=True, ignore_result=True)
def inbound_email_thread_task(self, inbound_id: int) -> str | None:
    # Idempotent: the service claims the row with a conditional update; a second run is a no-op.
    from contacts.inbound.services import inbound_email_fail, inbound_email_thread

    try:
        return inbound_email_thread(inbound_id=inbound_id)
    except _transient_errors() as error:
        if self.request.retries < INBOUND_MAX_RETRIES:
            countdown = min(300, 2**self.request.retries) + random.uniform(0, 1)  # noqa: S311
            raise self.retry(exc=error, countdown=countdown) from None
        inbound_email_fail(inbound_id=inbound_id, error=f"Gave up ({type(error).__name__}).")
        raise
    except Exception as error:
        inbound_email_fail(
            inbound_id=inbound_id, error=f"Threading failed ({type(error).__name__})."
        )
        raise


@periodic_job(
    "contacts.inbound_sweep",
    every=timedelta(minutes=5),
    description="Threads inbound emails whose task was lost or has not run yet.",
)
def inbound_sweep() -> int:
    from contacts.inbound.services import inbound_email_thread, inbound_pending_ids

    threaded = 0
    for inbound_id in inbound_pending_ids(older_than=timedelta(minutes=2), limit=500):
        try:
            if inbound_email_thread(inbound_id=inbound_id):
                threaded += 1
        except Exception:  # left pending: the next run tries again
            logger.exception("inbound email %s could not be threaded", inbound_id)
    return threaded
