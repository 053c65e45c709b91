"""Action slots of the feedback pages: a feedback item's pages (the item page and, for a
complaint, the complaint page) and each note of a side-by-side session. A later app adds its
own ("Promote to issue" from loops) without feedback importing it, as contacts' page actions
(contacts/registry.py) and the outreach entries' slot (feedback/outreach/registry.py) do.
Register from the app's AppConfig.ready()::

    register_feedback_action(FEEDBACK_ITEM, FeedbackAction(
        key="loops.promote", label="Promote to issue", capability=PROMOTE,
        url=lambda item, viewer: reverse("loops:promote", args=["feedback", item.pk]),
    ))

``url(obj, viewer)`` returns a URL or None (not for this object). ``obj`` is a
``FeedbackItem`` in the ``FEEDBACK_ITEM`` slot and a ``SessionNote`` in the ``SESSION_NOTE``
slot. The pages call these only for objects the viewer may already read.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import models

from contacts.registry import ShownAction
from feedback.models import SessionNote
from voc.core.capabilities import has_capability

FEEDBACK_ITEM = "feedback_item"
SESSION_NOTE = "session_note"
SLOTS = (FEEDBACK_ITEM, SESSION_NOTE)


@dataclass(frozen=True)
class FeedbackAction:
    key: str  # "<app>.<name>", unique in its slot
    label: str
    capability: str
    url: Callable[..., str | None]
    order: int = 100


_actions: dict[str, dict[str, FeedbackAction]] = {slot: {} for slot in SLOTS}


def register_feedback_action(slot: str, action: FeedbackAction) -> None:
    _actions[slot][action.key] = action


def unregister_feedback_action(slot: str, key: str) -> None:
    _actions[slot].pop(key, None)


def _allowed(slot: str, viewer: object) -> list[FeedbackAction]:
    return [
        action
        for action in sorted(_actions[slot].values(), key=lambda a: (a.order, a.label))
        if has_capability(viewer, action.capability)
    ]


def _shown(actions: list[FeedbackAction], obj: models.Model, viewer: object) -> list[ShownAction]:
    shown = []
    for action in actions:
        url = action.url(obj, viewer)
        if url:
            shown.append(ShownAction(action.key, action.label, url))
    return shown


def feedback_actions_shown(slot: str, *, obj: models.Model, viewer: object) -> list[ShownAction]:
    """The actions of ``slot`` the viewer may take on ``obj``, in order."""
    return _shown(_allowed(slot, viewer), obj, viewer)


def session_notes_with_actions(
    notes: Iterable[SessionNote], *, viewer: object
) -> list[SessionNote]:
    """The notes as a list, each with ``actions`` (what the viewer may do with it), which the
    live note page shows beside each note. Capabilities are checked once, not per note."""
    allowed = _allowed(SESSION_NOTE, viewer)
    listed = list(notes)
    for note in listed:
        setattr(note, "actions", _shown(allowed, note, viewer))  # noqa: B010
    return listed
