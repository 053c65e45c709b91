"""The complaint page (who to thank, what to fix) and its one-click thank-you."""

from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from contacts.models import Customer
from contacts.selectors import CustomerCard, customer_card, customer_get_visible
from feedback.access import THANK_COMPLAINTS, VIEW_FEEDBACK_ITEMS
from feedback.actions import FEEDBACK_ITEM, feedback_actions_shown
from feedback.complaints import selectors
from feedback.complaints.services import complaint_thank
from feedback.items.selectors import feedback_get_visible
from feedback.models import FeedbackItem
from voc.core.capabilities import capability_required, has_capability
from voc.people.access import request_viewer
from voc.people.models import User


def _complaint_for(user: User, item_id: int) -> FeedbackItem:
    item = feedback_get_visible(viewer=user, item_id=item_id)
    if item is None or item.kind != FeedbackItem.Kind.COMPLAINT:
        raise Http404("No such complaint.")
    return item


@dataclass(frozen=True)
class WhoToThank:
    """The customer as the contacts pages' rules let the viewer see them: the whole customer
    (email, phone, a link) when the customer is in their scope, else the minimal card."""

    customer: Customer | None  # in the viewer's scope
    card: CustomerCard | None  # outside it: name and ref only
    erased: bool = False


def _who(viewer: User, item: FeedbackItem) -> WhoToThank | None:
    if item.customer is None:
        return None
    if item.customer.erased_at is not None:
        return WhoToThank(None, None, erased=True)
    visible = customer_get_visible(viewer=viewer, customer_id=item.customer.pk)
    if visible is not None:
        return WhoToThank(visible, None)
    return WhoToThank(None, customer_card(item.customer, matched=""))


@capability_required(VIEW_FEEDBACK_ITEMS)
def complaint_detail_view(request: HttpRequest, item_id: int) -> HttpResponse:
    viewer = request_viewer(request)
    item = _complaint_for(viewer, item_id)
    thanks = selectors.complaint_thanks(item)
    customer = item.customer
    can_thank = (
        has_capability(viewer, THANK_COMPLAINTS)
        and thanks is None
        and customer is not None
        and customer.erased_at is None
    )
    context = {
        "item": item,
        "who": _who(viewer, item),
        "summary": selectors.complaint_topic_summary(viewer=viewer, item=item),
        "thanks": thanks,
        "refusal": selectors.complaint_last_refusal(item) if thanks is None else None,
        "can_thank": can_thank,
        "has_email": bool(customer is not None and customer.email),
        "similar_days": selectors.SIMILAR_DAYS,
        "page_actions": feedback_actions_shown(FEEDBACK_ITEM, obj=item, viewer=viewer),
    }
    return render(request, "feedback/complaints/complaint_detail.html", context)


@require_POST
@capability_required(THANK_COMPLAINTS)
def complaint_thank_view(request: HttpRequest, item_id: int) -> HttpResponse:
    viewer = request_viewer(request)
    item = _complaint_for(viewer, item_id)
    try:
        result = complaint_thank(item=item, by=viewer)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        if result.refusal is not None:
            messages.error(
                request, f"Nothing was sent: {result.refusal.explanation} (the contact budget)."
            )
        elif result.created:
            messages.success(request, "Thank-you on its way to the customer.")
        else:
            messages.info(request, "The customer was already thanked: nothing was sent again.")
    return redirect("feedback:complaint-detail", item.pk)
