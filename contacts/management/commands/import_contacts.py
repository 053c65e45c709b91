"""``manage.py import_contacts FILE``: import contacts from a CSV or NDJSON file (docs/ingest.md)."""

from typing import Any

from contacts.ingest.imports import DEFAULT_BATCH, import_file
from contacts.ingest.service import MAX_BATCH
from voc.core.imports.command import ImportCommand
from voc.core.imports.runs import ImportSummary


class Command(ImportCommand):
    help = (
        "Import contacts from a CSV or NDJSON file (.gz accepted), in VoC's own field names or "
        "through a mapping. Rows that cannot be imported go to an error report; see "
        "docs/ingest.md."
    )
    noun = "contact"
    default_batch = DEFAULT_BATCH
    max_batch = MAX_BATCH

    def run_import(self, **kwargs: Any) -> ImportSummary:
        return import_file(**kwargs)
