"""The flag pages: "me too" and "propose" from the contact page's panel (each one POST, back
to the contact), and "My flags"."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from contacts.models import Contact
from loops.access import FLAG_CONTACTS
from loops.flags.forms import MeTooForm, ProposeForm
from loops.flags.selectors import contact_for_flagging, flag_candidates, flags_of
from loops.flags.services import flag_me_too, flag_propose
from voc.core.capabilities import capability_required
from voc.core.errors import Conflict
from voc.people.access import request_viewer
from voc.people.models import User

PAGE_SIZE = 50


def _contact(viewer: User, contact_id: int) -> Contact:
    contact = contact_for_flagging(viewer=viewer, contact_id=contact_id)
    if contact is None:
        raise Http404("No such contact.")
    return contact


def _refused(request: HttpRequest, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


@require_POST
@capability_required(FLAG_CONTACTS)
def flag_me_too_view(request: HttpRequest, contact_id: int) -> HttpResponse:
    viewer = request_viewer(request)
    contact = _contact(viewer, contact_id)
    back = redirect("contacts:contact-detail", contact.pk)
    form = MeTooForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose the issue this contact is about.")
        return back
    issue = (
        flag_candidates(viewer=viewer, contact=contact)
        .filter(pk=form.cleaned_data["issue"])
        .first()
    )
    if issue is None:
        raise Http404("No such open issue among those you may flag onto.")
    try:
        flagged = flag_me_too(
            contact=contact, issue=issue, by=viewer, note=form.cleaned_data["note"]
        )
    except (Conflict, ValidationError) as error:
        _refused(request, error)
        return back
    number = f"#{flagged.issue.pk}"
    if flagged.created:
        messages.success(request, f"Flagged: this contact is issue {number} too.")
    else:
        messages.info(request, f"You had flagged this contact onto issue {number} already.")
    return back


@require_POST
@capability_required(FLAG_CONTACTS)
def flag_propose_view(request: HttpRequest, contact_id: int) -> HttpResponse:
    viewer = request_viewer(request)
    contact = _contact(viewer, contact_id)
    back = redirect("contacts:contact-detail", contact.pk)
    form = ProposeForm(request.POST)
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field.capitalize()}: {' '.join(str(e) for e in errors)}")
        return back
    data = form.cleaned_data
    try:
        flagged = flag_propose(
            contact=contact,
            title=data["title"],
            description=data["description"],
            note=data["note"],
            by=viewer,
        )
    except (Conflict, ValidationError) as error:
        _refused(request, error)
        return back
    messages.success(
        request, f"Issue #{flagged.issue.pk} proposed, with this contact as its evidence."
    )
    return back


@require_GET
@capability_required(FLAG_CONTACTS)
def my_flags_view(request: HttpRequest) -> HttpResponse:
    viewer = request_viewer(request)
    page = Paginator(flags_of(user=viewer), PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "loops/flags/mine.html", {"page": page})
