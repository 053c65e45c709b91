"""Gestures in the Django admin: read-only (they are written by contacts.gestures.services
only, so every gesture and decision is audited). Registered from contacts/admin.py."""

from django.contrib import admin

from contacts.models import Gesture
from voc.core.admin import ReadOnlyAdmin


@admin.register(Gesture)
class GestureAdmin(ReadOnlyAdmin):
    list_display = ["given_at", "kind", "value", "currency", "state", "given_by", "team"]
    list_filter = ["state", "kind"]
    list_select_related = ["given_by", "team"]
    raw_id_fields = ["contact", "given_by", "decided_by", "team"]
    date_hierarchy = "given_at"
    search_fields = ["=contact__id", "given_by__username"]
