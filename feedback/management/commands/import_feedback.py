"""``manage.py import_feedback FILE``: import feedback items from a CSV or NDJSON file
(docs/feedback-items.md). The same options, summary and exit codes as ``import_contacts``."""

from typing import Any

from contacts.ingest.service import MAX_BATCH
from feedback.items.imports import DEFAULT_BATCH, feedback_import_file
from voc.core.imports.command import ImportCommand
from voc.core.imports.runs import ImportSummary


class Command(ImportCommand):
    help = (
        "Import feedback items (survey answers, complaints, reviews...) from a CSV or NDJSON "
        "file (.gz accepted), in feedback field names or through a mapping. Rows that cannot "
        "be imported go to an error report; see docs/feedback-items.md."
    )
    noun = "item"
    default_batch = DEFAULT_BATCH
    max_batch = MAX_BATCH

    def run_import(self, **kwargs: Any) -> ImportSummary:
        return feedback_import_file(**kwargs)
