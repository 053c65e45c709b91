"""The follow-up pages: the list (mine first) and one follow-up with the call's outcome form."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from loops.access import VIEW_FOLLOW_UPS
from loops.followups.forms import FollowUpCloseForm, FollowUpFilterForm
from loops.followups.selectors import follow_up_list_visible
from loops.followups.services import follow_up_close, may_work_follow_up
from loops.models import FollowUp
from voc.core.capabilities import capability_required

PAGE_SIZE = 50


@capability_required(VIEW_FOLLOW_UPS)
def follow_up_list_view(request):
    form = FollowUpFilterForm(request.GET or None)
    show, status = form.value("show", "mine"), form.value("status", "open")
    follow_ups = follow_up_list_visible(viewer=request.user).select_related(
        "assignee", "customer", "team", "department"
    )
    if show == "mine":
        follow_ups = follow_ups.filter(assignee=request.user)
    if status != "any":
        follow_ups = follow_ups.filter(status=status)
    page = Paginator(follow_ups.order_by("due_at", "id"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "form": form,
        "show": show,
        "status": status,
        "page": page,
        "now": timezone.now(),
        "keep_params": [("show", show), ("status", status)],
    }
    return render(request, "loops/followups/list.html", context)


@capability_required(VIEW_FOLLOW_UPS)
def follow_up_detail_view(request, follow_up_id: int):
    follow_up = (
        follow_up_list_visible(viewer=request.user)
        .select_related("assignee", "customer", "contact", "feedback_item", "closed_by")
        .filter(pk=follow_up_id)
        .first()
    )
    if follow_up is None:
        raise Http404
    may_work = follow_up.status == FollowUp.Status.OPEN and may_work_follow_up(
        request.user, follow_up
    )
    form = FollowUpCloseForm(request.POST or None)
    if request.method == "POST":
        if not may_work:
            messages.error(request, "You cannot record a call on this follow-up.")
            return redirect("loops:follow-up-detail", follow_up.pk)
        if form.is_valid():
            try:
                follow_up_close(
                    follow_up=follow_up,
                    outcome=form.cleaned_data["outcome"],
                    notes=form.cleaned_data["notes"],
                    by=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, "Call recorded: the loop is closed.")
                return redirect("loops:follow-up-detail", follow_up.pk)
    context = {
        "follow_up": follow_up,
        "form": form,
        "may_work": may_work,
        "now": timezone.now(),
    }
    status = 400 if request.method == "POST" else 200
    return render(request, "loops/followups/detail.html", context, status=status)
