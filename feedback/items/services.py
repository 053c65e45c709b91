"""Recording feedback items: the one write path every source uses (the API, the import, survey
answers, a complaint typed by hand), so each item is redacted through the one entry point,
banded, scored for sentiment and audited the same way.

``feedback_item_record`` is idempotent on (source, external_id) when an external id is given:
a re-sent item updates the stored one.
"""

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from contacts.models import Contact, ContactReason, Customer
from contacts.redaction_rules import redactor
from contacts.sentiment import sentiment_score
from feedback.models import FeedbackItem
from voc.core.audit import Actor, audit_record
from voc.people.models import User

Kind = FeedbackItem.Kind
Band = FeedbackItem.Band
MAX_VERBATIM = 20_000

AUDIT_LABELS = {
    "feedback.record": "recorded the feedback item",
    "feedback.update": "updated the feedback item",
}


@dataclass(frozen=True)
class ItemSaved:
    item: FeedbackItem
    created: bool


def score_band(kind: str, score: int | None) -> str:
    """The band a score falls in (FeedbackItem's docstring); "" for kinds without a score.
    CES is agreement with "the company made it easy", so 3 or less is a detractor."""
    if score is None:
        return ""
    if kind == Kind.NPS:
        return Band.NEGATIVE if score <= 6 else Band.NEUTRAL if score <= 8 else Band.POSITIVE
    if kind == Kind.CSAT:
        return Band.NEGATIVE if score <= 2 else Band.NEUTRAL if score == 3 else Band.POSITIVE
    if kind == Kind.CES:
        return Band.NEGATIVE if score <= 3 else Band.NEUTRAL if score == 4 else Band.POSITIVE
    return ""


def check_score(kind: str, score: int | None) -> None:
    if kind not in Kind.values:
        raise ValidationError({"kind": f"Choose one of: {', '.join(Kind.values)}."})
    bounds = FeedbackItem.SCORE_RANGES.get(Kind(kind))
    if bounds is None:
        if score is not None:
            raise ValidationError({"score": f"A {Kind(kind).label.lower()} has no score."})
        return
    low, high = bounds
    if score is None or not low <= score <= high:
        raise ValidationError({"score": f"Give a score from {low} to {high}."})


def feedback_item_record(
    *,
    kind: str,
    source: str,
    by: Actor,
    score: int | None = None,
    verbatim: str = "",
    external_id: str = "",
    customer: Customer | None = None,
    contact: Contact | None = None,
    reason: ContactReason | None = None,
    channel: str = "",
    received_at: datetime | None = None,
) -> ItemSaved:
    """Record (or, for a known source and external id, update) one feedback item.

    A linked contact supplies the customer, channel, team and topic when they are not given;
    the customer's current segment is kept on the item."""
    check_score(kind, score)
    if not source.strip():
        raise ValidationError({"source": "Say where the feedback came from."})
    if len(verbatim) > MAX_VERBATIM:
        raise ValidationError({"verbatim": f"Keep the text under {MAX_VERBATIM} characters."})
    received_at = received_at or timezone.now()
    if timezone.is_naive(received_at):
        raise ValidationError({"received_at": "Give the time with its time zone."})
    redact = redactor()
    text = redact.text(verbatim.strip())
    external_id = redact.identifier(external_id.strip()) if external_id.strip() else ""
    if contact is not None:
        customer = customer or contact.customer
        channel = channel or contact.channel
    topic_source = ""
    if reason is not None:
        topic_source = FeedbackItem.TopicSource.HAND
    elif contact is not None and contact.reason_id is not None:
        reason = contact.reason
        topic_source = FeedbackItem.TopicSource.CONTACT
    values = {
        "kind": kind,
        "score": score,
        "band": score_band(kind, score),
        "verbatim": text,
        "customer": customer,
        "contact": contact,
        "reason": reason,
        "topic_source": topic_source,
        "channel": channel,
        "team_id": contact.team_id if contact is not None else None,
        "customer_segment": customer.segment if customer is not None else "",
        "sentiment": sentiment_score(text) if text else None,
        "received_at": received_at,
    }
    author = by if isinstance(by, User) else None
    with transaction.atomic():
        if external_id:
            item, created = FeedbackItem.objects.select_for_update().get_or_create(
                source=source, external_id=external_id, defaults={**values, "created_by": author}
            )
            if not created:
                for field, value in values.items():
                    setattr(item, field, value)
                item.save()
        else:
            item = FeedbackItem.objects.create(source=source, created_by=author, **values)
            created = True
        audit_record(
            by=by,
            action="feedback.record" if created else "feedback.update",
            target=item,
            customer_id=item.customer_id,
        )
    return ItemSaved(item, created)
