from datetime import date, timedelta

from django import forms
from django.utils import timezone

from contacts.gestures.services import MAX_NOTE, MAX_REASON
from contacts.models import Gesture
from contacts.rollups import reporting_tz


class GestureForm(forms.Form):
    kind = forms.ChoiceField(label="Gesture", choices=Gesture.Kind.choices)
    value = forms.DecimalField(
        label="Value",
        min_value=0,
        max_digits=12,
        decimal_places=2,
        help_text="0 for a call back that costs nothing.",
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    note = forms.CharField(
        label="Note",
        required=False,
        max_length=MAX_NOTE,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="What you gave and why, in a few words.",
    )

    def __init__(self, *args, contact_id: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if contact_id is not None:
            self.auto_id = f"gesture-{contact_id}-%s"


class DecisionForm(forms.Form):
    reason = forms.CharField(required=False, max_length=MAX_REASON)


class ReportForm(forms.Form):
    since = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))

    MAX_DAYS = 3 * 366

    @staticmethod
    def default_period() -> tuple[date, date]:
        today = timezone.localdate(timezone=reporting_tz())
        return today - timedelta(days=180), today

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until:
            if since > until:
                raise forms.ValidationError("Choose a start on or before the end.")
            if (until - since).days > self.MAX_DAYS:
                raise forms.ValidationError("Choose a period of three years or less.")
        return data
