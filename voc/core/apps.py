from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """Platform plumbing every app may use: run records of periodic jobs, the email outbox,
    the demo-data registry. Imports no other VoC app."""

    name = "voc.core"
    label = "core"
    verbose_name = "Platform"

    def ready(self) -> None:
        from voc.core.jobs import sync_periodic_jobs_after_migrate

        post_migrate.connect(sync_periodic_jobs_after_migrate, sender=self)
