"""An erasure and the writers that check tombstones exclude each other (PostgreSQL): no batch
or email can pass the tombstone check just before an erasure commits and write just after."""

import threading

import pytest
from django.db import connection, connections, transaction

from contacts import tombstones
from contacts.erasure.services import customer_erase
from contacts.models import Customer
from tests.concurrency import in_thread, wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def advisory_locks(*, granted: bool, mode: str | None = None) -> int:
    """Advisory locks in this database held (granted) or waited for, optionally of one mode
    (ShareLock for the writers, ExclusiveLock for an erasure)."""
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted = %s "
            "AND (%s IS NULL OR mode = %s) "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())",
            [granted, mode, mode],
        )
        return cursor.fetchone()[0]


def waiting_for_advisory_lock() -> int:
    return advisory_locks(granted=False)


def test_an_erasure_waits_for_a_writer_that_checked_tombstones(cast):
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    customer = Customer.objects.create(name="Zed Quill", email="zed@mail.example")
    release = threading.Event()

    def writer():  # an ingest batch or inbound email between its check and its commit
        with transaction.atomic():
            tombstones.hold_erasure_lock_shared()
            assert not tombstones.email_is_erased("zed@mail.example")
            release.wait(timeout=30)

    writer_thread, writer_outcome = in_thread(writer)
    assert wait_until(lambda: advisory_locks(granted=True, mode="ShareLock") == 1)
    eraser, erased = in_thread(lambda: customer_erase(customer=customer, by=cast.admin))
    assert wait_until(lambda: waiting_for_advisory_lock() == 1), "the erasure did not wait"
    assert not Customer.objects.get(pk=customer.pk).erased_at
    release.set()
    writer_thread.join(timeout=30)
    eraser.join(timeout=30)
    assert "error" not in writer_outcome and "error" not in erased, (writer_outcome, erased)
    assert Customer.objects.get(pk=customer.pk).erased_at is not None
    assert tombstones.email_is_erased("zed@mail.example")


def test_writers_wait_for_an_erasure_in_progress(cast):
    if connection.vendor != "postgresql":
        pytest.skip("advisory locks are PostgreSQL's")
    release = threading.Event()

    def eraser():
        with transaction.atomic():
            tombstones.hold_erasure_lock_exclusive()
            release.wait(timeout=30)

    eraser_thread, _ = in_thread(eraser)
    assert wait_until(lambda: advisory_locks(granted=True, mode="ExclusiveLock") == 1)
    checks = []

    def writer():
        with transaction.atomic():
            tombstones.hold_erasure_lock_shared()
            checks.append("checked")

    # Two writers: both wait for the erasure, and neither waits for the other afterwards.
    writers = [in_thread(writer)[0] for _ in range(2)]
    assert wait_until(lambda: waiting_for_advisory_lock() == 2), "the writers did not wait"
    assert checks == []
    release.set()
    for thread in [eraser_thread, *writers]:
        thread.join(timeout=30)
    assert checks == ["checked", "checked"]
