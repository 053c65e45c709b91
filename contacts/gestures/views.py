"""The pages of make it right: give a gesture from the contact page, approve or decline one
in one click (home page or contact page), and the report. Thin views: authorise, parse, call
one service, go back to where the click came from."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from contacts import selectors as contact_selectors
from contacts.gestures import selectors
from contacts.gestures.access import DECIDE_GESTURES, GIVE_GESTURES, VIEW_GESTURE_REPORT
from contacts.gestures.forms import DecisionForm, GestureForm, ReportForm
from contacts.gestures.panels import GESTURE_PANEL
from contacts.gestures.services import gesture_approve, gesture_decline, gesture_record
from contacts.models import Gesture
from contacts.views import contact_page_response
from voc.core.capabilities import capability_required


def _back(request, fallback_contact_id: int):
    """To the page the form was on (the home page or the contact page), else the contact."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("contacts:contact-detail", fallback_contact_id)


def _refused(request, contact, form: GestureForm):
    """The contact page again, the gesture form showing why and what was typed (a 400)."""
    return contact_page_response(request, contact, panel_forms={GESTURE_PANEL: form}, status=400)


def _money(value, currency: str) -> str:
    return f"{value:.2f} {currency}"


@require_POST
@capability_required(GIVE_GESTURES)
def gesture_record_view(request, contact_id: int):
    contact = contact_selectors.contact_get_visible(viewer=request.user, contact_id=contact_id)
    if contact is None:
        raise Http404("No such contact.")
    form = GestureForm(request.POST, contact_id=contact.id)
    if not form.is_valid():
        return _refused(request, contact, form)
    try:
        gesture = gesture_record(
            contact=contact,
            kind=form.cleaned_data["kind"],
            value=form.cleaned_data["value"],
            note=form.cleaned_data["note"],
            by=request.user,
        )
    except ValidationError as error:
        form.add_error(None, error)
        return _refused(request, contact, form)
    worth = _money(gesture.value, gesture.currency)
    if gesture.state == Gesture.State.GRANTED:
        messages.success(request, f"{gesture.get_kind_display()} of {worth} granted.")
    else:
        messages.info(
            request,
            f"{gesture.get_kind_display()} of {worth} is above your allowance: it waits for "
            "your team lead's or department head's approval.",
        )
    return redirect("contacts:contact-detail", contact.id)


def _decide_view(request, gesture_id: int, service, done: str):
    gesture = selectors.gesture_get_visible(viewer=request.user, gesture_id=gesture_id)
    if gesture is None:
        raise Http404("No such gesture.")
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Keep the reason short (300 characters at most).")
        return _back(request, gesture.contact_id)
    try:
        service(gesture=gesture, by=request.user, reason=form.cleaned_data["reason"])
    except ValidationError as error:  # already decided: say by whom
        messages.error(request, " ".join(error.messages))
    else:
        worth = _money(gesture.value, gesture.currency)
        messages.success(request, f"{gesture.get_kind_display()} of {worth} {done}.")
    return _back(request, gesture.contact_id)


@require_POST
@capability_required(DECIDE_GESTURES)
def gesture_approve_view(request, gesture_id: int):
    return _decide_view(request, gesture_id, gesture_approve, "approved")


@require_POST
@capability_required(DECIDE_GESTURES)
def gesture_decline_view(request, gesture_id: int):
    return _decide_view(request, gesture_id, gesture_decline, "declined")


@capability_required(VIEW_GESTURE_REPORT)
def gesture_report_view(request):
    since, until = ReportForm.default_period()
    form = ReportForm(request.GET or None, initial={"since": since, "until": until})
    status = 200
    if form.is_bound:
        if form.is_valid():
            since, until = form.cleaned_data["since"], form.cleaned_data["until"]
        else:
            status = 400
    report = selectors.gesture_report(viewer=request.user, since=since, until=until)
    context = {"form": form, "report": report}
    return render(request, "contacts/gestures/report.html", context, status=status)
