"""The notice pages: write a notice for a fixed issue, preview and edit it, approve it, and
follow its delivery recipient by recipient. Only the issue's owner or department head writes,
approves and resolves; everyone who sees the issue may read its notices."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from loops.access import SEND_NOTICES, VIEW_ISSUES
from loops.models import FixNotice, Issue, NoticeRecipient
from loops.notices.forms import NoticeForm, RecipientFilterForm
from loops.notices.selectors import (
    NOTICE_STATUSES,
    addressees,
    may_send_notices,
    notice_audience,
    notice_counts,
    notice_get_visible,
    notice_recipients,
    skip_reasons,
)
from loops.notices.services import (
    default_text,
    notice_approve,
    notice_draft,
    notice_edit,
    notice_recipient_resolve,
    notice_render,
)
from loops.selectors import issue_get_visible
from voc.core.capabilities import capability_required
from voc.people.access import request_viewer

PAGE_SIZE = 50
PREVIEW_NAME = "Alex Example"  # when no reporter can be written to


def _issue_for(request: HttpRequest, issue_id: int) -> Issue:
    try:
        return issue_get_visible(viewer=request_viewer(request), issue_id=issue_id)
    except Issue.DoesNotExist:
        raise Http404("No such issue, or not one you can see.") from None


def _notice_for(request: HttpRequest, notice_id: int) -> FixNotice:
    try:
        return notice_get_visible(viewer=request_viewer(request), notice_id=notice_id)
    except FixNotice.DoesNotExist:
        raise Http404("No such notice, or not one you can see.") from None


def _why(reason: tuple[str, str] | None) -> str:
    """Why a customer would be left out, in words ("" when they would get it)."""
    if reason is None:
        return ""
    label = NoticeRecipient.SkipReason(reason[0]).label
    return f"{label} ({reason[1]})" if reason[1] else label


def _preview(notice: FixNotice, audience_ids: list[int], reasons: dict) -> dict:
    """The email as the first customer who would get it sees it (name escaped as in the
    email itself), with a placeholder link: the real one is signed when it is sent."""
    reachable = [i for i in audience_ids[:200] if i not in reasons]
    people = addressees(reachable[:1])
    name = people[reachable[0]].name if reachable else PREVIEW_NAME
    email = notice_render(notice=notice, name=name, opt_out_url="#opt-out-link")
    return {"preview_name": name, "preview": email, "company_name": settings.COMPANY_NAME}


@capability_required(SEND_NOTICES)
def notice_new_view(request: HttpRequest, issue_id: int) -> HttpResponse:
    issue = _issue_for(request, issue_id)
    viewer = request_viewer(request)
    if not may_send_notices(viewer, issue):
        raise PermissionDenied
    subject, body = default_text(issue)
    form = NoticeForm(request.POST or None, initial={"subject": subject, "body": body})
    error = ""
    if request.method == "POST" and form.is_valid():
        try:
            notice = notice_draft(issue=issue, by=viewer, **form.cleaned_data)
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            messages.success(request, "Draft saved: check the preview, then approve it.")
            return redirect("loops:notice-detail", notice.pk)
    if issue.status not in NOTICE_STATUSES:
        error = "Customers are told once the issue is fixed or verified."
    audience = notice_audience(issue)
    context = {"issue": issue, "form": form, "audience": audience, "error": error}
    return render(
        request, "loops/notices/new.html", context, status=400 if request.method == "POST" else 200
    )


def _detail_context(request: HttpRequest, notice: FixNotice, form: NoticeForm | None) -> dict:
    viewer = request_viewer(request)
    may_send = may_send_notices(viewer, notice.issue)
    context: dict = {
        "notice": notice,
        "issue": notice.issue,
        "may_send": may_send,
        "counts": notice_counts([notice.pk])[notice.pk],
    }
    if notice.status == FixNotice.Status.DRAFT:
        audience = notice_audience(notice.issue)
        ids = audience.ids(include_reason_contacts=notice.include_reason_contacts)
        reasons = skip_reasons(issue=notice.issue, customer_ids=ids[:200])
        shown = addressees(ids[:20])
        context |= {
            "audience": audience,
            "first_customers": [(shown[i], _why(reasons.get(i))) for i in ids[:20] if i in shown],
            "form": form
            or NoticeForm(
                initial={
                    "subject": notice.subject,
                    "body": notice.body,
                    "include_reason_contacts": notice.include_reason_contacts,
                }
            ),
            **_preview(notice, ids, reasons),
        }
    else:
        filters = RecipientFilterForm(request.GET or None)
        status = filters.value()
        page = Paginator(notice_recipients(notice, status=status), PAGE_SIZE).get_page(
            request.GET.get("page")
        )
        context |= {
            "filters": filters,
            "page": page,
            "keep_params": [("status", status)],
            "uncertain": list(
                notice_recipients(notice, status=NoticeRecipient.Status.UNCERTAIN)[:50]
            ),
        }
    return context


@capability_required(VIEW_ISSUES)
def notice_detail_view(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = _notice_for(request, notice_id)
    return render(request, "loops/notices/detail.html", _detail_context(request, notice, None))


@require_POST
@capability_required(SEND_NOTICES)
def notice_edit_view(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = _notice_for(request, notice_id)
    viewer = request_viewer(request)
    if not may_send_notices(viewer, notice.issue):
        raise PermissionDenied
    form = NoticeForm(request.POST)
    if form.is_valid():
        try:
            notice_edit(notice=notice, by=viewer, **form.cleaned_data)
        except ValidationError as refused:
            form.add_error(None, refused)
        else:
            messages.success(request, "Saved: the preview shows the new text.")
            return redirect("loops:notice-detail", notice.pk)
    notice.refresh_from_db()
    context = _detail_context(request, notice, form)
    return render(request, "loops/notices/detail.html", context, status=400)


@require_POST
@capability_required(SEND_NOTICES)
def notice_approve_view(request: HttpRequest, notice_id: int) -> HttpResponse:
    notice = _notice_for(request, notice_id)
    viewer = request_viewer(request)
    if not may_send_notices(viewer, notice.issue):
        raise PermissionDenied
    try:
        notice_approve(notice=notice, by=viewer)
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
    else:
        messages.success(request, "Approved: the notice is on its way, once per customer.")
    return redirect("loops:notice-detail", notice.pk)


@require_POST
@capability_required(SEND_NOTICES)
def notice_resolve_view(request: HttpRequest, notice_id: int, recipient_id: int) -> HttpResponse:
    notice = _notice_for(request, notice_id)
    viewer = request_viewer(request)
    if not may_send_notices(viewer, notice.issue):
        raise PermissionDenied
    recipient = (
        NoticeRecipient.objects.select_related("send_once", "notice__issue")
        .filter(notice=notice, pk=recipient_id)
        .first()
    )
    if recipient is None:
        raise Http404
    delivered = request.POST.get("delivered") == "yes"
    try:
        notice_recipient_resolve(
            recipient=recipient,
            delivered=delivered,
            by=viewer,
            why=request.POST.get("why", "").strip()[:500],
        )
    except ValidationError as refused:
        messages.error(request, " ".join(refused.messages))
    else:
        messages.success(
            request, "Marked delivered." if delivered else "Queued again, with the same Message-ID."
        )
    return redirect("loops:notice-detail", notice.pk)
