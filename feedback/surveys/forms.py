from django import forms

from feedback.items.services import MAX_VERBATIM


class SurveyAnswerForm(forms.Form):
    """One score (the scale's range) and an optional "tell us why"."""

    score = forms.TypedChoiceField(coerce=int, choices=[], widget=forms.RadioSelect)
    verbatim = forms.CharField(
        label="Tell us why (optional)",
        required=False,
        max_length=MAX_VERBATIM,
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def __init__(self, *args, scores: list[int], **kwargs):
        super().__init__(*args, **kwargs)
        score = self.fields["score"]
        assert isinstance(score, forms.TypedChoiceField)
        score.choices = [(n, str(n)) for n in scores]
        score.error_messages["required"] = "Choose a score first."
