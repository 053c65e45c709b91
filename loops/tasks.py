"""Loops' Celery tasks and periodic jobs, one module per part (found by autodiscovery here)."""

from loops.followups.tasks import follow_ups_open_job

__all__ = ["follow_ups_open_job"]
