"""The contact budget in the Django admin: read-only records of touches, refusals and opt-outs
(they are written by the budget's services only, so every opt-out change is audited), and an
action to remove opt-outs through ``budget_opt_in``. Registered from contacts/admin.py."""

from django.contrib import admin

from contacts.budget.services import budget_opt_in
from contacts.models import BudgetOptOut, BudgetRefusal, BudgetTouch
from voc.core.admin import ReadOnlyAdmin


class _BudgetAdmin(ReadOnlyAdmin):
    list_select_related = ["customer"]
    raw_id_fields = ["customer", "actor"]
    date_hierarchy = "at"


@admin.register(BudgetTouch)
class BudgetTouchAdmin(_BudgetAdmin):
    list_display = ["at", "customer_id", "purpose", "key", "actor_name"]
    list_filter = ["purpose"]
    search_fields = ["=customer__id", "key"]


@admin.register(BudgetRefusal)
class BudgetRefusalAdmin(_BudgetAdmin):
    list_display = ["at", "customer_id", "purpose", "key", "reason", "actor_name"]
    list_filter = ["purpose", "reason"]
    search_fields = ["=customer__id", "key"]


@admin.register(BudgetOptOut)
class BudgetOptOutAdmin(_BudgetAdmin):
    list_display = ["customer_id", "purpose", "at", "actor_name"]
    list_filter = ["purpose"]
    search_fields = ["=customer__id"]
    actions = ["remove"]

    @admin.action(
        description="Remove the selected opt-outs (the customers asked to be contacted)",
        permissions=["remove"],
    )
    def remove(self, request, queryset):
        removed = 0
        for opt_out in queryset.select_related("customer"):
            removed += budget_opt_in(
                customer=opt_out.customer,
                purpose=opt_out.purpose,
                by=request.user,
                why="removed in the admin",
            )
        self.message_user(request, f"Removed {removed} opt-out(s).")

    def has_remove_permission(self, request) -> bool:
        return request.user.has_perm("contacts.delete_budgetoptout")
