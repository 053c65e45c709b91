"""Panels on the issue page: each part of loops (verification, fix notices, escalations,
flags) adds its own section without the issue page importing it. Register from
LoopsConfig.ready(); ``content(issue, viewer)`` returns a Fragment (voc.core.home) or None
(nothing to show for this issue)."""

from collections.abc import Callable
from dataclasses import dataclass

from django.http import HttpRequest

from contacts.registry import ShownPanel
from voc.core.capabilities import has_capability
from voc.core.home import Fragment


@dataclass(frozen=True)
class IssuePanel:
    key: str  # "loops.<name>", unique
    title: str
    capability: str
    content: Callable[..., Fragment | None]
    order: int = 100


_panels: dict[str, IssuePanel] = {}


def register_issue_panel(panel: IssuePanel) -> None:
    _panels[panel.key] = panel


def issue_panels_shown(*, issue: object, request: HttpRequest) -> list[ShownPanel]:
    """The panels the viewer may see for ``issue``, in order, rendered."""
    viewer = request.user
    shown = []
    for panel in sorted(_panels.values(), key=lambda p: (p.order, p.title)):
        if not has_capability(viewer, panel.capability):
            continue
        fragment = panel.content(issue, viewer)
        if fragment is not None:
            shown.append(ShownPanel(panel.key, panel.title, fragment.render(request)))
    return shown
