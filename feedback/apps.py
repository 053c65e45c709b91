from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    """Side-by-side listening sessions, outreach and customer feedback."""

    name = "feedback"
    verbose_name = "Listening and feedback"

    def ready(self) -> None:
        from feedback.access import (
            RUN_SESSIONS,
            VIEW_TRACKER,
            register_feedback_capabilities,
        )
        from feedback.items.services import AUDIT_LABELS as ITEM_AUDIT_LABELS
        from feedback.services.sessions import AUDIT_LABELS
        from voc.core.audit import register_action_labels
        from voc.core.navigation import NavItem, register_nav_item

        register_feedback_capabilities()
        register_action_labels(AUDIT_LABELS)
        register_action_labels(ITEM_AUDIT_LABELS)
        register_nav_item(
            NavItem("sessions", "Side-by-side", "feedback:session-list", RUN_SESSIONS, order=30)
        )

        from feedback.home import (
            listening_tracker_widget,
            upcoming_sessions_widget,
        )
        from voc.core.home import HomeWidget, register_home_widget

        register_home_widget(
            HomeWidget(
                key="feedback.tracker",
                title="Listening: the 5% tracker",
                capability=VIEW_TRACKER,
                content=listening_tracker_widget,
                order=5,
            )
        )
        register_home_widget(
            HomeWidget(
                key="feedback.upcoming",
                title="Side-by-side sessions",
                capability=RUN_SESSIONS,
                content=upcoming_sessions_widget,
                order=6,
            )
        )

        from contacts.registry import register_erasure_handler
        from feedback.services.sessions import session_notes_erase

        register_erasure_handler("feedback.session_notes", session_notes_erase)

        from feedback.demo import seed_sessions
        from voc.core.demo import register_demo_seeder

        register_demo_seeder("feedback", seed_sessions)

        # Post-contact surveys (feedback/surveys/).
        from feedback.access import VIEW_SURVEY_REPORT, register_survey_capabilities
        from feedback.surveys.demo import seed_surveys
        from feedback.surveys.home import survey_widget
        from feedback.surveys.services import (
            AUDIT_LABELS as SURVEY_AUDIT_LABELS,
        )
        from feedback.surveys.services import (
            EMAIL_PURPOSE as SURVEY_EMAIL_PURPOSE,
        )
        from feedback.surveys.services import survey_email_context
        from feedback.surveys.settings import register_survey_settings
        from voc.core.sendonce import register_email_context

        register_survey_capabilities()
        register_survey_settings()
        register_action_labels(SURVEY_AUDIT_LABELS)
        register_email_context(SURVEY_EMAIL_PURPOSE, survey_email_context)
        register_home_widget(
            HomeWidget(
                key="feedback.surveys",
                title="Post-contact surveys",
                capability=VIEW_SURVEY_REPORT,
                content=survey_widget,
                order=7,
            )
        )
        register_demo_seeder("feedback.surveys", seed_surveys)
