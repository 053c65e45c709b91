"""The feedback pages: the list (filters, paging), one item (its topic set by hand), and
logging a complaint or compliment by hand.

Every view checks the capability (feedback.access) and reads through the scoped selectors, so
an item outside the viewer's scope is a 404, indistinguishable from a missing one.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from contacts import selectors as contact_selectors
from feedback.access import LOG_FEEDBACK_ITEMS, SET_FEEDBACK_TOPIC, VIEW_FEEDBACK_ITEMS
from feedback.actions import FEEDBACK_ITEM, feedback_actions_shown
from feedback.items import selectors
from feedback.items.forms import FeedbackFilterForm, FeedbackLogForm, TopicForm
from feedback.items.pages import sentiment_word
from feedback.items.services import feedback_item_record
from feedback.items.topic_edits import feedback_item_set_topic
from feedback.models import FeedbackItem
from voc.core.audit import audit_history
from voc.core.capabilities import capability_required, has_capability
from voc.people.access import request_viewer
from voc.people.models import User

PAGE_SIZE = 50
LOG_SOURCE = "voc"  # items typed in VoC's pages


def _item_for(user: User, item_id: int) -> FeedbackItem:
    item = selectors.feedback_get_visible(viewer=user, item_id=item_id)
    if item is None:
        raise Http404("No such feedback item.")
    return item


@capability_required(VIEW_FEEDBACK_ITEMS)
def item_list_view(request: HttpRequest) -> HttpResponse:
    viewer = request_viewer(request)
    form = FeedbackFilterForm(request.GET or None, viewer=viewer)
    items = form.apply(selectors.feedback_list_page(viewer=viewer))
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    keep = [
        (key, value) for key, values in request.GET.lists() if key != "page" for value in values
    ]
    context = {
        "form": form,
        "filtered": form.filtered,
        "page": page,
        "rows": rows,
        "keep_params": keep,
        **_links(viewer, rows),
        "can_log": has_capability(viewer, LOG_FEEDBACK_ITEMS),
    }
    return render(request, "feedback/items/item_list.html", context)


def _links(viewer: User, items: list[FeedbackItem]) -> dict[str, set[int]]:
    """Which customers and contacts of these rows the viewer may open (two queries): a row
    links only to pages that would not answer 404."""
    customer_ids = {item.customer_id for item in items if item.customer_id}
    contact_ids = {item.contact_id for item in items if item.contact_id}
    return {
        "visible_customers": set(
            contact_selectors.customer_list_visible(viewer=viewer)
            .filter(id__in=customer_ids)
            .values_list("id", flat=True)
        )
        if customer_ids
        else set(),
        "visible_contacts": set(
            contact_selectors.contact_list_visible(viewer=viewer)
            .filter(id__in=contact_ids)
            .values_list("id", flat=True)
        )
        if contact_ids
        else set(),
    }


@capability_required(VIEW_FEEDBACK_ITEMS)
def item_detail_view(request: HttpRequest, item_id: int) -> HttpResponse:
    viewer = request_viewer(request)
    return _render_detail(request, viewer, _item_for(viewer, item_id))


def _render_detail(
    request: HttpRequest,
    viewer: User,
    item: FeedbackItem,
    *,
    topic_form: TopicForm | None = None,
    status: int = 200,
) -> HttpResponse:
    can_set_topic = has_capability(viewer, SET_FEEDBACK_TOPIC)
    context: dict[str, Any] = {
        "item": item,
        **_links(viewer, [item]),
        "sentiment": sentiment_word(item.sentiment),
        "can_set_topic": can_set_topic,
        "topic_form": (topic_form or TopicForm(initial={"reason": item.reason_id}))
        if can_set_topic
        else None,
        "history": audit_history(target=item),
        "page_actions": feedback_actions_shown(FEEDBACK_ITEM, obj=item, viewer=viewer),
    }
    return render(request, "feedback/items/item_detail.html", context, status=status)


@require_POST
@capability_required(SET_FEEDBACK_TOPIC)
def item_topic_view(request: HttpRequest, item_id: int) -> HttpResponse:
    viewer = request_viewer(request)
    item = _item_for(viewer, item_id)
    form = TopicForm(request.POST)
    if not form.is_valid():
        return _render_detail(request, viewer, item, topic_form=form, status=400)
    try:
        item = feedback_item_set_topic(item=item, reason=form.cleaned_data["reason"], by=viewer)
    except ValidationError as error:
        form.add_error(None, " ".join(error.messages))
        return _render_detail(request, viewer, item, topic_form=form, status=400)
    if selectors.feedback_get_visible(viewer=viewer, item_id=item.pk) is None:
        # A manager who moved it to another department's topic: it left their scope.
        messages.success(request, "Topic set. The item is now outside the feedback you can see.")
        return redirect("feedback:item-list")
    messages.success(request, "Topic set by hand.")
    return redirect("feedback:item-detail", item.pk)


@capability_required(LOG_FEEDBACK_ITEMS)
def item_log_view(request: HttpRequest) -> HttpResponse:
    viewer = request_viewer(request)
    if request.method == "POST":
        form = FeedbackLogForm(request.POST, viewer=viewer)
    else:
        form = FeedbackLogForm(initial={"contact": request.GET.get("contact")}, viewer=viewer)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved = feedback_item_record(
                kind=data["kind"],
                source=LOG_SOURCE,
                verbatim=data["verbatim"],
                contact=data["contact"],
                reason=data["reason"],
                channel=data["channel"],
                team=viewer.team,  # a letter without a contact stays with the logger's team
                received_at=data["received_at"],
                by=viewer,
            )
        except ValidationError as error:
            form.add_error(None, " ".join(error.messages))
        else:
            label = saved.item.get_kind_display()
            if selectors.feedback_get_visible(viewer=viewer, item_id=saved.item.pk) is None:
                messages.success(
                    request,
                    f"{label} recorded. Without a contact and outside a team of yours it is "
                    "outside the feedback you can see: executives and admins read it.",
                )
                return redirect("feedback:item-list")
            messages.success(request, f"{label} recorded.")
            return redirect("feedback:item-detail", saved.item.pk)
    return render(
        request,
        "feedback/items/item_log.html",
        {"form": form, "contact": form.contact_found},
        status=400 if request.method == "POST" else 200,
    )
