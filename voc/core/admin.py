from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from voc.core.capabilities import signed_in_user
from voc.core.models import BusinessSettingValue, JobRun, SendOnce
from voc.core.sendonce import send_once_resolve


class ReadOnlyAdmin(admin.ModelAdmin[Any]):
    """Rows that only their services write (so every change is audited): the admin shows them
    and never adds, changes or deletes one."""

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin[JobRun]):
    list_display = ["job", "status", "started_at", "finished_at", "rows_touched", "worker"]
    list_filter = ["job", "status"]
    readonly_fields = [f.name for f in JobRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(BusinessSettingValue)
class BusinessSettingValueAdmin(admin.ModelAdmin[BusinessSettingValue]):
    """Read-only: values change on the business settings page (voc.core.business), which
    checks them and records each change in the audit trail."""

    list_display = ["key", "role", "team", "value", "updated_at", "updated_by"]
    list_filter = ["key"]
    readonly_fields = [f.name for f in BusinessSettingValue._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(
        self, request: HttpRequest, obj: BusinessSettingValue | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: BusinessSettingValue | None = None
    ) -> bool:
        return False


@admin.register(SendOnce)
class SendOnceAdmin(admin.ModelAdmin[SendOnce]):
    """Send-once emails. An "unknown" one left the worker's hands and may or may not have gone
    out: check the email service's log for its Message-ID, then say which (voc.core.sendonce)."""

    list_display = ["purpose", "key", "status", "attempts", "created_at", "sent_at"]
    list_filter = ["status", "purpose"]
    search_fields = ["purpose", "key", "message_id", "esp_message_id"]
    readonly_fields = [f.name for f in SendOnce._meta.fields]
    actions = ["mark_delivered", "send_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: SendOnce | None = None) -> bool:
        return False  # the row is what stops a second send

    @admin.action(description="Delivered: the email service's log shows it (mark sent)")
    def mark_delivered(self, request: HttpRequest, queryset: QuerySet[SendOnce]) -> None:
        self._resolve(request, queryset, delivered=True)

    @admin.action(description="Not delivered: the email service's log lacks it (send again)")
    def send_again(self, request: HttpRequest, queryset: QuerySet[SendOnce]) -> None:
        self._resolve(request, queryset, delivered=False)

    def _resolve(
        self, request: HttpRequest, queryset: QuerySet[SendOnce], *, delivered: bool
    ) -> None:
        resolvable = queryset.filter(status__in=[SendOnce.Status.UNKNOWN, SendOnce.Status.FAILED])
        user = signed_in_user(request)
        done = 0
        for email in resolvable:
            send_once_resolve(email=email, delivered=delivered, by=user, why="admin")
            done += 1
        skipped = queryset.count() - done
        self.message_user(request, f"{done} resolved; {skipped} skipped (not unknown or failed).")
