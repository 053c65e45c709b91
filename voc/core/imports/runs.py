"""The summary of one file import and where its run is recorded (``RunLog``: contacts'
``ImportRun``, with the kind of import)."""

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

# The statuses of a run (contacts.models.ImportRun.Status has the same values).
RUNNING = "running"
FINISHED = "finished"
FAILED = "failed"
INTERRUPTED = "interrupted"


@dataclass
class ImportSummary:
    run: Any  # the record the RunLog started (contacts.models.ImportRun)
    rows_read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    error_report: Path | None = None
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0

    def counts(self) -> dict[str, int]:
        return {
            "read": self.rows_read,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "rejected": self.rejected,
        }


class RunLog(Protocol):
    """Where the runs of one kind of import are recorded (contacts.ingest.runs.ImportRunLog)."""

    def start(self, *, file_name: str, mapping_name: str, started_by: str) -> Any:
        """A new record, running; it becomes ``ImportSummary.run``."""
        ...

    def progress(self, summary: ImportSummary) -> None:
        """The counts so far, after each batch."""
        ...

    def finish(self, summary: ImportSummary, *, status: str, error_report: str, error: str) -> None:
        """The end: status, counts, the report kept (or "") and the error (or "")."""
        ...
