from django import forms


class ApiTokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100,
        help_text="What uses this token, e.g. “CRM nightly export”.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
