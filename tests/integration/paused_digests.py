"""VoC's Celery app with a pause inside the digests, for the killed-worker tests.

    VOC_PAUSE_AT_CALL=3 VOC_PAUSE_FILE=/tmp/x VOC_PAUSE_IN=claim \
        celery -A tests.integration.paused_digests worker

In the worker's pool process:

- ``VOC_PAUSE_IN=claim``: the third claim of a digest (``_claim_and_queue``: the Digest row
  inserted, its send-once row asked for, the cursor moved) runs up to its COMMIT; there it
  creates ``/tmp/x`` and waits, so the test kills the worker in the middle of a digest run;
- ``VOC_PAUSE_IN=sent``: the third send-once email is handed to the backend (the outbox has
  it) and the worker stops before recording it sent: the window no database closes.
"""

import os
import time
from pathlib import Path

from celery.signals import worker_process_init

from voc.celery import app

__all__ = ["app"]

GIVE_UP_AFTER = 120  # seconds: a worker nobody kills goes on (and its test fails)


@worker_process_init.connect
def pause_inside_a_digest(**kwargs) -> None:
    from django.db import connections

    from loops.digests import services
    from voc.core import sendonce

    pause_at = int(os.environ["VOC_PAUSE_AT_CALL"])
    pause_file = Path(os.environ["VOC_PAUSE_FILE"])
    calls = 0
    pausing = False

    def wait_here() -> None:
        pause_file.touch()
        deadline = time.monotonic() + GIVE_UP_AFTER
        while time.monotonic() < deadline:
            time.sleep(0.1)

    if os.environ.get("VOC_PAUSE_IN", "claim") == "sent":
        record_sent = sendonce._record_sent

        def record_after_a_pause(mine, message) -> None:
            nonlocal calls
            calls += 1
            if calls == pause_at:
                wait_here()
            record_sent(mine, message)

        sendonce._record_sent = record_after_a_pause
        return

    claim = services._claim_and_queue
    wrapper_class = type(connections["default"])
    commit = wrapper_class.commit

    def claim_with_a_pause(*args, **kwargs):
        nonlocal calls, pausing
        calls += 1
        pausing = calls == pause_at
        try:
            return claim(*args, **kwargs)
        finally:
            pausing = False

    def commit_after_a_pause(self) -> None:
        if pausing:
            wait_here()
        commit(self)

    services._claim_and_queue = claim_with_a_pause
    wrapper_class.commit = commit_after_a_pause
