"""Demo survey invitations and answers: a month of them over the demo's closed contacts, one
per customer at most (the budget's cool-down), about a third answered."""

from datetime import timedelta

from django.utils import timezone

from contacts.models import BudgetPurpose, BudgetTouch, Contact
from feedback.items.services import feedback_item_record
from feedback.models import SurveyInvitation
from feedback.surveys.services import CLOSED_OUTCOMES, SOURCE, SURVEY_JOB, survey_scores
from voc.core.audit import actor_fields
from voc.core.dataversion import data_version_bump
from voc.core.demo import DemoContext

WHY = {
    "negative": [
        "I had to call three times before anyone fixed it.",
        "Nobody told me when the technician would come.",
        "The refund still has not arrived.",
    ],
    "neutral": ["It was fine in the end, but it took a while.", ""],
    "positive": ["Quick and friendly, thank you!", "Sorted on the first call.", ""],
}


def seed_surveys(ctx: DemoContext) -> None:
    """Written directly (past invitations need past times, and the demo sends no email); the
    answers go through feedback_item_record like real ones."""
    now = timezone.now()
    contacts = list(
        Contact.objects.filter(
            outcome__in=CLOSED_OUTCOMES,
            occurred_at__gte=now - timedelta(days=28),
            occurred_at__lt=now - timedelta(hours=2),
            customer__erased_at__isnull=True,
            customer__merged_into__isnull=True,
        )
        .exclude(customer__email="")
        .select_related("customer")
        .order_by("occurred_at", "id")[:3000]
    )
    seen: set[int] = set()
    invited = answered = 0
    actor = actor_fields(SURVEY_JOB)
    for contact in contacts:
        customer = contact.customer
        if customer is None or customer.pk in seen or ctx.rng.random() > 0.25:
            continue
        seen.add(customer.pk)
        sent_at = contact.occurred_at + timedelta(hours=1)
        scale = "csat" if contact.channel == "chat" else "nps"
        invitation = SurveyInvitation.objects.create(
            contact=contact,
            customer=customer,
            scale=scale,
            channel=contact.channel,
            sent_at=sent_at,
            expires_at=sent_at + timedelta(days=14),
        )
        BudgetTouch.objects.create(
            customer_id=customer.pk,
            purpose=BudgetPurpose.SURVEY,
            key=f"contact:{contact.id}",
            at=sent_at,
            **actor,
        )
        invited += 1
        if ctx.rng.random() < 0.35:
            score = ctx.rng.choice(survey_scores(scale))
            high = 9 if scale == "nps" else 4
            low = 6 if scale == "nps" else 2
            mood = "positive" if score >= high else "negative" if score <= low else "neutral"
            answered_at = sent_at + timedelta(hours=ctx.rng.randint(1, 30))
            item = feedback_item_record(
                kind=scale,
                source=SOURCE,
                external_id=f"invitation:{invitation.pk}",
                contact=contact,
                customer=customer,
                score=score,
                verbatim=ctx.rng.choice(WHY[mood]),
                received_at=min(answered_at, now),
                by=SURVEY_JOB,
            ).item
            invitation.answered_at = min(answered_at, now)
            invitation.answer = item
            invitation.save(update_fields=["answered_at", "answer"])
            answered += 1
    if invited:
        data_version_bump()  # as the invitation job does: survey fatigue reads invitations
    ctx.stdout(f"  feedback.surveys: {invited} survey invitations, {answered} answered")
