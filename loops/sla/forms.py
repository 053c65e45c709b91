from django import forms

from loops.sla.services import MAX_HOURS, sla_policy_check


class SlaPolicyForm(forms.Form):
    """One severity's hours; the checks are the service's (one set of messages)."""

    response_hours = forms.IntegerField(
        min_value=1, max_value=MAX_HOURS, help_text="Hours until someone owns it and responds."
    )
    resolution_hours = forms.IntegerField(
        min_value=1,
        max_value=MAX_HOURS,
        help_text="Hours until it is fixed (at least the response).",
    )
    why = forms.CharField(required=False, max_length=500, help_text="Kept in the audit trail.")

    def clean(self):
        data = super().clean()
        if "response_hours" in data and "resolution_hours" in data:
            try:
                sla_policy_check(
                    response_hours=data["response_hours"],
                    resolution_hours=data["resolution_hours"],
                )
            except forms.ValidationError as error:
                for field, messages in error.message_dict.items():
                    for message in messages:
                        self.add_error(field, message)
        return data
