"""The survey page (public, from the email's signed link) and the report (managers,
executives, admins)."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.shortcuts import render
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from feedback.access import VIEW_SURVEY_REPORT
from feedback.models import SurveyInvitation
from feedback.surveys.forms import SurveyAnswerForm
from feedback.surveys.links import SURVEY_LINK, survey_opt_out_path
from feedback.surveys.selectors import survey_report
from feedback.surveys.services import (
    LOW_HIGH,
    SurveyClosed,
    survey_answer_check,
    survey_answer_record,
    survey_question,
    survey_scores,
)
from voc.core.capabilities import capability_required
from voc.core.links import LinkError, LinkExpired, LinkUsed, link_check, link_use
from voc.core.throttling import count_hit
from voc.people.throttling import client_ip

# Requests per client address per minute on survey links, answered or not: enough for a
# household behind one address, not for guessing tokens.
HITS_PER_MINUTE = 30
REPORT_PERIODS = (7, 30, 90)
CLOSED_STATUS = {"answered": 410, "expired": 410, "gone": 404, "invalid": 400, "busy": 429}


def _closed(request, reason: str, message: str):
    return render(
        request,
        "feedback/survey_closed.html",
        {"reason": reason, "message": message},
        status=CLOSED_STATUS[reason],
    )


def _throttled(request) -> bool:
    key = "survey-link:" + salted_hmac("survey-link", client_ip(request)).hexdigest()[:32]
    return count_hit(key, window=60) > HITS_PER_MINUTE


# No login: the signed token is the authority, and it is the only thing in the URL. Exempt
# from CSRF for the same reason as the budget's opt-out: the token proves the request comes
# from the email, and in-app mail browsers may drop the cookie between the page and the post.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def survey_answer_view(request, token: str):
    if _throttled(request):
        return _closed(request, "busy", "Too many tries from your network: wait a minute.")
    try:
        grant = link_check(purpose=SURVEY_LINK, token=token, model=SurveyInvitation)
    except LinkExpired:
        return _closed(request, "expired", "This survey has closed.")
    except LinkError:
        return _closed(request, "invalid", "This survey link is not valid.")
    invitation = (
        SurveyInvitation.objects.select_related("customer", "contact")
        .filter(id=grant.target_id)
        .first()
    )
    if invitation is None:
        return _closed(request, "gone", "This survey is no longer open.")
    try:
        survey_answer_check(invitation, now=timezone.now())
    except SurveyClosed as closed:
        return _closed(request, closed.reason, str(closed.message))
    scores = survey_scores(invitation.scale)
    initial = {}
    tapped = request.GET.get("score", "")  # a score tapped in the email preselects it
    if request.method == "GET" and tapped.isdigit() and int(tapped) in scores:
        initial["score"] = int(tapped)
    data = request.POST if request.method == "POST" else None
    form = SurveyAnswerForm(data, scores=scores, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                link_use(purpose=SURVEY_LINK, token=token, model=SurveyInvitation)
                survey_answer_record(
                    invitation_id=invitation.pk,
                    score=form.cleaned_data["score"],
                    verbatim=form.cleaned_data["verbatim"],
                )
        except LinkUsed:
            return _closed(request, "answered", "We already have your answer to this survey.")
        except SurveyClosed as closed:
            return _closed(request, closed.reason, str(closed.message))
        return render(request, "feedback/survey_thanks.html", {"company": settings.COMPANY_NAME})
    low, high = LOW_HIGH[SurveyInvitation.Scale(invitation.scale)]
    context = {
        "form": form,
        "question": survey_question(invitation.scale),
        "scale": invitation.scale,
        "scores": scores,
        "chosen": form["score"].value(),
        "low_label": low,
        "high_label": high,
        "opt_out_path": survey_opt_out_path(invitation),
        "company": settings.COMPANY_NAME,
    }
    return render(
        request, "feedback/survey_answer.html", context, status=400 if form.is_bound else 200
    )


@require_GET
@capability_required(VIEW_SURVEY_REPORT)
def survey_report_view(request):
    asked = request.GET.get("days", "")
    days = int(asked) if asked in {str(d) for d in REPORT_PERIODS} else 30
    until = timezone.now()
    report = survey_report(viewer=request.user, since=until - timedelta(days=days), until=until)
    return render(
        request,
        "feedback/survey_report.html",
        {"report": report, "days": days, "periods": REPORT_PERIODS},
    )
