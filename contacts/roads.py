"""Road suggestions: which of Seth Godin's four roads a contact points to.

The road (1 learn, 2 empathy, 3 teach, 4 go away) says what the company should do about this
kind of contact. Reps set it; VoC suggests one from the rules below and shows why, e.g.
"suggested: 4 · Go away — the customer was sent a link and the contact was not resolved".

The rules are checked in the order of ``RULES`` and the first one that matches wins:

1. escalated or unresolved → 1 learn
2. a repeat contact → 1 learn
3. a complaint in a negative tone → 2 empathy
4. a link sent and no resolution → 4 go away
5. an avoidable reason → 4 go away
6. a how-to question resolved → 3 teach

Learning comes first because a contact the front line could not settle shows something the
company does not know yet, whatever else is true of it; then the customer's state (an angry
complaint needs empathy before anything else); then removing the need to contact us at all;
teaching last. No rule matching means no suggestion: the rep decides.

The rules are pure functions of :class:`RoadFacts`, so they are tested without a database.
"""

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from contacts.models import Contact
from contacts.rollups import is_negative

COMPLAINT_TAGS = frozenset({"complaint", "complaints"})
HOW_TO_TAGS = frozenset({"how-to", "howto", "how to", "question", "instructions"})
_COMPLAINT_WORDS = re.compile(r"\bcomplain", re.IGNORECASE)
_HOW_TO_WORDS = re.compile(r"\bhow\b|\bhow-to\b|\bquestion|\binstruction", re.IGNORECASE)


@dataclass(frozen=True)
class RoadFacts:
    """What the rules look at. Built from a saved contact (``for_contact``) or from the log
    form before saving."""

    outcome: str = ""
    first_contact_resolution: bool | None = None
    reason_path: str = ""  # "Billing › Double charge"
    reason_avoidable: bool = False
    tags: Sequence[str] = ()
    is_repeat: bool = False
    sentiment: float | None = None  # of the customer's words; None when unknown

    @classmethod
    def for_contact(cls, contact: Contact, *, sentiment: float | None = None) -> "RoadFacts":
        """Facts of a saved contact. ``sentiment`` stands in while the contact's own score has
        not been computed yet (it is computed after commit)."""
        reason = contact.reason
        return cls(
            outcome=contact.outcome,
            first_contact_resolution=contact.first_contact_resolution,
            reason_path=reason.path if reason else "",
            reason_avoidable=bool(reason and reason.avoidable),
            tags=tuple(contact.tags or ()),
            is_repeat=contact.repeat_of_id is not None,
            sentiment=contact.sentiment if contact.sentiment is not None else sentiment,
        )

    @property
    def lower_tags(self) -> frozenset[str]:
        return frozenset(tag.strip().lower() for tag in self.tags)

    @property
    def resolved(self) -> bool:
        return self.outcome == Contact.Outcome.RESOLVED or self.first_contact_resolution is True


@dataclass(frozen=True)
class RoadSuggestion:
    road: int
    rule: str  # the rule function's name without the leading underscore
    explanation: str

    @property
    def label(self) -> str:
        return Contact.Road(self.road).label  # "4 · Go away"

    def __str__(self) -> str:
        return f"suggested: {self.label} — {self.explanation}"


Rule = Callable[[RoadFacts], RoadSuggestion | None]


def escalated_or_unresolved(facts: RoadFacts) -> RoadSuggestion | None:
    """Road 1 (learn) when the outcome is *escalated* or *unresolved*: the front line could not
    settle it, so there is something the company has not learned yet."""
    if facts.outcome == Contact.Outcome.ESCALATED:
        return RoadSuggestion(
            1,
            "escalated_or_unresolved",
            "the contact was escalated: find out why it could not be settled",
        )
    if facts.outcome == Contact.Outcome.UNRESOLVED:
        return RoadSuggestion(
            1, "escalated_or_unresolved", "the contact ended unresolved: find out what is missing"
        )
    return None


def repeat_contact(facts: RoadFacts) -> RoadSuggestion | None:
    """Road 1 (learn) for a repeat contact (the same customer contacted us within the repeat
    window, settings.VOC_REPEAT_WINDOW_DAYS): the first answer did not settle it."""
    if facts.is_repeat:
        return RoadSuggestion(
            1, "repeat_contact", "the customer contacted us again within the repeat window"
        )
    return None


def negative_complaint(facts: RoadFacts) -> RoadSuggestion | None:
    """Road 2 (empathy) for a complaint in a negative tone. A complaint is a contact tagged
    "complaint" or whose reason path mentions complaints; the tone is negative when the
    sentiment of the customer's words is at or below settings.VOC_NEGATIVE_SENTIMENT. An upset
    customer first needs to be heard."""
    is_complaint = bool(facts.lower_tags & COMPLAINT_TAGS) or bool(
        _COMPLAINT_WORDS.search(facts.reason_path)
    )
    if is_complaint and is_negative(facts.sentiment):
        return RoadSuggestion(
            2,
            "negative_complaint",
            "a complaint in a negative tone: the customer needs to be heard",
        )
    return None


def link_without_resolution(facts: RoadFacts) -> RoadSuggestion | None:
    """Road 4 (go away) when the outcome is *link_sent* and first-contact resolution is not
    confirmed: the customer had to contact us to be pointed at something they could have found
    on their own. Make it self-service."""
    if facts.outcome == Contact.Outcome.LINK_SENT and facts.first_contact_resolution is not True:
        return RoadSuggestion(
            4,
            "link_without_resolution",
            "the customer was sent a link and the contact was not resolved",
        )
    return None


def avoidable_reason(facts: RoadFacts) -> RoadSuggestion | None:
    """Road 4 (go away) when the contact's reason is marked avoidable in the taxonomy: the best
    service is no service, so remove the cause of the contact."""
    if facts.reason_avoidable:
        return RoadSuggestion(
            4, "avoidable_reason", "the reason is marked avoidable: remove the cause of the contact"
        )
    return None


def how_to_resolved(facts: RoadFacts) -> RoadSuggestion | None:
    """Road 3 (teach) for a how-to question that was resolved with instructions. A how-to
    question is tagged "how-to", "question" or "instructions", or its reason path says "how",
    "question" or "instruction"; resolved means outcome *resolved* or first-contact resolution.
    Teach customers this before they need to ask."""
    is_how_to = bool(facts.lower_tags & HOW_TO_TAGS) or bool(
        _HOW_TO_WORDS.search(facts.reason_path)
    )
    if is_how_to and facts.resolved:
        return RoadSuggestion(
            3, "how_to_resolved", "a how-to question answered with instructions: teach it up front"
        )
    return None


RULES: tuple[Rule, ...] = (
    escalated_or_unresolved,
    repeat_contact,
    negative_complaint,
    link_without_resolution,
    avoidable_reason,
    how_to_resolved,
)


def suggest_road(facts: RoadFacts) -> RoadSuggestion | None:
    """The first rule of RULES that matches, or None."""
    for rule in RULES:
        suggestion = rule(facts)
        if suggestion is not None:
            return suggestion
    return None
