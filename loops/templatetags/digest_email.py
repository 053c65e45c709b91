"""Filters for the digest emails, which show up to 300 messages each and are rendered a
thousand times a morning: Django's ``truncatechars`` walks a text character by character
(Unicode normalisation included) and ``date`` goes through the translated formatter, which
together took a third of a digest's time."""

from datetime import datetime

from django import template

register = template.Library()


@register.filter
def clip(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when it was longer
    (what ``truncatechars`` gives for plain text). The result is escaped like any text."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


@register.filter(expects_localtime=True)
def message_time(value: datetime | None) -> str:
    """'Sat 5 Dec 14:07' in the template's time zone (``{% timezone %}``)."""
    if value is None:
        return ""
    return f"{value:%a} {value.day} {value:%b %H:%M}"
