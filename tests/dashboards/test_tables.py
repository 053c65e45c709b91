"""Cells printed in Python are the bytes the template loop printed: escaped the same way."""

from django.template import Context, Template

from voc.dashboards.templatetags.dashboard_tables import linked_counts

LOOP = Template(
    '{% for cell in cells %}<td class="num">{% if cell.count %}<a href="{{ url }}?{{ cell.query }}">'
    "{{ cell.count }}</a>{% else %}0{% endif %}</td>{% endfor %}"
)


def test_linked_counts_print_what_the_template_loop_printed():
    cells = [
        {"count": 12, "query": "period=custom&start=2026-01-05&reason=3"},
        {"count": 0, "query": "period=custom&reason=3"},
        {"count": 1, "query": 'x="><script>alert(1)</script>'},
    ]
    url = "/dashboards/drill/?a=<b>"

    printed = linked_counts(cells, url)

    assert printed == LOOP.render(Context({"cells": cells, "url": url}))
    assert printed.count("<td") == 3
    assert "<script>" not in printed and "&amp;start=2026-01-05" in printed
    assert '<td class="num">0</td>' in printed
