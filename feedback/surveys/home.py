"""The home widget of post-contact surveys: the last 30 days in one line, and the report."""

from datetime import timedelta

from django.utils import timezone

from feedback.surveys.selectors import survey_report
from voc.core.home import Fragment
from voc.people.models import User


def survey_widget(viewer: User) -> Fragment | None:
    until = timezone.now()
    report = survey_report(viewer=viewer, since=until - timedelta(days=30), until=until)
    return Fragment("feedback/_home_surveys.html", {"report": report})
