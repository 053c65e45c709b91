from django.apps import AppConfig


class LoopsConfig(AppConfig):
    """Issues, rep flags, SLAs and escalation, follow-ups and bcc digests."""

    name = "loops"
    verbose_name = "Loops"
