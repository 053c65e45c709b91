"""Queueing a task once a write has committed, without ever turning the saved write into an
error: with the broker (Redis) down, sending a task raises after the data is already stored,
and the caller would answer 500 for a write that succeeded. Every such task has a periodic job
that finds the rows it would have handled, so a task that could not be queued is logged and
left to that job.

Tasks are named, not imported: services queue tasks and tasks call services, so naming the task
keeps the imports one-way (tasks -> services -> queueing).
"""

import logging
from typing import Any

from celery import current_app
from celery.app.task import Task
from django.db import transaction

logger = logging.getLogger(__name__)


def enqueue(task: str | Task[..., Any], *args: object, catch_up: str) -> bool:
    """``task.delay(*args)`` (or ``send_task`` for a task given by name); False, with a
    warning naming the ``catch_up`` job, if the broker refused it."""
    name = task if isinstance(task, str) else task.name
    try:
        if isinstance(task, str):
            current_app.send_task(task, args=list(args))
        else:
            task.delay(*args)
    except Exception as error:  # kombu's OperationalError, a timeout, a refused connection
        logger.warning(
            "task %s could not be queued (%s: %s); the periodic job %s catches up",
            name,
            type(error).__name__,
            error,
            catch_up,
        )
        return False
    return True


def enqueue_on_commit(task_name: str, *args: object, catch_up: str) -> None:
    """Queue the task when the surrounding transaction commits (at once outside one)."""
    transaction.on_commit(lambda: enqueue(task_name, *args, catch_up=catch_up))
