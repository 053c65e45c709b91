"""Demo feedback items: survey answers, complaints and compliments of the last quarter, sent
through the batch write path (topics by two keyword rules, rollups kept), and scored."""

from datetime import timedelta

from django.utils import timezone

from contacts.models import ContactReason, Customer
from feedback.items.services import (
    feedback_item_ids_unscored,
    feedback_items_ingest,
    feedback_items_score_sentiment,
)
from feedback.models import TopicRule
from voc.core.audit import SystemActor
from voc.core.demo import DemoContext

ITEMS = 400
VERBATIMS = [
    "I was charged twice and still wait for my refund.",
    "The technician never came, I took a day off for nothing.",
    "Quick answer, the agent was lovely. Thanks!",
    "Internet down again every evening this week.",
    "Easy to change my plan in the app.",
    "Nobody called back, third time I ask.",
    "",
]
RULES = [
    ("Refunds and double charges", "refund\ncharged twice", "Billing"),
    ("Outages", "internet down\noutage", "Technical"),
]


def seed_feedback_items(ctx: DemoContext) -> None:
    refs = list(
        Customer.objects.exclude(external_ref=None)
        .order_by("id")
        .values_list("external_ref", flat=True)[:300]
    )
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
    now = timezone.now()
    rows = []
    kinds: list[tuple[str, tuple[int, int] | None]] = [
        ("nps", (0, 10)), ("csat", (1, 5)), ("ces", (1, 7)), ("complaint", None),
        ("compliment", None),
    ]  # fmt: skip
    for n in range(ITEMS):
        kind, bounds = ctx.rng.choice(kinds)
        row: dict[str, object] = {
            "source": "demo-survey",
            "external_id": f"demo-{n}",
            "kind": kind,
            "verbatim": ctx.rng.choice(VERBATIMS),
            "received_at": (now - timedelta(minutes=ctx.rng.randrange(90 * 24 * 60))).isoformat(),
            "channel": ctx.rng.choice(["email", "web_form", "phone"]),
        }
        if bounds is not None:
            row["score"] = ctx.rng.randint(*bounds)
        if refs:
            row["customer_ref"] = ctx.rng.choice(refs)
        rows.append(row)
    result = feedback_items_ingest(rows=rows, by=SystemActor("demo"))
    feedback_items_score_sentiment(item_ids=feedback_item_ids_unscored(limit=ITEMS))
    ctx.stdout(f"Feedback items: {result.created} (topic rules: {TopicRule.objects.count()}).")
