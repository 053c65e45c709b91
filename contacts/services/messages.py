"""Messages: one added at the end of a stored contact (an API call, an email reply joining
its thread), and an admin's corrections."""

from datetime import datetime

from django.core.exceptions import ValidationError
from django.db.models import F
from django.utils import timezone

from contacts.changes import contact_change
from contacts.ingest.records import MAX_TEXT
from contacts.models import Contact, Message
from contacts.services.text import TextCleaner
from voc.core.audit import Actor
from voc.core.errors import Conflict


def message_append(
    *,
    contact_id: int,
    text: str,
    by: Actor,
    direction: str = "",
    author: str = "",
    sent_at: datetime | None = None,
    external_id: str = "",
    skip_duplicate: bool = False,
) -> Message | None:
    """Add a message after the contact's last one, leaving everything a person classified
    (reason, tags, notes, road) as it is. Text and author are redacted with the admin's
    patterns too; the direction defaults to the contact's (incoming for an inbound contact).

    A message whose ``external_id`` the contact already has is a Conflict, or, with
    ``skip_duplicate`` (a redelivered email), nothing: None is returned. Without an id the
    message gets its position as one.

    The contact's sentiment is emptied and scored again after commit (the rollups follow).
    Its ingest fingerprint stays: a source re-sending the contact unchanged leaves the added
    message in place, and a changed row replaces the messages as any re-sent row does."""
    cleaner = TextCleaner()
    text = cleaner.redact(str(text or "").strip())
    if not text:
        raise ValidationError({"text": "Write the message."})
    if len(text) > MAX_TEXT:
        raise ValidationError({"text": f"Use at most {MAX_TEXT} characters."})
    if direction and direction not in Message.Direction.values:
        raise ValidationError({"direction": "Choose incoming or outgoing."})
    author = cleaner.clean(author, field="author", max_length=200)
    external_id = cleaner.identifier(external_id)  # an id: kept, or its keyed stand-in
    if len(external_id) > 200:
        raise ValidationError({"external_id": "Use at most 200 characters."})
    # The contact's row lock (taken by the primitive) serialises appends, so two can't take
    # the same position.
    with contact_change([contact_id], by=by) as change:
        state = change.before.get(contact_id)
        if state is None:
            raise Contact.DoesNotExist(f"Contact {contact_id} does not exist.")
        taken = set(
            Message.objects.filter(contact_id=contact_id).values_list("external_id", flat=True)
        )
        if external_id and external_id in taken:
            if skip_duplicate:
                return None
            raise Conflict({"external_id": "This contact already has a message with this id."})
        previous = Message.objects.filter(contact_id=contact_id).order_by("-position").first()
        position = 0 if previous is None else previous.position + 1
        if previous is not None:
            # A card number split over the last message and this one ("4111 1111" then
            # "1111 1111") is one card a person reads across them: redact both parts.
            previous_text, text = cleaner.redactor.messages([previous.text, text])
            if previous_text != previous.text:
                Message.objects.filter(pk=previous.pk).update(text=previous_text)
        if not external_id:
            external_id = str(position)
            suffix = 1
            while external_id in taken:  # ids ingestion gave other messages
                external_id = f"{position}-{suffix}"
                suffix += 1
        if not direction:
            direction = (
                Message.Direction.INCOMING
                if state["direction"] == Contact.Direction.INBOUND
                else Message.Direction.OUTGOING
            )
        message = Message.objects.create(
            contact_id=contact_id,
            external_id=external_id,
            position=position,
            direction=direction,
            author=author,
            sent_at=sent_at or timezone.now(),
            text=text,
        )
        incoming = int(direction == Message.Direction.INCOMING)
        Contact.objects.filter(pk=contact_id).update(
            sentiment=None,
            customer_messages=F("customer_messages") + incoming,
            updated_at=timezone.now(),
        )
        change.rescore()
    return message


def messages_admin_save(
    *, contact: Contact, changed: list[Message], deleted: list[Message], by: Actor
) -> None:
    """Save an admin's corrections to a contact's messages (the admin's inline form): texts
    and authors redacted with the admin's patterns, the sentiment scored again, the number of
    messages changed in the contact's history."""
    cleaner = TextCleaner()
    for message in changed:
        message.text = cleaner.redact(message.text)
        message.author = cleaner.redact(message.author)
    with contact_change(
        [contact.pk],
        by=by,
        action="contact.messages_edit",
        extra={contact.pk: {"messages_changed": len(changed), "messages_deleted": len(deleted)}},
    ) as change:
        for message in deleted:
            message.delete()
        for message in changed:
            message.contact = contact
            message.save()
        # A message deleted, or its direction changed: counted again.
        incoming = Message.objects.filter(
            contact_id=contact.pk, direction=Message.Direction.INCOMING
        )
        Contact.objects.filter(pk=contact.pk).update(
            sentiment=None, customer_messages=incoming.count(), updated_at=timezone.now()
        )
        change.rescore()
