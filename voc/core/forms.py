from typing import Any

from django import forms

from voc.core.business import BusinessSetting, team_model

NEW_TEAM_SCOPE = "team:new"


def scope_prefix(scope: str) -> str:
    """A form prefix for a scope ("", "role:rep", "team:12"), so a page's forms have unique ids."""
    return scope.replace(":", "-") if scope else "everyone"


class BusinessSettingForm(forms.Form):
    """One value of a business setting at one scope. The value is plain text here: the service
    checks it (voc.core.business), so the page, the admin and a script share one set of rules."""

    value = forms.CharField(max_length=50)
    why = forms.CharField(
        label="Why",
        required=False,
        max_length=500,
        help_text="Optional; kept in the history.",
    )

    def __init__(self, *args: Any, setting: BusinessSetting, scope: str, label: str, **kwargs: Any):
        kwargs.setdefault("prefix", scope_prefix(scope))
        super().__init__(*args, **kwargs)
        self.scope = scope
        self.fields["value"].label = label
        self.fields["value"].widget.attrs["inputmode"] = setting.kind.input_mode
        if scope == NEW_TEAM_SCOPE:
            self.fields = {
                "team": forms.ModelChoiceField(
                    queryset=team_model()._default_manager.order_by("name"),
                    empty_label="Choose a team",
                ),
                **self.fields,
            }
