"""Two admins setting the first value of one setting at once (PostgreSQL): the second waits for
the first, then records its change on top of it; one row, two entries, nothing lost."""

import threading

import pytest
from django.db import connection, transaction

from tests.concurrency import in_thread, wait_until
from tests.factories import UserFactory
from voc.core.business import (
    business_setting,
    business_setting_set,
    business_settings_forget_cached,
)
from voc.core.models import AuditEntry, BusinessSettingValue
from voc.people.roles import Role

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def locks_waited_for() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE NOT granted AND pid <> pg_backend_pid()"
        )
        return cursor.fetchone()[0]


def test_a_second_first_value_waits_and_is_recorded_on_top_of_the_first(cast):
    if connection.vendor != "postgresql":
        pytest.skip("row and index locks are PostgreSQL's")
    other_admin = UserFactory(username="other_admin", role=Role.ADMIN)
    written, release = threading.Event(), threading.Event()

    def first():
        with transaction.atomic():
            business_setting_set(key="outreach_cooldown_days", value="60", by=cast.admin)
            written.set()
            release.wait(timeout=30)

    first_thread, first_outcome = in_thread(first)
    assert written.wait(timeout=20)
    second_thread, second_outcome = in_thread(
        lambda: business_setting_set(key="outreach_cooldown_days", value="120", by=other_admin)
    )
    assert wait_until(lambda: locks_waited_for() >= 1), "the second write did not wait"
    release.set()
    first_thread.join(timeout=30)
    second_thread.join(timeout=30)

    assert "error" not in first_outcome and "error" not in second_outcome, (
        first_outcome,
        second_outcome,
    )
    business_settings_forget_cached()
    assert business_setting("outreach_cooldown_days") == 120
    assert BusinessSettingValue.objects.count() == 1
    entries = AuditEntry.objects.order_by("id")
    assert [(e.actor_name, e.changes["value"]) for e in entries] == [
        ("admin", [90, 60]),
        ("other_admin", [60, 120]),
    ]
