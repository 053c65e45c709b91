"""``manage.py import_contacts FILE``: import contacts from a CSV or NDJSON file (docs/ingest.md)."""

import getpass
import sys
from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from contacts.ingest.files import FORMATS
from contacts.ingest.imports import (
    DEFAULT_BATCH,
    ImportFailed,
    ImportInterrupted,
    ImportSummary,
    import_file,
)
from contacts.ingest.service import MAX_BATCH


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (some containers)
        return ""


class Command(BaseCommand):
    help = (
        "Import contacts from a CSV or NDJSON file (.gz accepted), in VoC's own field names or "
        "through a mapping. Rows that cannot be imported go to an error report; see "
        "docs/ingest.md."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="the CSV or NDJSON file (optionally gzip-compressed)")
        parser.add_argument(
            "--mapping",
            help="a mapping file (JSON or TOML) or the name of a saved mapping",
        )
        parser.add_argument(
            "--save-mapping",
            metavar="NAME",
            default="",
            help="save the --mapping under this name for later runs",
        )
        parser.add_argument(
            "--format", choices=FORMATS, help="the file format (default: from the extension)"
        )
        parser.add_argument(
            "--source", default="", help="the source of every contact (wins over the file)"
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=DEFAULT_BATCH,
            help=f"rows committed together (1-{MAX_BATCH}, default {DEFAULT_BATCH})",
        )
        parser.add_argument(
            "--errors",
            metavar="REPORT.csv",
            help="where to write the error report (default: next to the file, or var/imports/)",
        )
        parser.add_argument("--encoding", default="utf-8", help="the file's text encoding")
        parser.add_argument("--user", default="", help="who runs the import (default: OS user)")
        parser.add_argument(
            "--no-progress", action="store_true", help="no progress bar on standard error"
        )

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        if not 1 <= options["batch_size"] <= MAX_BATCH:
            raise CommandError(f"--batch-size must be between 1 and {MAX_BATCH}")
        if options["save_mapping"] and not options["mapping"]:
            raise CommandError("--save-mapping needs --mapping: the mapping to save")
        bar = self._progress_bar(path, enabled=not options["no_progress"])
        try:
            summary = import_file(
                path=path,
                mapping=options["mapping"],
                save_mapping=options["save_mapping"],
                file_format=options["format"],
                source=options["source"],
                batch_size=options["batch_size"],
                errors_path=options["errors"],
                encoding=options["encoding"],
                started_by=options["user"] or _os_user(),
                progress=bar.progress if bar else None,
            )
        except ImportFailed as failure:
            if bar:
                bar.close()
            self._report(failure.summary, verb="Failed after reading")
            raise CommandError(f"{path}: {failure}") from None
        except ImportInterrupted as interrupted:
            if bar:
                bar.close()
            self._report(interrupted.summary, verb="Interrupted after reading")
            raise CommandError(
                "interrupted: the batches committed so far are kept; run the same command "
                "again to finish (nothing is imported twice)",
                returncode=130,
            ) from None
        if bar:
            bar.finish()
        for warning in summary.warnings:
            self.stderr.write(f"Warning: {warning}")
        self._report(summary, verb="Read")

    def _report(self, summary: ImportSummary, *, verb: str) -> None:
        elapsed = timedelta(seconds=round(summary.seconds))
        self.stdout.write(
            f"{verb} {summary.rows_read:,} row{'' if summary.rows_read == 1 else 's'}: "
            f"{summary.created:,} created, "
            f"{summary.updated:,} updated, {summary.unchanged:,} unchanged, "
            f"{summary.rejected:,} rejected ({summary.rows_per_second:,.0f} rows/s, {elapsed})."
        )
        if summary.error_report and summary.rejected:
            self.stdout.write(
                f"Rejected rows (line, field, reason) are listed in {summary.error_report}"
            )
        elif summary.error_report:
            self.stdout.write(f"Error report (empty): {summary.error_report}")
        self.stdout.write(f"Recorded as import run {summary.run.pk}.")

    def _progress_bar(self, path: Path, *, enabled: bool):
        if not enabled or not sys.stderr.isatty():
            return None
        try:
            size = path.stat().st_size
        except OSError:
            return None  # import_file reports the unreadable file
        return _Bar(size, path.name)


class _Bar:
    """tqdm over the bytes of the file read so far (compressed bytes for a .gz file)."""

    def __init__(self, size: int, name: str) -> None:
        from tqdm import tqdm

        self._bar = tqdm(
            total=size, unit="B", unit_scale=True, unit_divisor=1024, desc=name, file=sys.stderr
        )
        self._done = 0
        self._size = size

    def progress(self, position: int) -> None:
        position = min(position, self._size)
        if position > self._done:
            self._bar.update(position - self._done)
            self._done = position

    def finish(self) -> None:
        self.progress(self._size)
        self.close()

    def close(self) -> None:
        self._bar.close()
