"""Shared makers for the outreach tests."""

from datetime import UTC, date, datetime, timedelta

from contacts.models import CustomerEvent
from feedback.models import FeedbackItem
from tests.factories import CustomerFactory

# A Wednesday mid-month, noon UTC: the reporting day is the same in any nearby time zone.
NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
TODAY = date(2026, 11, 18)
MONTH = date(2026, 11, 1)


def lost(days_ago: int, *, reason_text: str = "", **fields):
    customer = CustomerFactory(**{"phone": "+15550100000", **fields})
    CustomerEvent.objects.create(
        customer=customer,
        kind=CustomerEvent.Kind.LOST,
        occurred_on=TODAY - timedelta(days=days_ago),
        reason_text=reason_text,
    )
    return customer


def gained(on: date, **fields):
    customer = CustomerFactory(**fields)
    CustomerEvent.objects.create(customer=customer, kind=CustomerEvent.Kind.GAINED, occurred_on=on)
    return customer


def promoter(score: int, *, days_ago: int = 30):
    customer = CustomerFactory()
    FeedbackItem.objects.create(
        kind=FeedbackItem.Kind.NPS,
        score=score,
        source="test",
        customer=customer,
        received_at=NOW - timedelta(days=days_ago),
    )
    return customer
