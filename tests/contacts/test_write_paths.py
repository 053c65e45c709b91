"""Every path that writes contacts keeps repeat links and rollups true.

One scenario writes through each path in turn (ingestion, the API, the bulk API, a file
import, the pages, the admin, merges, a message appended, sentiment, erasure) and after each
compares the stored repeat links with links computed from scratch and the rollups with a
rebuild: the write primitive (contacts.changes) is what every path shares.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory
from django.urls import reverse

from contacts.erasure.services import customer_erase
from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason, Customer, Message
from contacts.rollups import customer_messages_wrong, rollup_snapshot, rollups_rebuild
from contacts.services.contacts import contact_admin_save, contact_update
from contacts.services.customers import customer_merge
from contacts.services.messages import message_append
from contacts.services.reasons import reason_merge
from contacts.services.sentiment import contact_sentiment_update
from tests.contacts.test_repeats import expected_links, stored_links
from voc.core.audit import INBOUND_EMAIL, INGEST
from voc.core.models import AuditEntry

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


def at(hours: float) -> str:
    return (T0 + timedelta(hours=hours)).isoformat()


def assert_true_to_a_rebuild(step: str) -> None:
    assert stored_links() == expected_links(), f"repeat links after {step}"
    assert customer_messages_wrong() == 0, f"counts of customer messages after {step}"
    kept = rollup_snapshot()
    rollups_rebuild()
    assert rollup_snapshot() == kept, f"rollups after {step}"


def row(n: int, *, customer: str, hours: float, **fields) -> dict:
    return {
        "source": "crm",
        "external_id": f"c-{n}",
        "channel": "phone",
        "occurred_at": at(hours),
        "customer_ref": customer,
        "team": fields.pop("team", "Billing Care"),
        "text": fields.pop("text", f"Contact {n}: my bill is wrong"),
        **fields,
    }


def api_post(client, name: str, data, *, content_type="application/json", **kwargs):
    body = data if isinstance(data, str) else json.dumps(data)
    return client.post(reverse(name, kwargs=kwargs), body, content_type=content_type)


def test_every_write_path_keeps_links_and_rollups_true(client, cast, tmp_path):
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a)
    double = ContactReason.objects.create(name="Double charge", parent=billing)
    refund = ContactReason.objects.create(name="Refund", parent=billing)
    # Ingestion: two customers, contacts a day apart (repeats within the 7-day window).
    contacts_ingest(
        rows=[
            row(1, customer="A", hours=0, reason="Billing › Double charge", handle_seconds=60),
            row(2, customer="A", hours=24, reason="Billing › Refund"),
            row(3, customer="B", hours=30),
            row(4, customer="A", hours=24 * 9),
        ]
    )
    assert_true_to_a_rebuild("ingestion")

    # Sentiment: scoring moves the negative counts.
    contact_sentiment_update(contact_ids=Contact.objects.values_list("id", flat=True))
    assert Contact.objects.filter(sentiment__isnull=False).count() == 4
    assert_true_to_a_rebuild("sentiment")

    # The API: a contact between two of A's, an edit, a message.
    client.force_login(cast.rep)
    created = api_post(
        client, "api-contact-create", row(5, customer="A", hours=12, team="") | {"source": "x"}
    )
    assert created.status_code == 201, created.content
    middle = Contact.objects.get(id=created.json()["id"])
    assert_true_to_a_rebuild("the API's create")
    edited = api_post(
        client,
        "api-contact-update",
        {"reason": refund.id, "handle_seconds": 300},
        contact_id=middle.id,
    )
    assert edited.status_code == 200, edited.content
    assert_true_to_a_rebuild("the API's update")
    appended = api_post(
        client, "api-message-create", {"text": "Still wrong!"}, contact_id=middle.id
    )
    assert appended.status_code == 201, appended.content
    assert_true_to_a_rebuild("the API's message")

    # The bulk API (NDJSON): one new contact, one moved in time past the window.
    client.force_login(cast.admin)
    lines = "\n".join(
        json.dumps(r)
        for r in (
            row(6, customer="B", hours=31),
            row(3, customer="B", hours=24 * 20, text="moved"),
        )
    )
    bulk = api_post(client, "api-contact-bulk", lines, content_type="application/x-ndjson")
    assert bulk.status_code == 200, bulk.content
    assert_true_to_a_rebuild("the bulk API")

    # A file import: a contact of A's moves to a new customer C.
    csv = tmp_path / "contacts.csv"
    csv.write_text(
        "source,external_id,channel,occurred_at,customer_ref,team,text\n"
        f"crm,c-2,phone,{at(24)},C,Billing Care,moved to C\n"
        f"crm,c-7,email,{at(25)},C,Billing Care,a new one\n"
    )
    from django.core.management import call_command

    call_command("import_contacts", str(csv), "--no-progress", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert Contact.objects.get(external_id="c-2").customer.external_ref == "C"
    assert_true_to_a_rebuild("a file import")

    # The pages: a rep logs a contact for customer A, then edits it.
    client.force_login(cast.rep)
    customer_a = Customer.objects.get(external_ref="A")
    logged = client.post(
        reverse("contacts:contact-log"),
        {
            "customer": customer_a.id,
            "channel": "chat",
            "direction": "inbound",
            "occurred_at": (T0 + timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M"),
            "reason": double.id,
            "customer_words": "Again the double charge",
        },
    )
    assert logged.status_code == 302, logged.content
    page_contact = Contact.objects.get(source="voc")
    assert page_contact.customer_id == customer_a.id
    assert_true_to_a_rebuild("the log page")
    edit = client.post(
        reverse("contacts:contact-edit", args=[page_contact.id]),
        {"reason": refund.id, "outcome": "resolved", "road": "2", "notes": "refunded"},
    )
    assert edit.status_code == 302, edit.content
    assert_true_to_a_rebuild("the edit page")

    # The admin: an admin moves a contact to another customer and another day.
    first = Contact.objects.get(external_id="c-1")
    first.customer = Customer.objects.get(external_ref="B")
    first.occurred_at = T0 + timedelta(hours=29)
    contact_admin_save(contact=first, by=cast.admin)
    assert_true_to_a_rebuild("the admin")

    # Merges: customer C into A, then the Refund reason into Double charge.
    customer_merge(source=Customer.objects.get(external_ref="C"), target=customer_a, by=cast.admin)
    assert_true_to_a_rebuild("a customer merge")
    reason_merge(source=refund, target=double, by=cast.admin)
    assert_true_to_a_rebuild("a reason merge")

    # A message appended by the inbound email worker, then scored again.
    message_append(contact_id=first.id, text="I hate this", by=INBOUND_EMAIL)
    assert_true_to_a_rebuild("a message appended")
    contact_sentiment_update(contact_ids=[first.id])
    assert_true_to_a_rebuild("sentiment scored again")

    # Erasure keeps counts and links.
    customer_erase(customer=customer_a, by=cast.admin)
    assert_true_to_a_rebuild("an erasure")


def test_the_admin_save_relinks_a_contact_moved_to_another_customer_and_day(cast):
    contacts_ingest(
        rows=[
            row(1, customer="A", hours=0),
            row(2, customer="A", hours=24),
            row(3, customer="B", hours=200),
        ]
    )
    second = Contact.objects.get(external_id="c-2")
    assert second.repeat_of == Contact.objects.get(external_id="c-1")
    # The admin's form saves the instance it changed: the admin class calls the service.
    second.customer = Customer.objects.get(external_ref="B")
    second.occurred_at = T0 + timedelta(hours=190)
    request = RequestFactory().post("/")
    request.user = cast.admin
    site._registry[Contact].save_model(request, second, form=None, change=True)
    second.refresh_from_db()
    third = Contact.objects.get(external_id="c-3")
    assert second.repeat_of_id is None
    assert third.repeat_of_id == second.id
    entry = AuditEntry.objects.get(action="contact.admin_update", target_id=second.id)
    assert entry.actor == cast.admin
    assert entry.changes["customer_id"][1] == second.customer_id
    assert_true_to_a_rebuild("the admin")


def test_a_persons_edit_is_in_the_contacts_history_with_before_and_after(cast):
    contacts_ingest(rows=[row(1, customer="A", hours=0, notes="first")])
    contact = Contact.objects.get()
    contact_update(
        contact=contact, changes={"notes": "card 4111 1111 1111 1111", "road": 3}, by=cast.rep
    )
    entry = AuditEntry.objects.get(action="contact.update")
    assert (entry.actor, entry.target_type, entry.target_id) == (
        cast.rep,
        "contacts.contact",
        contact.id,
    )
    assert entry.changes == {
        "notes": ["first", "card [card number redacted]"],
        "road": [None, 3],
    }
    assert entry.customer_id == contact.customer_id
    # Saving the same values again records nothing.
    contact_update(contact=contact, changes={"road": 3}, by=cast.rep)
    assert AuditEntry.objects.filter(action="contact.update").count() == 1


def test_ingestion_records_one_entry_per_batch_with_its_counts(cast):
    contacts_ingest(rows=[row(n, customer="A", hours=n) for n in range(1, 4)])
    contacts_ingest(
        rows=[row(1, customer="A", hours=1, text="changed"), row(9, customer="A", hours=9)]
    )
    contacts_ingest(rows=[row(9, customer="A", hours=9)])  # unchanged: nothing to record
    entries = list(AuditEntry.objects.order_by("id").values("actor_name", "action", "changes"))
    assert entries == [
        {
            "actor_name": INGEST.name,
            "action": "contacts.ingest",
            "changes": {"created": 3, "updated": 0, "unchanged": 0, "rejected": 0},
        },
        {
            "actor_name": INGEST.name,
            "action": "contacts.ingest",
            "changes": {"created": 1, "updated": 1, "unchanged": 0, "rejected": 0},
        },
    ]


def test_an_unchanged_resend_keeps_a_message_added_since(cast):
    contacts_ingest(rows=[row(1, customer="A", hours=0)])
    contact = Contact.objects.get()
    message_append(contact_id=contact.id, text="A reply by email", by=INBOUND_EMAIL)
    result = contacts_ingest(rows=[row(1, customer="A", hours=0)])
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    assert list(Message.objects.filter(contact=contact).values_list("text", flat=True)) == [
        "Contact 1: my bill is wrong",
        "A reply by email",
    ]


def test_a_message_append_uses_the_admins_patterns_for_text_and_author(cast):
    from contacts.models import RedactionPattern

    RedactionPattern.objects.create(name="order", regex=r"ORD-\d{6}")
    contacts_ingest(rows=[row(1, customer="A", hours=0)])
    contact = Contact.objects.get()
    message = message_append(
        contact_id=contact.id, text="about ORD-123456", author="ORD-654321", by=cast.rep
    )
    assert (message.text, message.author) == ("about [order redacted]", "[order redacted]")


def test_the_contact_and_customer_pages_show_their_history(client, cast):
    contacts_ingest(rows=[row(1, customer="A", hours=0, notes="first")])
    contact = Contact.objects.get()
    contact_update(contact=contact, changes={"notes": "<b>second</b>"}, by=cast.rep)
    client.force_login(cast.teammate)
    page = client.get(reverse("contacts:contact-detail", args=[contact.id])).content.decode()
    text = " ".join(page.split())
    assert "<strong>rep</strong> changed the contact" in text
    assert "notes</span>: first → &lt;b&gt;second&lt;/b&gt;" in text
    customer = contact.customer
    from contacts.services.customers import customer_update

    customer_update(customer=customer, changes={"name": "Ada B."}, by=cast.manager)
    page = client.get(reverse("contacts:customer-detail", args=[customer.id])).content.decode()
    assert "<strong>manager</strong> changed the customer" in " ".join(page.split())


def test_a_changed_outcome_records_when_it_was_set_and_an_unchanged_one_does_not(cast):
    import time_machine

    contacts_ingest(rows=[row(1, customer="A", hours=0, outcome="open")])
    contact = Contact.objects.get()
    assert contact.outcome_set_at is None  # ingestion: occurred_at stands for it
    with time_machine.travel(datetime(2026, 11, 1, 12, 0, tzinfo=UTC), tick=False):
        contact_update(contact=contact, changes={"outcome": "callback"}, by=cast.rep)
    contact.refresh_from_db()
    assert contact.outcome_set_at == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    with time_machine.travel(datetime(2026, 11, 5, 12, 0, tzinfo=UTC), tick=False):
        contact_update(contact=contact, changes={"outcome": "callback", "road": 2}, by=cast.rep)
    contact.refresh_from_db()
    assert contact.outcome_set_at == datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_a_card_split_over_an_appended_message_and_the_one_before_is_redacted_in_both(cast):
    contacts_ingest(rows=[row(1, customer="A", hours=0, text="my card is 4111 1111")])
    contact = Contact.objects.get()
    message_append(contact_id=contact.id, text="1111 1111 and expires 12/28", by=INBOUND_EMAIL)
    texts = list(Message.objects.filter(contact=contact).values_list("text", flat=True))
    assert "1111" not in " ".join(texts)
    assert texts[1].endswith("and expires 12/28")


def test_a_customer_reference_holding_a_card_is_found_by_what_was_typed(cast):
    from contacts.selectors import customer_list_matching

    contacts_ingest(rows=[row(1, customer="4111111111111111", hours=0)])
    stored = Customer.objects.get()
    assert stored.external_ref.startswith("hash-")  # never the number itself
    found = customer_list_matching(viewer=cast.admin, query="4111111111111111")
    assert list(found) == [stored]


def test_the_admins_rollup_list_names_reasons_and_teams_in_one_query(client, cast):
    billing = ContactReason.objects.create(name="Billing")
    ContactReason.objects.create(name="Refund", parent=billing)
    contacts_ingest(
        rows=[
            row(1, customer="A", hours=0, reason="Billing › Refund"),
            row(2, customer="A", hours=30, team=""),
        ]
    )
    client.force_login(cast.admin)
    url = reverse("admin:contacts_contactrollup_changelist")
    page = client.get(url).content.decode()
    assert "Billing › Refund" in page
    assert "Billing Care" in page
    assert "(no reason)" in page and "(no team)" in page
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as two_rows:
        client.get(url)
    contacts_ingest(rows=[row(n, customer="B", hours=24 * n) for n in range(3, 9)])
    with CaptureQueriesContext(connection) as eight_rows:
        client.get(url)
    assert len(eight_rows) == len(two_rows)
