"""Repeat links kept by ingestion equal links computed from scratch, whatever the batches do.

Ingestion relinks each customer only around the times a batch touched for that customer; these
tests check that narrow relinking against the definition: a contact is a repeat of the same
customer's latest earlier contact (in (occurred_at, id) order) within the repeat window.
"""

import random
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, Customer
from contacts.repeats import repeat_window
from contacts.rollups import rollup_snapshot, rollups_rebuild

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 9, 1, tzinfo=UTC)


def expected_links() -> dict[int, int | None]:
    window = repeat_window()
    links: dict[int, int | None] = {}
    previous: dict[int, tuple[int, datetime]] = {}
    for contact_id, customer_id, occurred_at in Contact.objects.order_by(
        "occurred_at", "id"
    ).values_list("id", "customer_id", "occurred_at"):
        before = previous.get(customer_id) if customer_id else None
        links[contact_id] = (
            before[0] if before is not None and occurred_at - before[1] <= window else None
        )
        if customer_id:
            previous[customer_id] = (contact_id, occurred_at)
    return links


def stored_links() -> dict[int, int | None]:
    return dict(Contact.objects.values_list("id", "repeat_of_id"))


@pytest.mark.parametrize("seed", range(12))
def test_links_after_random_batches_equal_links_from_scratch(cast, seed):
    rng = random.Random(seed)
    known: list[str] = []  # external ids sent so far
    for batch_number in range(10):
        # Customers come and stay: each batch may bring new ones (their links are computed
        # before the writes) besides the stored ones (relinked in the database after them).
        customers = [f"CRM-{n}" for n in range(3 + 2 * batch_number)]
        rows = []
        for _ in range(rng.randint(1, 12)):
            if known and rng.random() < 0.35:
                external_id = rng.choice(known)  # an update: moves the contact in time or owner
            else:
                external_id = f"c-{len(known)}"
                known.append(external_id)
            if any(r["external_id"] == external_id for r in rows):
                continue
            rows.append(
                {
                    "source": "crm",
                    "external_id": external_id,
                    "channel": "phone",
                    # Days apart over two months, so some contacts fall inside a window and
                    # some do not; a few share the same instant.
                    "occurred_at": (
                        T0 + timedelta(hours=rng.choice([0, 12, 24]) * rng.randint(0, 120))
                    ).isoformat(),
                    "customer_ref": rng.choice(customers),
                    "text": f"batch {batch_number}",
                }
            )
        result = contacts_ingest(rows=rows)
        assert not result.rejected
        assert stored_links() == expected_links(), f"after batch {batch_number}"
    kept = rollup_snapshot()
    rollups_rebuild()
    assert rollup_snapshot() == kept


def email(external_id: str, customer_ref: str, at: str) -> dict:
    return {
        "source": "crm",
        "external_id": external_id,
        "channel": "email",
        "customer_ref": customer_ref,
        "occurred_at": f"{at}T10:00:00+00:00",
    }


def test_a_batch_spread_over_a_year_links_each_customer_around_its_own_contacts(cast):
    # One customer's contacts in March, another's in October, in one batch with a third
    # customer's contact that lands between two stored ones.
    contacts_ingest(
        rows=[email("a1", "A", "2026-03-01"), email("c1", "C", "2026-06-01"),
              email("c3", "C", "2026-06-09")]
    )  # fmt: skip
    contacts_ingest(
        rows=[email("a2", "A", "2026-03-03"), email("b1", "B", "2026-10-01"),
              email("c2", "C", "2026-06-05")]
    )  # fmt: skip
    by_ref = {c.external_id: c for c in Contact.objects.all()}
    assert by_ref["a2"].repeat_of_id == by_ref["a1"].id
    assert by_ref["b1"].repeat_of_id is None
    assert by_ref["c2"].repeat_of_id == by_ref["c1"].id
    assert by_ref["c3"].repeat_of_id == by_ref["c2"].id  # was c1's (8 days: none), now c2's
    assert stored_links() == expected_links()


def test_new_and_stored_customers_and_a_moved_contact_in_one_batch(cast, monkeypatch):
    from contacts.ingest import service

    relinked_after_writes = []
    real = service.repeats_relink_spans

    def recording(*, spans):
        relinked_after_writes.extend(spans)
        return real(spans=spans)

    monkeypatch.setattr(service, "repeats_relink_spans", recording)
    contacts_ingest(rows=[email("a1", "A", "2026-03-01"), email("a3", "A", "2026-03-05")])
    # N is new, with three contacts (two at the same instant: ordered by id) and a stored
    # contact moved to it from A; M is new with new contacts only; A is stored, and gets a
    # contact that a3 now repeats instead of a1, which moved away.
    contacts_ingest(
        rows=[email("n1", "N", "2026-05-01"), email("n2", "N", "2026-05-03"),
              email("n3", "N", "2026-05-03"), email("a1", "N", "2026-05-04"),
              email("m1", "M", "2026-07-01"), email("m2", "M", "2026-07-20"),
              email("m3", "M", "2026-07-25"), email("a2", "A", "2026-03-02")]
    )  # fmt: skip
    by_ref = {c.external_id: c for c in Contact.objects.all()}
    assert by_ref["n2"].repeat_of_id == by_ref["n1"].id
    assert by_ref["n3"].repeat_of_id == by_ref["n2"].id
    assert by_ref["a1"].repeat_of_id == by_ref["n3"].id
    assert by_ref["m1"].repeat_of_id is None
    assert by_ref["m2"].repeat_of_id is None  # 19 days after m1
    assert by_ref["m3"].repeat_of_id == by_ref["m2"].id
    assert by_ref["a2"].repeat_of_id is None  # a1 moved away
    assert by_ref["a3"].repeat_of_id == by_ref["a2"].id  # a stored contact, relinked
    assert stored_links() == expected_links()
    kept = rollup_snapshot()
    rollups_rebuild()
    assert rollup_snapshot() == kept
    # On PostgreSQL the links are computed before the writes, and nothing is relinked after
    # them; elsewhere every customer the batch touched is.
    customer_ids = {c.external_ref: c.id for c in Customer.objects.all()}
    if connection.vendor == "postgresql":
        assert relinked_after_writes == []
    else:
        assert set(relinked_after_writes) >= {customer_ids[ref] for ref in "ANM"}


def test_a_repeat_contact_that_loses_its_customer_is_no_repeat(cast):
    contacts_ingest(rows=[email("a1", "A", "2026-03-01"), email("a2", "A", "2026-03-02")])
    assert Contact.objects.get(external_id="a2").repeat_of_id is not None
    result = contacts_ingest(rows=[email("a2", "", "2026-03-02")])
    assert result.updated == 1
    contact = Contact.objects.get(external_id="a2")
    assert (contact.customer_id, contact.repeat_of_id) == (None, None)
    assert stored_links() == expected_links()
    kept = rollup_snapshot()
    rollups_rebuild()
    assert rollup_snapshot() == kept


@pytest.mark.parametrize("seed", range(6))
def test_the_set_based_and_per_row_rules_agree_on_random_data(cast, seed):
    """The relinking query (the set-based form on PostgreSQL) and the per-row rule
    (repeats.repeat_of) give the same links, including gaps of exactly the window and one
    microsecond more."""
    from contacts.repeats import repeat_of, repeats_relink_spans

    rng = random.Random(seed)
    window = repeat_window()
    customers = [Customer.objects.create(name=f"C{n}") for n in range(5)]
    gaps = [window, window + timedelta(microseconds=1), timedelta(0), timedelta(hours=3)]
    contacts = []
    clock = {customer.id: T0 for customer in customers}
    for n in range(120):
        customer = rng.choice([*customers, None])
        if customer is None:
            at = T0 + timedelta(days=rng.randint(0, 60))
        else:
            clock[customer.id] += (
                rng.choice(gaps) if rng.random() < 0.5 else timedelta(days=rng.uniform(0, 12))
            )
            at = clock[customer.id]
        contacts.append(
            Contact(source="r", external_id=f"r{n}", channel="phone", occurred_at=at,
                    customer=customer)
        )  # fmt: skip
    Contact.objects.bulk_create(contacts)

    per_row: dict[int, int | None] = {}
    previous: dict[int, tuple[datetime, int]] = {}
    for contact_id, customer_id, occurred_at in Contact.objects.order_by(
        "customer_id", "occurred_at", "id"
    ).values_list("id", "customer_id", "occurred_at"):
        if customer_id is None:
            per_row[contact_id] = None
            continue
        per_row[contact_id] = repeat_of(previous.get(customer_id), occurred_at, window)
        previous[customer_id] = (occurred_at, contact_id)

    spans = {customer.id: (T0, max(clock.values())) for customer in customers}
    repeats_relink_spans(spans=spans)  # the set-based form where the database has one
    assert stored_links() == per_row
    assert any(link is not None for link in per_row.values())
