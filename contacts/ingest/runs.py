"""Where file imports keep their records, for every kind of import (contacts, feedback
items): runs in ``ImportRun`` and saved mappings in ``ImportMapping``, each kept apart by
``kind``. voc/core/imports/ calls them through its ``RunLog`` and ``MappingStore``."""

from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from contacts.models import ImportMapping, ImportRun
from voc.core.imports.runs import ImportSummary


@dataclass(frozen=True)
class ImportRunLog:
    """A ``RunLog``: each run of one kind of import is an ``ImportRun`` of that kind."""

    kind: str

    def start(self, *, file_name: str, mapping_name: str, started_by: str) -> ImportRun:
        return ImportRun.objects.create(
            kind=self.kind,
            file_name=file_name[:500],
            mapping_name=mapping_name[:100],
            started_by=started_by[:150],
        )

    def progress(self, summary: ImportSummary) -> None:
        ImportRun.objects.filter(pk=summary.run.pk).update(
            rows_read=summary.rows_read,
            created=summary.created,
            updated=summary.updated,
            unchanged=summary.unchanged,
            rejected=summary.rejected,
        )

    def finish(self, summary: ImportSummary, *, status: str, error_report: str, error: str) -> None:
        run: ImportRun = summary.run
        run.status = ImportRun.Status(status)
        run.finished_at = timezone.now()
        run.rows_read = summary.rows_read
        run.created = summary.created
        run.updated = summary.updated
        run.unchanged = summary.unchanged
        run.rejected = summary.rejected
        run.error_report = error_report[:500]
        run.error = error
        run.save()


@dataclass(frozen=True)
class SavedMappings:
    """A ``MappingStore``: the ``ImportMapping`` rows of one kind of import, by name."""

    kind: str

    def get(self, name: str) -> Any | None:
        saved = ImportMapping.objects.filter(kind=self.kind, name=name).first()
        return saved.config if saved is not None else None

    def names(self) -> list[str]:
        return list(
            ImportMapping.objects.filter(kind=self.kind).values_list("name", flat=True)[:20]
        )

    def save(self, name: str, config: dict[str, Any]) -> None:
        ImportMapping.objects.update_or_create(
            kind=self.kind, name=name, defaults={"config": config}
        )
