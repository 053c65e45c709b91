"""Reads of the complaint page and the "Complaints to thank" widget, within the viewer's row
scope (feedback.items.selectors, contacts.selectors): counts and verbatims the viewer could not
open are never part of what they are shown."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from contacts.models import BudgetPurpose, BudgetRefusal, ContactReason
from contacts.selectors import contact_list_visible
from feedback.items.selectors import feedback_list_visible
from feedback.models import ComplaintThanks, FeedbackItem
from voc.people.models import User

SIMILAR_DAYS = 30  # "what to fix": the topic's complaints and contacts over this many days
SIMILAR_SHOWN = 5  # the latest similar verbatims shown
TO_THANK_DAYS = 14  # the widget lists complaints received within this many days
TO_THANK_SHOWN = 10
THANKS_PURPOSE = BudgetPurpose.THANKS


def thanks_key(item: FeedbackItem) -> str:
    """The budget key and the send-once key of a complaint's thank-you."""
    return f"complaint-thanks:{item.pk}"


@dataclass(frozen=True)
class TopicSummary:
    """What to fix: the complaint's topic and how often customers raise it lately."""

    reason: ContactReason | None
    since: datetime
    complaints: int  # complaints with the topic since ``since``, this one included
    contacts: int  # contacts with the topic (reason) since ``since``
    similar: list[FeedbackItem]  # the latest other complaints with a verbatim, newest first


def complaint_topic_summary(
    *, viewer: User, item: FeedbackItem, now: datetime | None = None
) -> TopicSummary:
    since = (now or timezone.now()) - timedelta(days=SIMILAR_DAYS)
    if item.reason_id is None:
        return TopicSummary(None, since, 0, 0, [])
    complaints = feedback_list_visible(viewer=viewer).filter(
        kind=FeedbackItem.Kind.COMPLAINT, reason_id=item.reason_id, received_at__gte=since
    )
    similar = list(
        complaints.exclude(id=item.pk)
        .exclude(verbatim="")
        .select_related("customer")
        .order_by("-received_at", "-id")[:SIMILAR_SHOWN]
    )
    contacts = contact_list_visible(viewer=viewer).filter(
        reason_id=item.reason_id, occurred_at__gte=since
    )
    return TopicSummary(item.reason, since, complaints.count(), contacts.count(), similar)


def complaint_thanks(item: FeedbackItem) -> ComplaintThanks | None:
    return ComplaintThanks.objects.select_related("thanked_by", "email").filter(item=item).first()


def complaint_last_refusal(item: FeedbackItem) -> BudgetRefusal | None:
    """The budget's latest "no" to thanking this complaint's customer, if any."""
    if item.customer_id is None:
        return None
    return BudgetRefusal.objects.filter(
        customer_id=item.customer_id, purpose=THANKS_PURPOSE, key=thanks_key(item)
    ).first()


def complaints_to_thank(*, viewer: User, now: datetime | None = None) -> QuerySet[FeedbackItem]:
    """Complaints in the viewer's scope received in the last TO_THANK_DAYS days (inclusive of
    the moment exactly that long ago) whose customer was not thanked yet and can be written
    to (a customer with an email address, not erased), newest first."""
    since = (now or timezone.now()) - timedelta(days=TO_THANK_DAYS)
    return (
        feedback_list_visible(viewer=viewer)
        .filter(
            kind=FeedbackItem.Kind.COMPLAINT,
            received_at__gte=since,
            thanks__isnull=True,
            customer__isnull=False,
            customer__erased_at__isnull=True,
        )
        .exclude(customer__email="")
        .select_related("customer", "reason__parent")
        .order_by("-received_at", "-id")
    )
