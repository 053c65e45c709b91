"""The promote page (/loops/promote/<kind>/<id>/): the source, the open issues it may belong
to, and in one POST a new issue or evidence on an existing one; then the issue."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse

from loops.access import PROMOTE
from loops.models import Issue
from loops.promote.forms import EXISTING, NEW, ExistingIssueForm, NewIssueForm
from loops.promote.selectors import evidence_held_by, promote_suggestions
from loops.promote.services import Promoted, promote_to_issue, promote_to_new_issue
from loops.promote.sources import PromotableSource, SourceView, describe, source_get_visible
from loops.selectors import issue_get_visible
from voc.core.capabilities import capability_required
from voc.core.errors import Conflict
from voc.people.access import request_viewer
from voc.people.models import User


def _source_for(viewer: User, kind: str, source_id: int) -> PromotableSource:
    source = source_get_visible(viewer=viewer, kind=kind, source_id=source_id)
    if source is None:
        raise Http404("Nothing to promote here.")
    return source


def issue_landing_url(issue_id: int) -> str:
    """The issue's page where the issue board provides one, else the promote result page."""
    try:
        return reverse("loops:issue-detail", args=[issue_id])
    except NoReverseMatch:
        return reverse("loops:promote-result", args=[issue_id])


def _render(
    request: HttpRequest,
    viewer: User,
    view: SourceView,
    *,
    new_form: NewIssueForm | None = None,
    existing_form: ExistingIssueForm | None = None,
    refusal: str = "",
    status: int = 200,
) -> HttpResponse:
    reason_ids = [reason.pk for reason in view.reasons]
    held = evidence_held_by(viewer=viewer, source=view.source)
    if new_form is None:
        new_form = NewIssueForm(
            initial={"title": view.title, "description": view.text, "reasons": reason_ids},
            suggested=view.reasons,
        )
    context: dict[str, Any] = {
        "view": view,
        "new_form": new_form,
        "existing_form": existing_form or ExistingIssueForm(),
        "suggestions": [
            (suggestion, issue_landing_url(suggestion.issue.pk))
            for suggestion in promote_suggestions(
                viewer=viewer, source=view.source, reason_ids=reason_ids
            )
        ],
        "held": [(issue, issue_landing_url(issue.pk)) for issue in held.issues],
        "held_hidden": held.hidden,
        "refusal": refusal,
        "NEW": NEW,
        "EXISTING": EXISTING,
    }
    return render(request, "loops/promote/promote.html", context, status=status)


def _say_done(request: HttpRequest, view: SourceView, promoted: Promoted) -> None:
    label, number = view.label.lower(), f"#{promoted.issue.pk}"
    if promoted.opened:
        messages.success(request, f"Issue {number} opened, with the {label} as its evidence.")
    elif promoted.added:
        messages.success(request, f"The {label} is now evidence on issue {number}.")
    else:
        messages.info(
            request, f"The {label} was evidence on issue {number} already: it counts once."
        )


@capability_required(PROMOTE)
def promote_view(request: HttpRequest, kind: str, source_id: int) -> HttpResponse:
    viewer = request_viewer(request)
    view = describe(_source_for(viewer, kind, source_id))
    if request.method != "POST":
        return _render(request, viewer, view)
    action = request.POST.get("action")
    if action == NEW:
        form = NewIssueForm(request.POST, suggested=view.reasons)
        if not form.is_valid():
            return _render(request, viewer, view, new_form=form, status=400)
        data = form.cleaned_data
        try:
            promoted = promote_to_new_issue(
                source=view.source,
                title=data["title"],
                description=data["description"],
                reasons=data["reasons"],
                severity=data["severity"],
                by=viewer,
            )
        except Conflict as error:
            return _render(request, viewer, view, refusal=" ".join(error.messages), status=409)
        except ValidationError as error:
            form.add_error(None, error)
            return _render(request, viewer, view, new_form=form, status=400)
    elif action == EXISTING:
        existing = ExistingIssueForm(request.POST)
        if not existing.is_valid():
            return _render(request, viewer, view, existing_form=existing, status=400)
        issue_id = existing.cleaned_data["issue"]
        try:
            issue = issue_get_visible(viewer=viewer, issue_id=issue_id)
        except Issue.DoesNotExist:
            existing.add_error("issue", f"There is no issue #{issue_id} among those you can see.")
            return _render(request, viewer, view, existing_form=existing, status=400)
        try:
            promoted = promote_to_issue(source=view.source, issue=issue, by=viewer)
        except Conflict as error:
            return _render(request, viewer, view, refusal=" ".join(error.messages), status=409)
    else:
        return _render(request, viewer, view, refusal="Choose what to do with it.", status=400)
    _say_done(request, view, promoted)
    return redirect(issue_landing_url(promoted.issue.pk))


@capability_required(PROMOTE)
def promote_result_view(request: HttpRequest, issue_id: int) -> HttpResponse:
    """The issue a promotion opened or added to, as the viewer may see it."""
    viewer = request_viewer(request)
    try:
        issue = issue_get_visible(viewer=viewer, issue_id=issue_id)
    except Issue.DoesNotExist:
        raise Http404("No such issue.") from None
    context = {
        "issue": issue,
        "reasons": list(issue.reasons.select_related("parent")),
    }
    return render(request, "loops/promote/result.html", context)
