"""The forms of the flag panel: "me too" on a suggested issue, and propose a new one."""

from django import forms

from loops.flags.services import MAX_NOTE
from loops.services.issues import MAX_DESCRIPTION, MAX_TITLE


class MeTooForm(forms.Form):
    issue = forms.IntegerField(min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)
    note = forms.CharField(max_length=MAX_NOTE, required=False)


class ProposeForm(forms.Form):
    title = forms.CharField(max_length=MAX_TITLE, help_text="What goes wrong for customers.")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), max_length=MAX_DESCRIPTION, required=False
    )
    note = forms.CharField(
        max_length=MAX_NOTE, required=False, help_text="For the manager who triages it."
    )
