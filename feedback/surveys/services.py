"""Writes of post-contact surveys: the invitation job and the answer.

**The job** (``survey_invitations_send``, run by beat from feedback.tasks) takes the contacts
closed in the window (outcome set to anything but open or callback; ``outcome_set_at``, else
``occurred_at``, says when), not yet invited nor refused, in one query; keeps the sampled ones
(feedback.surveys.sampling) whose customer has an email, or was erased or merged (so the budget
records why they are not asked); then, per batch of :data:`BATCH` and in one transaction,
claims the budget for all of them (``budget_claim_many``: the same rules as ``budget_claim``,
every "no" recorded with its reason), creates an invitation for each "yes", moves the
dashboards' data version after commit (voc.core.dataversion: survey fatigue is read from the
invitations) and asks send-once for its email (key ``invitation:<id>``). The queries per batch are a fixed few whatever its
size. A re-run finds nothing new to do: invited and refused contacts are left out, and the
sample is the same.

**The answer** (``survey_answer_record``) is taken once, before the invitation expires
(exactly at ``expires_at`` still counts), and becomes a FeedbackItem through
``feedback_item_record`` (redaction happens there).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Value
from django.db.models.functions import Cast, Coalesce, Concat
from django.utils import timezone

from contacts.budget.rules import OPEN_OUTCOMES
from contacts.budget.services import budget_claim_many
from contacts.models import BudgetPurpose, BudgetRefusal, Channel, Contact
from feedback.items.services import feedback_item_record
from feedback.models import FeedbackItem, SurveyInvitation
from feedback.surveys.links import absolute, survey_answer_path, survey_opt_out_path
from feedback.surveys.sampling import is_sampled, scale_for, share_for
from feedback.surveys.settings import SamplingRules, sampling_rules
from voc.core.audit import SystemActor, audit_record
from voc.core.dataversion import data_version_bump
from voc.core.errors import Conflict
from voc.core.sendonce import OnceEmail, send_once_many

SURVEY_JOB = SystemActor("survey-invitations")
SURVEY_LINK_ACTOR = SystemActor("survey-link")  # the customer, through the signed link
EMAIL_PURPOSE = "feedback.survey_invitation"
EMAIL_TEMPLATE = "survey-invitation"
SOURCE = "survey"
BATCH = 10_000
LOOKBACK = timedelta(days=1)
CLOSED_OUTCOMES = [o for o in Contact.Outcome.values if o not in OPEN_OUTCOMES]

AUDIT_LABELS = {
    "survey.invite": "sent survey invitations",
}


class SurveyClosed(Conflict):
    """The survey may not be answered (any more); ``reason`` says which page to show."""

    def __init__(self, message: str, *, reason: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class Candidate:
    contact_id: int
    customer_id: int
    channel: str
    reason_id: int | None
    parent_reason_id: int | None
    email: str
    gone: bool  # erased or merged: the budget refuses and records why


@dataclass(frozen=True)
class InviteRun:
    closed: int = 0
    sampled: int = 0
    invited: int = 0
    refused: int = 0
    batches: int = 0

    @property
    def touched(self) -> int:
        return self.invited + self.refused


def survey_candidates(*, since: datetime, until: datetime) -> list[Candidate]:
    """The contacts closed in (since, until], not yet invited nor refused a survey, with a
    customer; one query."""
    refused = BudgetRefusal.objects.filter(
        customer_id=OuterRef("customer_id"),
        purpose=BudgetPurpose.SURVEY,
        key=Concat(Value("contact:"), Cast(OuterRef("pk"), CharField())),
    )
    rows = (
        Contact.objects.filter(outcome__in=CLOSED_OUTCOMES, customer__isnull=False)
        .annotate(closed_at=Coalesce("outcome_set_at", "occurred_at"))
        .filter(closed_at__gt=since, closed_at__lte=until)
        .exclude(Exists(SurveyInvitation.objects.filter(contact_id=OuterRef("pk"))))
        .exclude(Exists(refused))
        .order_by("id")
        .values_list(
            "id",
            "customer_id",
            "channel",
            "reason_id",
            "reason__parent_id",
            "customer__email",
            "customer__erased_at",
            "customer__merged_into_id",
        )
    )
    return [
        Candidate(
            contact_id=row[0],
            customer_id=row[1],
            channel=row[2],
            reason_id=row[3],
            parent_reason_id=row[4],
            email=row[5],
            gone=row[6] is not None or row[7] is not None,
        )
        for row in rows
    ]


def survey_sample(candidates: list[Candidate], rules: SamplingRules) -> list[Candidate]:
    """The sampled candidates that can be asked (an email) or must be refused (erased,
    merged)."""
    return [
        c
        for c in candidates
        if (c.email or c.gone)
        and is_sampled(
            c.contact_id,
            share_for(
                rules,
                channel=c.channel,
                reason_id=c.reason_id,
                parent_reason_id=c.parent_reason_id,
            ),
        )
    ]


def survey_invitations_send(
    *, now: datetime | None = None, lookback: timedelta = LOOKBACK, batch: int = BATCH
) -> InviteRun:
    """Invite the customers of the contacts closed in the ``lookback`` before ``now`` (see
    the module's docstring). Returns what it did."""
    until = now or timezone.now()
    rules = sampling_rules()
    candidates = survey_candidates(since=until - lookback, until=until)
    sampled = survey_sample(candidates, rules)
    run = InviteRun(closed=len(candidates), sampled=len(sampled))
    invited = refused = batches = 0
    for start in range(0, len(sampled), batch):
        done = _invite_batch(sampled[start : start + batch], rules)
        invited += done
        refused += len(sampled[start : start + batch]) - done
        batches += 1
    run = InviteRun(
        closed=run.closed, sampled=run.sampled, invited=invited, refused=refused, batches=batches
    )
    if batches:
        audit_record(
            by=SURVEY_JOB,
            action="survey.invite",
            changes={"closed": run.closed, "sampled": run.sampled, "invited": invited,
                     "refused": refused},
        )  # fmt: skip
    return run


@transaction.atomic
def _invite_batch(candidates: list[Candidate], rules: SamplingRules) -> int:
    """Claim, create the invitations and ask for their emails; the invitations made."""
    answers = budget_claim_many(
        claims=[(c.customer_id, f"contact:{c.contact_id}") for c in candidates],
        purpose=BudgetPurpose.SURVEY,
        by=SURVEY_JOB,
    )
    allowed = [c for c, answer in zip(candidates, answers, strict=True) if answer.allowed]
    if not allowed:
        return 0
    now = timezone.now()
    expires_at = now + timedelta(days=rules.link_days)
    invitations = SurveyInvitation.objects.bulk_create(
        [
            SurveyInvitation(
                contact_id=c.contact_id,
                customer_id=c.customer_id,
                scale=scale_for(rules, channel=c.channel),
                channel=c.channel,
                sent_at=now,
                expires_at=expires_at,
            )
            for c in allowed
        ]
    )
    data_version_bump()  # survey fatigue's cached figure is out of date once this commits
    send_once_many(
        purpose=EMAIL_PURPOSE,
        template=EMAIL_TEMPLATE,
        emails=[
            OnceEmail(
                key=f"invitation:{invitation.pk}",
                to=[c.email],
                # Ids only: the worker builds the rest (survey_email_context).
                context={"invitation_id": invitation.pk},
                customer_id=c.customer_id,
            )
            for invitation, c in zip(invitations, allowed, strict=True)
        ],
        by=SURVEY_JOB,
    )
    return len(invitations)


QUESTIONS = {
    SurveyInvitation.Scale.NPS: "How likely are you to recommend {company} to a friend or "
    "colleague?",
    SurveyInvitation.Scale.CSAT: "How satisfied are you with how we handled your request?",
}
LOW_HIGH = {
    SurveyInvitation.Scale.NPS: ("Not at all likely", "Extremely likely"),
    SurveyInvitation.Scale.CSAT: ("Very unsatisfied", "Very satisfied"),
}


def survey_scores(scale: str) -> list[int]:
    low, high = FeedbackItem.SCORE_RANGES[FeedbackItem.Kind(scale)]
    return list(range(low, high + 1))


def survey_question(scale: str) -> str:
    return QUESTIONS[SurveyInvitation.Scale(scale)].format(company=settings.COMPANY_NAME)


def survey_email_context(context: dict[str, Any]) -> dict[str, Any]:
    """The invitation email's context, built in the worker from the invitation's id: a fresh
    signed link, one link per score, the opt-out (also as List-Unsubscribe)."""
    invitation = SurveyInvitation.objects.select_related("customer", "contact").get(
        id=context["invitation_id"]
    )
    answer_url = absolute(survey_answer_path(invitation))
    opt_out_url = absolute(survey_opt_out_path(invitation))
    return {
        "name": invitation.customer.name,
        "company": settings.COMPANY_NAME,
        "question": survey_question(invitation.scale),
        "low_label": LOW_HIGH[SurveyInvitation.Scale(invitation.scale)][0],
        "high_label": LOW_HIGH[SurveyInvitation.Scale(invitation.scale)][1],
        "contact_day": timezone.localtime(invitation.contact.occurred_at).date(),
        "channel": Channel(invitation.channel).label.lower()
        if invitation.channel in Channel.values
        else invitation.channel,
        "answer_url": answer_url,
        "scores": [(n, f"{answer_url}?score={n}") for n in survey_scores(invitation.scale)],
        "expires_at": invitation.expires_at,
        "opt_out_url": opt_out_url,
        "list_unsubscribe": opt_out_url,
    }


def survey_answer_check(invitation: SurveyInvitation, *, now: datetime) -> None:
    """SurveyClosed unless the invitation may be answered at ``now``."""
    if invitation.answered_at is not None:
        raise SurveyClosed("We already have your answer to this survey.", reason="answered")
    if now > invitation.expires_at:
        raise SurveyClosed("This survey has closed.", reason="expired")
    customer = invitation.customer
    if customer.erased_at is not None:
        raise SurveyClosed("This survey is no longer open.", reason="gone")


@transaction.atomic
def survey_answer_record(
    *, invitation_id: int, score: int, verbatim: str = "", by=SURVEY_LINK_ACTOR
) -> FeedbackItem:
    """The customer's answer: once, before the invitation expires. The invitation row is
    locked first, so two answers sent at once are taken once (the second is refused)."""
    invitation = (
        SurveyInvitation.objects.select_for_update(of=("self",))
        .select_related("customer", "contact")
        .get(id=invitation_id)
    )
    now = timezone.now()
    survey_answer_check(invitation, now=now)
    saved = feedback_item_record(
        kind=invitation.scale,
        source=SOURCE,
        external_id=f"invitation:{invitation.pk}",
        contact=invitation.contact,
        customer=invitation.customer,
        score=score,
        verbatim=verbatim,
        received_at=now,
        by=by,
    )
    invitation.answered_at = now
    invitation.answer = saved.item
    invitation.save(update_fields=["answered_at", "answer"])
    return saved.item
