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

        # --- feedback items' pages: capabilities, audit labels, home widgets, panels,
        # timeline, erasure, demo (feedback/items/{views,pages}.py, feedback/complaints/)
        from contacts.registry import (
            CONTACT_PAGE,
            CUSTOMER_PAGE,
            PagePanel,
            register_page_panel,
            register_timeline_provider,
        )
        from feedback.access import (
            THANK_COMPLAINTS,
            VIEW_FEEDBACK_ITEMS,
            register_feedback_item_page_capabilities,
        )
        from feedback.complaints.home import complaints_to_thank_widget
        from feedback.complaints.services import AUDIT_LABELS as THANKS_AUDIT_LABELS
        from feedback.items.demo import seed_feedback_items
        from feedback.items.erasure import feedback_items_erase
        from feedback.items.pages import (
            contact_feedback_panel,
            customer_feedback_panel,
            feedback_timeline,
            latest_feedback_widget,
        )
        from feedback.items.topic_edits import AUDIT_LABELS as TOPIC_AUDIT_LABELS

        register_feedback_item_page_capabilities()
        register_action_labels(TOPIC_AUDIT_LABELS)
        register_action_labels(THANKS_AUDIT_LABELS)
        register_home_widget(
            HomeWidget(
                key="feedback.complaints_to_thank",
                title="Complaints to thank",
                capability=THANK_COMPLAINTS,
                content=complaints_to_thank_widget,
                order=7,
            )
        )
        register_home_widget(
            HomeWidget(
                key="feedback.latest_items",
                title="Feedback",
                capability=VIEW_FEEDBACK_ITEMS,
                content=latest_feedback_widget,
                order=8,
            )
        )
        register_page_panel(
            CONTACT_PAGE,
            PagePanel("feedback.items", "Feedback", VIEW_FEEDBACK_ITEMS, contact_feedback_panel),
        )
        register_page_panel(
            CUSTOMER_PAGE,
            PagePanel("feedback.items", "Feedback", VIEW_FEEDBACK_ITEMS, customer_feedback_panel),
        )
        register_timeline_provider("feedback.items", feedback_timeline)
        register_erasure_handler("feedback.items", feedback_items_erase)
        register_demo_seeder("feedback.items", seed_feedback_items)
        # --- outreach programs (feedback/outreach/) ---
        from feedback.outreach.apps import outreach_ready

        outreach_ready()
        # Feedback items: ingest (API, import), topic rules, rollups.
        from feedback.access import register_item_capabilities
        from feedback.items.topics import AUDIT_LABELS as TOPIC_AUDIT_LABELS

        register_item_capabilities()
        register_action_labels(TOPIC_AUDIT_LABELS)

        from feedback.items.demo import seed_feedback_items

        register_demo_seeder("feedback.items", seed_feedback_items)

        # --- stories (feedback/stories/) ---
        from contacts.registry import (
            CONTACT_PAGE,
            PagePanel,
            register_page_panel,
            register_timeline_provider,
        )
        from feedback.access import RECORD_STORIES, VIEW_STORY_WALL, register_story_capabilities
        from feedback.stories.demo import seed_stories
        from feedback.stories.home import contact_stories_panel, latest_stories_widget
        from feedback.stories.selectors import story_timeline
        from feedback.stories.services import AUDIT_LABELS as STORY_AUDIT_LABELS
        from feedback.stories.services import stories_erase

        register_story_capabilities()
        register_action_labels(STORY_AUDIT_LABELS)
        register_home_widget(
            HomeWidget(
                key="feedback.stories",
                title="Thumbs up, thumbs down: latest stories",
                capability=VIEW_STORY_WALL,
                content=latest_stories_widget,
                order=7,
            )
        )
        register_page_panel(
            CONTACT_PAGE,
            PagePanel("feedback.stories", "Stories", RECORD_STORIES, contact_stories_panel),
        )
        register_timeline_provider("feedback.stories", story_timeline)
        register_erasure_handler("feedback.stories", stories_erase)
        register_demo_seeder("feedback.stories", seed_stories)

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
