from django.apps import AppConfig


class FeedbackConfig(AppConfig):
    """Side-by-side listening sessions, outreach and customer feedback."""

    name = "feedback"
    verbose_name = "Listening and feedback"
