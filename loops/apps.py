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

        # --- promote to issue (loops/promote/): "Promote to issue" in feedback's action slots
        # (feedback items, side-by-side notes, outreach entries) and the demo's promotions
        from loops.promote.actions import register_promote_actions
        from loops.promote.demo import seed_promotions
        from voc.core.demo import register_demo_seeder

        register_promote_actions()
        register_demo_seeder("loops.promote", seed_promotions)
