"""Outreach calls on a customer's timeline (contacts.registry), for viewers who may read the
call: its executive, the CEO and admins. Others see nothing of it."""

from django.urls import reverse

from contacts.models import Customer
from contacts.registry import TimelineEntry
from feedback.outreach.selectors import outreach_calls_visible
from voc.people.models import User


def outreach_timeline(*, customer: Customer, viewer: User, limit: int) -> list[TimelineEntry]:
    calls = (
        outreach_calls_visible(viewer=viewer)
        .filter(customer=customer, called_at__isnull=False)
        .select_related("outreach_list__executive")
        .order_by("-called_at", "-id")[:limit]
    )
    entries = []
    for call in calls:
        assert call.called_at is not None
        executive = call.outreach_list.executive
        entries.append(
            TimelineEntry(
                when=call.called_at,
                kind="outreach",
                title=f"{call.outreach_list.get_program_display()} call by {executive} · "
                f"{call.get_outcome_display()}, {call.duration_minutes} min",
                summary=call.notes[:300],
                url=reverse("feedback:outreach-call", args=[call.id]),
            )
        )
    return entries
