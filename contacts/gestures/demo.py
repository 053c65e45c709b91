"""Demo gestures: most granted within the reps' allowances, a few waiting for their team lead,
one declined. Written directly (not through the services): past gestures need past times."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from contacts.models import Contact, Gesture
from voc.core.business import business_setting
from voc.core.demo import DemoContext
from voc.people.models import User
from voc.people.roles import Role

NOTES = [
    (Gesture.Kind.CREDIT, "Credit for the two days without service."),
    (Gesture.Kind.FEE_WAIVER, "Waived the late fee: the invoice reached them late."),
    (Gesture.Kind.REFUND, "Refunded the double charge at once, no form to fill in."),
    (Gesture.Kind.REPLACEMENT, "Sent a new router by courier."),
    (Gesture.Kind.SPECIALIST_CALL, "A specialist calls back tomorrow morning."),
]
WAITING = [
    (Gesture.Kind.REFUND, Decimal("140.00"), "Refund of three months: the outage lasted weeks."),
    (Gesture.Kind.REPLACEMENT, Decimal("89.00"), "New handset: the repaired one failed again."),
    (Gesture.Kind.CREDIT, Decimal("60.00"), "Goodwill credit after the fourth call."),
]


def seed_gestures(ctx: DemoContext) -> None:
    reps = list(
        User.objects.filter(role=Role.REP, is_active=True, team__isnull=False)
        .select_related("team__lead")
        .order_by("id")[:8]
    )
    if not reps:
        return
    currency = business_setting("currency")
    now = timezone.now()
    gestures: list[Gesture] = []
    for position, rep in enumerate(reps):
        if rep.team is None:
            continue
        contacts = list(
            Contact.objects.filter(team=rep.team, customer__isnull=False)
            .order_by("-occurred_at", "id")
            .values_list("id", "occurred_at")[:12]
        )
        if not contacts:
            continue
        for contact_id, occurred_at in ctx.rng.sample(contacts, min(3, len(contacts))):
            kind, note = ctx.rng.choice(NOTES)
            value = (
                Decimal("0.00")
                if kind == Gesture.Kind.SPECIALIST_CALL
                else Decimal(ctx.rng.choice([5, 10, 15, 20, 25]))
            )
            gestures.append(
                Gesture(
                    contact_id=contact_id,
                    kind=kind,
                    value=value,
                    currency=currency,
                    note=note,
                    state=Gesture.State.GRANTED,
                    given_by=rep,
                    team=rep.team,
                    given_at=min(now, occurred_at + timedelta(minutes=10)),
                )
            )
        if position < len(WAITING) + 1:
            contact_id, occurred_at = contacts[0]
            kind, value, note = WAITING[position % len(WAITING)]
            declined = position == len(WAITING)
            lead = rep.team.lead if rep.team else None
            gestures.append(
                Gesture(
                    contact_id=contact_id,
                    kind=kind,
                    value=value,
                    currency=currency,
                    note=note,
                    state=Gesture.State.DECLINED if declined and lead else Gesture.State.PENDING,
                    given_by=rep,
                    team=rep.team,
                    given_at=min(now, occurred_at + timedelta(minutes=15)),
                    decided_by=lead if declined else None,
                    decided_at=now if declined and lead else None,
                    decision_reason="A credit on the next bill instead." if declined else "",
                )
            )
    Gesture.objects.bulk_create(gestures)
    waiting = sum(1 for gesture in gestures if gesture.state == Gesture.State.PENDING)
    ctx.stdout(f"  contacts.gestures: {len(gestures)} goodwill gestures, {waiting} waiting")
