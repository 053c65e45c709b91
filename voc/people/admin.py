from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from voc.people.models import ApiToken, Department, Team, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "get_full_name", "email", "role", "team", "department", "is_active"]
    list_filter = ["role", "team", "department", "is_active"]
    list_select_related = ["team", "department"]
    # What decides a VoC user's access comes first; Django's own permission flags follow,
    # folded: the role grants VoC's pages and the admin (is_staff follows the role).
    fieldsets = [
        ("VoC", {"fields": ["role", "team", "department", "title", "reports_to"]}),
        *[
            (name, {**options, "classes": ["collapse"]} if name == "Permissions" else options)
            for name, options in DjangoUserAdmin.fieldsets or ()
        ],
    ]
    add_fieldsets = [
        ("VoC", {"fields": ["role", "team", "department", "email"]}),
        *DjangoUserAdmin.add_fieldsets,
    ]
    autocomplete_fields = ["team", "department", "reports_to"]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "department", "lead"]
    list_select_related = ["department", "lead"]
    search_fields = ["name"]
    autocomplete_fields = ["lead", "department"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "head"]
    list_select_related = ["head"]
    search_fields = ["name"]
    autocomplete_fields = ["head"]


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Admins may see and revoke tokens; keys exist only as hashes."""

    list_display = ["name", "user", "key_hint", "created_at", "last_used_at", "revoked_at"]
    list_select_related = ["user"]
    readonly_fields = ["user", "name", "key_hint", "created_at", "last_used_at"]
    exclude = ["key_hash"]

    def has_add_permission(self, request) -> bool:
        return False
