"""Forms of the feedback pages: the list's filters, logging a complaint or compliment by hand,
and setting a topic. They parse and check input; the writes are services."""

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.utils import timezone

from contacts import selectors as contact_selectors
from contacts.forms import ReasonField, model_choice_field, visible_teams
from contacts.models import Channel, Contact, ContactReason
from feedback.items.services import MAX_VERBATIM
from feedback.models import FeedbackItem
from voc.people.models import Team, User

Kind = FeedbackItem.Kind
SEARCH_MAX = 200


class FeedbackFilterForm(forms.Form):
    """Filters of the feedback list; invalid values are reported and ignored."""

    kind = forms.ChoiceField(choices=[("", "All kinds"), *Kind.choices], required=False)
    band = forms.ChoiceField(
        choices=[("", "All bands"), *FeedbackItem.Band.choices], required=False, label="Score band"
    )
    reason = forms.ModelChoiceField(
        queryset=ContactReason.objects.none(),
        required=False,
        empty_label="All topics",
        label="Topic",
    )
    channel = forms.ChoiceField(choices=[("", "All channels"), *Channel.choices], required=False)
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label="All teams"
    )
    date_from = forms.DateField(
        required=False, label="From", widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        required=False, label="To", widget=forms.DateInput(attrs={"type": "date"})
    )
    q = forms.CharField(
        required=False,
        max_length=SEARCH_MAX,
        label="Words",
        help_text="In what the customer wrote or said.",
    )

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        model_choice_field(self, "reason").queryset = ContactReason.objects.filter(
            merged_into__isnull=True
        ).select_related("parent")
        model_choice_field(self, "team").queryset = visible_teams(viewer)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", "The end date is before the start date.")
        return data

    def apply(self, items: QuerySet[FeedbackItem]) -> QuerySet[FeedbackItem]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if data.get("kind"):
            items = items.filter(kind=data["kind"])
        if data.get("band"):
            items = items.filter(band=data["band"])
        if data.get("reason"):
            reason = data["reason"]  # a parent also finds its children's items
            items = items.filter(
                reason_id__in=[reason.id, *reason.children.values_list("id", flat=True)]
            )
        if data.get("channel"):
            items = items.filter(channel=data["channel"])
        if data.get("team"):
            items = items.filter(team=data["team"])
        # Whole days in the time zone of the site: "to" includes its last second.
        if data.get("date_from"):
            items = items.filter(received_at__gte=_day_start(data["date_from"]))
        if data.get("date_to"):
            items = items.filter(received_at__lt=_day_start(data["date_to"] + timedelta(days=1)))
        if data.get("q", "").strip():
            items = items.filter(Q(verbatim__icontains=data["q"].strip()))
        return items

    @property
    def filtered(self) -> bool:
        return any(self.data.get(name) for name in self.fields)


def _day_start(day: Any) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


class FeedbackLogForm(forms.Form):
    """Log a complaint or a compliment that came by letter, on a call, at the counter."""

    kind = forms.ChoiceField(
        choices=[(Kind.COMPLAINT, Kind.COMPLAINT.label), (Kind.COMPLIMENT, Kind.COMPLIMENT.label)],
        initial=Kind.COMPLAINT,
        widget=forms.RadioSelect,
    )
    verbatim = forms.CharField(
        max_length=MAX_VERBATIM,
        label="The customer's words",
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="What the customer said or wrote, in their words where you can.",
    )
    contact = forms.IntegerField(
        required=False,
        min_value=1,
        label="Contact number",
        help_text="The contact it came with (its number, as on the contact page). The item "
        "takes its customer, team and reason. Without a contact it belongs to your team.",
    )
    channel = forms.ChoiceField(
        choices=[("", "— as on the contact —"), *Channel.choices],
        required=False,
        help_text="How it reached us (a letter, a call …).",
    )
    received_at = forms.DateTimeField(
        label="When the customer gave it",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )

    def __init__(self, *args: Any, viewer: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.viewer = viewer
        self.fields["reason"] = ReasonField(
            reasons=contact_selectors.reason_list_active(), label="Topic"
        )
        self.fields["reason"].help_text = "Leave empty to take the contact's reason."
        self.order_fields(["kind", "verbatim", "contact", "channel", "reason", "received_at"])
        self.fields["received_at"].initial = lambda: timezone.localtime().replace(
            second=0, microsecond=0
        )
        self.contact_found: Contact | None = None

    def clean_contact(self) -> Contact | None:
        contact_id = self.cleaned_data.get("contact")
        if contact_id is None:
            return None
        contact = contact_selectors.contact_get_visible(viewer=self.viewer, contact_id=contact_id)
        if contact is None:
            raise forms.ValidationError("No contact with this number among the ones you can see.")
        self.contact_found = contact
        return contact

    def clean_received_at(self) -> datetime:
        value: datetime = self.cleaned_data["received_at"]
        if value > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError("That is in the future.")
        return value

    def clean_verbatim(self) -> str:
        text = str(self.cleaned_data.get("verbatim", "")).strip()
        if not text:
            raise forms.ValidationError("Write down what the customer said.")
        return text


class TopicForm(forms.Form):
    """The topic of one item, chosen from the current reasons."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["reason"] = ReasonField(
            reasons=contact_selectors.reason_list_active(), label="Topic"
        )
