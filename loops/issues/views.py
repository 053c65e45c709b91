"""The issue pages: the issue page (facts, actions for who may run it, evidence over time,
cost, lost customers, timeline and each part's panel through loops.registry) and the board
(filters, sort, keyset pages, bulk actions, exports)."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from contacts.models import ContactReason
from loops.access import MANAGE_ISSUES, VIEW_ISSUES, heads_department
from loops.issues.forms import (
    BoardFilterForm,
    BulkForm,
    EvidenceRemoveForm,
    IssueAssignForm,
    IssueEditForm,
    IssueMergeForm,
    IssueTransitionForm,
    active_managers,
)
from loops.models import Issue, IssueEvidence
from loops.registry import issue_panels_shown
from loops.rules import TransitionFacts, allowed_targets, transition_refusal
from loops.selectors import (
    SLA_STATES,
    issue_ageing,
    issue_board_page,
    issue_board_queryset,
    issue_cost,
    issue_evidence_latest,
    issue_evidence_series,
    issue_get_visible,
    issue_like_this_per_day,
    issue_list_visible,
    issue_lost_customers,
    issue_next_deadline,
    issue_timeline,
)
from loops.services.issues import (
    evidence_remove,
    issue_assign,
    issue_edit,
    issue_merge,
    issue_transition,
    issues_bulk_apply,
    may_manage_issue,
)
from voc.core.capabilities import capability_required, has_capability
from voc.core.exports import Column, ExportFormatError, export_response
from voc.people.access import request_viewer
from voc.people.models import User

EVIDENCE_SHOWN = 50
BOARD_PAGE_SIZE = 50


def _visible_issue(request: HttpRequest, issue_id: int) -> Issue:
    """The issue in the viewer's scope, or a 404 (missing and out of scope look the same)."""
    try:
        return issue_get_visible(viewer=request_viewer(request), issue_id=issue_id)
    except Issue.DoesNotExist:
        raise Http404("No such issue, or not one you can see.") from None


def _managed_issue(request: HttpRequest, issue_id: int) -> Issue:
    """The issue, if the viewer may run it: 404 out of scope, 403 in scope but not theirs."""
    issue = _visible_issue(request, issue_id)
    if not may_manage_issue(request_viewer(request), issue):
        raise PermissionDenied("Only the issue's owner, its department head or an executive may.")
    return issue


def _messages(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [m for ms in error.message_dict.values() for m in ms]
    return list(error.messages)


def _offered_targets(issue: Issue, viewer: User) -> list[tuple[str, str]]:
    """The moves the rules allow this viewer now (a reason, asked for on the form, assumed)."""
    facts = {
        "current": issue.status,
        "has_owner": issue.owner_id is not None,
        "merged": issue.merged_into_id is not None,
        "by_owner": issue.owner_id == viewer.pk,
        "by_department_head": heads_department(viewer, issue.department_id),
        "why": "given",
    }
    return [
        (target, Issue.Status(target).label)
        for target in allowed_targets(issue.status)
        if transition_refusal(TransitionFacts(target=target, **facts)) is None  # type: ignore[arg-type]
    ]


def _detail(request: HttpRequest, issue: Issue, *, status: int = 200, **forms: Any) -> HttpResponse:
    now = timezone.now()
    may_manage = issue.merged_into_id is None and may_manage_issue(request_viewer(request), issue)
    reasons = list(issue.reasons.select_related("parent").order_by("name"))
    reason_ids = [reason.pk for reason in reasons]
    context: dict[str, Any] = {
        "issue": issue,
        "reasons": reasons,
        "evidence": issue_evidence_latest(issue=issue, limit=EVIDENCE_SHOWN),
        "evidence_shown": EVIDENCE_SHOWN,
        "panels": issue_panels_shown(issue=issue, request=request),
        "now": now,
        "deadline": issue_next_deadline(issue, now=now),
        "ageing": issue_ageing(issue, now=now),
        "series": issue_evidence_series(issue, now=now),
        "like_this": issue_like_this_per_day(issue, now=now, reason_ids=reason_ids),
        "cost": issue_cost(issue, now=now, reason_ids=reason_ids),
        "lost": issue_lost_customers(issue, reason_ids=reason_ids),
        "timeline": issue_timeline(issue),
        "may_manage": may_manage,
        "targets": _offered_targets(issue, request_viewer(request)) if may_manage else [],
        "errors": forms.pop("errors", []),
    }
    if may_manage:
        context["assign_form"] = forms.get("assign_form") or IssueAssignForm(
            initial={"owner": issue.owner_id}
        )
        context["transition_form"] = forms.get("transition_form") or IssueTransitionForm()
        context["edit_form"] = forms.get("edit_form") or IssueEditForm(
            initial={
                "title": issue.title,
                "description": issue.description,
                "severity": issue.severity,
                "sponsor": issue.sponsor_id,
                "ticket_url": issue.ticket_url,
            }
        )
        context["merge_form"] = forms.get("merge_form") or IssueMergeForm()
    return render(request, "loops/issues/detail.html", context, status=status)


@capability_required(VIEW_ISSUES)
def issue_detail_view(request, issue_id: int):
    issue = _visible_issue(request, issue_id)
    if issue.merged_into_id is not None and request.GET.get("merged") != "show":
        # A merged duplicate lives on in its survivor; ?merged=show still shows the old one.
        return redirect("loops:issue-detail", issue.merged_into_id)
    return _detail(request, issue)


@require_POST
@capability_required(MANAGE_ISSUES)
def issue_assign_view(request, issue_id: int):
    issue = _managed_issue(request, issue_id)
    form = IssueAssignForm(request.POST)
    if form.is_valid():
        try:
            issue_assign(
                issue=issue, owner=form.cleaned_data["owner"], by=request.user,
                why=form.cleaned_data["why"],
            )  # fmt: skip
        except ValidationError as error:
            return _detail(request, issue, status=400, assign_form=form, errors=_messages(error))
        messages.success(request, f"Assigned to {form.cleaned_data['owner']}.")
        return redirect("loops:issue-detail", issue.pk)
    return _detail(request, issue, status=400, assign_form=form)


@require_POST
@capability_required(MANAGE_ISSUES)
def issue_transition_view(request, issue_id: int):
    issue = _managed_issue(request, issue_id)
    form = IssueTransitionForm(request.POST)
    if form.is_valid():
        try:
            issue = issue_transition(
                issue=issue, to=form.cleaned_data["to"], by=request.user,
                why=form.cleaned_data["why"],
            )  # fmt: skip
        except ValidationError as error:
            return _detail(
                request, issue, status=400, transition_form=form, errors=_messages(error)
            )
        messages.success(request, f"The issue is now {issue.get_status_display().lower()}.")
        return redirect("loops:issue-detail", issue.pk)
    return _detail(request, issue, status=400, transition_form=form)


@require_POST
@capability_required(MANAGE_ISSUES)
def issue_edit_view(request, issue_id: int):
    issue = _managed_issue(request, issue_id)
    form = IssueEditForm(request.POST)
    if form.is_valid() and issue.merged_into_id is None:
        data = form.cleaned_data
        try:
            issue_edit(
                issue=issue,
                by=request.user,
                why=data["why"],
                title=data["title"],
                description=data["description"],
                severity=data["severity"],
                sponsor=data["sponsor"],
                ticket_url=data["ticket_url"],
            )
        except ValidationError as error:
            return _detail(request, issue, status=400, edit_form=form, errors=_messages(error))
        messages.success(request, "Saved.")
        return redirect("loops:issue-detail", issue.pk)
    return _detail(request, issue, status=400, edit_form=form)


@require_POST
@capability_required(MANAGE_ISSUES)
def issue_merge_view(request, issue_id: int):
    issue = _managed_issue(request, issue_id)
    form = IssueMergeForm(request.POST)
    if form.is_valid():
        survivor = (
            issue_list_visible(viewer=request.user).filter(pk=form.cleaned_data["survivor"]).first()
        )
        if survivor is None or not may_manage_issue(request.user, survivor):
            form.add_error("survivor", "No such issue that you run.")
        else:
            try:
                issue_merge(
                    duplicate=issue, survivor=survivor, by=request.user,
                    why=form.cleaned_data["why"],
                )  # fmt: skip
            except ValidationError as error:
                return _detail(request, issue, status=400, merge_form=form, errors=_messages(error))
            messages.success(request, f"Merged into #{survivor.pk}: its evidence is there now.")
            return redirect("loops:issue-detail", survivor.pk)
    return _detail(request, issue, status=400, merge_form=form)


@require_POST
@capability_required(MANAGE_ISSUES)
def issue_evidence_remove_view(request, issue_id: int, evidence_id: int):
    issue = _managed_issue(request, issue_id)
    evidence = IssueEvidence.objects.filter(issue=issue, pk=evidence_id).first()
    if evidence is None:
        raise Http404("No such evidence on this issue.")
    form = EvidenceRemoveForm(request.POST)
    why = form.cleaned_data["why"] if form.is_valid() else ""
    evidence_remove(evidence=evidence, by=request.user, why=why)
    messages.success(request, "Evidence removed.")
    return redirect("loops:issue-detail", issue.pk)


EVIDENCE_COLUMNS = [
    Column("When", lambda e: e.occurred_at),
    Column("Kind", lambda e: e.get_kind_display()),
    Column("Contact", lambda e: e.contact_id),
    Column("Subject", lambda e: e.contact.subject if e.contact_id else ""),
    Column(
        "Reason", lambda e: e.contact.reason.name if e.contact_id and e.contact.reason_id else ""
    ),
    Column("Feedback item", lambda e: e.feedback_item_id),
    Column("Verbatim", lambda e: e.feedback_item.verbatim if e.feedback_item_id else ""),
    Column("Side-by-side note", lambda e: e.session_note.text if e.session_note_id else ""),
    Column("Customer", lambda e: e.customer_id),
    Column("Added by", lambda e: e.added_by.get_username() if e.added_by_id else ""),
]


@capability_required(VIEW_ISSUES)
def issue_evidence_export_view(request, issue_id: int):
    issue = _visible_issue(request, issue_id)
    rows = issue.evidence.select_related(
        "contact__reason", "feedback_item", "session_note", "added_by"
    ).order_by("-occurred_at", "-id")
    try:
        return export_response(
            rows=rows.iterator(chunk_size=2000),
            columns=EVIDENCE_COLUMNS,
            filename=f"issue-{issue.pk}-evidence",
            file_format=request.GET.get("format", "csv"),
        )
    except ExportFormatError as error:
        return HttpResponseBadRequest(str(error))


# --- the board ---------------------------------------------------------------------------------


def _board_form(request: HttpRequest) -> BoardFilterForm:
    return BoardFilterForm(request.GET or None, viewer=request_viewer(request))


@capability_required(VIEW_ISSUES)
def issue_board_view(request):
    form = _board_form(request)
    filters = form.filters()
    now = timezone.now()
    issues, following = issue_board_page(
        viewer=request.user, filters=filters, now=now, after=request.GET.get("after", ""),
        size=BOARD_PAGE_SIZE,
    )  # fmt: skip
    rows = [
        {"issue": issue, "deadline": issue_next_deadline(issue, now=now),
         "ageing": issue_ageing(issue, now=now)}
        for issue in issues
    ]  # fmt: skip
    query = request.GET.copy()
    query.pop("after", None)
    next_query = query.copy()
    if following:
        next_query["after"] = following
    reason = None
    if filters.reason_id:
        reason = ContactReason.objects.filter(pk=filters.reason_id).first()
    context = {
        "form": form,
        "filters": filters,
        "rows": rows,
        "now": now,
        "next_url": f"?{next_query.urlencode()}" if following else "",
        "first_url": f"?{query.urlencode()}" if request.GET.get("after") else "",
        "export_query": query.urlencode(),
        "may_bulk": has_capability(request.user, MANAGE_ISSUES),
        "bulk_form": BulkForm(),
        "owners": active_managers(),
        "sla_states": SLA_STATES,
        "reason": reason,
        "statuses": Issue.Status.choices,
    }
    return render(request, "loops/issues/board.html", context)


@require_POST
@capability_required(MANAGE_ISSUES)
def issue_board_bulk_view(request):
    form = BulkForm(request.POST)
    ids = [int(v) for v in request.POST.getlist("issue") if v.isdigit()][: BOARD_PAGE_SIZE * 4]
    back = reverse("loops:issue-board") + _safe_query(request.POST.get("back", ""))
    if not ids:
        messages.error(request, "Tick the issues to change first.")
        return redirect(back)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, error)
        return redirect(back)
    found = {i.pk: i for i in issue_list_visible(viewer=request.user).filter(pk__in=ids)}
    outcome = issues_bulk_apply(
        issues=[found[i] for i in ids if i in found],
        action=form.cleaned_data["action"],
        by=request.user,
        owner=form.cleaned_data.get("owner"),
        status=form.cleaned_data.get("status") or "",
        severity=form.cleaned_data.get("severity") or "",
        why=form.cleaned_data.get("why") or "",
    )
    if outcome.applied:
        count = len(outcome.applied)
        messages.success(request, f"Changed {count} issue{'s' if count != 1 else ''}.")
    for issue, reason in outcome.refused:
        messages.error(request, f"#{issue.pk} {issue.title}: {reason}")
    for missing in [i for i in ids if i not in found]:
        messages.error(request, f"#{missing}: no such issue, or not one you can see.")
    return redirect(back)


def _safe_query(value: str) -> str:
    """The board's own query string to go back to (never another URL)."""
    return f"?{value[1:]}" if value.startswith("?") and "\n" not in value else ""


def _sla_label(issue: Issue, now) -> str:
    deadline = issue_next_deadline(issue, now=now)
    return SLA_STATES[deadline.state] if deadline else ""


def board_columns(now) -> list[Column]:
    return [
        Column("Issue", lambda i: i.pk),
        Column("Status", lambda i: i.get_status_display()),
        Column("Title", lambda i: i.title),
        Column("Severity", lambda i: i.get_severity_display()),
        Column("Department", lambda i: i.department.name if i.department_id else ""),
        Column("Owner", lambda i: i.owner.get_username() if i.owner_id else ""),
        Column("Opened", lambda i: i.created_at),
        Column("Age (days)", lambda i: max(0, (now - i.created_at).days)),
        Column("SLA", lambda i: _sla_label(i, now)),
        Column("Evidence", lambda i: i.evidence_count),
        Column("Last seen", lambda i: i.last_seen_at),
    ]


@capability_required(VIEW_ISSUES)
def issue_board_export_view(request):
    form = _board_form(request)
    now = timezone.now()
    rows = issue_board_queryset(viewer=request.user, filters=form.filters(), now=now)
    try:
        return export_response(
            rows=rows.iterator(chunk_size=2000),
            columns=board_columns(now),
            filename="issues",
            file_format=request.GET.get("format", "csv"),
        )
    except ExportFormatError as error:
        return HttpResponseBadRequest(str(error))
