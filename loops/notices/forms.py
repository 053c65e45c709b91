from django import forms

from loops.models import NoticeRecipient
from loops.notices.services import MAX_BODY, MAX_SUBJECT


class NoticeForm(forms.Form):
    subject = forms.CharField(max_length=MAX_SUBJECT)
    body = forms.CharField(
        label="Text",
        max_length=MAX_BODY,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text="Plain text. Each email starts with “Hello” and the customer's name, and ends "
        "with a link to stop these emails.",
    )
    include_reason_contacts = forms.BooleanField(
        required=False, label="Also tell everyone with a contact on the issue's reasons"
    )


class RecipientFilterForm(forms.Form):
    status = forms.ChoiceField(
        choices=[("", "Any"), *NoticeRecipient.Status.choices], required=False
    )

    def value(self) -> str:
        return self.cleaned_data.get("status", "") if self.is_valid() else ""
