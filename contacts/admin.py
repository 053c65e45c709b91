from django.contrib import admin

from contacts.models import Customer


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["name", "external_ref", "email", "phone", "segment", "created_at"]
    list_filter = ["segment"]
    search_fields = ["name", "external_ref", "email", "phone"]
