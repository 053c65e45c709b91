"""Rollups stay equal to a rebuild while writers race on the same contacts.

A contact re-sent by its source while the sentiment task scores it used to be counted negative
twice: ingestion read its "before" without a lock, the task committed a negative score in
between, and ingestion subtracted the stale before. Every writer now reads the before-state
under a row lock in id order (contacts.changes), so the delta always starts from what is
stored. Two threads on two connections race for many rounds here.
"""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact
from contacts.rollups import COLUMNS, rollup_snapshot, rollups_rebuild
from contacts.services.sentiment import contact_sentiment_update

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ANGRY = "This is terrible, I hate it, the worst service ever. Awful!"


def rows(round_number: int) -> list[dict]:
    return [
        {
            "source": "crm",
            "external_id": f"c-{n}",
            "channel": "phone",
            "occurred_at": (T0 + timedelta(hours=n)).isoformat(),
            "customer_ref": f"CUST-{n % 3}",
            "text": f"{ANGRY} (round {round_number})",
        }
        for n in range(12)
    ]


def test_a_resend_racing_the_sentiment_task_keeps_rollups_equal_to_a_rebuild(cast):
    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers")
    contacts_ingest(rows=rows(0))
    ids = list(Contact.objects.values_list("id", flat=True))
    errors: list[BaseException] = []
    rounds = 25

    def resend():
        try:
            for round_number in range(1, rounds + 1):
                contacts_ingest(rows=rows(round_number))  # text changed: sentiment emptied
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def score():
        try:
            for _ in range(rounds * 3):
                contact_sentiment_update(contact_ids=ids)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=resend), threading.Thread(target=score)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=120)
    assert errors == []
    contact_sentiment_update(contact_ids=ids)  # whatever the last re-send emptied
    assert Contact.objects.filter(sentiment__lt=-0.5).count() == 12
    kept = rollup_snapshot()
    rollups_rebuild()
    assert rollup_snapshot() == kept
    negative = COLUMNS.index("negative_contacts")
    assert sum(values[negative] for values in kept.values()) == 12  # once each
