"""Django admin for support mailboxes (editable) and inbound emails (read-only records)."""

from django.contrib import admin

from contacts.models import InboundEmail, SupportMailbox


@admin.register(SupportMailbox)
class SupportMailboxAdmin(admin.ModelAdmin):
    list_display = ["address", "team", "default_reason", "active", "created_at"]
    list_filter = ["active", "team"]
    search_fields = ["address"]
    autocomplete_fields = ["default_reason"]
    list_select_related = ["team", "default_reason__parent"]


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin):
    """What the webhooks stored, for tracing a missing or misfiled email. Nothing is editable:
    the row is the record of what arrived (redacted) and what became of it."""

    list_display = [
        "received_at", "esp", "from_address", "subject", "kind", "status", "direction",
        "mailbox", "contact",
    ]  # fmt: skip
    list_filter = ["kind", "status", "direction", "esp", "mailbox"]
    search_fields = ["message_id", "from_address", "subject"]
    date_hierarchy = "received_at"
    list_select_related = ["mailbox"]
    raw_id_fields = ["customer", "contact"]

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in InboundEmail._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False
