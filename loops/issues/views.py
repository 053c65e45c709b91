"""The issue page: what the issue is, who owns it, its evidence, and each part's panel
(verification, notices, escalations, flags) through loops.registry."""

from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone

from loops.access import VIEW_ISSUES
from loops.models import Issue
from loops.registry import issue_panels_shown
from loops.selectors import issue_evidence_latest, issue_get_visible
from voc.core.capabilities import capability_required

EVIDENCE_SHOWN = 50


@capability_required(VIEW_ISSUES)
def issue_detail_view(request, issue_id: int):
    try:
        issue = issue_get_visible(viewer=request.user, issue_id=issue_id)
    except Issue.DoesNotExist:
        raise Http404("No such issue, or not one you can see.") from None
    if issue.merged_into_id is not None and request.GET.get("merged") != "show":
        # A merged duplicate lives on in its survivor; ?merged=show still shows the old one.
        return redirect("loops:issue-detail", issue.merged_into_id)
    context = {
        "issue": issue,
        "reasons": issue.reasons.select_related("parent").order_by("name"),
        "evidence": issue_evidence_latest(issue=issue, limit=EVIDENCE_SHOWN),
        "evidence_shown": EVIDENCE_SHOWN,
        "panels": issue_panels_shown(issue=issue, request=request),
        "now": timezone.now(),
    }
    return render(request, "loops/issues/detail.html", context)
