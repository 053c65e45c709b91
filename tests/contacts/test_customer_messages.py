"""Contact.customer_messages, how many of a contact's messages the customer wrote: set by
ingestion from the row's messages (both writers), moved by an appended message and by an
admin's corrections, counted again by the rebuild, and reported by ``rebuild_rollups
--check`` when it is wrong. Email ping-pong reads it instead of the messages."""

import io
from datetime import UTC, datetime

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, Message
from contacts.rollups import customer_messages_recount, customer_messages_wrong, rollups_rebuild
from contacts.services.messages import message_append, messages_admin_save

pytestmark = pytest.mark.django_db

AT = datetime(2026, 11, 2, 9, tzinfo=UTC).isoformat()


def thread(n: int, *directions: str, **fields) -> dict:
    return {
        "source": "mail", "external_id": f"t-{n}", "channel": "email", "occurred_at": AT,
        "messages": [
            {"direction": direction, "text": f"message {position}"}
            for position, direction in enumerate(directions)
        ],
        **fields,
    }  # fmt: skip


def counts() -> dict[str, int]:
    return dict(Contact.objects.values_list("external_id", "customer_messages"))


def test_ingestion_counts_the_customers_messages_of_each_row(cast):
    result = contacts_ingest(
        rows=[
            thread(1, "incoming", "outgoing", "incoming", "outgoing", "incoming"),
            thread(2, "outgoing", "outgoing"),
            thread(3, "incoming", "incoming"),
            {**thread(4), "text": "a call's notes"},  # one message, the contact's direction
        ]
    )
    assert not result.rejected
    assert counts() == {"t-1": 3, "t-2": 0, "t-3": 2, "t-4": 1}

    # A re-sent row replaces its messages, and their count with them.
    contacts_ingest(rows=[thread(1, "incoming", "outgoing"), thread(3, *["incoming"] * 4)])
    assert counts() == {"t-1": 1, "t-2": 0, "t-3": 4, "t-4": 1}
    assert customer_messages_wrong() == 0


def test_appending_counts_only_the_customers_messages(cast):
    contacts_ingest(rows=[thread(1, "incoming", "outgoing")])
    contact = Contact.objects.get()
    message_append(contact_id=contact.id, text="Still broken", direction="incoming", by=cast.rep)
    message_append(contact_id=contact.id, text="Sorry", direction="outgoing", by=cast.rep)
    assert counts() == {"t-1": 2}
    message_append(contact_id=contact.id, text="Third time", direction="incoming", by=cast.rep)
    assert counts() == {"t-1": 3}
    assert customer_messages_wrong() == 0


def test_an_admins_corrections_count_again(cast):
    contacts_ingest(rows=[thread(1, "incoming", "outgoing", "incoming", "incoming")])
    contact = Contact.objects.get()
    first, reply, *_ = contact.messages.order_by("position")
    reply.direction = Message.Direction.INCOMING  # it was the customer's after all
    messages_admin_save(contact=contact, changed=[reply], deleted=[first], by=cast.admin)
    assert counts() == {"t-1": 3}
    assert customer_messages_wrong() == 0


def test_the_rebuild_counts_again_and_the_check_reports_a_wrong_count(cast):
    contacts_ingest(rows=[thread(1, "incoming", "incoming", "incoming"), thread(2, "incoming")])
    Contact.objects.filter(external_id="t-1").update(customer_messages=0)
    assert customer_messages_wrong() == 1

    out = io.StringIO()
    with pytest.raises(CommandError, match="differ from a rebuild"):
        call_command("rebuild_rollups", "--check", stdout=out)
    assert "1 contacts' counts of customer messages differ from their messages" in out.getvalue()
    assert counts()["t-1"] == 0  # a check changes nothing

    rollups_rebuild()
    assert counts() == {"t-1": 3, "t-2": 1}
    assert customer_messages_recount() == 0  # nothing left to correct
