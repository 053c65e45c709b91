from typing import Any

from django import forms
from django.db.models import QuerySet

from contacts.models import Channel, ContactReason
from loops.digests.services import SubscriptionData
from loops.models import DigestSubscription
from voc.people.models import Department, Team, User

WEEKDAYS = [
    (0, "Monday"),
    (1, "Tuesday"),
    (2, "Wednesday"),
    (3, "Thursday"),
    (4, "Friday"),
    (5, "Saturday"),
    (6, "Sunday"),
]
MAX_TAGS = 20


class SubscriptionForm(forms.Form):
    name = forms.CharField(max_length=100)
    frequency = forms.ChoiceField(choices=DigestSubscription.Frequency.choices)
    hour = forms.TypedChoiceField(
        choices=[(h, f"{h:02d}:00") for h in range(24)], coerce=int, initial=8
    )
    weekday = forms.TypedChoiceField(choices=WEEKDAYS, coerce=int, initial=0, required=False)
    reasons = forms.ModelMultipleChoiceField(
        queryset=ContactReason.objects.filter(retired_at__isnull=True, merged_into__isnull=True),
        required=False,
        help_text="A reason includes its sub-reasons. None: every reason.",
    )
    departments = forms.ModelMultipleChoiceField(queryset=Department.objects.all(), required=False)
    teams = forms.ModelMultipleChoiceField(queryset=Team.objects.all(), required=False)
    channels = forms.MultipleChoiceField(choices=Channel.choices, required=False)
    tags = forms.CharField(
        required=False, max_length=500, help_text="Comma-separated; any of them matches."
    )
    keywords = forms.CharField(
        required=False,
        max_length=300,
        help_text='As in search: words, "a phrase", -leave-out.',
    )
    sentiment_at_most = forms.FloatField(
        required=False,
        min_value=-1,
        max_value=1,
        label="Only sentiment at or below",
        help_text="-1 (angriest) to 1; empty: any.",
    )
    include_outgoing = forms.BooleanField(required=False, initial=True, label="Include our replies")

    def clean_tags(self) -> list[str]:
        tags = [t.strip() for t in self.cleaned_data["tags"].split(",") if t.strip()]
        if len(tags) > MAX_TAGS:
            raise forms.ValidationError(f"At most {MAX_TAGS} tags.")
        return tags

    def data_for_service(self) -> SubscriptionData:
        data = self.cleaned_data
        return SubscriptionData(
            name=data["name"],
            frequency=data["frequency"],
            hour=data["hour"],
            weekday=data.get("weekday") or 0,
            reasons=tuple(r.pk for r in data["reasons"]),
            departments=tuple(d.pk for d in data["departments"]),
            teams=tuple(t.pk for t in data["teams"]),
            tags=tuple(data["tags"]),
            channels=tuple(data["channels"]),
            keywords=data["keywords"],
            sentiment_at_most=data["sentiment_at_most"],
            include_outgoing=data["include_outgoing"],
        )

    @classmethod
    def initial_for(cls, subscription: DigestSubscription) -> dict[str, object]:
        return {
            "name": subscription.name,
            "frequency": subscription.frequency,
            "hour": subscription.hour,
            "weekday": subscription.weekday,
            "reasons": list(subscription.reasons.all()),
            "departments": list(subscription.departments.all()),
            "teams": list(subscription.teams.all()),
            "channels": subscription.channels,
            "tags": ", ".join(subscription.tags),
            "keywords": subscription.keywords,
            "sentiment_at_most": subscription.sentiment_at_most,
            "include_outgoing": subscription.include_outgoing,
        }


class EnrolForm(SubscriptionForm):
    people = forms.ModelMultipleChoiceField(queryset=User.objects.none())

    def __init__(self, *args: Any, people: QuerySet[User], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["people"].queryset = people  # type: ignore[attr-defined]
