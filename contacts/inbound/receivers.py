"""Connects django-anymail's ``inbound`` signal: every ESP's webhook ends here, one code path."""

from anymail.signals import inbound
from django.dispatch import receiver


def esp_key(esp_name: str) -> str:
    """anymail's display name ("Amazon SES") as VoC stores it ("amazon_ses")."""
    return "_".join(str(esp_name).lower().split())[:30]


@receiver(inbound, dispatch_uid="contacts.inbound.store")
def store_inbound_email(sender, event, esp_name, **kwargs) -> None:
    from contacts.inbound.services import inbound_email_store

    message = event.message
    inbound_email_store(
        message=message,
        esp=esp_key(esp_name),
        envelope_recipient=getattr(message, "envelope_recipient", None) or "",
    )
