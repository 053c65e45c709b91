"""VoC's Celery app with a pause inside a task, for the killed-worker tests.

    VOC_PAUSE_AT_CALL=2 VOC_PAUSE_FILE=/tmp/x celery -A tests.integration.paused_worker worker

In the worker's pool process, the second sentiment update (``contact_sentiment_update``, from
the scoring task or the sweep) runs as always (scores written, rollup delta applied) up to
its COMMIT; there it creates ``/tmp/x`` and waits, so the test kills the worker at exactly
that point instead of hoping a timer lands inside a task. With ``VOC_PAUSE_IN=inbound`` the
pause is in the threading of an inbound email (``inbound_email_thread``) instead. ``VOC_SENTIMENT_BATCH`` makes the
sweep's batches smaller, so a sweep run has several, each committed on its own.
"""

import os
import time
from pathlib import Path

from celery.signals import worker_process_init

from voc.celery import app

__all__ = ["app"]

GIVE_UP_AFTER = 120  # seconds: a worker nobody kills goes on (and its test fails)


@worker_process_init.connect
def pause_inside_a_task(**kwargs) -> None:
    from django.db import connections

    from contacts import tasks

    if os.environ.get("VOC_SENTIMENT_BATCH"):
        tasks.SENTIMENT_BATCH = int(os.environ["VOC_SENTIMENT_BATCH"])
    pause_at = int(os.environ["VOC_PAUSE_AT_CALL"])
    pause_file = Path(os.environ["VOC_PAUSE_FILE"])
    target = {"sentiment": "contact_sentiment_update", "inbound": "inbound_email_thread"}[
        os.environ.get("VOC_PAUSE_IN", "sentiment")
    ]
    service = getattr(tasks, target)
    wrapper_class = type(connections["default"])
    commit = wrapper_class.commit
    calls = 0
    pausing = False

    def service_with_a_pause(**kwargs):
        nonlocal calls, pausing
        calls += 1
        pausing = calls == pause_at
        try:
            return service(**kwargs)
        finally:
            pausing = False

    def commit_after_a_pause(self) -> None:
        if pausing:
            pause_file.touch()
            deadline = time.monotonic() + GIVE_UP_AFTER
            while time.monotonic() < deadline:
                time.sleep(0.1)
        commit(self)

    setattr(tasks, target, service_with_a_pause)
    wrapper_class.commit = commit_after_a_pause
