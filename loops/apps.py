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

        # --- follow-ups (loops/followups/): settings, audit labels, erasure, timeline,
        # home widget, demo data
        from contacts.registry import register_erasure_handler, register_timeline_provider
        from loops.access import WORK_FOLLOW_UPS
        from loops.followups.demo import seed_follow_ups
        from loops.followups.home import follow_ups_widget
        from loops.followups.selectors import follow_up_timeline
        from loops.followups.services import AUDIT_LABELS as FOLLOW_UP_AUDIT_LABELS
        from loops.followups.services import follow_ups_erase
        from loops.followups.settings import register_follow_up_settings
        from voc.core.demo import register_demo_seeder
        from voc.core.home import HomeWidget, register_home_widget

        register_follow_up_settings()
        register_action_labels(FOLLOW_UP_AUDIT_LABELS)
        register_erasure_handler("loops.follow_ups", follow_ups_erase)
        register_timeline_provider("loops.follow_ups", follow_up_timeline)
        register_home_widget(
            HomeWidget(
                key="loops.follow_ups",
                title="Call backs due",
                capability=WORK_FOLLOW_UPS,
                content=follow_ups_widget,
                order=8,
            )
        )
        register_demo_seeder("loops.follow_ups", seed_follow_ups)

        # --- the bcc program (loops/digests/): capabilities, settings, the email's builder,
        # audit labels, navigation
        from loops.access import SUBSCRIBE_DIGESTS, register_digest_capabilities
        from loops.digests.services import AUDIT_LABELS as DIGEST_AUDIT_LABELS
        from loops.digests.services import SEND_ONCE_PURPOSE, digest_email_context
        from loops.digests.settings import register_digest_settings
        from voc.core.navigation import USER, NavItem, register_nav_item
        from voc.core.sendonce import register_email_context

        register_digest_capabilities()
        register_digest_settings()
        register_action_labels(DIGEST_AUDIT_LABELS)
        register_email_context(SEND_ONCE_PURPOSE, digest_email_context)
        register_nav_item(
            NavItem("digests", "My digests", "loops:digest-list", SUBSCRIBE_DIGESTS, 85, menu=USER)
        )
