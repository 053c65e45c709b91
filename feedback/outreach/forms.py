from django import forms
from django.utils import timezone

from feedback.forms import WHEN_WIDGET
from feedback.models import ForumTopic, OutreachCall, OutreachExercise
from feedback.outreach.selectors import share_recipients
from feedback.outreach.services import MAX_FOLLOW_UP, MAX_MINUTES, MAX_NOTES
from voc.people.models import User
from voc.people.roles import Role

DAY_WIDGET = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def _now() -> object:
    return timezone.localtime().replace(second=0, microsecond=0)


class CallLogForm(forms.Form):
    called_at = forms.DateTimeField(label="Called at", widget=WHEN_WIDGET, initial=_now)
    duration_minutes = forms.IntegerField(
        label="Minutes on the phone",
        min_value=1,
        max_value=MAX_MINUTES,
        help_text="The real length: it counts in your listening hours.",
    )
    outcome = forms.ChoiceField(label="Outcome", choices=OutreachCall.Outcome.choices)
    notes = forms.CharField(
        label="What you heard", widget=forms.Textarea(attrs={"rows": 3}), required=False,
        max_length=MAX_NOTES,
    )  # fmt: skip
    follow_up = forms.CharField(
        label="What we will do", required=False, max_length=MAX_FOLLOW_UP,
        help_text="Optional: a follow-up you own.",
    )  # fmt: skip


class ExerciseForm(forms.Form):
    task = forms.ChoiceField(
        label="What you did as a customer", choices=OutreachExercise.Task.choices
    )
    description = forms.CharField(label="In a few words", required=False, max_length=200)
    done_at = forms.DateTimeField(label="When", widget=WHEN_WIDGET, initial=_now)
    minutes_spent = forms.IntegerField(
        label="Minutes spent", min_value=1, max_value=MAX_MINUTES,
        help_text="Counts in your listening hours.",
    )  # fmt: skip
    outcome = forms.ChoiceField(label="How it went", choices=OutreachExercise.Outcome.choices)
    notes = forms.CharField(
        label="What was hard", widget=forms.Textarea(attrs={"rows": 3}), required=False,
        max_length=MAX_NOTES,
    )  # fmt: skip
    follow_up = forms.CharField(label="What we will do", required=False, max_length=MAX_FOLLOW_UP)


class ForumForm(forms.Form):
    title = forms.CharField(label="Title", max_length=200)
    held_at = forms.DateTimeField(label="Held at", widget=WHEN_WIDGET, initial=_now)


class TopicForm(forms.Form):
    title = forms.CharField(label="Topic raised", max_length=200)
    raised_by: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        queryset=User.objects.none(), label="Raised by", required=False
    )
    notes = forms.CharField(
        label="Notes", widget=forms.Textarea(attrs={"rows": 3}), required=False,
        max_length=MAX_NOTES,
    )  # fmt: skip
    outcome = forms.ChoiceField(label="Outcome", choices=ForumTopic.Outcome.choices)
    owner: forms.ModelChoiceField[User] = forms.ModelChoiceField(
        queryset=User.objects.none(), label="Who follows up", required=False
    )
    due_on = forms.DateField(label="Due", widget=DAY_WIDGET, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        people = User.objects.filter(is_active=True).order_by("last_name", "first_name", "username")
        self.fields["raised_by"].queryset = people.filter(role__in=[Role.REP, Role.EXECUTIVE])
        self.fields["owner"].queryset = people


class ShareForm(forms.Form):
    recipients: forms.ModelMultipleChoiceField[User] = forms.ModelMultipleChoiceField(
        queryset=User.objects.none(),
        label="Share with",
        widget=forms.CheckboxSelectMultiple,
        help_text="Each person gets this month's summary by email, once.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["recipients"].queryset = share_recipients()
