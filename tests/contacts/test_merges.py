from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason, ContactRollup, Customer, CustomerEvent
from contacts.services.customers import customer_merge
from contacts.services.reasons import reason_merge, reason_retire
from tests.contacts.rollup_checks import assert_rollups_match_rebuild
from voc.core.audit import SWEEP

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)


def row(n: int, hours: int, **fields) -> dict:
    return {
        "source": "crm",
        "external_id": f"c-{n}",
        "channel": "phone",
        "occurred_at": (T0 + timedelta(hours=hours)).isoformat(),
        "text": "hello",
        **fields,
    }


def test_merging_customers_moves_history_and_relinks_repeats(cast):
    contacts_ingest(
        rows=[
            row(1, 0, customer_ref="A", customer_email="ana@example.com"),
            row(2, 48, customer_ref="B", customer_phone="+15551230000"),
        ]
    )
    a, b = Customer.objects.get(external_ref="A"), Customer.objects.get(external_ref="B")
    CustomerEvent.objects.create(customer=b, kind="lost", occurred_on=T0.date())
    assert Contact.objects.filter(repeat_of__isnull=False).count() == 0

    assert customer_merge(source=b, target=a, by=SWEEP) == 1
    a.refresh_from_db()
    b.refresh_from_db()
    assert b.merged_into == a and b.external_ref == "B"  # kept: the CRM may still send it
    assert a.phone == "+15551230000"  # a blank filled from the duplicate
    assert set(Contact.objects.values_list("customer_id", flat=True)) == {a.id}
    assert CustomerEvent.objects.get().customer == a
    # The two contacts are now one customer's, two days apart: the later one is a repeat.
    assert Contact.objects.get(external_id="c-2").repeat_of.external_id == "c-1"
    assert sum(ContactRollup.objects.values_list("repeat_contacts", flat=True)) == 1
    assert_rollups_match_rebuild()
    # Rows naming the merged-away customer still land on the survivor.
    contacts_ingest(rows=[row(3, 96, customer_phone="+15551230000"), row(4, 97, customer_ref="B")])
    assert Contact.objects.get(external_id="c-3").customer == a
    assert Contact.objects.get(external_id="c-4").customer == a


def test_a_customer_cannot_be_merged_into_itself_or_a_merged_one(cast):
    a = Customer.objects.create(external_ref="A")
    b = Customer.objects.create(external_ref="B", merged_into=a)
    with pytest.raises(ValidationError):
        customer_merge(source=a, target=a, by=SWEEP)
    with pytest.raises(ValidationError):
        customer_merge(source=a, target=b, by=SWEEP)


def test_merging_reasons_moves_contacts_and_their_rollups(cast):
    old = ContactReason.objects.create(name="Double billing")
    new = ContactReason.objects.create(name="Double charge")
    contacts_ingest(rows=[row(1, 0, reason="Double billing"), row(2, 1, reason="Double charge")])
    assert reason_merge(source=old, target=new, by=SWEEP) == 1
    old.refresh_from_db()
    assert old.merged_into == new and old.retired_at is not None
    assert set(Contact.objects.values_list("reason_id", flat=True)) == {new.id}
    assert list(ContactRollup.objects.values_list("reason_id", flat=True)) == [new.id]
    assert_rollups_match_rebuild()
    # An import that still names the old reason resolves to the one that survived.
    contacts_ingest(rows=[row(3, 2, reason="Double billing")])
    assert Contact.objects.get(external_id="c-3").reason == new


def test_a_retired_reason_keeps_its_history(cast):
    reason = ContactReason.objects.create(name="Fax line")
    contacts_ingest(rows=[row(1, 0, reason="Fax line")])
    reason_retire(reason=reason, by=SWEEP)
    reason.refresh_from_db()
    assert not reason.is_active
    assert Contact.objects.get().reason == reason
    from contacts.selectors import reason_list_active

    assert reason not in reason_list_active()
