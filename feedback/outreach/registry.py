"""The action slot of an outreach entry (a call, an exercise, a forum topic): a later app adds
its own ("raise an issue" from loops) without feedback importing it, as contacts' page actions
do (contacts/registry.py). Register from the app's AppConfig.ready()::

    register_outreach_action(OutreachAction(
        key="loops.raise_issue", label="Raise an issue", capability=RAISE_ISSUE,
        url=lambda entry, viewer: reverse("loops:issue-new") + f"?outreach={entry.pk}",
    ))

``url(entry, viewer)`` returns a URL or None (not for this entry). ``entry`` is an
``OutreachCall``, an ``OutreachExercise`` or a ``ForumTopic``; ``entry_kind(entry)`` says which.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db import models

from contacts.registry import ShownAction
from voc.core.capabilities import has_capability

ENTRY_KINDS = {
    "OutreachCall": "call",
    "OutreachExercise": "exercise",
    "ForumTopic": "topic",
}


@dataclass(frozen=True)
class OutreachAction:
    key: str  # "<app>.<name>", unique
    label: str
    capability: str
    url: Callable[..., str | None]
    order: int = 100


_actions: dict[str, OutreachAction] = {}


def register_outreach_action(action: OutreachAction) -> None:
    _actions[action.key] = action


def unregister_outreach_action(key: str) -> None:
    _actions.pop(key, None)


def entry_kind(entry: models.Model) -> str:
    return ENTRY_KINDS[type(entry).__name__]


def outreach_actions_shown(*, entry: models.Model, viewer: object) -> list[ShownAction]:
    """The actions the viewer may take on ``entry``, in order."""
    shown = []
    for action in sorted(_actions.values(), key=lambda a: (a.order, a.label)):
        if not has_capability(viewer, action.capability):
            continue
        url = action.url(entry, viewer)
        if url:
            shown.append(ShownAction(action.key, action.label, url))
    return shown
