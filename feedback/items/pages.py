"""What the feedback pages put on other pages: the home widget that leads to the list, the
"Feedback" panels of the contact and customer pages, and the customer timeline's feedback
entries (contacts.registry, voc.core.home). All read through the scoped selectors."""

from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from contacts.models import Contact, Customer
from contacts.registry import TimelineEntry
from feedback.access import LOG_FEEDBACK_ITEMS
from feedback.items import selectors
from feedback.models import FeedbackItem
from voc.core.capabilities import has_capability
from voc.core.home import Fragment
from voc.people.models import User

HOME_ROWS = 5


@dataclass(frozen=True)
class SentimentWord:
    word: str  # "negative", "neutral" or "positive"
    score: float


def sentiment_word(score: float | None) -> SentimentWord | None:
    """The contacts pages' words for a sentiment score, at the same threshold
    (settings.VOC_NEGATIVE_SENTIMENT and the same distance above zero)."""
    if score is None:
        return None
    threshold = abs(settings.VOC_NEGATIVE_SENTIMENT)
    if score <= -threshold:
        return SentimentWord("negative", score)
    if score >= threshold:
        return SentimentWord("positive", score)
    return SentimentWord("neutral", score)


def item_title(item: FeedbackItem) -> str:
    """ "NPS answer 3 (Detractor / unhappy)", "Complaint"."""
    title = item.get_kind_display()
    if item.score is not None:
        title += f" {item.score}"
        if item.band:
            title += f" ({item.get_band_display()})"
    return title


def latest_feedback_widget(viewer: User) -> Fragment:
    """The latest feedback in the viewer's scope and the way to the list (always shown: it is
    how people reach the feedback pages, which have no top-navigation item)."""
    items = list(selectors.feedback_list_page(viewer=viewer)[:HOME_ROWS])
    return Fragment(
        "feedback/items/_home_feedback.html",
        {"items": items, "can_log": has_capability(viewer, LOG_FEEDBACK_ITEMS)},
    )


def contact_feedback_panel(contact: Contact, viewer: User) -> Fragment | None:
    items = selectors.feedback_list_for_contact(viewer=viewer, contact_id=contact.pk)
    can_log = has_capability(viewer, LOG_FEEDBACK_ITEMS)
    if not items and not can_log:
        return None
    return Fragment(
        "feedback/items/_panel.html",
        {"items": items, "log_for_contact": contact.pk if can_log else None, "of": "contact"},
    )


def customer_feedback_panel(customer: Customer, viewer: User) -> Fragment | None:
    items = selectors.feedback_list_for_customer(viewer=viewer, customer_id=customer.pk)
    if not items:
        return None
    return Fragment(
        "feedback/items/_panel.html", {"items": items, "log_for_contact": None, "of": "customer"}
    )


def feedback_timeline(*, customer: Customer, viewer: User, limit: int) -> list[TimelineEntry]:
    """The customer's feedback items, newest first. Items outside the viewer's scope show
    when and what kind of feedback it was, greyed, without the words or a link (as contacts
    outside the scope do: when and about what, not what was said)."""
    items = list(
        FeedbackItem.objects.filter(customer=customer)
        .select_related("reason__parent")
        .order_by("-received_at", "-id")[:limit]
    )
    visible = selectors.feedback_ids_visible(viewer=viewer, item_ids=[item.pk for item in items])
    entries = []
    for item in items:
        shown = item.pk in visible
        title = item_title(item) if shown else item.get_kind_display()
        if item.reason is not None:
            title += f" · {item.reason}"
        entries.append(
            TimelineEntry(
                when=item.received_at,
                kind="feedback",
                title=title,
                summary=item.verbatim[:200] if shown else "",
                url=reverse("feedback:item-detail", args=[item.pk]) if shown else "",
                restricted=not shown,
            )
        )
    return entries
