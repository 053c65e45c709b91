"""``manage.py import_feedback FILE``: import feedback items from a CSV or NDJSON file
(docs/feedback-items.md)."""

import getpass

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contacts.ingest.files import FORMATS
from contacts.ingest.service import MAX_BATCH
from feedback.items.imports import DEFAULT_BATCH, ImportFailed, feedback_import_file


class Command(BaseCommand):
    help = (
        "Import feedback items (survey answers, complaints, reviews...) from a CSV or NDJSON "
        "file (.gz accepted), in feedback field names or through a mapping file. Rows that "
        "cannot be imported go to an error report (line, field, reason)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file")
        parser.add_argument("--mapping", help="a mapping file (JSON or TOML)")
        parser.add_argument("--format", choices=FORMATS, help="default: from the extension")
        parser.add_argument("--source", default="", help="the source of every item")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH)
        parser.add_argument("--errors", metavar="REPORT.csv", help="where to write the report")
        parser.add_argument("--encoding", default="utf-8")
        parser.add_argument("--user", default="", help="who runs the import (default: OS user)")

    def handle(self, *args, **options) -> None:
        if not 1 <= options["batch_size"] <= MAX_BATCH:
            raise CommandError(f"--batch-size must be between 1 and {MAX_BATCH}")
        try:
            user = options["user"] or getpass.getuser()
        except (KeyError, OSError):
            user = ""
        try:
            summary = feedback_import_file(
                path=options["file"],
                mapping=options["mapping"],
                source=options["source"],
                file_format=options["format"],
                encoding=options["encoding"],
                batch_size=options["batch_size"],
                errors_path=options["errors"],
                started_by=user,
            )
        except ImportFailed as failure:
            raise CommandError(f"Import failed: {failure}") from None
        counts = summary.counts()
        self.stdout.write(
            "Read {read:,} rows: {created:,} created, {updated:,} updated, {unchanged:,} "
            "unchanged, {rejected:,} rejected.".format(**counts)
        )
        for warning in summary.warnings:
            self.stdout.write(f"Note: {warning}")
        if summary.error_report:
            self.stdout.write(f"Error report: {summary.error_report}")
