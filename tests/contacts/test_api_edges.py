"""Edges of the contacts API found by fuzzing: far offsets, unknown field names that hold data,
and refusals that depend on what is stored."""

import json
from datetime import UTC, datetime

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from contacts.erasure.services import customer_erase
from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, Customer, Message
from contacts.redaction import contains_card_number

pytestmark = pytest.mark.django_db

VISA = "4111 1111 1111 1111"


def row(external_id: str, **fields) -> dict:
    return {
        "source": "genesys",
        "external_id": external_id,
        "channel": "phone",
        "occurred_at": "2026-11-02T09:30:00Z",
        "text": f"About {external_id}",
        **fields,
    }


@pytest.fixture
def contact(cast):
    contacts_ingest(rows=[row("a-1", team=cast.team_a.name, customer_ref="CRM-A")])
    return Contact.objects.get(external_id="a-1")


def post(user, url, data):
    client = APIClient()
    client.force_login(user)
    return client.post(url, data, format="json")


# --- times enter in UTC ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "utc"),
    [
        ("2026-11-23T14:05:00+23:59", datetime(2026, 11, 22, 14, 6, tzinfo=UTC)),
        ("2026-11-23T14:05:00-23:59", datetime(2026, 11, 24, 14, 4, tzinfo=UTC)),
        ("2026-11-23T14:05:00+16:00", datetime(2026, 11, 22, 22, 5, tzinfo=UTC)),
        ("2026-11-23T14:05:00+15:59", datetime(2026, 11, 22, 22, 6, tzinfo=UTC)),
        ("1900-01-01T00:00:00+23:59", datetime(1899, 12, 31, 0, 1, tzinfo=UTC)),
    ],
)
def test_a_message_time_with_any_offset_is_stored_in_utc(cast, contact, sent, utc):
    url = reverse("api-message-create", kwargs={"contact_id": contact.id})
    response = post(cast.rep, url, {"text": "hello", "sent_at": sent})
    assert response.status_code == 201, response.content
    message = Message.objects.get(id=response.json()["id"])
    assert message.sent_at == utc
    assert response.json()["sent_at"] == utc.isoformat().replace("+00:00", "Z")


def test_a_contact_time_with_a_far_offset_is_stored_in_utc(cast):
    data = {**row("far-1"), "occurred_at": "2026-11-23T14:05:00-20:00", "team": cast.team_a.name}
    del data["source"]
    response = post(cast.rep, reverse("api-contact-create"), data)
    assert response.status_code == 201, response.content
    contact = Contact.objects.get(external_id="far-1")
    assert contact.occurred_at == datetime(2026, 11, 24, 10, 5, tzinfo=UTC)


# --- unknown field names are not echoed when they could hold data ---------------------------


@pytest.fixture
def ingest_key(cast):
    from contacts.ingest.tokens import ingest_token_create

    _, key = ingest_token_create(name="Genesys cloud", source="genesys", by=cast.admin)
    return key


def bulk(rows, key):
    return APIClient().post(
        "/api/v1/contacts/bulk/",
        data=json.dumps(rows),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Ingest {key}",
    )


@pytest.mark.parametrize(
    "name",
    [VISA, "4111111111111111", "4111-1111-1111-1111", "card_4111111111111111", "note:4111"],
)
def test_an_unknown_field_whose_name_could_be_data_is_not_repeated(ingest_key, name):
    response = bulk([{**row("u-1"), name: "x"}, row("u-2", messages=[{"text": "y", name: 1}],
                                                    text=None)], ingest_key)  # fmt: skip
    assert response.status_code == 200
    errors = response.json()["errors"]
    assert [(e["index"], e["field"]) for e in errors] == [(0, "row"), (1, "messages[0]")]
    assert all("not repeated" in e["reason"] for e in errors)
    body = response.content.decode()
    assert "4111" not in body
    assert not contains_card_number(body)


def test_a_misspelt_field_is_still_named(ingest_key):
    response = bulk(
        [
            {**row("m-1"), "custmer_email": "x"},
            row("m-2", messages=[{"text": "y", "sentat": "x"}], text=None),
        ],
        ingest_key,
    )
    errors = response.json()["errors"]
    assert [(e["field"], e["reason"]) for e in errors] == [
        ("custmer_email", "is not a field VoC knows (see docs/ingest.md)"),
        ("messages[0].sentat", "is not a field VoC knows (see docs/ingest.md)"),
    ]


# --- an erased customer's record is a stored-state refusal: 409 -----------------------------


def test_changing_an_erased_customer_is_a_409(cast):
    customer = Customer.objects.create(external_ref="CRM-E", name="Eve Erased")
    customer_erase(customer=customer, by=cast.admin)
    url = reverse("api-customer-update", kwargs={"customer_id": customer.id})
    response = post(cast.admin, url, {"name": "Eve again"})
    assert response.status_code == 409, response.content


def test_logging_a_contact_for_an_erased_customer_is_a_409(cast):
    customer = Customer.objects.create(external_ref="CRM-E", name="Eve Erased")
    customer_erase(customer=customer, by=cast.admin)
    data = {**row("e-1"), "customer_ref": "CRM-E", "team": cast.team_a.name}
    del data["source"]
    response = post(cast.rep, reverse("api-contact-create"), data)
    assert response.status_code == 409, response.content
    assert "erased" in response.content.decode()


@pytest.mark.parametrize(
    ("query", "status", "error"),
    [
        ("team={a}", 200, None),
        ("team={a}&team={b}", 400, "Give this parameter once."),
        ("channel=chat&channel=email", 400, "Give this parameter once."),
        ("team=", 400, "Give a value, or leave the parameter out."),
    ],
)
def test_a_filter_given_twice_is_refused_not_read_as_its_last_value(cast, query, status, error):
    client = APIClient()
    client.force_authenticate(cast.admin)
    url = reverse("api-contact-list") + "?" + query.format(a=cast.team_a.id, b=cast.team_b.id)
    response = client.get(url)
    assert response.status_code == status
    if error is not None:
        name = query.split("=")[0]
        assert response.json()[name] == [error]
