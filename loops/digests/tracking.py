"""What the ESP says about a sent digest (anymail's tracking signal, from its authenticated
tracking webhooks): delivered is noted; a bounce, a spam complaint or a rejection pauses the
subscription (no more digests into a dead or unwanting mailbox) and shows on the admins'
delivery-problems page and home widget."""

from typing import Any

from django.db import transaction

from loops.digests.services import SEND_ONCE_PURPOSE
from loops.models import Digest, DigestSubscription
from voc.core.audit import SystemActor, audit_record
from voc.core.models import SendOnce
from voc.core.sendonce import ESP_METADATA_KEY

TRACKING = SystemActor("email-tracking")
PROBLEMS = frozenset({"bounced", "complained", "rejected", "failed"})
NOTED = PROBLEMS | {"delivered"}


def _digest_for(event: Any) -> Digest | None:
    """The digest an event is about: by the send-once key anymail echoes back in its
    metadata, else by the ESP's message id."""
    metadata = getattr(event, "metadata", None) or {}
    tagged = str(metadata.get(ESP_METADATA_KEY, ""))
    emails = SendOnce.objects.filter(purpose=SEND_ONCE_PURPOSE)
    if tagged.startswith(f"{SEND_ONCE_PURPOSE}:"):
        emails = emails.filter(key=tagged.split(":", 1)[1])
    elif getattr(event, "message_id", None):
        emails = emails.filter(esp_message_id=event.message_id)
    else:
        return None
    email = emails.first()
    if email is None:
        return None
    return Digest.objects.filter(send_once=email).select_related("subscription").first()


def digest_tracking_event(*, event: Any) -> Digest | None:
    """Record one tracking event on its digest; returns the digest, or None if not ours."""
    event_type = str(getattr(event, "event_type", ""))
    if event_type not in NOTED:
        return None
    digest = _digest_for(event)
    if digest is None:
        return None
    detail = str(getattr(event, "description", "") or getattr(event, "mta_response", "") or "")
    with transaction.atomic():
        Digest.objects.filter(pk=digest.pk).update(
            delivery=event_type, delivery_detail=detail[:300]
        )
        if event_type in PROBLEMS and digest.subscription is not None:
            paused = DigestSubscription.objects.filter(
                pk=digest.subscription.pk, active=True
            ).update(active=False)
            if paused:
                audit_record(
                    by=TRACKING,
                    action="digest.pause",
                    target=digest.subscription,
                    changes={"active": [True, False]},
                    why=f"The email service reported the digest {event_type}: {detail}"[:500],
                )
    digest.delivery = event_type
    return digest


def digest_tracking_received(sender: object, event: Any, esp_name: str, **_: Any) -> None:
    digest_tracking_event(event=event)
