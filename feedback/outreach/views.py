"""The outreach pages: the hub (my call lists), program pages, monthly summaries, forums."""

from datetime import date

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from feedback.access import RUN_FORUMS, RUN_OUTREACH, VIEW_FORUMS, VIEW_OUTREACH
from feedback.models import OutreachProgram
from feedback.outreach import selectors
from feedback.outreach.forms import CallLogForm, ExerciseForm, ForumForm, ShareForm, TopicForm
from feedback.outreach.registry import outreach_actions_shown
from feedback.outreach.rules import month_start, parse_month
from feedback.outreach.services import (
    forum_create,
    forum_topic_add,
    forum_topic_done,
    outreach_call_log,
    outreach_exercise_log,
    outreach_list_generate,
    outreach_summary_share,
    summary_shared_with,
    summary_version,
)
from voc.core.capabilities import capability_required, has_capability


def _program(program: str) -> OutreachProgram:
    try:
        return OutreachProgram(program)
    except ValueError:
        raise Http404 from None


def _month(text: str | None) -> date:
    if not text:
        return month_start(selectors.outreach_today())
    month = parse_month(text)
    if month is None:
        raise Http404
    return month


def _say(request, error: ValidationError) -> None:
    messages.error(request, " ".join(error.messages))


def _form_errors(request, form) -> None:
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        for error in errors:
            messages.error(request, f"{label}: {error}" if label else str(error))


def _with_actions(entries, viewer) -> list:
    return [(entry, outreach_actions_shown(entry=entry, viewer=viewer)) for entry in entries]


@capability_required(VIEW_OUTREACH)
def outreach_hub_view(request):
    month = month_start(selectors.outreach_today())
    lists = selectors.my_call_lists(viewer=request.user, month=month)
    for outreach_list in lists:
        outreach_list.cards = _with_actions(outreach_list.calls.all(), request.user)
    context = {
        "month": month,
        "lists": lists,
        "missing": {p.value for p in selectors.CALL_PROGRAMS} - {x.program for x in lists},
        "progress": selectors.call_progress(viewer=request.user, month=month),
        "can_run": has_capability(request.user, RUN_OUTREACH),
        "everyone": selectors.reads_every_executive(request.user),
        "overview": selectors.executive_overview(viewer=request.user, month=month),
        "programs": OutreachProgram.choices,
        "call_form": CallLogForm(),
        "month_key": f"{month:%Y-%m}",
    }
    return render(request, "feedback/outreach/hub.html", context)


@require_POST
@capability_required(RUN_OUTREACH)
def outreach_generate_view(request):
    made = 0
    for program in selectors.CALL_PROGRAMS:
        try:
            _, created = outreach_list_generate(
                executive=request.user, program=program, by=request.user
            )
        except ValidationError as error:
            _say(request, error)
            break
        made += created
    if made:
        messages.success(request, "Your call lists for this month are ready.")
    else:
        messages.info(request, "Your call lists for this month were made already.")
    return redirect("feedback:outreach-hub")


def _call_for(user, call_id: int):
    call = selectors.outreach_call_get_visible(viewer=user, call_id=call_id)
    if call is None:
        raise Http404
    return call


@capability_required(VIEW_OUTREACH)
def outreach_call_view(request, call_id: int):
    call = _call_for(request.user, call_id)
    if request.method == "POST":
        if not has_capability(request.user, RUN_OUTREACH):
            raise PermissionDenied
        form = CallLogForm(request.POST)
        if form.is_valid():
            try:
                outreach_call_log(call=call, by=request.user, **form.cleaned_data)
            except ValidationError as error:
                _say(request, error)
            else:
                messages.success(request, "Call logged: its minutes count as listening.")
                if request.POST.get("next") == "hub":
                    return redirect("feedback:outreach-hub")
                return redirect("feedback:outreach-call", call.id)
        else:
            _form_errors(request, form)
        return redirect("feedback:outreach-call", call.id)
    initial = {}
    if call.done:
        initial = {
            "called_at": call.called_at,
            "duration_minutes": call.duration_minutes,
            "outcome": call.outcome,
            "notes": call.notes,
            "follow_up": call.follow_up,
        }
    context = {
        "call": call,
        "form": CallLogForm(initial=initial) if initial else CallLogForm(),
        "mine": call.outreach_list.executive_id == request.user.pk,
        "actions": outreach_actions_shown(entry=call, viewer=request.user),
    }
    return render(request, "feedback/outreach/call.html", context)


@capability_required(VIEW_OUTREACH)
def outreach_program_view(request, program: str):
    program = _program(program)
    if program == OutreachProgram.FORUM:
        return redirect("feedback:forum-list")
    month = _month(request.GET.get("month"))
    context: dict[str, object] = {
        "program": program,
        "month": month,
        "month_key": f"{month:%Y-%m}",
        "months": selectors.months_with_entries(viewer=request.user, program=program),
        "can_run": has_capability(request.user, RUN_OUTREACH),
    }
    if program == OutreachProgram.EXERCISE:
        exercises = selectors.program_exercises(viewer=request.user, month=month)
        context["entries"] = _with_actions(exercises, request.user)
        context["form"] = ExerciseForm()
    else:
        calls = selectors.program_calls(viewer=request.user, program=program, month=month)
        context["entries"] = _with_actions(calls, request.user)
    return render(request, "feedback/outreach/program.html", context)


@require_POST
@capability_required(RUN_OUTREACH)
def outreach_exercise_log_view(request):
    form = ExerciseForm(request.POST)
    target = reverse("feedback:outreach-program", args=[OutreachProgram.EXERCISE])
    if not form.is_valid():
        _form_errors(request, form)
        return HttpResponseRedirect(target)
    try:
        exercise = outreach_exercise_log(by=request.user, **form.cleaned_data)
    except ValidationError as error:
        _say(request, error)
        return HttpResponseRedirect(target)
    messages.success(request, "Exercise logged: its time counts as listening.")
    month = month_start(exercise.done_at.date())
    return HttpResponseRedirect(f"{target}?month={month:%Y-%m}")


@capability_required(VIEW_OUTREACH)
def outreach_summary_view(request, program: str, month: str):
    program = _program(program)
    period = _month(month)
    summary = selectors.outreach_summary(viewer=request.user, program=program, month=period)
    context = {
        "summary": summary,
        "program": program,
        "month_key": f"{period:%Y-%m}",
        "share_form": ShareForm(),
        "shared_with": summary_shared_with(
            program=program,
            month=period,
            sender=request.user,
            version=summary_version(summary),
        ),
    }
    return render(request, "feedback/outreach/summary.html", context)


@require_POST
@capability_required(VIEW_OUTREACH)
def outreach_summary_share_view(request, program: str, month: str):
    program = _program(program)
    period = _month(month)
    form = ShareForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        try:
            asked = outreach_summary_share(
                program=program,
                month=period,
                recipients=form.cleaned_data["recipients"],
                by=request.user,
            )
        except ValidationError as error:
            _say(request, error)
        else:
            chosen = len(form.cleaned_data["recipients"])
            messages.success(
                request,
                f"Summary shared with {asked} of {chosen}"
                + (" (the others have this version already)." if asked < chosen else "."),
            )
    return redirect("feedback:outreach-summary", program, f"{period:%Y-%m}")


# --- forums ----------------------------------------------------------------------------------


@capability_required(VIEW_FORUMS)
def forum_list_view(request):
    forums = selectors.forums_visible(viewer=request.user).order_by("-held_at", "-id")[:100]
    context = {
        "forums": forums,
        "form": ForumForm(),
        "can_run": has_capability(request.user, RUN_FORUMS),
        "can_summarise": has_capability(request.user, VIEW_OUTREACH),
        "month_key": f"{month_start(selectors.outreach_today()):%Y-%m}",
    }
    return render(request, "feedback/outreach/forum_list.html", context)


@require_POST
@capability_required(RUN_FORUMS)
def forum_create_view(request):
    form = ForumForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
        return redirect("feedback:forum-list")
    try:
        forum = forum_create(by=request.user, **form.cleaned_data)
    except ValidationError as error:
        _say(request, error)
        return redirect("feedback:forum-list")
    messages.success(request, "Forum recorded: add the topics raised.")
    return redirect("feedback:forum-detail", forum.id)


def _forum_for(user, forum_id: int):
    forum = selectors.forum_get_visible(viewer=user, forum_id=forum_id)
    if forum is None:
        raise Http404
    return forum


@capability_required(VIEW_FORUMS)
def forum_detail_view(request, forum_id: int):
    forum = _forum_for(request.user, forum_id)
    topics = forum.topics.select_related("raised_by", "owner").order_by("id")
    context = {
        "forum": forum,
        "topics": _with_actions(topics, request.user),
        "form": TopicForm(),
        "can_run": has_capability(request.user, RUN_FORUMS),
    }
    return render(request, "feedback/outreach/forum_detail.html", context)


@require_POST
@capability_required(RUN_FORUMS)
def forum_topic_add_view(request, forum_id: int):
    forum = _forum_for(request.user, forum_id)
    form = TopicForm(request.POST)
    if not form.is_valid():
        _form_errors(request, form)
    else:
        try:
            forum_topic_add(forum=forum, by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _say(request, error)
        else:
            messages.success(request, "Topic added.")
    return redirect("feedback:forum-detail", forum.id)


@require_POST
@capability_required(VIEW_FORUMS)
def forum_topic_done_view(request, topic_id: int):
    topic = selectors.forum_topic_get_visible(viewer=request.user, topic_id=topic_id)
    if topic is None:
        raise Http404
    try:
        forum_topic_done(topic=topic, by=request.user)
    except ValidationError as error:  # a Conflict: done already
        _say(request, error)
    else:
        messages.success(request, "Follow-up marked done.")
    return redirect("feedback:forum-detail", topic.forum_id)
