"""The verification page of an issue (its panel on a page of its own) and the owner's two
answers: the fix is verified, or the issue reopens. HTMX requests get the panel back."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from loops.access import MANAGE_ISSUES, VIEW_ISSUES
from loops.models import Issue
from loops.selectors import issue_get_visible
from loops.verification.panel import TEMPLATE, verification_context
from loops.verification.services import verification_confirm, verification_reopen
from voc.core.capabilities import capability_required
from voc.people.access import request_viewer

MAX_WHY = 2000


def _issue_for(request: HttpRequest, issue_id: int) -> Issue:
    try:
        return issue_get_visible(viewer=request_viewer(request), issue_id=issue_id)
    except Issue.DoesNotExist:
        raise Http404 from None


@require_GET
@capability_required(VIEW_ISSUES)
def verification_view(request: HttpRequest, issue_id: int) -> HttpResponse:
    issue = _issue_for(request, issue_id)
    return render(
        request,
        "loops/verification/page.html",
        {"issue": issue, **verification_context(issue, request.user)},
    )


def _answer(request: HttpRequest, issue_id: int, *, confirm: bool) -> HttpResponse:
    issue = _issue_for(request, issue_id)
    viewer = request_viewer(request)
    if issue.owner_id != viewer.pk:
        raise PermissionDenied  # only the owner answers; others may look
    why = request.POST.get("why", "").strip()[:MAX_WHY]
    try:
        if confirm:
            issue = verification_confirm(issue=issue, by=viewer, why=why)
        else:
            issue = verification_reopen(issue=issue, by=viewer, why=why)
    except ValidationError as error:
        text = " ".join(error.messages)
        if request.htmx:  # type: ignore[attr-defined]
            context = verification_context(issue, viewer, error=text)
            return render(request, TEMPLATE, context, status=422)
        messages.error(request, text)
        return redirect("loops:issue-verification", issue.pk)
    done = "The fix is verified." if confirm else "The issue is back in progress."
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, TEMPLATE, verification_context(issue, viewer))
    messages.success(request, done)
    return redirect("loops:issue-verification", issue.pk)


@require_POST
@capability_required(MANAGE_ISSUES)
def verification_confirm_view(request: HttpRequest, issue_id: int) -> HttpResponse:
    return _answer(request, issue_id, confirm=True)


@require_POST
@capability_required(MANAGE_ISSUES)
def verification_reopen_view(request: HttpRequest, issue_id: int) -> HttpResponse:
    return _answer(request, issue_id, confirm=False)
