"""What the digests put on other apps' pages."""

from django.urls import reverse

from contacts.models import Contact


def reason_digest_url(contact: Contact, viewer: object) -> str | None:
    """ "Subscribe to this" from a contact's reason (none for a contact without one)."""
    if contact.reason_id is None:
        return None
    return reverse("loops:digest-subscribe") + f"?reason={contact.reason_id}"
