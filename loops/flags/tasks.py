"""The flags' periodic job (voc.core.jobs), declared when loops.flags.apps.flags_ready() imports
this module."""

from datetime import timedelta

from loops.flags.index import issues_reindex_stale
from voc.core.jobs import periodic_job


@periodic_job(
    "loops.flags_reindex",
    every=timedelta(minutes=10),
    description="Rebuilds the search documents of open issues that changed without their "
    "document following (merges, erasures, bulk updates), for the flag suggestions, and drops "
    "those of issues that closed.",
)
def flags_reindex_job() -> int:
    return issues_reindex_stale()
