"""The two forms of the promote page: open a new issue, or add the source to an issue."""

from collections.abc import Iterable
from typing import Any

from django import forms

from contacts.forms import reason_choices
from contacts.models import ContactReason
from contacts.selectors import reason_list_active
from loops.models import Severity
from loops.services.issues import MAX_DESCRIPTION, MAX_TITLE

NEW, EXISTING = "new", "existing"


class ReasonsField(forms.MultipleChoiceField):
    """A grouped multiple reason picker that cleans to a list of ContactReason."""

    def __init__(self, *, reasons: Iterable[ContactReason], **kwargs: Any) -> None:
        self.reasons = {reason.pk: reason for reason in reasons}
        choices = [choice for choice in reason_choices(self.reasons.values()) if choice[0] != ""]
        super().__init__(choices=choices, required=False, **kwargs)

    def valid_value(self, value: Any) -> bool:
        try:
            return int(value) in self.reasons
        except (TypeError, ValueError):
            return False

    def clean(self, value: Any) -> list[ContactReason]:
        values = super().clean(value)
        return [self.reasons[int(item)] for item in dict.fromkeys(values)]


class NewIssueForm(forms.Form):
    title = forms.CharField(max_length=MAX_TITLE, help_text="What goes wrong for customers.")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 5}),
        max_length=MAX_DESCRIPTION,
        required=False,
        help_text="Card numbers and other personal codes are removed before it is stored.",
    )
    severity = forms.ChoiceField(choices=Severity.choices, initial=Severity.MEDIUM)

    def __init__(self, *args: Any, suggested: Iterable[ContactReason] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        reasons = {reason.pk: reason for reason in reason_list_active()}
        for reason in suggested:  # the source's own, even if retired since
            reasons.setdefault(reason.pk, reason)
        self.fields["reasons"] = ReasonsField(
            reasons=reasons.values(),
            label="Reasons it explains",
            help_text="The issue's department is the first of these that has one.",
        )
        self.order_fields(["title", "description", "reasons", "severity"])


class ExistingIssueForm(forms.Form):
    issue = forms.IntegerField(
        min_value=1, max_value=2**63 - 1, label="Issue number", help_text="e.g. 42 for #42"
    )
