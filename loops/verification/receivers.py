"""Verification's reaction to an issue becoming fixed: the first check is queued (after the
commit: the signal is sent then). With the broker down it is logged and the daily job
(loops.verification_sweep) computes it instead."""

from typing import Any

from loops.models import Issue
from voc.core.queueing import enqueue

COMPUTE_TASK = "loops.verification_compute"  # loops/verification/tasks.py, named not imported


def on_issue_status_changed(sender: Any, *, issue_id: int, after: str, **kwargs: Any) -> None:
    if after == Issue.Status.FIXED:
        enqueue(COMPUTE_TASK, issue_id, catch_up="loops.verification_sweep")
