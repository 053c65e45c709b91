from django import forms

from feedback.models import Story
from feedback.stories.services import MAX_TEXT, MAX_TITLE


class StoryForm(forms.Form):
    """The small form on the contact page: thumb, title, story (story_record validates)."""

    thumb = forms.ChoiceField(
        choices=Story.Thumb.choices, widget=forms.RadioSelect, label="Thumbs up or down"
    )
    title = forms.CharField(
        max_length=MAX_TITLE,
        label="Title",
        widget=forms.TextInput(attrs={"placeholder": "e.g. Sorted the PIN in one call"}),
    )
    text = forms.CharField(
        max_length=MAX_TEXT,
        label="The story",
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What happened and what the customer said. Card numbers are removed before "
        "it is saved.",
    )


class WallFilterForm(forms.Form):
    thumb = forms.ChoiceField(
        choices=[("all", "All"), *Story.Thumb.choices], required=False, label="Show"
    )

    def thumb_value(self) -> str:
        if self.is_valid():
            return self.cleaned_data.get("thumb") or "all"
        return "all"
