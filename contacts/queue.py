"""Queueing the contacts app's background work, by task name.

Services queue tasks and tasks call services; naming the task here instead of importing
contacts.tasks keeps that a one-way street (tasks -> services -> queue).
"""

from celery import current_app
from django.db import transaction

SENTIMENT_TASK = "contacts.sentiment"
INBOUND_THREAD_TASK = "contacts.inbound_thread"
SENTIMENT_BATCH = 1000


def enqueue_sentiment(contact_ids: list[int]) -> None:
    """Queue sentiment scoring in batches of SENTIMENT_BATCH ids."""
    for start in range(0, len(contact_ids), SENTIMENT_BATCH):
        current_app.send_task(SENTIMENT_TASK, args=[contact_ids[start : start + SENTIMENT_BATCH]])


def enqueue_sentiment_on_commit(contact_ids: list[int]) -> None:
    """Queue scoring once the current transaction commits (nothing if it rolls back)."""
    ids = list(contact_ids)
    transaction.on_commit(lambda: enqueue_sentiment(ids))


def enqueue_inbound_thread(inbound_id: int) -> None:
    current_app.send_task(INBOUND_THREAD_TASK, args=[inbound_id])


def enqueue_inbound_thread_on_commit(inbound_id: int) -> None:
    """Queue threading a stored email into a contact once the transaction commits."""
    transaction.on_commit(lambda: enqueue_inbound_thread(inbound_id))
