"""Table cells the dashboards print by the hundred (a year of reasons × weeks is 636 of them):
made in Python, escaped as the template would, instead of a template loop of lookups a cell."""

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

register = template.Library()


@register.filter
def linked_counts(cells: Iterable[dict[str, Any]], url: str) -> SafeString:
    """One ``<td class="num">`` per cell: its count linked to ``url?query``, or a plain 0."""
    return format_html_join(
        "",
        '<td class="num">{}</td>',
        (
            (format_html('<a href="{}?{}">{}</a>', url, cell["query"], cell["count"])
             if cell["count"] else 0,)
            for cell in cells
        ),
    )  # fmt: skip
