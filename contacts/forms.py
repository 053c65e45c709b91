"""Forms of the contacts pages. They parse and check input; the writes are in contacts.services."""

import re
from collections import defaultdict
from datetime import timedelta
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.utils import timezone

from contacts import selectors
from contacts.ingest.records import MAX_TAGS, MAX_TEXT
from contacts.models import Channel, Contact, ContactReason, Customer
from voc.core.capabilities import effective_role
from voc.people.access import scope_for
from voc.people.models import Team, User
from voc.people.roles import Role

MAX_HANDLE_SECONDS = 7 * 24 * 3600
FCR_CHOICES = [("", "Not recorded"), ("yes", "Yes"), ("no", "No")]
PERIOD_CHOICES = [
    ("", "Any time"),
    ("1", "Last 24 hours"),
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("365", "Last year"),
]
_HANDLE_TIME = re.compile(r"^(?:(\d{1,3}):)?(\d{1,4}):(\d{2})$")


def _fcr(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


def fcr_value(value: bool | None) -> str:
    return "" if value is None else {True: "yes", False: "no"}[value]


def model_choice_field(form: forms.BaseForm, name: str) -> forms.ModelChoiceField[Any]:
    """The form's field ``name``, which is a model choice field (to set its queryset)."""
    field = form.fields[name]
    if not isinstance(field, forms.ModelChoiceField):
        raise TypeError(f"{name} is not a model choice field")
    return field


def visible_teams(viewer: User) -> QuerySet[Team]:
    scope = scope_for(viewer)
    teams = Team.objects.order_by("name")
    return teams if scope.everything else teams.filter(id__in=scope.team_ids)


def reason_choices(reasons) -> list:
    """Reasons grouped by parent for a <select>: a parent with children becomes an <optgroup>
    holding the parent itself ("Billing (general)") and its children."""
    tops: list[ContactReason] = []
    children: dict[int, list[ContactReason]] = defaultdict(list)
    for reason in reasons:
        if reason.parent_id:
            children[reason.parent_id].append(reason)
        else:
            tops.append(reason)
    choices: list = [("", "— no reason yet —")]
    top_ids = set()
    for top in sorted(tops, key=lambda r: r.name.lower()):
        top_ids.add(top.id)
        kids = sorted(children.get(top.id, []), key=lambda r: r.name.lower())
        if kids:
            options = [(top.id, f"{top.name} (general)")] + [(kid.id, kid.name) for kid in kids]
            choices.append((top.name, options))
        else:
            choices.append((top.id, top.name))
    # Children of a retired parent are still pickable; group them under the parent's name.
    for parent_id, kids in children.items():
        if parent_id not in top_ids:
            kids = sorted(kids, key=lambda r: r.name.lower())
            parent = kids[0].parent
            label = parent.name if parent is not None else ""
            choices.append((label, [(kid.id, kid.name) for kid in kids]))
    return choices


class ReasonField(forms.ChoiceField):
    """A grouped reason picker that cleans to a ContactReason (or None)."""

    def __init__(self, *, reasons, **kwargs):
        self.reasons = {reason.id: reason for reason in reasons}
        super().__init__(choices=reason_choices(self.reasons.values()), required=False, **kwargs)

    def clean(self, value):
        value = super().clean(value)
        return self.reasons[int(value)] if value else None

    def valid_value(self, value) -> bool:
        try:
            return int(value) in self.reasons
        except (TypeError, ValueError):
            return False


class TagsField(forms.CharField):
    """Comma-separated tags, cleaned to a list of lower-case tags."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 2000)
        kwargs.setdefault("help_text", "Comma-separated, e.g. “refund, app”.")
        super().__init__(**kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(value)
        return value

    def clean(self, value):
        value = super().clean(value)
        tags = sorted({tag.strip().lower() for tag in value.split(",") if tag.strip()})
        if len(tags) > MAX_TAGS:
            raise forms.ValidationError(f"Give at most {MAX_TAGS} tags.")
        return tags


def _text_area(rows: int = 3, **attrs) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows, **attrs})


def _outcome_field() -> forms.ChoiceField:
    return forms.ChoiceField(
        choices=[("", "— not recorded —"), *Contact.Outcome.choices], required=False
    )


def _road_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        choices=[("", "— not set —"), *Contact.Road.choices],
        coerce=int,
        empty_value=None,
        required=False,
        label="Road",
    )


def _fcr_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        choices=FCR_CHOICES,
        coerce=_fcr,
        empty_value=None,
        required=False,
        label="Resolved on first contact",
    )


class ContactScopeFilterForm(forms.Form):
    """The channel, reason and team filters the contact list and the message search share;
    the teams offered are those the viewer may see."""

    channel = forms.ChoiceField(choices=[("", "All channels"), *Channel.choices], required=False)
    reason = forms.ModelChoiceField(
        queryset=ContactReason.objects.none(), required=False, empty_label="All reasons"
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.none(), required=False, empty_label="All teams"
    )

    def __init__(self, *args, viewer: User, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "reason").queryset = ContactReason.objects.filter(
            merged_into__isnull=True
        ).select_related("parent")
        model_choice_field(self, "team").queryset = visible_teams(viewer)


class ContactFilterForm(ContactScopeFilterForm):
    """Filters of the contact list; invalid values are reported and ignored."""

    period = forms.ChoiceField(choices=PERIOD_CHOICES, required=False)

    def apply(self, contacts: QuerySet[Contact]) -> QuerySet[Contact]:
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        if data.get("channel"):
            contacts = contacts.filter(channel=data["channel"])
        if data.get("reason"):
            reason = data["reason"]  # a parent also finds its children's contacts
            contacts = contacts.filter(
                reason_id__in=[reason.id, *reason.children.values_list("id", flat=True)]
            )
        if data.get("team"):
            contacts = contacts.filter(team=data["team"])
        if data.get("period"):
            contacts = contacts.filter(
                occurred_at__gte=timezone.now() - timedelta(days=int(data["period"]))
            )
        return contacts


class ContactLogForm(forms.Form):
    """Log a contact: who (an existing customer or a new one), what, how it ended."""

    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), required=False)
    customer_name = forms.CharField(max_length=200, required=False, label="Name")
    customer_email = forms.EmailField(max_length=254, required=False, label="Email")
    customer_phone = forms.CharField(max_length=40, required=False, label="Phone")
    team = forms.ModelChoiceField(queryset=Team.objects.none(), required=False)
    channel = forms.ChoiceField(choices=Channel.choices, initial=Channel.PHONE)
    direction = forms.ChoiceField(choices=Contact.Direction.choices, initial="inbound")
    occurred_at = forms.DateTimeField(
        label="When",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    subject = forms.CharField(max_length=300, required=False)
    tags = TagsField()
    customer_words = forms.CharField(
        max_length=MAX_TEXT,
        required=False,
        label="The customer's words",
        widget=_text_area(4),
        help_text="What the customer said or wrote, in their words where you can.",
    )
    reply = forms.CharField(
        max_length=MAX_TEXT, required=False, label="Your reply", widget=_text_area(3)
    )
    notes = forms.CharField(max_length=MAX_TEXT, required=False, widget=_text_area(3))
    handle_time = forms.CharField(
        max_length=12,
        required=False,
        label="Handle time",
        help_text="Minutes (7 or 7.5) or minutes:seconds (7:30).",
    )
    outcome = _outcome_field()
    first_contact_resolution = _fcr_field()
    road = _road_field()

    def __init__(self, *args, viewer: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.viewer = viewer
        # Customers the rep may see, and those outside their scope they found by an exact
        # ref, email or phone (a minimal card): logging the contact brings them into scope.
        model_choice_field(self, "customer").queryset = selectors.customer_list_pickable(
            viewer=viewer
        ).filter(erased_at__isnull=True)
        self.fields["reason"] = ReasonField(reasons=selectors.reason_list_active(), label="Reason")
        self.order_fields(
            ["customer", "customer_name", "customer_email", "customer_phone", "team", "reason"]
        )
        self.fields["occurred_at"].initial = lambda: timezone.localtime().replace(
            second=0, microsecond=0
        )
        if viewer.team_id:
            del self.fields["team"]  # logged for the rep's own team
        else:
            # No team of their own: managers pick one of their teams, so the contact stays
            # in their scope; admins may leave it empty.
            model_choice_field(self, "team").queryset = visible_teams(viewer)
            self.fields["team"].required = effective_role(viewer) != Role.ADMIN
            self.fields["team"].help_text = "The team this contact was handled for."

    @property
    def team_choices_missing(self) -> bool:
        if "team" not in self.fields:
            return False
        field = model_choice_field(self, "team")
        return field.required and field.queryset is not None and not field.queryset.exists()

    def clean_occurred_at(self):
        value = self.cleaned_data["occurred_at"]
        if value > timezone.now() + timedelta(minutes=5):
            raise forms.ValidationError("This is in the future.")
        return value

    def clean_handle_time(self) -> int | None:
        return parse_handle_time(self.cleaned_data["handle_time"])

    def clean(self):
        data = super().clean()
        if not any(data.get(name) for name in ("reason", "subject", "customer_words", "reply")):
            # An empty form sent with Enter would store a contact that says nothing.
            self.add_error(
                None, "Give a reason, a subject or what was said: a contact needs at least one."
            )
        new_customer = any(
            data.get(name) for name in ("customer_name", "customer_email", "customer_phone")
        )
        if data.get("customer") and new_customer:
            raise forms.ValidationError(
                "Choose an existing customer or describe a new one, not both."
            )
        if (
            data.get("customer_name")
            and not data.get("customer_email")
            and not data.get("customer_phone")
            and "customer_email" not in self.errors
        ):
            self.add_error(
                "customer_email",
                "Give an email or a phone number so VoC can recognise this customer next time.",
            )
        if (
            "team" not in self.fields
            and effective_role(self.viewer) == Role.REP
            and not self.viewer.team_id
        ):
            raise forms.ValidationError(
                "You are not in a team yet: ask an admin to add you to one."
            )
        return data

    def logged_team(self) -> Team | None:
        if "team" in self.fields:
            return self.cleaned_data.get("team")
        return self.viewer.team


def parse_handle_time(value: str) -> int | None:
    """Seconds from "7" or "7.5" (minutes) or "7:30" / "1:07:30"; None for nothing."""
    value = (value or "").strip()
    if not value:
        return None
    match = _HANDLE_TIME.match(value)
    if match:
        hours, minutes, seconds = (int(part) if part else 0 for part in match.groups())
        if seconds >= 60:
            raise forms.ValidationError("Seconds go up to 59.")
        total = hours * 3600 + minutes * 60 + seconds
    else:
        try:
            minutes_float = float(value.replace(",", "."))
        except ValueError:
            raise forms.ValidationError(
                "Give minutes (7 or 7.5) or minutes:seconds (7:30)."
            ) from None
        if minutes_float != minutes_float or minutes_float < 0:  # NaN or negative
            raise forms.ValidationError("Give minutes (7 or 7.5) or minutes:seconds (7:30).")
        if minutes_float * 60 > MAX_HANDLE_SECONDS:
            raise forms.ValidationError("A handle time is at most 7 days.")
        total = round(minutes_float * 60)
    if total > MAX_HANDLE_SECONDS:
        raise forms.ValidationError("A handle time is at most 7 days.")
    return total


class ContactEditForm(forms.Form):
    """What a rep corrects after the fact: reason, tags, outcome, resolution, road, notes. One
    form and one Save: nothing typed on the contact page is left unsaved."""

    tags = TagsField()
    outcome = _outcome_field()
    first_contact_resolution = _fcr_field()
    road = _road_field()
    notes = forms.CharField(max_length=MAX_TEXT, required=False, widget=_text_area(4))

    def __init__(self, *args, contact: Contact, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "reason": contact.reason_id or "",
                "tags": contact.tags,
                "outcome": contact.outcome,
                "first_contact_resolution": fcr_value(contact.first_contact_resolution),
                "road": contact.road or "",
                "notes": contact.notes,
            },
        )
        super().__init__(*args, **kwargs)
        reasons = list(selectors.reason_list_active())
        if contact.reason is not None and contact.reason_id not in {r.id for r in reasons}:
            reasons.append(contact.reason)  # a retired reason stays selectable on its contacts
        self.fields["reason"] = ReasonField(reasons=reasons, label="Reason")
        self.order_fields(
            ["reason", "tags", "outcome", "first_contact_resolution", "road", "notes"]
        )


class RoadSuggestionForm(forms.Form):
    """The facts the road rules look at, as sent by the log or edit form. Every field is
    optional and an invalid one is left out: this only feeds a suggestion."""

    contact = forms.IntegerField(required=False)
    customer = forms.ModelChoiceField(queryset=Customer.objects.none(), required=False)
    occurred_at = forms.DateTimeField(required=False)
    customer_words = forms.CharField(max_length=MAX_TEXT, required=False)
    tags = TagsField()
    outcome = _outcome_field()
    first_contact_resolution = _fcr_field()

    def __init__(self, *args, viewer: User, **kwargs):
        super().__init__(*args, **kwargs)
        model_choice_field(self, "customer").queryset = selectors.customer_list_visible(
            viewer=viewer
        ).filter(erased_at__isnull=True)
        self.fields["reason"] = ReasonField(reasons=selectors.reason_list_active())

    def valid_data(self) -> dict:
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if name not in self.errors}


class CustomerSearchForm(forms.Form):
    q = forms.CharField(
        max_length=100,
        min_length=2,
        required=False,
        label="Find a customer",
        widget=forms.TextInput(
            attrs={
                "type": "search",
                "placeholder": "Name, email, phone or customer ref",
                "autocomplete": "off",
            }
        ),
    )

    def search(self, customers: QuerySet[Customer], *, limit: int = 20) -> list[Customer]:
        """Customers matching the query by name or email (contains), customer ref (exact) or
        phone (contains the digits given); [] for no or a too short query."""
        if not self.is_valid() or not self.cleaned_data["q"]:
            return []
        condition = selectors.customer_match(self.cleaned_data["q"])
        return list(customers.filter(condition).order_by("name", "id")[:limit])
