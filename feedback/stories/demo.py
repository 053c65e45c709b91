"""Demo stories: a dozen memorable experiences, good and bad, told by the reps who handled the
contacts (and a couple by executives)."""

import random
from datetime import timedelta

from django.utils import timezone

from contacts.models import Contact
from feedback.models import Story
from voc.core.demo import DemoContext
from voc.people.models import User
from voc.people.roles import Role

STORIES = [
    ("up", "Lost PIN sorted without making her feel silly",
     "She had lost her PIN, called, then found it again: the old one no longer worked. On the "
     "second call the rep saw the first one and said sorry for the security questions all over "
     "again. She said it was the nicest call she has had with a bank."),
    ("down", "Replacement device also dead, and we tried to sell him a course",
     "His replacement arrived broken like the first. We replied by email that it passed our "
     "quality check and asked if he was using it properly, then offered a 15% discount on a "
     "training class. He is now asking for a meeting with his manager present."),
    ("up", "Called back before the customer had to ask",
     "The refund had not shown up after five days. The rep called him the morning it cleared, "
     "with the date it would reach his account. He said: \"You called me? That never happens.\""),
    ("down", "Third email in a row, nobody picked up the phone",
     "Same question about the double charge, three emails in four days, three template answers. "
     "Her last message: \"Can a human being please call me?\" A two-minute call fixed it."),
    ("up", "Technician stayed until the router really worked",
     "The line was fine but the router kept dropping. The technician swapped it, waited for the "
     "evening slowdown and tested again. The customer wrote in just to say thank you."),
    ("down", "Told to read our policy instead of getting help",
     "The customer asked why her plan changed price. The answer quoted the terms and conditions "
     "paragraph. She did not care about the policy, she wanted to know what she would pay."),
    ("up", "Upgrade explained in plain words",
     "An older customer was worried about moving to the new plan. The rep went through the first "
     "bill line by line with him and put a note for the next call. He stayed on the new plan."),
    ("down", "Appointment missed twice, no one told him",
     "The installer did not turn up, twice, and he took a day off work each time. Nobody called "
     "to say so. He has asked to cancel his contract."),
    ("up", "Roaming charge waived while she was still abroad",
     "A surprise data bill on the first day of her holiday. The rep waived it, switched on the "
     "travel pack and texted her the details. She posted about it the same evening."),
    ("down", "Asked for the same account number four times",
     "Transferred between three desks, asked to confirm his account number each time, and the "
     "last desk sent him back to the first. Forty minutes for a change of address."),
    ("up", "The app error explained, and fixed the next day",
     "Checkout kept failing with an error code. The rep recognised it, told her the order had not "
     "gone through, placed it by phone and flagged the bug. It was fixed the next day."),
    ("down", "Cancelled after the outage with no word from us",
     "Three days without internet in his street and no update from us: he learned about the "
     "outage from a neighbour. He cancelled on the fourth day."),
]  # fmt: skip


def seed_stories(ctx: DemoContext) -> None:
    """Written directly (not through the services): the demo's stories have past times. Uses a
    copy of the run's random source, so the seeders after this one get the same numbers as
    without it."""
    rng = random.Random()
    rng.setstate(ctx.rng.getstate())
    contacts = list(
        Contact.objects.filter(rep__isnull=False, customer__isnull=False)
        .select_related("rep")
        .order_by("id")[:500]
    )
    if not contacts:
        return
    others = list(User.objects.filter(role=Role.EXECUTIVE, is_active=True).order_by("id"))
    now = timezone.now()
    picked = rng.sample(contacts, min(len(STORIES), len(contacts)))
    stories = []
    for number, (contact, (thumb, title, text)) in enumerate(zip(picked, STORIES, strict=False)):
        # Most are told by the rep who took the contact; every fifth by an executive.
        author = rng.choice(others) if others and number % 5 == 4 else contact.rep
        told = max(contact.occurred_at, now - timedelta(days=40)) + timedelta(
            hours=rng.randint(1, 30)
        )
        stories.append(
            Story(
                contact=contact,
                thumb=thumb,
                title=title,
                text=text,
                author=author,
                created_at=min(told, now),
            )
        )
    Story.objects.bulk_create(stories)
    ctx.stdout(f"  feedback.stories: {len(stories)} stories")
