"""``manage.py rebuild_feedback_rollups [--check]``: recompute the feedback rollups."""

from django.core.management.base import BaseCommand, CommandError, CommandParser

from feedback.items.rollups import (
    COLUMNS,
    KEY_COLUMNS,
    feedback_rollups_differences,
    feedback_rollups_rebuild,
)

SHOWN_DIFFERENCES = 50


class Command(BaseCommand):
    help = (
        "Recompute every feedback rollup from the feedback items. With --check, compare the "
        "rollups the write paths kept with a recount, change nothing, and exit 1 if they differ."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true", help="compare instead of rebuilding")

    def handle(self, *args, **options) -> None:
        if not options["check"]:
            rows = feedback_rollups_rebuild()
            self.stdout.write(f"Rebuilt the feedback rollups: {rows:,} rows.")
            return
        differing = feedback_rollups_differences()
        if not differing:
            self.stdout.write("The feedback rollups match a recount.")
            return
        self.stdout.write(
            f"{len(differing):,} feedback rollup keys differ from a recount "
            f"({', '.join(KEY_COLUMNS)}: kept → recounted as {', '.join(COLUMNS)}):"
        )
        for key, (kept, recounted) in list(differing.items())[:SHOWN_DIFFERENCES]:
            self.stdout.write(f"  {key}: {kept} → {recounted}")
        raise CommandError("The feedback rollups differ from a recount; run without --check.")
