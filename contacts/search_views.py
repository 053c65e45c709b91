"""The message search page: words, filters, the newest 50 matches with highlights, and on."""

from django import forms
from django.shortcuts import render

from contacts import search
from contacts.access import VIEW_CONTACTS
from contacts.forms import ContactScopeFilterForm
from contacts.models import Message
from contacts.search import (
    MAX_OFFSET,
    MAX_QUERY_LENGTH,
    SearchFilters,
    SearchQueryError,
    SearchResult,
    check_query,
    day_bounds,
    message_search,
)
from voc.people.decorators import capability_required

PAGE_SIZE = 50
LAST_PAGE = MAX_OFFSET // PAGE_SIZE + 1


class MessageSearchForm(ContactScopeFilterForm):
    q = forms.CharField(
        label="Words",
        max_length=MAX_QUERY_LENGTH,
        required=False,
        strip=True,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": 'e.g. router "charged twice" -refund'}
        ),
        help_text="“Quoted words” together, or for either, -word to leave out.",
    )
    direction = forms.ChoiceField(
        choices=[("", "Both directions"), *Message.Direction.choices], required=False
    )
    since = forms.DateField(
        label="From", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label="To", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    page = forms.IntegerField(
        min_value=1, max_value=LAST_PAGE, required=False, widget=forms.HiddenInput
    )

    field_order = ["q", "channel", "direction", "reason", "team", "since", "until", "page"]

    def clean_q(self):
        try:
            return check_query(self.cleaned_data["q"])
        except SearchQueryError as error:
            raise forms.ValidationError(str(error)) from None

    def filters(self) -> SearchFilters:
        data = self.cleaned_data
        since, until = day_bounds(data.get("since"), data.get("until"))
        return SearchFilters(
            since=since,
            until=until,
            channel=data.get("channel") or "",
            reason_id=data["reason"].id if data.get("reason") else None,
            team_id=data["team"].id if data.get("team") else None,
            direction=data.get("direction") or "",
        )


def total_text(result: SearchResult) -> str:
    """ "1 message", "2,345 messages", "about 1,200,000 messages", "more than 10,000 …"."""
    if not result.total_is_estimate:
        return f"{result.total:,} message{'' if result.total == 1 else 's'}"
    cap = search.EXACT_TOTAL_UP_TO
    if result.total <= cap + 1:
        return f"more than {cap:,} messages"
    rounded = round(result.total, 2 - len(str(result.total)))  # two significant digits
    return f"about {max(rounded, cap):,} messages"


@capability_required(VIEW_CONTACTS)
def message_search_view(request):
    form = MessageSearchForm(request.GET or None, viewer=request.user)
    result, page = None, 1
    if form.is_bound and form.is_valid():
        page = form.cleaned_data["page"] or 1
        result = message_search(
            user=request.user,
            query=form.cleaned_data["q"],
            filters=form.filters(),
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
    context = {
        "form": form,
        "result": result,
        "page": page,
        "first_shown": (page - 1) * PAGE_SIZE + 1,
        "next_page": page + 1 if result and result.has_more and page < LAST_PAGE else None,
        "previous_page": page - 1 if page > 1 else None,
        "total": total_text(result) if result and not result.notice else "",
    }
    return render(request, "contacts/search.html", context, status=400 if form.errors else 200)
