"""Demo outreach: this month's call lists for the demo executives (through the service, so the
contact budget is asked), some calls logged, a be-a-customer exercise and a frontline forum
with topics. A few long-standing customers get a "gained" event three to six years ago, so the
loyal lists have someone on them."""

from datetime import timedelta

from django.utils import timezone

from contacts.models import Customer, CustomerEvent
from feedback.models import Forum, ForumTopic, OutreachCall, OutreachExercise, OutreachProgram
from feedback.outreach.services import outreach_list_generate
from voc.core.demo import DemoContext
from voc.people.models import User
from voc.people.roles import Role

CALL_NOTES = [
    ("reached", "Left for a cheaper plan after the price change; would have stayed for a call.", "Review how we announce price changes."),
    ("won_back", "Moved because the installer missed two appointments. Coming back next month.", "Installer no-shows: ask field ops for the numbers."),
    ("reached", "Happy for years; the app's new login is what annoys her.", ""),
    ("voicemail", "", ""),
    ("reached", "Billing dates changed without notice; had to call three times.", "Tell customers before a billing date moves."),
]  # fmt: skip
TOPICS = [
    ("Refund status is invisible to customers", "action", "Customers call only to ask when the refund lands."),
    ("Four screens to find an installation slot", "look_into", "Reps keep a spreadsheet on the side."),
    ("Why the app logs people out", "explain", "Security rule; the CEO explained why and asked for better wording."),
]  # fmt: skip


def seed_outreach(ctx: DemoContext) -> None:
    executives = list(User.objects.filter(role=Role.EXECUTIVE, is_active=True).order_by("id"))
    reps = list(User.objects.filter(role=Role.REP, is_active=True).order_by("id"))
    if not executives:
        return
    now = timezone.now()
    today = timezone.localdate()
    # Long-standing customers: those with no lifecycle event yet, the first few by id.
    quiet = (
        Customer.objects.filter(events__isnull=True, erased_at__isnull=True)
        .exclude(phone="", email="")
        .order_by("id")
        .values_list("id", flat=True)[: 4 * len(executives)]
    )
    CustomerEvent.objects.bulk_create(
        CustomerEvent(
            customer_id=customer_id,
            kind=CustomerEvent.Kind.GAINED,
            occurred_on=today - timedelta(days=365 * ctx.rng.randint(3, 6)),
        )
        for customer_id in quiet
    )
    lists = calls = 0
    for position, executive in enumerate(executives):
        for program in (OutreachProgram.LOST, OutreachProgram.LOYAL):
            outreach_list, created = outreach_list_generate(
                executive=executive, program=program, by=executive
            )
            lists += created
            # The keen half has logged a few calls already.
            logged = 2 if position % 2 == 0 else 0
            for number, call in enumerate(outreach_list.calls.all()[:logged]):
                outcome, notes, follow_up = CALL_NOTES[(position + number) % len(CALL_NOTES)]
                OutreachCall.objects.filter(pk=call.pk).update(
                    called_at=now - timedelta(hours=ctx.rng.randint(2, 72)),
                    duration_minutes=ctx.rng.choice([8, 12, 15, 20]),
                    outcome=outcome,
                    notes=notes,
                    follow_up=follow_up,
                    logged_by=executive,
                )
                calls += 1
    ceo = executives[0]
    OutreachExercise.objects.create(
        executive=ceo,
        task=OutreachExercise.Task.FILE_CLAIM,
        description="Claimed for a broken router online",
        done_at=now - timedelta(days=1),
        minutes_spent=45,
        outcome=OutreachExercise.Outcome.HARD,
        notes="The form asked for the contract number three times; no way to upload a photo.",
        follow_up="Ask the web team for a one-page claim form.",
    )
    forum = Forum.objects.create(
        title="Frontline forum with the CEO", held_at=now - timedelta(days=2), created_by=ceo
    )
    for number, (title, outcome, notes) in enumerate(TOPICS):
        follows = outcome != "explain"
        ForumTopic.objects.create(
            forum=forum,
            title=title,
            raised_by=reps[number % len(reps)] if reps else None,
            notes=notes,
            outcome=outcome,
            owner=executives[number % len(executives)] if follows else None,
            due_on=today + timedelta(days=14 * (number + 1)) if follows else None,
        )
    ctx.stdout(
        f"  outreach: {lists} call lists, {calls} calls logged, 1 exercise, "
        f"1 forum with {len(TOPICS)} topics"
    )
