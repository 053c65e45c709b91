"""Reads of inbound email: support mailboxes, and what the admins' page shows."""

from collections.abc import Iterable
from datetime import timedelta
from typing import TypedDict

from django.db.models import Count, Q
from django.utils import timezone

from contacts.models import InboundEmail, SupportMailbox


def mailboxes_for(addresses: Iterable[str]) -> dict[str, SupportMailbox]:
    """The active support mailboxes among these (lower-case) addresses, by address."""
    wanted = {address for address in addresses if address}
    if not wanted:
        return {}
    return {
        mailbox.address: mailbox
        for mailbox in SupportMailbox.objects.filter(active=True, address__in=wanted)
    }


class InboundCount(TypedDict):
    kind: str
    kind_label: str
    status: str
    status_label: str
    day: int
    week: int


def inbound_counts() -> list[InboundCount]:
    """Emails received in the last day and week, per kind and status, in one query."""
    now = timezone.now()
    day_ago, week_ago = now - timedelta(days=1), now - timedelta(days=7)
    rows = (
        InboundEmail.objects.filter(received_at__gte=week_ago)
        .values("kind", "status")
        .annotate(day=Count("id", filter=Q(received_at__gte=day_ago)), week=Count("id"))
        .order_by("kind", "status")
    )
    kinds = dict(InboundEmail.Kind.choices)
    statuses = dict(InboundEmail.Status.choices)
    return [
        {
            "kind": row["kind"],
            "kind_label": kinds.get(row["kind"], row["kind"]),
            "status": row["status"],
            "status_label": statuses.get(row["status"], row["status"]),
            "day": row["day"],
            "week": row["week"],
        }
        for row in rows
    ]


def inbound_latest(
    *, kind: str | None = None, status: str | None = None, limit: int = 50
) -> list[InboundEmail]:
    emails = InboundEmail.objects.select_related("mailbox").order_by("-received_at", "-id")
    if kind:
        emails = emails.filter(kind=kind)
    if status:
        emails = emails.filter(status=status)
    return list(
        emails.only(
            "id", "message_id", "esp", "received_at", "from_address", "subject", "kind", "status",
            "direction", "mailbox__address", "contact_id", "error",
        )[:limit]
    )  # fmt: skip
