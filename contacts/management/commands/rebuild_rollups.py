"""``manage.py rebuild_rollups [--check]``: recompute the contact rollups (daily and weekly)
from the contacts."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction

from contacts.models import ContactRollup, ContactWeekRollup
from contacts.rollups import COLUMNS, customer_messages_wrong, rollup_snapshot, rollups_rebuild

SHOWN_DIFFERENCES = 50


def _lock_rollups() -> None:
    """Keep ingestion from changing rollups while they are rebuilt or compared. Every write
    path updates the rollups in the transaction that writes the contacts, so while this lock
    is held no contact change can commit either. (SQLite has one writer at a time anyway.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"LOCK TABLE {ContactRollup._meta.db_table}, {ContactWeekRollup._meta.db_table} "
                "IN EXCLUSIVE MODE"
            )


class Command(BaseCommand):
    help = (
        "Recompute every contact rollup (daily and weekly) from the contacts, and each "
        "contact's count of customer messages. With --check, "
        "compare the rollups kept current by ingestion with a rebuild, change nothing, and "
        "exit 1 if they differ."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--check",
            action="store_true",
            help="compare with a rebuild (rolled back) instead of replacing the rollups",
        )

    def handle(self, *args, **options) -> None:
        if not options["check"]:
            with transaction.atomic():
                _lock_rollups()
                rows = rollups_rebuild()
            self.stdout.write(f"Rebuilt the contact rollups: {rows:,} rows.")
            return

        with transaction.atomic():
            _lock_rollups()
            wrong_counts = customer_messages_wrong()
            kept = {model: rollup_snapshot(model) for model in (ContactRollup, ContactWeekRollup)}
            rollups_rebuild()
            rebuilt = {model: rollup_snapshot(model) for model in kept}
            transaction.set_rollback(True)  # a check changes nothing

        failed = False
        for model, period in ((ContactRollup, "day"), (ContactWeekRollup, "week")):
            failed |= self._compare(kept[model], rebuilt[model], period)
        if wrong_counts:
            failed = True
            self.stdout.write(
                f"{wrong_counts:,} contacts' counts of customer messages differ from their "
                "messages."
            )
        if failed:
            raise CommandError("the rollups differ from a rebuild; run rebuild_rollups to fix them")

    def _compare(self, kept: dict, rebuilt: dict, period: str) -> bool:
        """Report how ``kept`` differs from ``rebuilt``; True when it does."""
        differing = sorted(
            key for key in kept.keys() | rebuilt.keys() if kept.get(key) != rebuilt.get(key)
        )
        kind = "daily" if period == "day" else "weekly"
        if not differing:
            self.stdout.write(f"The {kind} rollups match a rebuild ({len(kept):,} rows).")
            return False
        self.stdout.write(
            f"{len(differing):,} {kind} rollup keys differ from a rebuild ({period}, reason "
            f"id, channel, team id, segment: kept → rebuilt as {', '.join(COLUMNS)}):"
        )
        for key in differing[:SHOWN_DIFFERENCES]:
            day, reason_id, channel, team_id, segment = key
            self.stdout.write(
                f"  {day.isoformat()} reason={reason_id} {channel} team={team_id} "
                f"segment={segment or '-'}: {_values(kept.get(key))} → {_values(rebuilt.get(key))}"
            )
        if len(differing) > SHOWN_DIFFERENCES:
            self.stdout.write(f"  ... and {len(differing) - SHOWN_DIFFERENCES:,} more")
        return True


def _values(values: tuple | None) -> str:
    return "missing" if values is None else "(" + ", ".join(str(v) for v in values) + ")"
