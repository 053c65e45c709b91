"""Demo side-by-side sessions: a quarter of them, with notes, some executives behind target."""

import uuid
from datetime import timedelta

from django.utils import timezone

from feedback.models import Session, SessionNote
from voc.core.demo import DemoContext
from voc.people.models import User
from voc.people.roles import Role

NOTES = [
    ("observation", "Customer read out the error code from the website checkout; rep had no way to see it."),
    ("quote", "I have called three times about the same charge."),
    ("question", "Does that always happen? The rep says most evenings."),
    ("question", "How many contacts a day are like this? About ten on this desk."),
    ("idea", "Show the refund date in the app so customers need not call to ask."),
    ("observation", "The rep had to open four screens to find the installation slot."),
]  # fmt: skip


def seed_sessions(ctx: DemoContext) -> None:
    """Written directly (not through the services): past sessions need past times, and the
    demo sends no calendar invitations."""
    executives = list(User.objects.filter(role=Role.EXECUTIVE, is_active=True).order_by("id"))
    reps = list(User.objects.filter(role=Role.REP, is_active=True).order_by("id"))
    if not executives or not reps:
        return
    now = timezone.now()
    sessions = notes = 0
    for position, executive in enumerate(executives):
        # Every other executive is keen (about weekly); the rest fall behind target.
        weeks = range(0, 13) if position % 2 == 0 else range(0, 13, 4)
        for week in weeks:
            start = (now - timedelta(weeks=week, days=ctx.rng.randint(1, 5))).replace(
                minute=0, second=0, microsecond=0
            )
            if start >= now:
                continue
            minutes = ctx.rng.choice([60, 90, 120, 120])
            session = Session.objects.create(
                executive=executive,
                rep=ctx.rng.choice(reps),
                scheduled_by=executive,
                scheduled_start=start,
                planned_minutes=minutes,
                status=Session.Status.ENDED,
                started_at=start,
                ended_at=start + timedelta(minutes=minutes),
                duration_seconds=minutes * 60,
            )
            sessions += 1
            for number, (kind, text) in enumerate(ctx.rng.sample(NOTES, 3)):
                SessionNote.objects.create(
                    session=session,
                    author=executive,
                    kind=kind,
                    text=text,
                    client_id=uuid.UUID(int=ctx.rng.getrandbits(128)),
                    noted_at=start + timedelta(minutes=10 * (number + 1)),
                    received_at=start + timedelta(minutes=10 * (number + 1)),
                )
                notes += 1
        Session.objects.create(
            executive=executive,
            rep=ctx.rng.choice(reps),
            scheduled_by=executive,
            scheduled_start=(now + timedelta(days=2 + position % 5)).replace(
                minute=0, second=0, microsecond=0
            ),
            topic="Billing calls",
        )
        sessions += 1
    ctx.stdout(f"  feedback: {sessions} side-by-side sessions, {notes} notes")
