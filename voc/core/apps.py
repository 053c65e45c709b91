from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CoreConfig(AppConfig):
    """Platform plumbing every app may use: run records of periodic jobs, the email outbox,
    the demo-data registry. Imports no other VoC app."""

    name = "voc.core"
    label = "core"
    verbose_name = "Platform"

    def ready(self) -> None:
        from celery.signals import task_prerun
        from django.core.signals import request_started

        from voc.core.business import business_settings_forget_cached
        from voc.core.jobs import sync_periodic_jobs_after_migrate

        post_migrate.connect(sync_periodic_jobs_after_migrate, sender=self)
        # Business settings are read from a per-thread copy: each request and task starts fresh.
        request_started.connect(business_settings_forget_cached, dispatch_uid="bizsettings-req")
        task_prerun.connect(business_settings_forget_cached, dispatch_uid="bizsettings-task")
