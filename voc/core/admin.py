from django.contrib import admin

from voc.core.models import BusinessSettingValue, JobRun


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    list_display = ["job", "status", "started_at", "finished_at", "rows_touched", "worker"]
    list_filter = ["job", "status"]
    readonly_fields = [f.name for f in JobRun._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(BusinessSettingValue)
class BusinessSettingValueAdmin(admin.ModelAdmin):
    """Read-only: values change on the business settings page (voc.core.business), which
    checks them and records each change in the audit trail."""

    list_display = ["key", "role", "team", "value", "updated_at", "updated_by"]
    list_filter = ["key"]
    readonly_fields = [f.name for f in BusinessSettingValue._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
