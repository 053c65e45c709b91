from django import forms

from loops.models import NotificationKind
from loops.notifications.services import ALWAYS_ON


class NotificationPreferencesForm(forms.Form):
    """One checkbox per kind of loops email; escalations to oneself are shown on and cannot
    be unticked (a disabled field: whatever is posted for it is ignored)."""

    def __init__(self, *args, preferences: dict[str, bool], **kwargs):
        super().__init__(*args, **kwargs)
        for kind, label in NotificationKind.choices:
            always = ALWAYS_ON.get(kind)
            self.fields[kind] = forms.BooleanField(
                label=label,
                required=False,
                initial=preferences[kind],
                disabled=always is not None,
                help_text=always or "",
            )

    def choices(self) -> dict[str, bool]:
        return {
            kind: bool(self.cleaned_data[kind])
            for kind in NotificationKind.values
            if kind not in ALWAYS_ON
        }
