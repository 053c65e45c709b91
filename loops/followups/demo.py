"""Demo follow-ups: the job run over the demo's detractors and complaints, then a few of them
called back with outcomes, so the closed-loop figures have something to show."""

import random
from datetime import timedelta

from django.utils import timezone

from loops.followups.services import follow_ups_open
from loops.models import FollowUp
from voc.core.demo import DemoContext

OUTCOMES = [
    (FollowUp.Outcome.RESOLVED, "Apologised and fixed it on the call."),
    (FollowUp.Outcome.REACHED, "Listened; the fix needs the billing team."),
    (FollowUp.Outcome.NO_ANSWER, "Left a voicemail."),
]


def seed_follow_ups(ctx: DemoContext) -> None:
    """Uses its own random source, so the seeders after this one are not shifted."""
    rng = random.Random(1404)
    follow_ups_open()
    now = timezone.now()
    open_ones = list(FollowUp.objects.filter(status=FollowUp.Status.OPEN).order_by("id"))
    for follow_up in open_ones[: len(open_ones) * 2 // 3]:
        outcome, notes = rng.choice(OUTCOMES)
        opened_at = now - timedelta(hours=rng.randint(30, 24 * 20))
        FollowUp.objects.filter(pk=follow_up.pk).update(
            status=FollowUp.Status.DONE,
            outcome=outcome,
            notes=notes,
            created_at=opened_at,
            due_at=opened_at + timedelta(hours=48),
            closed_at=opened_at + timedelta(hours=rng.randint(2, 60)),
            closed_by=follow_up.assignee_id,
        )
