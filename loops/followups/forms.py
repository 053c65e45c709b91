from django import forms

from loops.followups.services import MAX_NOTES
from loops.models import FollowUp

CALL_OUTCOMES = [
    (value, label)
    for value, label in FollowUp.Outcome.choices
    if value != FollowUp.Outcome.NOT_ALLOWED
]


class FollowUpCloseForm(forms.Form):
    outcome = forms.ChoiceField(choices=CALL_OUTCOMES, widget=forms.RadioSelect)
    notes = forms.CharField(
        required=False,
        max_length=MAX_NOTES,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What the customer said and what you did (card numbers are removed).",
    )


class FollowUpFilterForm(forms.Form):
    SHOW = [("mine", "Mine"), ("all", "All I can see")]
    STATUS = [("open", "Open"), ("done", "Done"), ("cancelled", "Not allowed"), ("any", "Any")]
    show = forms.ChoiceField(choices=SHOW, required=False)
    status = forms.ChoiceField(choices=STATUS, required=False)

    def value(self, name: str, default: str) -> str:
        if self.is_valid():
            return self.cleaned_data.get(name) or default
        return default
