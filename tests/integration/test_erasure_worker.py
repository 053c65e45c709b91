"""An erased customer stays erased after re-import, with a real worker running the tasks that
ingestion enqueues (sentiment scoring) before and after the erasure."""

import json

import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from contacts.erasure.services import ERASED_TEXT
from contacts.models import Contact, ContactReason, Customer, ImportRun, Message
from contacts.rollups import rollup_snapshot, rollups_rebuild
from contacts.services.customers import customer_merge
from tests.contacts.test_erasure import ANN, ann_rows, bob_row, find_values, values_of_ann
from tests.factories import make_cast
from tests.integration.conftest import wait_for
from voc.core.audit import SWEEP

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TIMEOUT = 30.0


def bulk(client: APIClient, rows: list[dict]) -> dict:
    response = client.post(reverse("api-contact-bulk"), data=rows, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def test_an_erased_customer_stays_erased_after_reimport(start_worker, tmp_path):
    cast = make_cast()
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a)
    ContactReason.objects.create(name="Double charge", parent=billing, department=cast.dept_a)
    # Ann's record and a duplicate an admin merged into it, before any contact arrives.
    ann = Customer.objects.create(
        external_ref=ANN["ref"], name=ANN["name"], email=ANN["email"], phone=ANN["phone"]
    )
    duplicate = Customer.objects.create(external_ref=ANN["old_ref"], email=ANN["old_email"])
    customer_merge(source=duplicate, target=ann, by=SWEEP)
    client = APIClient()
    client.force_login(cast.admin)
    worker = start_worker()  # it empties the broker first: start it before anything is queued

    # Committed, so the worker scores these while (or after) Ann is erased.
    assert bulk(client, [*ann_rows(), bob_row(1)])["created"] == 4
    assert Contact.objects.filter(customer=ann).count() == 3  # the merged record's too
    response = client.post(reverse("api-customer-erase", args=[ann.id]), format="json")
    assert response.status_code == 200, response.content

    # The same rows again, through the bulk API and through a file import; Bob's new
    # contacts go in (and queue more sentiment tasks), Ann's are refused.
    again = bulk(client, [*ann_rows(), bob_row(2)])
    assert (again["created"], again["rejected"]) == (1, 3)
    path = tmp_path / "crm-export.ndjson"
    path.write_text("\n".join(json.dumps(row) for row in [*ann_rows(), bob_row(3)]) + "\n")
    call_command("import_contacts", str(path), "--no-progress")
    assert (ImportRun.objects.get().created, ImportRun.objects.get().rejected) == (1, 3)

    # One worker process takes the tasks in order: when Bob's last contact is scored, the
    # tasks queued for Ann's contacts before the erasure have run too.
    wait_for(
        lambda: (
            not Contact.objects.filter(
                external_id__startswith="bob-call-", sentiment__isnull=True
            ).exists()
        ),
        timeout=TIMEOUT,
        message="the worker did not score the contacts",
        worker=worker,
    )
    assert Contact.objects.filter(customer=ann).count() == 3
    assert set(Message.objects.filter(contact__customer=ann).values_list("text", flat=True)) == {
        ERASED_TEXT
    }
    assert not Customer.objects.filter(erased_at__isnull=True, name=ANN["name"]).exists()
    assert find_values(values_of_ann()) == []
    kept = rollup_snapshot()
    rollups_rebuild()
    assert rollup_snapshot() == kept
