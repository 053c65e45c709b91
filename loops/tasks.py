"""Loops' Celery tasks and periodic jobs, one module per part (found by autodiscovery here)."""

from loops.digests.tasks import digests_due_job, digests_instant_job
from loops.followups.tasks import follow_ups_open_job

__all__ = ["digests_due_job", "digests_instant_job", "follow_ups_open_job"]

# The bcc digests' build task (queued by loops.digests_due, one chunk of subscriptions each).
from loops.digests.tasks import digests_build_task

__all__ += ["digests_build_task"]
