from datetime import UTC, date, datetime

import pytest
from django.db import transaction
from django.template.loader import render_to_string

from tests.factories import CustomerFactory, UserFactory
from voc.core.audit import (
    ERASED_VALUE,
    INGEST,
    SystemActor,
    audit_forget_customers,
    audit_history,
    audit_record,
    audit_record_many,
    field_changes,
)
from voc.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_it_records_who_what_and_why_for_a_person():
    user = UserFactory(username="maria")
    customer = CustomerFactory()
    at = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    entry = audit_record(
        by=user,
        action="customer.update",
        target=customer,
        changes={"name": ["Ann", "Anne"], "since": date(2026, 1, 2), "owner": user},
        why="typo",
        customer_id=customer.pk,
        at=at,
    )
    entry.refresh_from_db()
    assert (entry.actor_id, entry.actor_name, entry.action) == (user.pk, "maria", "customer.update")
    assert (entry.target_type, entry.target_id) == ("contacts.customer", customer.pk)
    assert entry.changes == {"name": ["Ann", "Anne"], "since": "2026-01-02", "owner": user.pk}
    assert (entry.why, entry.at, entry.customer_id) == ("typo", at, customer.pk)


def test_a_system_actor_has_a_name_and_no_user():
    entry = audit_record(by=SystemActor("ingest:crm"), action="contacts.ingest", changes={"n": 3})
    assert (entry.actor_id, entry.actor_name, entry.target_type, entry.target_id) == (
        None,
        "ingest:crm",
        "",
        None,
    )


def test_nobody_is_not_an_actor():
    with pytest.raises(ValueError, match="Say who acted"):
        audit_record(by=None, action="x")
    assert not AuditEntry.objects.exists()


def test_an_entry_rolls_back_with_the_change_it_records():
    customer = CustomerFactory()
    with pytest.raises(RuntimeError), transaction.atomic():
        audit_record(by=INGEST, action="customer.update", target=customer)
        raise RuntimeError("the change failed")
    assert not AuditEntry.objects.exists()


def test_many_entries_are_one_insert(django_assert_num_queries):
    customers = CustomerFactory.create_batch(3)
    user = UserFactory()
    with django_assert_num_queries(1):
        written = audit_record_many(
            [{"action": "customer.merge", "target": c, "customer_id": c.pk} for c in customers],
            by=user,
        )
    assert written == 3
    assert sorted(AuditEntry.objects.values_list("target_id", flat=True)) == sorted(
        c.pk for c in customers
    )


def test_field_changes_lists_only_what_differs():
    assert field_changes({"a": 1, "b": "x", "c": None}, {"a": 1, "b": "y", "c": 0}) == {
        "b": ["x", "y"],
        "c": [None, 0],
    }


def test_history_is_the_objects_own_entries_newest_first():
    customer, other = CustomerFactory(), CustomerFactory()
    first = audit_record(
        by=INGEST, action="a", target=customer, at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    second = audit_record(
        by=INGEST, action="b", target=customer, at=datetime(2026, 1, 2, tzinfo=UTC)
    )
    audit_record(by=INGEST, action="c", target=other)
    assert audit_history(target=customer) == [second, first]


def test_erasure_keeps_the_entry_and_drops_its_values():
    customer, other = CustomerFactory(), CustomerFactory()
    kept = audit_record(
        by=INGEST,
        action="contact.update",
        changes={"notes": ["old words", "new words"], "messages": 2},
        why="customer asked: call me on 555",
        customer_id=customer.pk,
    )
    untouched = audit_record(
        by=INGEST, action="contact.update", changes={"notes": ["a", "b"]}, customer_id=other.pk
    )
    assert audit_forget_customers(customer_ids=[customer.pk]) == 1
    kept.refresh_from_db()
    untouched.refresh_from_db()
    assert kept.changes == {"notes": [ERASED_VALUE, ERASED_VALUE], "messages": ERASED_VALUE}
    assert (kept.why, kept.action, kept.actor_name) == ("", "contact.update", "ingest")
    assert untouched.changes == {"notes": ["a", "b"]}


def test_the_history_partial_escapes_values_and_shows_counts():
    customer = CustomerFactory()
    audit_record(
        by=INGEST,
        action="contact.update",
        target=customer,
        changes={"notes": ["", "<script>alert(1)</script>"], "created": 4},
    )
    html = render_to_string("core/_history.html", {"history": audit_history(target=customer)})
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    text = " ".join(html.split())
    assert "notes</span>: — → &lt;script&gt;" in text
    assert "created</span>: 4 </li>" in text  # a count, not a before → after pair
