"""Query-string filters of the contacts REST API's lists."""

from datetime import UTC, datetime

import django_filters
from django import forms
from django.db.models import Q
from django_filters.fields import IsoDateTimeField
from drf_spectacular.utils import extend_schema_field

from contacts.apis.common import SOME_TEXT
from contacts.models import Channel, Contact, Customer, Message
from contacts.redaction_rules import redactor
from voc.core.api import IdFilter, StrictFilterSet

# --- filters ------------------------------------------------------------------------------


class _UtcDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, converted to UTC: PostgreSQL refuses offsets beyond ±15:59, and a
    time past the ends of the calendar after conversion is the end it passed."""

    def to_python(self, value):
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError:
            earliest = datetime.min.replace(tzinfo=UTC)
            return earliest if parsed.year < 5000 else datetime.max.replace(tzinfo=UTC)


class TimeFilter(django_filters.IsoDateTimeFilter):
    field_class = _UtcDateTimeField


@extend_schema_field({"type": "string", "minLength": 1, "pattern": SOME_TEXT})
class TextFilter(django_filters.CharFilter):
    """Exact text; blank or NUL characters are a 400."""


class _BooleanFormField(forms.Field):
    def to_python(self, value):
        if value in (None, ""):
            return None
        text = str(value).strip().lower()
        if text in {"true", "1"}:
            return True
        if text in {"false", "0"}:
            return False
        raise forms.ValidationError("Give true or false (or 1 or 0).")


class BooleanFilter(django_filters.BooleanFilter):
    """true/false/1/0; anything else is a 400, not silently no filter."""

    # The stubs declare django-filter's NullBooleanField here; any form field class will do.
    field_class = _BooleanFormField  # type: ignore[assignment]

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", forms.TextInput)
        super().__init__(*args, **kwargs)


class CustomerFilter(StrictFilterSet):
    segment = django_filters.ChoiceFilter(choices=Customer.Segment.choices)
    external_ref = TextFilter(method="filter_external_ref")
    email = TextFilter(field_name="email", lookup_expr="iexact", help_text="In any case.")

    def filter_external_ref(self, queryset, name, value):
        # A reference that holds a card number is stored as its keyed stand-in.
        return queryset.filter(external_ref__in={value, redactor().identifier(value)})


class ContactFilter(StrictFilterSet):
    channel = django_filters.ChoiceFilter(choices=Channel.choices)
    direction = django_filters.ChoiceFilter(choices=Contact.Direction.choices)
    source = TextFilter(field_name="source")
    reason = IdFilter(method="filter_reason", help_text="A reason, or a parent and its reasons.")
    team = IdFilter(field_name="team_id")
    customer = IdFilter(field_name="customer_id")
    occurred_after = TimeFilter(
        field_name="occurred_at", lookup_expr="gte", help_text="At or after this time."
    )
    occurred_before = TimeFilter(
        field_name="occurred_at", lookup_expr="lt", help_text="Before this time."
    )

    def filter_reason(self, queryset, name, value):
        return queryset.filter(Q(reason_id=value) | Q(reason__parent_id=value))


class MessageFilter(StrictFilterSet):
    direction = django_filters.ChoiceFilter(choices=Message.Direction.choices)


class ReasonFilter(StrictFilterSet):
    department = IdFilter(field_name="department_id")
    parent = IdFilter(field_name="parent_id")
    avoidable = BooleanFilter(field_name="avoidable")
    include_retired = BooleanFilter(
        method="filter_include_retired",
        help_text="Also list retired and merged reasons (by default only active ones).",
    )

    def filter_include_retired(self, queryset, name, value):
        return queryset  # applied in filter_queryset, where "not given" is seen too

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("include_retired"):
            queryset = queryset.filter(retired_at__isnull=True, merged_into__isnull=True)
        return queryset
