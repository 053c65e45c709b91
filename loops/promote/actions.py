"""The "Promote to issue" actions in feedback's slots: a feedback item's pages, each note of a
side-by-side session, each outreach entry. Registered from LoopsConfig.ready()."""

from django.db.models import Model
from django.urls import reverse

from feedback.actions import FEEDBACK_ITEM, SESSION_NOTE, FeedbackAction, register_feedback_action
from feedback.outreach.registry import OutreachAction, register_outreach_action
from loops.access import PROMOTE
from loops.promote.sources import kind_of

KEY = "loops.promote"
LABEL = "Promote to issue"


def promote_url(source: Model, viewer: object) -> str:
    """The promote page of ``source`` (the page it sits on showed it, so the viewer reads it)."""
    return reverse("loops:promote", args=[kind_of(source), source.pk])  # type: ignore[arg-type]


def register_promote_actions() -> None:
    for slot in (FEEDBACK_ITEM, SESSION_NOTE):
        register_feedback_action(
            slot, FeedbackAction(key=KEY, label=LABEL, capability=PROMOTE, url=promote_url)
        )
    register_outreach_action(
        OutreachAction(key=KEY, label=LABEL, capability=PROMOTE, url=promote_url)
    )
