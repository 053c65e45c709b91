"""VoC's Celery app with a pause at a chosen point of sending fix notices, for the
killed-worker tests (tests/integration/test_notice_worker.py).

    VOC_NOTICE_FAULT=after_accept VOC_PAUSE_AT_CALL=3 VOC_PAUSE_FILE=/tmp/x \
        celery -A tests.integration.paused_notice_worker worker

At the ``VOC_PAUSE_AT_CALL``-th passage through the point, the pool process creates the pause
file and waits, so the test kills the worker exactly there:

- ``in_chunk``: inside a notice chunk's transaction, after the budget was claimed and the
  send-once rows inserted, before the COMMIT;
- ``before_claim``: in send-once's delivery of a chunk, before its emails are claimed;
- ``after_claim``: after the claim (pending → sending) was committed, before rendering;
- ``after_accept``: after the backend accepted the email (the outbox row is written), before
  the row is recorded as sent: the window.
"""

import os
import time
from pathlib import Path

from celery.signals import worker_process_init

from voc.celery import app

__all__ = ["app"]

GIVE_UP_AFTER = 120  # seconds: a worker nobody kills goes on (and its test fails)


@worker_process_init.connect
def pause_at_the_fault(**kwargs) -> None:
    from loops.notices import services as notice_services
    from voc.core import sendonce

    fault = os.environ["VOC_NOTICE_FAULT"]
    pause_at = int(os.environ.get("VOC_PAUSE_AT_CALL", "1"))
    pause_file = Path(os.environ["VOC_PAUSE_FILE"])
    calls = 0

    def pause() -> None:
        nonlocal calls
        calls += 1
        if calls != pause_at:
            return
        pause_file.touch()
        deadline = time.monotonic() + GIVE_UP_AFTER
        while time.monotonic() < deadline:
            time.sleep(0.1)

    if fault == "in_chunk":
        original_many = notice_services.send_once_many

        def send_once_many(**kwargs):
            created = original_many(**kwargs)
            pause()
            return created

        notice_services.send_once_many = send_once_many
    elif fault in ("before_claim", "after_claim"):
        original_claim = sendonce._claim_many

        def claim_many(email_ids):
            if fault == "before_claim":
                pause()
            claimed = original_claim(email_ids)
            if fault == "after_claim":
                pause()
            return claimed

        sendonce._claim_many = claim_many
    elif fault == "after_accept":
        original_record = sendonce._record_sent

        def record_sent(mine, message):
            pause()
            return original_record(mine, message)

        sendonce._record_sent = record_sent
    else:
        raise ValueError(f"unknown fault {fault!r}")
