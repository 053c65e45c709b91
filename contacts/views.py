"""The rep pages: browse, log and edit contacts, see a customer.

Every view checks the capability (contacts.access) and reads through the scoped selectors, so a
row outside the viewer's scope is a 404, indistinguishable from a missing one. Tag edits and
the customer search follow NetBox's pattern: a fragment for an htmx request, the full page
otherwise.
"""

from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F, Value
from django.db.models.functions import Coalesce, NullIf
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from contacts import registry, selectors
from contacts.access import ERASE_CUSTOMERS, LOG_CONTACTS, VIEW_CONTACTS
from contacts.forms import (
    ContactEditForm,
    ContactFilterForm,
    ContactLogForm,
    CustomerSearchForm,
    RoadSuggestionForm,
)
from contacts.models import Contact, Message
from contacts.roads import RoadFacts, RoadSuggestion, suggest_road
from contacts.sentiment import sentiment_score
from contacts.services.contacts import (
    LOG_SOURCE,
    contact_delete,
    contact_log,
    contact_may_delete,
    contact_update,
)
from contacts.services.customers import customer_lookup
from voc.core.audit import audit_history
from voc.core.capabilities import Capability, capability_required, has_capability
from voc.people.models import User

PAGE_SIZE = 50
LIST_RELATED = ("customer", "reason__parent", "team", "rep")


def _contact_for(user: User, contact_id: int) -> Contact:
    """The contact if the user may see it, else 404."""
    contact = selectors.contact_get_visible(viewer=user, contact_id=contact_id)
    if contact is None:
        raise Http404("No such contact.")
    return contact


@dataclass(frozen=True)
class SortColumn:
    """A column a list can be sorted by: ``?sort=key`` ascending, ``?sort=-key`` descending."""

    key: str
    label: str
    fields: tuple  # expressions, ascending; blanks go last either way
    first_descending: bool = False  # the direction of a first click (dates: newest first)
    ascending_text: str = "A–Z"
    descending_text: str = "Z–A"


class ListSort:
    """The sort of a list page, read from ``?sort=``. Anything but a known column falls back to
    the default, so a hand-edited address never fails the page. Ties end on ``id`` so pages
    never repeat or skip a row."""

    def __init__(self, columns: list[SortColumn], value: str | None, *, default: str):
        self.columns = {column.key: column for column in columns}
        value = value or ""
        key = value.removeprefix("-")
        if key not in self.columns:
            value, key = default, default.removeprefix("-")
        self.key = key
        self.descending = value.startswith("-")

    def order_by(self) -> list:
        column = self.columns[self.key]
        expressions = [F(field) if isinstance(field, str) else field for field in column.fields]
        order = [
            e.desc(nulls_last=True) if self.descending else e.asc(nulls_last=True)
            for e in expressions
        ]
        return [*order, "-id" if self.descending else "id"]

    @property
    def text(self) -> str:
        """ "newest first", "by customer, A–Z"."""
        column = self.columns[self.key]
        direction = column.descending_text if self.descending else column.ascending_text
        return direction if column.key == "when" else f"by {column.label.lower()}, {direction}"

    def headers(self) -> dict[str, dict]:
        """Per column: the ``sort`` value of its header link, its aria-sort and arrow."""
        headers = {}
        for key, column in self.columns.items():
            if key == self.key:
                descending_next = not self.descending
                aria, arrow = ("descending", "↓") if self.descending else ("ascending", "↑")
            else:
                descending_next = column.first_descending
                aria, arrow = "", ""
            headers[key] = {
                "sort": f"-{key}" if descending_next else key,
                "aria_sort": aria,
                "arrow": arrow,
                "label": column.label,
            }
        return headers


def _blank_last(field: str):
    return NullIf(field, Value(""))


CONTACT_SORTS = [
    SortColumn("when", "When", ("occurred_at",), True, "oldest first", "newest first"),
    SortColumn("customer", "Customer", (_blank_last("customer__name"),)),
    SortColumn("channel", "Channel", ("channel",)),
    # Parent first, then the reason itself: "Billing" before "Billing › Double charge".
    SortColumn(
        "reason", "Reason", (Coalesce("reason__parent__name", "reason__name"), "reason__name")
    ),
    SortColumn("team", "Team", ("team__name",)),
    SortColumn("road", "Road", ("road",), ascending_text="1–4", descending_text="4–1"),
]
CUSTOMER_SORTS = [
    SortColumn("name", "Name", (_blank_last("name"),)),
    SortColumn("email", "Email", (_blank_last("email"),)),
    SortColumn("ref", "Customer ref", ("external_ref",)),
    SortColumn("segment", "Segment", ("segment",)),
    SortColumn("since", "In VoC since", ("created_at",), True, "oldest first", "newest first"),
]


def _paged(request, rows):
    """One page of ``rows`` and what the pager's "go to page" form must carry along."""
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    keep = [
        (key, value) for key, values in request.GET.lists() if key != "page" for value in values
    ]
    return page, keep


@capability_required(VIEW_CONTACTS)
def contact_list_view(request):
    form = ContactFilterForm(request.GET or None, viewer=request.user)
    sort = ListSort(CONTACT_SORTS, request.GET.get("sort"), default="-when")
    contacts = form.apply(
        selectors.contact_list_visible(viewer=request.user)
        .select_related(*LIST_RELATED)
        .order_by(*sort.order_by())
    )
    page, keep = _paged(request, contacts)
    filters = request.GET.copy()  # the export links keep the filters and the sort, not the page
    filters.pop("page", None)
    filters.pop("format", None)
    context = {
        "form": form,
        "filtered": any(value for key, value in request.GET.items() if key not in ("sort", "page")),
        "page": page,
        "keep_params": keep,
        "sort": sort,
        "sort_headers": sort.headers(),
        "can_log": has_capability(request.user, LOG_CONTACTS),
        "export_query": f"{filters.urlencode()}&" if filters else "",
    }
    return render(request, "contacts/contact_list.html", context)


@capability_required(LOG_CONTACTS)
def contact_log_view(request):
    if request.method == "POST":
        form = ContactLogForm(request.POST, viewer=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                contact = contact_log(
                    by=request.user,
                    team=form.logged_team(),
                    customer=data["customer"],
                    customer_name=data["customer_name"],
                    customer_email=data["customer_email"],
                    customer_phone=data["customer_phone"],
                    channel=data["channel"],
                    direction=data["direction"],
                    occurred_at=data["occurred_at"],
                    reason=data["reason"],
                    tags=data["tags"],
                    subject=data["subject"],
                    notes=data["notes"],
                    customer_words=data["customer_words"],
                    reply=data["reply"],
                    handle_seconds=data["handle_time"],
                    outcome=data["outcome"],
                    first_contact_resolution=data["first_contact_resolution"],
                    road=data["road"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                messages.success(request, "Contact logged.")
                return redirect("contacts:contact-detail", contact.id)
        suggestion = _road_suggestion(request.user, request.POST)
        status = 400
    else:
        # "Log the call" on a contact page names the customer and the channel and direction.
        prefill = {
            key: request.GET[key]
            for key in ("customer", "channel", "direction")
            if key in request.GET
        }
        form = ContactLogForm(viewer=request.user, initial=prefill)
        suggestion = None
        status = 200
    context = {
        "form": form,
        "chosen_customer": _chosen_customer(request.user, form["customer"].value()),
        "suggestion": suggestion,
        "set_road": _posted_road(request.POST) if request.method == "POST" else None,
        "search_form": CustomerSearchForm(),
    }
    return render(request, "contacts/contact_log.html", context, status=status)


def _chosen_customer(user: User, value):
    """The customer the log form holds: the whole customer if the user may see them, the
    minimal card if they found them by an exact match (selectors.customer_list_pickable)."""
    try:
        customer_id = int(value)
    except (TypeError, ValueError):
        return None
    customer = selectors.customer_get_visible(viewer=user, customer_id=customer_id)
    if customer is not None:
        return customer
    customer = selectors.customer_cards_looked_up(viewer=user).filter(id=customer_id).first()
    return selectors.customer_card(customer, matched="") if customer is not None else None


@capability_required(VIEW_CONTACTS)
def contact_detail_view(request, contact_id: int):
    return _render_detail(request, _contact_for(request.user, contact_id))


@dataclass(frozen=True)
class RepeatSummary:
    """ "Spoke to us 3 times in the last 7 days about Billing › Double charge, Outage"."""

    times: int
    days: int
    reasons: list[str]
    capped: bool  # the selector returns at most 20 earlier contacts: "at least" then


def repeat_summary(contact: Contact, repeats: list[Contact]) -> RepeatSummary | None:
    if not repeats:
        return None
    reasons: list[str] = []
    for item in [contact, *repeats]:
        if item.reason is not None and item.reason.path not in reasons:
            reasons.append(item.reason.path)
    return RepeatSummary(
        times=len(repeats) + 1,
        days=settings.VOC_REPEAT_WINDOW_DAYS,
        reasons=reasons,
        capped=len(repeats) >= 20,
    )


@dataclass(frozen=True)
class Sentiment:
    """A sentiment score as a word, with the score for those who hover."""

    word: str  # "negative", "neutral" or "positive"
    score: float


def sentiment_word(score: float | None) -> Sentiment | None:
    """ "negative" at or below settings.VOC_NEGATIVE_SENTIMENT (the threshold the rollups and
    road rules use), "positive" at or above the same distance above zero, else "neutral"."""
    if score is None:
        return None
    threshold = abs(settings.VOC_NEGATIVE_SENTIMENT)
    if score <= -threshold:
        return Sentiment("negative", score)
    if score >= threshold:
        return Sentiment("positive", score)
    return Sentiment("neutral", score)


@dataclass(frozen=True)
class TimelineSpan:
    """How many contacts the customer timeline lists and since when, for the repeat banner:
    the banner counts a window, the timeline shows the whole history."""

    contacts: int
    since: object  # datetime of the oldest contact listed
    capped: bool  # the timeline shows the latest entries only


def timeline_span(timeline: list, *, limit: int = 100) -> TimelineSpan | None:
    contacts = [entry for entry in timeline if entry.kind == "contact"]
    if not contacts:
        return None
    return TimelineSpan(len(contacts), contacts[-1].when, len(timeline) >= limit)


# Ids of contacts logged on VoC's pages (a random hex) and of email threads (a Message-ID)
# are VoC's own bookkeeping, shown to admins only; other sources' ids are their references.
INTERNAL_ID_SOURCES = {LOG_SOURCE: "Logged in VoC", "email": "Email to a support mailbox"}


def _source(viewer: User, contact: Contact) -> dict:
    internal = contact.source in INTERNAL_ID_SOURCES
    return {
        "label": INTERNAL_ID_SOURCES.get(contact.source, contact.source),
        "external_id": contact.external_id
        if not internal or has_capability(viewer, Capability.USE_ADMIN)
        else "",
    }


def contact_page_response(
    request, contact: Contact, *, panel_forms: dict[str, object] | None = None, status: int = 200
):
    """The contact page, for a view elsewhere in contacts whose panel form was refused: that
    panel shows the posted form with its errors (``panel_forms``: panel key → bound form)."""
    return _render_detail(request, contact, panel_forms=panel_forms, status=status)


def _render_detail(request, contact: Contact, *, edit_form=None, panel_forms=None, status=200):
    viewer = request.user
    contact_messages = list(contact.messages.all())
    can_edit = has_capability(viewer, LOG_CONTACTS)
    repeats = selectors.repeat_contacts(contact=contact)
    timeline = (
        selectors.customer_timeline(customer=contact.customer, viewer=viewer)
        if contact.customer is not None
        else []
    )
    context = {
        "contact": contact,
        "contact_messages": contact_messages,
        "repeat": repeat_summary(contact, repeats),
        "timeline": timeline,
        "timeline_span": timeline_span(timeline),
        "can_edit": can_edit,
        "edit_form": (edit_form or ContactEditForm(contact=contact)) if can_edit else None,
        "suggestion": _contact_suggestion(contact, contact_messages),
        "set_road": contact.road,
        "sentiment": sentiment_word(contact.sentiment),
        "source": _source(viewer, contact),
        "handle_time": format_handle_time(contact.handle_seconds),
        "wait_time": format_handle_time(contact.wait_seconds),
        "reason_is_complaint": bool(contact.reason and contact.reason.is_complaint),
        "history": audit_history(target=contact),
        "can_delete": contact_may_delete(contact=contact, user=viewer),
        # "Call the customer" is for those who would log the call.
        "call_nudge": selectors.contact_call_nudge(
            viewer=viewer, contact=contact, messages=contact_messages
        )
        if can_edit
        else None,
        **_page_extras(request, registry.CONTACT_PAGE, contact, panel_forms=panel_forms),
    }
    return render(request, "contacts/contact_detail.html", context, status=status)


def _page_extras(request, page: str, obj, *, panel_forms=None) -> dict:
    """The panels and actions later apps registered for this page (contacts.registry)."""
    return {
        "page_panels": registry.page_panels_shown(
            page, obj=obj, request=request, bound_forms=panel_forms
        ),
        "page_actions": registry.page_actions_shown(page, obj=obj, viewer=request.user),
    }


def format_handle_time(seconds: int | None) -> str:
    """ "7:05" (minutes:seconds) or "1:07:05" past an hour; "" for none."""
    if seconds is None:
        return ""
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


def _words_sentiment(contact_messages: list[Message]) -> float | None:
    incoming = [m.text for m in contact_messages if m.direction == Message.Direction.INCOMING]
    return sentiment_score("\n".join(incoming)) if incoming else None


def _contact_suggestion(contact: Contact, contact_messages: list[Message]) -> RoadSuggestion | None:
    sentiment = None if contact.sentiment is not None else _words_sentiment(contact_messages)
    return suggest_road(RoadFacts.for_contact(contact, sentiment=sentiment))


@require_POST
@capability_required(LOG_CONTACTS)
def contact_edit_view(request, contact_id: int):
    contact = _contact_for(request.user, contact_id)
    form = ContactEditForm(request.POST, contact=contact)
    if form.is_valid():
        try:
            contact = contact_update(contact=contact, changes=form.cleaned_data, by=request.user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Contact updated.")
            return _back_to(request, contact)
    return _render_detail(request, contact, edit_form=form, status=400)


@require_POST
@capability_required(LOG_CONTACTS)
def contact_delete_view(request, contact_id: int):
    contact = _contact_for(request.user, contact_id)
    if not contact_may_delete(contact=contact, user=request.user):
        raise PermissionDenied
    contact_delete(contact=contact, by=request.user)
    messages.success(request, "Contact deleted.")
    return redirect("contacts:contact-list")


def _back_to(request, contact: Contact):
    """To the contact again, or to the list if the edit moved it out of the user's scope (a
    manager who gave it another department's reason)."""
    if selectors.contact_get_visible(viewer=request.user, contact_id=contact.id) is None:
        messages.info(request, "The contact is now outside the contacts you can see.")
        return redirect("contacts:contact-list")
    return redirect("contacts:contact-detail", contact.id)


@require_POST
@capability_required(LOG_CONTACTS)
def road_suggestion_view(request):
    """The suggested road for what the log or edit form holds so far (an htmx fragment)."""
    context = {
        "suggestion": _road_suggestion(request.user, request.POST),
        "set_road": _posted_road(request.POST),
    }
    return render(request, "contacts/_road_suggestion.html", context)


def _posted_road(data) -> int | None:
    """The road the form holds, to say why a suggestion differs from it."""
    try:
        road = int(data.get("road") or 0)
    except ValueError:
        return None
    return road if road in Contact.Road.values else None


def _road_suggestion(user: User, data) -> RoadSuggestion | None:
    values = RoadSuggestionForm(data, viewer=user).valid_data()
    contact = None
    if values.get("contact"):
        contact = selectors.contact_get_visible(viewer=user, contact_id=values["contact"])
    sentiment = sentiment_score(values.get("customer_words") or "")
    if contact is not None:
        is_repeat = contact.repeat_of_id is not None
        if sentiment is None:
            sentiment = contact.sentiment
            if sentiment is None:
                sentiment = _words_sentiment(list(contact.messages.all()))
    elif values.get("customer") is not None:
        probe = Contact(
            customer=values["customer"], occurred_at=values.get("occurred_at") or timezone.now()
        )
        is_repeat = bool(selectors.repeat_contacts(contact=probe))
    else:
        is_repeat = False
    reason = values.get("reason")
    facts = RoadFacts(
        outcome=values.get("outcome") or "",
        first_contact_resolution=values.get("first_contact_resolution"),
        reason_path=reason.path if reason else "",
        reason_avoidable=bool(reason and reason.avoidable),
        tags=tuple(values.get("tags") or ()),
        is_repeat=is_repeat,
        sentiment=sentiment,
    )
    return suggest_road(facts)


@capability_required(VIEW_CONTACTS)
def customer_detail_view(request, customer_id: int):
    customer = selectors.customer_get_visible(viewer=request.user, customer_id=customer_id)
    if customer is None:
        raise Http404("No such customer.")
    context = {
        "customer": customer,
        "events": list(customer.events.select_related("reason__parent")),
        "timeline": selectors.customer_timeline(customer=customer, viewer=request.user),
        "can_log": has_capability(request.user, LOG_CONTACTS),
        "can_erase": has_capability(request.user, ERASE_CUSTOMERS),
        "history": audit_history(target=customer),
        **_page_extras(request, registry.CUSTOMER_PAGE, customer),
    }
    return render(request, "contacts/customer_detail.html", context)


@capability_required(VIEW_CONTACTS)
def customer_search_view(request):
    """Customers the user may see, by name, email, phone or ref, and a minimal card for each
    customer outside their scope whose ref, email or phone the query is exactly (recorded in
    the audit trail). The log form asks for the fragment with pick=1 (radio buttons that
    choose the contact's customer)."""
    form = CustomerSearchForm(request.GET or None)
    pick = request.GET.get("pick") == "1" and has_capability(request.user, LOG_CONTACTS)
    context = {
        "search_form": form,
        "pick": pick,
        "can_log": has_capability(request.user, LOG_CONTACTS),
    }
    if form.is_bound and form.is_valid() and form.cleaned_data["q"]:
        # Customers outside the user's scope named exactly: a minimal card each, recorded.
        context["cards"] = customer_lookup(
            query=form.cleaned_data["q"], by=request.user, via="customer-search"
        )
    if pick:  # the log form's picker: the 20 best matches, no list around them
        context["results"] = form.search(selectors.customer_list_visible(viewer=request.user))
        context["searched"] = form.is_bound
    else:
        # The customer list: every customer the user may see, or those matching the query,
        # sorted and paged like the contact list.
        customers = selectors.customer_list_visible(viewer=request.user)
        query = ""
        if form.is_bound and not form.is_valid():
            customers = customers.none()  # a query too short or too long: say so, list nothing
        elif form.is_bound and form.cleaned_data["q"]:
            query = form.cleaned_data["q"]
            customers = selectors.customer_list_matching(viewer=request.user, query=query)
        sort = ListSort(CUSTOMER_SORTS, request.GET.get("sort"), default="name")
        page, keep = _paged(request, customers.order_by(*sort.order_by()))
        context.update(
            page=page,
            results=list(page.object_list),
            keep_params=keep,
            sort=sort,
            sort_headers=sort.headers(),
            searched=form.is_bound and bool(request.GET.get("q")),
        )
    template = (
        "contacts/_customer_results.html" if request.htmx else "contacts/customer_search.html"
    )
    return render(request, template, context)
