"""Home widgets: how an app puts something on the home page of the roles that may use it,
without the home page importing the app.

An app registers from its AppConfig.ready()::

    register_home_widget(HomeWidget(
        key="loops.my_overdue", title="My overdue issues", capability=VIEW_ISSUES,
        content=my_overdue_widget, order=20,
    ))

where ``content(viewer)`` reads through the app's scoped selectors and returns a
:class:`Fragment` (a template and its context), or None to show nothing today. The capability
decides which roles get the widget; the selectors decide which rows each viewer sees in it.
The registry is here, at the bottom, so every app may fill it; voc.dashboards only lays the
widgets out (voc/dashboards/views.py).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from voc.core.capabilities import has_capability


@dataclass(frozen=True)
class Fragment:
    """A piece of a page: a template (``<app>/_<name>.html``) and its context."""

    template: str
    context: dict[str, Any] = field(default_factory=dict)

    def render(self, request: HttpRequest) -> SafeString:
        return render_to_string(self.template, self.context, request=request)


@dataclass(frozen=True)
class HomeWidget:
    key: str  # "<app>.<name>", unique
    title: str
    capability: str
    content: Callable[[Any], Fragment | None]  # content(viewer)
    order: int = 100


@dataclass(frozen=True)
class ShownWidget:
    key: str
    title: str
    html: SafeString


_widgets: dict[str, HomeWidget] = {}


def register_home_widget(widget: HomeWidget) -> None:
    _widgets[widget.key] = widget


def home_widgets() -> list[HomeWidget]:
    return sorted(_widgets.values(), key=lambda widget: (widget.order, widget.title))


def home_widgets_shown(request: HttpRequest) -> list[ShownWidget]:
    """The widgets the viewer's capabilities allow, in order, rendered; a widget with nothing
    to show today is left out."""
    shown = []
    for widget in home_widgets():
        if not has_capability(request.user, widget.capability):
            continue
        fragment = widget.content(request.user)
        if fragment is not None:
            shown.append(ShownWidget(widget.key, widget.title, fragment.render(request)))
    return shown
