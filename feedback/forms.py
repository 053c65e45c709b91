from datetime import timedelta

from django import forms
from django.utils import timezone

from feedback.selectors import session_participant_choices
from feedback.services.sessions import MAX_MINUTES, MIN_MINUTES
from voc.core.capabilities import effective_role
from voc.people.models import User
from voc.people.roles import Role

WHEN_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class SessionWhenForm(forms.Form):
    scheduled_start = forms.DateTimeField(label="Starts", widget=WHEN_WIDGET)
    planned_minutes = forms.IntegerField(
        label="Planned minutes",
        min_value=MIN_MINUTES,
        max_value=MAX_MINUTES,
        initial=120,
        help_text="Two hours a week is the 5% solution.",
    )


class SessionScheduleForm(SessionWhenForm):
    other: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        queryset=User.objects.none(), label="With"
    )
    topic = forms.CharField(
        label="Topic",
        max_length=200,
        required=False,
        help_text="Optional: what you would like to hear about (billing calls, the new app…).",
    )

    field_order = ["other", "scheduled_start", "planned_minutes", "topic"]

    def __init__(self, *args, viewer, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["other"]
        field.queryset = session_participant_choices(viewer=viewer)
        field.label = (
            "Rep to sit beside"
            if effective_role(viewer) == Role.EXECUTIVE
            else ("Executive to invite")
        )
        self.fields["scheduled_start"].initial = lambda: (
            timezone.localtime() + timedelta(days=1)
        ).replace(minute=0, second=0, microsecond=0)
