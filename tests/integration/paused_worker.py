"""VoC's Celery app with a pause inside sentiment scoring, for the killed-worker test.

    VOC_PAUSE_AT_CALL=2 VOC_PAUSE_FILE=/tmp/x celery -A tests.integration.paused_worker worker

In the worker's pool process, the second sentiment update (``contact_sentiment_update``, from
the scoring task or the sweep) runs as always (scores written, rollup delta applied) up to
its COMMIT; there it creates ``/tmp/x`` and waits, so the test kills the worker at exactly
that point instead of hoping a timer lands inside a task. ``VOC_SENTIMENT_BATCH`` makes the
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
def pause_inside_sentiment_scoring(**kwargs) -> None:
    from django.db import connections

    from contacts import tasks

    if os.environ.get("VOC_SENTIMENT_BATCH"):
        tasks.SENTIMENT_BATCH = int(os.environ["VOC_SENTIMENT_BATCH"])
    pause_at = int(os.environ["VOC_PAUSE_AT_CALL"])
    pause_file = Path(os.environ["VOC_PAUSE_FILE"])
    update = tasks.contact_sentiment_update
    wrapper_class = type(connections["default"])
    commit = wrapper_class.commit
    calls = 0
    pausing = False

    def contact_sentiment_update(**kwargs):
        nonlocal calls, pausing
        calls += 1
        pausing = calls == pause_at
        try:
            return update(**kwargs)
        finally:
            pausing = False

    def commit_after_a_pause(self) -> None:
        if pausing:
            pause_file.touch()
            deadline = time.monotonic() + GIVE_UP_AFTER
            while time.monotonic() < deadline:
                time.sleep(0.1)
        commit(self)

    tasks.contact_sentiment_update = contact_sentiment_update
    wrapper_class.commit = commit_after_a_pause
