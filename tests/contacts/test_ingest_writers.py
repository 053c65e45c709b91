"""The COPY writer (PostgreSQL) and the ORM writer (SQLite, the embedded default) must store
exactly the same contacts, messages, customers, repeat links and rollups."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from contacts.ingest.service import OrmWriter, contacts_ingest
from contacts.models import Contact, ContactRollup, Customer, Message
from contacts.rollups import rollup_snapshot
from tests.factories import CustomerFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY writer is PostgreSQL's"),
]

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def row(n: int, **fields) -> dict:
    return {
        "source": "genesys",
        "external_id": f"call-{n}",
        "channel": "phone",
        "occurred_at": (T0 + timedelta(hours=n)).isoformat(),
        "customer_ref": f"CRM-{n % 7}",
        "text": f"Hello, this is call {n}.\tTabs\\backslashes\nand lines, card 4111 1111 1111 1111",
        **fields,
    }


def batches(cast) -> list[list[dict]]:
    first = [
        row(1, reason="Billing › Double charge", team=cast.team_a.name, handle_seconds=300),
        row(
            2,
            rep=cast.rep.username,
            tags=["late", "billing"],
            first_contact_resolution=True,
            road=2,
            outcome="resolved",
            messages=[
                {"direction": "incoming", "text": "My bill is wrong again", "sent_at": "2026-11-02T10:00:00Z"},
                {"direction": "outgoing", "text": "Sorry, I fixed it", "author": "Rep"},
            ],
            text=None,
        ),
        row(3, customer_ref="", customer_email="Ann@Example.com", customer_name="Ann"),
        row(4, customer_ref="", customer_phone="+1 415 555 0100", customer_segment="enterprise",
            customer_name="Bo"),
        row(5, customer_ref="", subject="no customer"),
        *[row(n, reason="Outage", channel="chat", handle_seconds=n) for n in range(6, 40)],
        row(40, rep="nobody"),  # rejected
    ]  # fmt: skip
    second = [
        *first[1:5],  # unchanged
        row(1, reason="Outage", channel="email", handle_seconds=10, occurred_at=(T0 + timedelta(days=3)).isoformat()),
        row(6, text="a new text", customer_ref="CRM-NEW"),
        row(7, customer_ref="", customer_email="ann@example.com", customer_phone="+14155550100"),
        *[row(n, reason="Outage", channel="chat", handle_seconds=n) for n in range(8, 40)],
        row(41, occurred_at=(T0 - timedelta(hours=5)).isoformat()),  # late: relinks repeats
        row(42, channel="carrier pigeon"),  # rejected
    ]  # fmt: skip
    return [first, second]


def stored() -> dict:
    customers = {
        customer.id: (customer.external_ref, customer.name, customer.email, customer.phone,
                      customer.segment, customer.merged_into_id)
        for customer in Customer.objects.all()
    }  # fmt: skip
    external = dict(Contact.objects.values_list("id", "external_id"))
    contacts = {
        contact.external_id: (
            contact.source, customers.get(contact.customer_id), contact.channel,
            contact.direction, contact.occurred_at, contact.rep_id, contact.team_id,
            contact.reason_id, contact.tags, contact.subject, contact.notes,
            contact.handle_seconds, contact.outcome, contact.first_contact_resolution,
            contact.road, contact.sentiment, external.get(contact.repeat_of_id),
            contact.content_hash,
        )
        for contact in Contact.objects.all()
    }  # fmt: skip
    messages = sorted(
        (external[m.contact_id], m.external_id, m.position, m.direction, m.author, m.sent_at, m.text)
        for m in Message.objects.all()
    )  # fmt: skip
    return {
        "customers": sorted(customers.values(), key=repr),
        "contacts": contacts,
        "messages": messages,
        "rollups": rollup_snapshot(),
    }


def ingest_all(cast, writer) -> tuple[list[dict], dict]:
    CustomerFactory(external_ref=None, email="ann@example.com", name="", phone="")
    counts = []
    for batch in batches(cast):
        result = contacts_ingest(rows=batch, writer=writer, create_reasons=True)
        counts.append({**result.counts(), "rejected": [r.as_dict() for r in result.rejected]})
    return counts, stored()


def clear() -> None:  # reasons stay: the second run finds those the first created
    Message.objects.all().delete()
    Contact.objects.all().delete()
    Customer.objects.all().delete()
    ContactRollup.objects.all().delete()


def test_the_copy_and_orm_writers_store_the_same(cast):
    orm_counts, by_orm = ingest_all(cast, OrmWriter())
    clear()
    copy_counts, by_copy = ingest_all(cast, None)  # the default on PostgreSQL: COPY
    assert copy_counts == orm_counts
    assert orm_counts[1]["created"] == 1 and orm_counts[1]["updated"] == 3
    assert by_copy == by_orm
    assert by_copy["contacts"]["call-2"][8] == ["billing", "late"]
    assert not any("4111" in message[-1] for message in by_copy["messages"])
    assert any(contact[16] for contact in by_copy["contacts"].values())  # repeats linked


def test_array_literals_round_trip_any_text_and_ids():
    from voc.core.pg import array_literal

    texts = ['', 'plain', 'a,b', '{braces}', '"quoted"', "back\\slash\\", 'NULL', "tab\tand\nline",
             "ünïcode ✓", " spaced "]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT %s::text[], %s::bigint[]",
            [array_literal(texts), array_literal([1, None, 2**62])],
        )
        assert cursor.fetchone() == (texts, [1, None, 2**62])
        cursor.execute("SELECT %s::text[]", [array_literal([])])
        assert cursor.fetchone() == ([],)
        # Arrays of ids alone, or of texts with no quote or backslash, take a shorter way.
        plain = [text for text in texts if '"' not in text and "\\" not in text]
        cursor.execute(
            "SELECT %s::text[], %s::bigint[], %s::bigint[]",
            [array_literal(plain), array_literal(n for n in (3, 1, 2)), array_literal({7})],
        )
        assert cursor.fetchone() == (plain, [3, 1, 2], [7])


def test_existing_contacts_are_found_by_ids_that_need_quoting(cast):
    ids = ["a,b", "{x}", '"q"', "back\\slash", "NULL"]
    contacts_ingest(rows=[row(n, external_id=external_id) for n, external_id in enumerate(ids)])
    again = contacts_ingest(
        rows=[row(n, external_id=external_id) for n, external_id in enumerate(ids)]
    )
    assert (again.created, again.unchanged) == (0, len(ids))
