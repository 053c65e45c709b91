"""Queueing the contacts app's background work, by task name.

Services queue tasks and tasks call services; naming the task here instead of importing
contacts.tasks keeps that a one-way street (tasks -> services -> queue).
"""

from celery import current_app
from django.db import transaction

SENTIMENT_TASK = "contacts.sentiment"
SENTIMENT_BATCH = 1000


def enqueue_sentiment(contact_ids: list[int]) -> None:
    """Queue sentiment scoring in batches of SENTIMENT_BATCH ids."""
    for start in range(0, len(contact_ids), SENTIMENT_BATCH):
        current_app.send_task(SENTIMENT_TASK, args=[contact_ids[start : start + SENTIMENT_BATCH]])


def enqueue_sentiment_on_commit(contact_ids: list[int]) -> None:
    """Queue scoring once the current transaction commits (nothing if it rolls back)."""
    ids = list(contact_ids)
    transaction.on_commit(lambda: enqueue_sentiment(ids))
