"""Demo feedback items: three months of NPS, CSAT and CES answers with their verbatims,
complaints and compliments, most of them following a demo contact (which gives them their
customer, team and topic), all recorded through the one write path, feedback_item_record."""

from datetime import timedelta

from django.utils import timezone

from contacts.models import Channel, Contact, ContactReason, Customer
from feedback.items.services import feedback_item_record
from feedback.models import FeedbackItem, TopicRule
from voc.core.audit import SystemActor
from voc.core.demo import DemoContext

DEMO = SystemActor("demo")
ITEMS = 240  # whatever the number of customers: the demo's size does not change its cost
DAYS = 90

Kind = FeedbackItem.Kind

KINDS = [(Kind.NPS, 40), (Kind.CSAT, 25), (Kind.CES, 10), (Kind.COMPLAINT, 15), (Kind.COMPLIMENT, 10)]  # fmt: skip

# kind -> [(score, weight)]: most customers are content, a loud minority is not.
SCORES = {
    Kind.NPS: [(0, 3), (1, 1), (2, 2), (3, 3), (4, 3), (5, 5), (6, 6), (7, 10), (8, 17), (9, 22), (10, 28)],
    Kind.CSAT: [(1, 6), (2, 8), (3, 14), (4, 34), (5, 38)],
    Kind.CES: [(1, 4), (2, 6), (3, 9), (4, 13), (5, 22), (6, 26), (7, 20)],
}  # fmt: skip

WORDS = {
    "negative": [
        "I have called three times about the same charge and nobody has fixed it.",
        "The engineer never turned up and nobody told me.",
        "Your app logged me out twice while I was paying.",
        "I was on hold for 40 minutes and then the call dropped.",
        "Why do I have to explain my problem again every time I call?",
        "The website said my order went through, then charged me twice.",
        "",
    ],
    "neutral": [
        "It got sorted in the end but took longer than it should.",
        "Fine, although the letter was hard to understand.",
        "The agent was polite; the wait was long.",
        "",
        "",
    ],
    "positive": [
        "Sorted on the first call, thank you.",
        "The agent explained the bill clearly and fixed the date.",
        "Quick and friendly, no transfers.",
        "Best support I have had from a provider.",
        "",
        "",
    ],
}
COMPLAINTS = [
    "I was billed for a month after I cancelled. This is the second letter I have written.",
    "The technician left without connecting anything and I lost a day off work.",
    "Your checkout failed three times and then I found three pending payments on my card.",
    "Nobody called me back although I was promised a call within 48 hours.",
    "The outage lasted two days and your status page said everything was fine.",
    "I asked to speak to a manager and was put on hold until the line went dead.",
]
COMPLIMENTS = [
    "Priya on the phone went out of her way to get my refund through the same day.",
    "The installer was on time, tidy and explained everything. Thank you!",
    "Your chat agent solved in five minutes what I had struggled with for a week.",
    "Thank you for waiving the late fee when my payment bounced; it made a real difference.",
]
CHANNELS = [Channel.EMAIL, Channel.WEB_FORM, Channel.LETTER, Channel.PHONE, Channel.SOCIAL]


# Keyword rules that give a topic to feedback without a contact (admin-edited in production).
RULES = [
    ("Refunds and double charges", "refund\ncharged twice\nbilled for a month", "Billing"),
    ("Outages", "internet down\noutage", "Technical"),
]


def _seed_topic_rules() -> None:
    for name, keywords, hint in RULES:
        reason = (
            ContactReason.objects.filter(name__icontains=hint, merged_into=None, retired_at=None)
            .order_by("id")
            .first()
        )
        if reason is not None:
            TopicRule.objects.get_or_create(
                name=name, defaults={"keywords": keywords, "reason": reason}
            )


def _band_words(kind: str, score: int) -> str:
    band = {
        Kind.NPS: "negative" if score <= 6 else "neutral" if score <= 8 else "positive",
        Kind.CSAT: "negative" if score <= 2 else "neutral" if score == 3 else "positive",
        Kind.CES: "negative" if score <= 3 else "neutral" if score == 4 else "positive",
    }[Kind(kind)]
    return band


def seed_feedback_items(ctx: DemoContext) -> None:
    _seed_topic_rules()
    rng = ctx.rng
    now = timezone.now()
    since = now - timedelta(days=DAYS)
    contact_ids = list(
        Contact.objects.filter(occurred_at__gte=since, customer__isnull=False)
        .order_by("id")
        .values_list("id", flat=True)
    )
    customer_ids = list(
        Customer.objects.filter(erased_at__isnull=True, merged_into__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not customer_ids:
        return
    count = min(ITEMS, len(customer_ids) * 2)
    picked_contacts = rng.sample(contact_ids, min(len(contact_ids), count * 7 // 10))
    contacts = Contact.objects.select_related("customer", "reason").in_bulk(picked_contacts)
    customers = Customer.objects.in_bulk(rng.sample(customer_ids, min(len(customer_ids), count)))
    customer_list = [customers[key] for key in sorted(customers)]
    kinds, kind_weights = zip(*KINDS, strict=True)
    recorded = 0
    for number in range(count):
        kind = rng.choices(kinds, kind_weights)[0]
        score = None
        if kind in SCORES:
            scores, weights = zip(*SCORES[kind], strict=True)
            score = rng.choices(scores, weights)[0]
            verbatim = rng.choice(WORDS[_band_words(kind, score)])
        elif kind == Kind.COMPLAINT:
            verbatim = rng.choice(COMPLAINTS)
        else:
            verbatim = rng.choice(COMPLIMENTS)
        contact = contacts.get(picked_contacts[number]) if number < len(picked_contacts) else None
        if contact is not None:
            # A survey answer or a complaint a few hours to two days after the contact.
            received = min(contact.occurred_at + timedelta(hours=rng.randint(1, 48)), now)
            customer = None
            channel = ""
        else:
            received = now - timedelta(minutes=rng.randint(0, DAYS * 24 * 60))
            customer = rng.choice(customer_list)
            channel = rng.choice(CHANNELS)
        feedback_item_record(
            kind=kind,
            source="demo",
            external_id=f"demo-{number:05d}",
            score=score,
            verbatim=verbatim,
            contact=contact,
            customer=customer,
            channel=channel,
            received_at=received,
            by=DEMO,
        )
        recorded += 1
    ctx.stdout(f"  feedback: {recorded} feedback items (surveys, complaints, compliments)")
