from django.apps import AppConfig


class LoopsConfig(AppConfig):
    """Issues, rep flags, SLAs and escalation, follow-ups and bcc digests."""

    name = "loops"
    verbose_name = "Loops"

    def ready(self) -> None:
        from loops.access import register_loops_capabilities
        from loops.services.issues import AUDIT_LABELS
        from voc.core.audit import register_action_labels

        register_loops_capabilities()
        register_action_labels(AUDIT_LABELS)
