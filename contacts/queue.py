"""Queueing the contacts app's background work, by task name, after commit, never failing the
write that asked for it (voc.core.queueing): with the broker down the sweeps catch up
(contacts.sentiment_sweep, contacts.inbound_sweep).

Services queue tasks and tasks call services; naming the task here instead of importing
contacts.tasks keeps that a one-way street (tasks -> services -> queue).
"""

from django.db import transaction

from voc.core.queueing import enqueue

SENTIMENT_TASK = "contacts.sentiment"
INBOUND_THREAD_TASK = "contacts.inbound_thread"
SENTIMENT_BATCH = 1000


def enqueue_sentiment(contact_ids: list[int]) -> None:
    """Queue sentiment scoring in batches of SENTIMENT_BATCH ids. Never raises: with the
    broker down the contacts stay unscored and the sentiment sweep scores them."""
    for start in range(0, len(contact_ids), SENTIMENT_BATCH):
        batch = contact_ids[start : start + SENTIMENT_BATCH]
        if not enqueue(SENTIMENT_TASK, batch, catch_up="contacts.sentiment_sweep"):
            break  # the broker is down: the sweep takes the rest too


def enqueue_sentiment_on_commit(contact_ids: list[int]) -> None:
    """Queue scoring once the current transaction commits (nothing if it rolls back)."""
    ids = list(contact_ids)
    transaction.on_commit(lambda: enqueue_sentiment(ids))


def enqueue_inbound_thread(inbound_id: int) -> None:
    """Queue threading a stored email; never raises (the inbound sweep threads it)."""
    enqueue(INBOUND_THREAD_TASK, inbound_id, catch_up="contacts.inbound_sweep")


def enqueue_inbound_thread_on_commit(inbound_id: int) -> None:
    """Queue threading a stored email into a contact once the transaction commits."""
    transaction.on_commit(lambda: enqueue_inbound_thread(inbound_id))
