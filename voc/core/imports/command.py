"""The body of every import command (``import_contacts``, ``import_feedback``): the same
options, progress bar, summary and exit codes. A command names what it imports and calls its
import function in ``run_import``."""

import getpass
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from voc.core.imports.files import FORMATS
from voc.core.imports.runner import ImportFailed, ImportInterrupted
from voc.core.imports.runs import ImportSummary


def os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no name for this uid (some containers)
        return ""


class ImportCommand(BaseCommand):
    noun = "row"  # what one row is: "the source of every contact"
    default_batch = 1
    max_batch = 1

    def run_import(self, **kwargs: Any) -> ImportSummary:
        """The app's import function (contacts' ``import_file``) called with ``kwargs``."""
        raise NotImplementedError

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
            "--source", default="", help=f"the source of every {self.noun} (wins over the file)"
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=self.default_batch,
            help=f"rows committed together (1-{self.max_batch}, default {self.default_batch})",
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

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not 1 <= options["batch_size"] <= self.max_batch:
            raise CommandError(f"--batch-size must be between 1 and {self.max_batch}")
        if options["save_mapping"] and not options["mapping"]:
            raise CommandError("--save-mapping needs --mapping: the mapping to save")
        bar = self._progress_bar(path, enabled=not options["no_progress"])
        try:
            summary = self.run_import(
                path=path,
                mapping=options["mapping"],
                save_mapping=options["save_mapping"],
                file_format=options["format"],
                source=options["source"],
                batch_size=options["batch_size"],
                errors_path=options["errors"],
                encoding=options["encoding"],
                started_by=options["user"] or os_user(),
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

    def _progress_bar(self, path: Path, *, enabled: bool) -> "_Bar | None":
        if not enabled or not sys.stderr.isatty():
            return None
        try:
            size = path.stat().st_size
        except OSError:
            return None  # the import reports the unreadable file
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
