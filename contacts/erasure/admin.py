"""Erasure in the Django admin: an action on customers (with a confirmation page, like
"delete selected") and a read-only list of erasures. Registered from contacts/admin.py."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from contacts.access import ERASE_CUSTOMERS
from contacts.erasure.services import customer_erase, erasure_preview
from contacts.models import Customer, CustomerErasure
from voc.core.capabilities import has_capability
from voc.people.access import request_viewer


def may_erase(user: object) -> bool:
    return has_capability(user, ERASE_CUSTOMERS)


@admin.action(description="Erase the selected customers (irreversible)…", permissions=["erase"])
def erase_action(
    modeladmin: admin.ModelAdmin[Customer], request: HttpRequest, queryset: QuerySet[Customer]
) -> TemplateResponse | None:
    if not may_erase(request.user):
        raise PermissionDenied
    # Merged-away records are erased with the customer they were merged into.
    customers = list(queryset.filter(erased_at__isnull=True, merged_into__isnull=True))
    if not customers:
        modeladmin.message_user(
            request,
            "Nothing to erase: the selected customers are erased already or merged into "
            "another (erase that one).",
            messages.WARNING,
        )
        return None
    if request.POST.get("erase_confirmed") != "yes":
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": "Erase customers",
            "opts": modeladmin.model._meta,
            "customers": [(customer, erasure_preview(customer=customer)) for customer in customers],
            "skipped": queryset.count() - len(customers),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(
            request, "admin/contacts/customer/erase_selected_confirmation.html", context
        )
    note = request.POST.get("erase_note", "")[:200]
    erased = 0
    for customer in customers:  # one transaction each: a refusal keeps the others
        try:
            customer_erase(customer=customer, by=request_viewer(request), note=note)
        except ValidationError as error:
            modeladmin.message_user(
                request, f"Customer {customer.pk}: {'; '.join(error.messages)}", messages.ERROR
            )
        else:
            erased += 1
    modeladmin.message_user(request, f"Erased {erased} customer(s).")
    return None


@admin.register(CustomerErasure)
class CustomerErasureAdmin(admin.ModelAdmin[CustomerErasure]):
    """Who erased which customer record, when, and how many rows: never what was erased."""

    list_display = ["erased_at", "erased_by", "customer_id_erased", "counts", "note"]
    list_select_related = ["erased_by"]
    search_fields = ["=customer_id_erased", "note"]
    date_hierarchy = "erased_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # erasures are made by the erase action and page, through the service

    def has_change_permission(
        self, request: HttpRequest, obj: CustomerErasure | None = None
    ) -> bool:
        return False

    def has_delete_permission(
        self, request: HttpRequest, obj: CustomerErasure | None = None
    ) -> bool:
        return False  # deleting the record would delete its tombstones: the person could return
