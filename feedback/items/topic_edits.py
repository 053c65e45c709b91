"""Setting a feedback item's topic by hand: a manager, an executive or an admin reads the
verbatim and says what it is about (a taxonomy reason), overriding the contact's reason or a
keyword rule. The topic is then "set by hand" and stays so until someone sets it again."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from contacts.models import ContactReason
from feedback.access import SET_FEEDBACK_TOPIC
from feedback.items.rollups import contribution, feedback_rollups_apply
from feedback.models import FeedbackItem
from voc.core.audit import audit_record
from voc.core.capabilities import has_capability
from voc.people.models import User

AUDIT_LABELS = {"feedback.set_topic": "set the topic by hand"}


def feedback_item_set_topic(
    *, item: FeedbackItem, reason: ContactReason | None, by: User
) -> FeedbackItem:
    """Set (or, with ``reason=None``, clear) the item's topic. The caller has checked that
    ``by`` may see the item; this checks that they may set topics and that the reason is
    one people may still pick (not retired, not merged into another)."""
    if not has_capability(by, SET_FEEDBACK_TOPIC):
        raise PermissionDenied("Only managers, executives and admins set a feedback topic.")
    if reason is not None and (reason.retired_at is not None or reason.merged_into_id):
        raise ValidationError(
            {"reason": f"“{reason}” is retired or merged into another: pick a current reason."}
        )
    with transaction.atomic():
        item = FeedbackItem.objects.select_for_update().get(pk=item.pk)
        before = (item.reason_id, item.topic_source)
        counted_before = contribution(item)
        item.reason = reason
        item.topic_source = FeedbackItem.TopicSource.HAND if reason is not None else ""
        if (item.reason_id, item.topic_source) == before:
            return item  # nothing changed: no write, no audit entry
        item.save(update_fields=["reason", "topic_source", "updated_at"])
        # The topic is part of the rollups' key: the item moves from one row to another.
        feedback_rollups_apply(before=[counted_before], after=[contribution(item)])
        audit_record(
            by=by,
            action="feedback.set_topic",
            target=item,
            changes={
                "reason": [before[0], item.reason_id],
                "topic_source": [before[1], item.topic_source],
            },
            customer_id=item.customer_id,
        )
    return item
