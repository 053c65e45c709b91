"""The search page behind the box in the navigation: customers by name, email, phone or
customer ref, and contacts by the words of their messages (with filters, the newest 50 matches
with highlights, and on), each in the searcher's row scope; a customer outside it only on an
exact ref, email or phone, as a minimal card (docs/access.md)."""

from django import forms
from django.shortcuts import render

from contacts import search, selectors
from contacts.access import LOG_CONTACTS, VIEW_CONTACTS
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
from contacts.services.customers import customer_lookup
from voc.core.capabilities import capability_required, has_capability

PAGE_SIZE = 50
LAST_PAGE = MAX_OFFSET // PAGE_SIZE + 1
CUSTOMER_HITS = 10  # customers shown above the messages; the customer list has the rest
CUSTOMER_QUERY_LENGTH = 100  # the customer list's own limit


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


def customer_hits(viewer, query: str) -> tuple[list, bool]:
    """The first customers (by name) the viewer may see that the query names, and whether
    there are more. Quotes are the message search's syntax; a name may be typed in them."""
    query = query.strip().strip('"').strip()
    if not 2 <= len(query) <= CUSTOMER_QUERY_LENGTH:
        return [], False
    customers = list(
        selectors.customer_list_matching(viewer=viewer, query=query).order_by("name", "id")[
            : CUSTOMER_HITS + 1
        ]
    )
    return customers[:CUSTOMER_HITS], len(customers) > CUSTOMER_HITS


def customer_cards(viewer, query: str) -> list[selectors.CustomerCard]:
    """Customers outside the viewer's scope whose ref, email or phone the query is exactly: a
    minimal card each, the lookup recorded in the audit trail."""
    query = query.strip().strip('"').strip()
    if not 2 <= len(query) <= CUSTOMER_QUERY_LENGTH:
        return []
    return customer_lookup(query=query, by=viewer, via="search")


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
    customers, more_customers, cards = [], False, []
    if result is not None and page == 1:
        customers, more_customers = customer_hits(request.user, form.cleaned_data["q"])
        cards = customer_cards(request.user, form.cleaned_data["q"])
    context = {
        "form": form,
        "customers": customers,
        "customer_cards": cards,
        "can_log": has_capability(request.user, LOG_CONTACTS),
        "more_customers": more_customers,
        "result": result,
        "page": page,
        "first_shown": (page - 1) * PAGE_SIZE + 1,
        "next_page": page + 1 if result and result.has_more and page < LAST_PAGE else None,
        "previous_page": page - 1 if page > 1 else None,
        "total": total_text(result) if result and not result.notice else "",
    }
    return render(request, "contacts/search.html", context, status=400 if form.errors else 200)
