"""SLA policies in the Django admin: saved through the service (validated, audited)."""

from django import forms
from django.contrib import admin

from loops.models import SlaPolicy
from loops.sla.services import sla_policy_check, sla_policy_set


class SlaPolicyAdminForm(forms.ModelForm):
    class Meta:
        model = SlaPolicy
        fields = ["severity", "response_hours", "resolution_hours"]

    def clean(self):
        data = super().clean()
        if data.get("response_hours") is not None and data.get("resolution_hours") is not None:
            try:
                sla_policy_check(
                    response_hours=data["response_hours"],
                    resolution_hours=data["resolution_hours"],
                )
            except forms.ValidationError as error:
                for field, messages in error.message_dict.items():
                    for message in messages:
                        self.add_error(field, message)
        return data


class SlaPolicyAdmin(admin.ModelAdmin):
    form = SlaPolicyAdminForm
    list_display = ["severity", "response_hours", "resolution_hours"]

    def save_model(self, request, obj, form, change):
        saved = sla_policy_set(
            severity=obj.severity,
            response_hours=obj.response_hours,
            resolution_hours=obj.resolution_hours,
            by=request.user,
            why="Django admin",
        )
        obj.pk = saved.pk

    def get_readonly_fields(self, request, obj=None):
        return ["severity"] if obj is not None else []

    def has_delete_permission(self, request, obj=None) -> bool:
        return False  # a severity always has a policy (a stored one, else the default)


def register_sla_admin() -> None:
    if not admin.site.is_registered(SlaPolicy):
        admin.site.register(SlaPolicy, SlaPolicyAdmin)
