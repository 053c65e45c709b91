"""The side-by-side pages: schedule, my sessions, and the live note page."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from feedback import selectors
from feedback.access import RUN_SESSIONS, VIEW_OUTREACH, VIEW_SESSIONS
from feedback.actions import session_notes_with_actions
from feedback.forms import SessionScheduleForm, SessionWhenForm
from feedback.models import Session, SessionNote
from feedback.services.sessions import (
    session_cancel,
    session_end,
    session_reschedule,
    session_schedule,
    session_start,
)
from voc.core.audit import audit_history
from voc.core.capabilities import capability_required, has_capability

PROMPTS = [
    ("1", "Does that always happen?"),
    ("2", "How many contacts a day are like this?"),
    ("3", "Isn't there a better way for customers to do this?"),
    ("4", "What would you normally do with this input?"),
]
KIND_KEYS = [("o", "observation"), ("q", "quote"), ("u", "question"), ("i", "idea")]


def _session_for(user, session_id: int) -> Session:
    session = selectors.session_get_visible(viewer=user, session_id=session_id)
    if session is None:
        raise Http404
    return session


def _message(error: ValidationError) -> str:
    return " ".join(error.messages)


@capability_required(VIEW_SESSIONS)
def session_list_view(request):
    sessions = list(selectors.session_list_mine(viewer=request.user)[:200])  # newest first
    coming = {Session.Status.SCHEDULED, Session.Status.RUNNING}
    context = {
        "upcoming": [session for session in reversed(sessions) if session.status in coming],
        "past": [session for session in sessions if session.status not in coming],
        "perms_outreach": has_capability(request.user, VIEW_OUTREACH),
    }
    return render(request, "feedback/session_list.html", context)


@capability_required(RUN_SESSIONS)
def session_schedule_view(request):
    form = SessionScheduleForm(request.POST or None, viewer=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            session = session_schedule(
                other=data["other"],
                scheduled_start=data["scheduled_start"],
                planned_minutes=data["planned_minutes"],
                topic=data["topic"],
                by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Session scheduled: you both get a calendar invitation.")
            return redirect("feedback:session-detail", session.id)
    return render(request, "feedback/session_schedule.html", {"form": form})


@capability_required(VIEW_SESSIONS)
def session_detail_view(request, session_id: int):
    session = _session_for(request.user, session_id)
    notes = session_notes_with_actions(
        selectors.session_notes_visible(viewer=request.user, session=session), viewer=request.user
    )
    participant = session.is_participant(request.user)
    context = {
        "session": session,
        "notes": notes,
        "participant": participant,
        "can_write": participant
        and session.status in (Session.Status.RUNNING, Session.Status.ENDED),
        "prompts": PROMPTS,
        "kinds": SessionNote.Kind.choices,
        "kind_keys": KIND_KEYS,
        "when_form": SessionWhenForm(
            initial={
                "scheduled_start": session.scheduled_start,
                "planned_minutes": session.planned_minutes,
            }
        ),
        "history": audit_history(target=session),
    }
    return render(request, "feedback/session_detail.html", context)


def _act(request, session_id: int, action, done: str, **kwargs):
    session = _session_for(request.user, session_id)
    try:
        action(session=session, by=request.user, **kwargs)
    except ValidationError as error:  # not now (a Conflict): say why on the page
        messages.error(request, _message(error))
    else:
        messages.success(request, done)
    return redirect("feedback:session-detail", session.id)


@require_POST
@capability_required(RUN_SESSIONS)
def session_start_view(request, session_id: int):
    return _act(request, session_id, session_start, "Session started: take notes as you listen.")


@require_POST
@capability_required(RUN_SESSIONS)
def session_end_view(request, session_id: int):
    return _act(request, session_id, session_end, "Session ended: the time counts in the tracker.")


@require_POST
@capability_required(RUN_SESSIONS)
def session_cancel_view(request, session_id: int):
    return _act(request, session_id, session_cancel, "Session cancelled: you both get word.")


@require_POST
@capability_required(RUN_SESSIONS)
def session_reschedule_view(request, session_id: int):
    form = SessionWhenForm(request.POST)
    if not form.is_valid():
        _session_for(request.user, session_id)
        for errors in form.errors.values():
            messages.error(request, " ".join(str(error) for error in errors))
        return redirect("feedback:session-detail", session_id)
    return _act(
        request,
        session_id,
        session_reschedule,
        "Session moved: you both get the new time.",
        scheduled_start=form.cleaned_data["scheduled_start"],
        planned_minutes=form.cleaned_data["planned_minutes"],
    )
