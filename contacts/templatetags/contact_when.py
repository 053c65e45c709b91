"""``{% when contact.occurred_at contact.occurred_date_only %}``: when a contact happened, as a
``<time>`` element. A day given without a time shows as that day alone (no invented hour, and
no shift to the day before in a time zone west of UTC)."""

from datetime import UTC, datetime

from django import template
from django.utils import timezone
from django.utils.dateformat import format as format_date
from django.utils.html import format_html
from django.utils.safestring import SafeString

register = template.Library()


@register.simple_tag
def when(value: datetime | None, date_only: bool = False, fmt: str = "Y-m-d H:i") -> SafeString:
    if value is None:
        return format_html("{}", "—")
    if date_only:
        day = value.astimezone(UTC).date()
        return format_html('<time datetime="{}">{}</time>', day.isoformat(), day.isoformat())
    local = timezone.localtime(value)
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), format_date(local, fmt))
