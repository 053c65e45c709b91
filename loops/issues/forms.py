from django import forms

from loops.models import Issue, Severity
from loops.selectors import BOARD_SORTS, SLA_STATES, BoardFilters
from loops.services.issues import MAX_DESCRIPTION, MAX_TITLE, BulkAction
from voc.people.models import Department, User
from voc.people.roles import Role

WHY_MAX = 500


def active_managers():
    return User.objects.filter(is_active=True, role=Role.MANAGER).order_by("username")


def active_executives():
    return User.objects.filter(is_active=True, role=Role.EXECUTIVE).order_by("username")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.get_full_name() or obj.get_username()


class IssueAssignForm(forms.Form):
    owner = UserChoiceField(queryset=active_managers(), label="Owner")
    why = forms.CharField(required=False, max_length=WHY_MAX, label="Why (optional)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = active_managers()


class IssueTransitionForm(forms.Form):
    # Any text: the rules (loops/rules.py) say why a status is not allowed, with the
    # statuses that are; the page only offers the legal ones.
    to = forms.CharField(max_length=20, label="New status")
    why = forms.CharField(
        required=False,
        max_length=WHY_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        label="Why",
        help_text="Required to reopen, and for won't fix: the customers who reported it read it.",
    )


class IssueEditForm(forms.Form):
    title = forms.CharField(max_length=MAX_TITLE)
    description = forms.CharField(
        required=False, max_length=MAX_DESCRIPTION, widget=forms.Textarea(attrs={"rows": 5})
    )
    severity = forms.ChoiceField(choices=Severity.choices)
    sponsor = UserChoiceField(queryset=active_executives(), required=False, label="Sponsor")
    ticket_url = forms.URLField(
        required=False, max_length=200, label="Engineering ticket", assume_scheme="https"
    )
    why = forms.CharField(required=False, max_length=WHY_MAX, label="Why (optional)")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["sponsor"].queryset = active_executives()


class IssueMergeForm(forms.Form):
    survivor = forms.IntegerField(
        min_value=1, label="Merge into issue #", help_text="The issue that stays."
    )
    why = forms.CharField(required=False, max_length=WHY_MAX, label="Why (optional)")


class EvidenceRemoveForm(forms.Form):
    why = forms.CharField(required=False, max_length=WHY_MAX)


STATUS_FILTERS = [("open", "Open"), *Issue.Status.choices, ("any", "Any")]


class BoardFilterForm(forms.Form):
    status = forms.ChoiceField(choices=STATUS_FILTERS, required=False)
    severity = forms.ChoiceField(choices=[("", "Any"), *Severity.choices], required=False)
    department = forms.ModelChoiceField(
        queryset=Department.objects.order_by("name"), required=False, empty_label="Any"
    )
    owner = forms.CharField(required=False, max_length=12)
    sla = forms.ChoiceField(choices=[("", "Any"), *SLA_STATES.items()], required=False, label="SLA")
    reason = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    q = forms.CharField(required=False, max_length=100, label="Text")
    sponsored = forms.BooleanField(required=False, label="Sponsored by me")
    sort = forms.ChoiceField(choices=list(BOARD_SORTS.items()), required=False)

    def __init__(self, *args, viewer: User, **kwargs):
        super().__init__(*args, **kwargs)
        self.viewer = viewer

    def clean_owner(self) -> int | None:
        value = (self.cleaned_data.get("owner") or "").strip()
        if not value:
            return None
        if value == "me":
            return self.viewer.pk
        if not value.isdigit():
            raise forms.ValidationError("Choose an owner.")
        return int(value)

    def filters(self) -> BoardFilters:
        """The filters asked for; an invalid form shows the open issues, oldest first."""
        if not self.is_valid():
            return BoardFilters()
        data = self.cleaned_data
        return BoardFilters(
            status=data.get("status") or "open",
            severity=data.get("severity") or "",
            department_id=data["department"].pk if data.get("department") else None,
            owner_id=data.get("owner"),
            sla=data.get("sla") or "",
            reason_id=data.get("reason"),
            text=(data.get("q") or "").strip(),
            sponsored_by_me=bool(data.get("sponsored")),
            sort=data.get("sort") or "age",
        )


class BulkForm(forms.Form):
    action = forms.ChoiceField(choices=BulkAction.CHOICES)
    owner = UserChoiceField(queryset=active_managers(), required=False)
    status = forms.ChoiceField(choices=[("", "—"), *Issue.Status.choices], required=False)
    severity = forms.ChoiceField(choices=[("", "—"), *Severity.choices], required=False)
    why = forms.CharField(required=False, max_length=WHY_MAX)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = active_managers()

    def clean(self):
        data = super().clean()
        action = data.get("action")
        needed = {BulkAction.ASSIGN: "owner", BulkAction.STATUS: "status",
                  BulkAction.SEVERITY: "severity"}.get(action or "")  # fmt: skip
        if needed and not data.get(needed):
            self.add_error(needed, "Choose one for the issues you ticked.")
        return data
