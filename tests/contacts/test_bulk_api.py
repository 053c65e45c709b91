"""Bulk ingest over the API (JSON arrays and NDJSON) and the ingest tokens behind it."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from contacts.ingest.tokens import (
    ingest_token_create,
    ingest_token_hash,
    ingest_token_revoke,
)
from contacts.models import Contact, ContactReason, IngestToken, Message
from contacts.redaction import contains_card_number
from tests.contacts.rollup_checks import assert_rollups_match_rebuild

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
BULK = "/api/v1/contacts/bulk/"
VISA = "4111 1111 1111 1111"


@pytest.fixture
def token(cast):
    token, key = ingest_token_create(name="Genesys cloud", source="genesys", by=cast.admin)
    token.key = key
    return token


def row(n: int, **fields) -> dict:
    return {
        "external_id": f"call-{n}",
        "channel": "phone",
        "occurred_at": (T0 + timedelta(minutes=n)).isoformat(),
        "customer_ref": f"CRM-{n % 7}",
        "text": f"Call number {n}",
        **fields,
    }


def send(body, *, key=None, user=None, content_type="application/json", **extra):
    client = APIClient()
    if user is not None:
        client.force_login(user)
    if key is not None:
        extra["HTTP_AUTHORIZATION"] = f"Ingest {key}"
    if not isinstance(body, bytes | str):
        body = json.dumps(body)
    return client.post(BULK, data=body, content_type=content_type, **extra)


def ndjson(*items) -> str:
    return "\n".join(item if isinstance(item, str) else json.dumps(item) for item in items) + "\n"


# --- what is stored ----------------------------------------------------------------------


def test_an_admin_sends_a_json_array_whose_rows_name_their_source(cast):
    rows = [row(n, source="zendesk") for n in range(3)] + [row(9)]  # the last has no source
    response = send(rows, user=cast.admin)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "created": 3, "updated": 0, "unchanged": 0, "rejected": 1,
        "errors": [{"index": 3, "field": "source", "reason": "is required"}],
    }  # fmt: skip
    assert set(Contact.objects.values_list("source", flat=True)) == {"zendesk"}
    assert Message.objects.count() == 3
    assert_rollups_match_rebuild()


def test_an_ingest_token_sends_ndjson_stored_under_its_source(token):
    body = ndjson(row(1), row(2, source="somebody-else"), "", row(3))
    response = send(body, key=token.key, content_type="application/x-ndjson")
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 3
    assert set(Contact.objects.values_list("source", flat=True)) == {"genesys"}
    assert Contact.objects.filter(source="genesys", external_id="call-2").exists()


def test_a_malformed_ndjson_line_is_a_rejected_row_and_the_others_are_stored(token):
    body = ndjson(
        row(1),
        '{"external_id": "call-2", "channel": ',  # cut short
        row(3),
        "",
        "[1, 2]",  # JSON, but not a contact
        "\xff\xfe".encode("latin-1").decode("latin-1"),
        row(4, channel="fax"),
        row(5),
    )
    body = body.encode("utf-8").replace("ÿþ".encode(), b"\xff\xfe")  # not UTF-8
    response = send(body, key=token.key, content_type="application/x-ndjson; charset=utf-8")
    assert response.status_code == 200, response.content
    result = response.json()
    assert (result["created"], result["rejected"]) == (3, 4)
    assert [(e["index"], e["line"], e["field"]) for e in result["errors"]] == [
        (1, 2, "row"), (3, 5, "row"), (4, 6, "row"), (5, 7, "channel"),
    ]  # fmt: skip
    assert result["errors"][0]["reason"] == "is not valid JSON"
    assert result["errors"][2]["reason"] == "is not UTF-8 text"
    assert set(Contact.objects.values_list("external_id", flat=True)) == {
        "call-1", "call-3", "call-5",
    }  # fmt: skip


def test_a_resent_batch_is_all_unchanged_and_a_changed_row_is_updated(token):
    rows = [row(n) for n in range(20)]
    assert send(rows, key=token.key).json()["created"] == 20
    again = send(rows, key=token.key).json()
    assert again == {"created": 0, "updated": 0, "unchanged": 20, "rejected": 0, "errors": []}
    rows[5]["text"] = "Changed my mind"
    body = ndjson(*rows)
    changed = send(body, key=token.key, content_type="application/x-ndjson").json()
    assert (changed["updated"], changed["unchanged"]) == (1, 19)
    assert Contact.objects.count() == 20
    assert_rollups_match_rebuild()


def test_a_row_ingestion_refuses_is_reported_with_its_field_and_never_its_value(token, cast):
    ContactReason.objects.create(name="Billing")
    rows = [
        row(1, channel=VISA),
        row(2, reason="No such reason"),
        row(3, customer_email=f"{VISA}@example.com"),
        row(4, handle_seconds="four"),
        row(5, reason="Billing", team=cast.team_a.name),
        "not an object",
        row(6, unknown_field=VISA),
    ]
    response = send(rows, key=token.key)
    assert response.status_code == 200
    result = response.json()
    assert (result["created"], result["rejected"]) == (1, 6)
    assert [e["field"] for e in result["errors"]] == [
        "channel", "reason", "customer_email", "handle_seconds", "row", "unknown_field",
    ]  # fmt: skip
    assert "4111" not in response.content.decode()
    assert not contains_card_number(response.content.decode())


def test_rows_that_could_not_be_stored_at_all_are_rejected_not_a_server_error(token):
    rows = [
        row(1, occurred_at="0001-01-01T00:00:00+05:00"),  # past the calendar in UTC
        row(2, occurred_at="9999-12-31T23:00:00-05:00"),
        row(3, messages=[{"text": "hi", "sent_at": "1066-10-14T09:00:00Z"}], text=None),
        row(4, notes="unpaired \ud800 surrogate"),
        row(5, external_id=["a", "list"]),
        row(6, messages="not a list", text=None),
        # an id holding cards is stored as its keyed stand-in (it fits, and finds its row)
        row(7, external_id=", ".join(["4111111111111111"] * 11)),
        # fits its column as sent, not once each card is a placeholder
        row(8, messages=[{"text": "x", "author": " and ".join([VISA] * 9)}], text=None),
        row(9),
    ]
    body = json.dumps(rows)  # keeps the lone surrogate as a \\ud800 escape
    response = send(body, key=token.key)
    assert response.status_code == 200, response.content
    result = response.json()
    assert result["created"] == 2
    assert [(e["index"], e["field"]) for e in result["errors"]] == [
        (0, "occurred_at"), (1, "occurred_at"), (2, "messages[0].sent_at"), (3, "notes"),
        (4, "external_id"), (5, "messages"), (7, "messages[0].author"),
    ]  # fmt: skip
    assert "4111" not in response.content.decode()
    deep = "[" * 100_000 + "]" * 100_000
    response = send(ndjson(deep, row(10)), key=token.key, content_type="application/x-ndjson")
    assert response.status_code == 200
    assert (response.json()["created"], response.json()["rejected"]) == (1, 1)


NOT_TEXT = "contains an unpaired surrogate (\\ud800-\\udfff), which is not text"


def rows_with_lone_surrogates() -> list[dict]:
    """Rows whose tags, reason or message text hold a lone surrogate (json.dumps writes it as
    a \\ud800 escape) next to a card number, between rows that are fine."""
    bad = f"{VISA} \ud800"
    return [
        row(1, tags=["billing", bad]),
        row(2, reason=["Billing", bad]),
        row(3, messages=[{"text": "hi"}, {"text": bad}], text=None),
        row(4, tags=["café", "😀"], reason="Billing › Facturación"),  # a pair escape is text
        row(5, tags=f"billing, {bad}"),
        row(6),
    ]


@pytest.fixture
def billing_reasons():
    billing = ContactReason.objects.create(name="Billing")
    ContactReason.objects.create(name="Facturación", parent=billing)


def test_a_lone_surrogate_in_tags_reason_or_a_message_is_rejected_with_its_field(
    token, billing_reasons
):
    body = json.dumps(rows_with_lone_surrogates())
    assert "\\ud800" in body and "\\ud83d\\ude00" in body
    response = send(body, key=token.key)
    assert response.status_code == 200, response.content
    result = response.json()
    assert (result["created"], result["rejected"]) == (2, 4)
    assert result["errors"] == [
        {"index": 0, "field": "tags", "reason": NOT_TEXT},
        {"index": 1, "field": "reason", "reason": NOT_TEXT},
        {"index": 2, "field": "messages[1].text", "reason": NOT_TEXT},
        {"index": 4, "field": "tags", "reason": NOT_TEXT},
    ]
    assert "4111" not in response.content.decode()
    assert set(Contact.objects.values_list("external_id", flat=True)) == {"call-4", "call-6"}
    assert Contact.objects.get(external_id="call-4").tags == ["café", "😀"]
    assert Contact.objects.get(external_id="call-4").reason.name == "Facturación"


def test_a_lone_surrogate_in_an_ndjson_line_is_rejected_with_its_field_and_line(
    token, billing_reasons
):
    rows = rows_with_lone_surrogates()
    body = ndjson(rows[0], "", *rows[1:])  # a blank line: lines and indexes differ
    response = send(body, key=token.key, content_type="application/x-ndjson")
    assert response.status_code == 200, response.content
    result = response.json()
    assert (result["created"], result["rejected"]) == (2, 4)
    assert [(e["index"], e["line"], e["field"], e["reason"]) for e in result["errors"]] == [
        (0, 1, "tags", NOT_TEXT),
        (1, 3, "reason", NOT_TEXT),
        (2, 4, "messages[1].text", NOT_TEXT),
        (4, 6, "tags", NOT_TEXT),
    ]
    assert "4111" not in response.content.decode()
    assert set(Contact.objects.values_list("external_id", flat=True)) == {"call-4", "call-6"}


def test_card_numbers_never_reach_the_database_nor_the_response(token):
    card = "4111-1111-1111-1111"
    rows = [
        {"external_id": f"c {card}", "channel": "chat", "occurred_at": T0.isoformat(),
         "customer_ref": f"ref {card}", "customer_name": f"name {card}",
         "subject": f"subj {card}", "notes": f"notes {card}", "tags": [f"t {card}"],
         "messages": [{"external_id": f"m {card}", "text": f"card {card}", "author": card}]},
        {"external_id": "c-2", "channel": "chat", "occurred_at": T0.isoformat(),
         "tags": f"a, {card}", "messages": [{"external_id": 4111111111111111, "text": "x"}]},
    ]  # fmt: skip
    response = send(ndjson(*rows), key=token.key, content_type="application/x-ndjson")
    assert response.json()["created"] == 2, response.content
    assert not contains_card_number(response.content.decode())
    with connection.cursor() as cursor:
        for table in ("contacts_contact", "contacts_message", "contacts_customer"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
            for stored in cursor.fetchall():
                assert not contains_card_number(json.dumps(stored, default=str)), table


def test_hostile_text_is_stored_as_written(token):
    vector = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    response = send([row(1, notes=vector, text=vector, customer_name=vector)], key=token.key)
    assert response["Content-Type"] == "application/json"
    contact = Contact.objects.get(external_id="call-1")
    assert contact.notes == vector
    assert contact.messages.get().text == vector
    assert contact.customer.name == vector


# --- limits ------------------------------------------------------------------------------


def test_more_than_10000_rows_is_a_413_and_nothing_is_stored(token):
    rows = [{"external_id": f"r-{n}", "channel": "phone"} for n in range(10_001)]
    response = send(rows, key=token.key)
    assert response.status_code == 413
    assert "10,000" in response.json()["detail"]
    response = send(ndjson(*rows), key=token.key, content_type="application/x-ndjson")
    assert response.status_code == 413
    assert not Contact.objects.exists()


@override_settings(VOC_BULK_MAX_BYTES=2000)
def test_a_body_over_the_byte_limit_is_a_413(token):
    rows = [row(n, notes="x" * 500) for n in range(5)]
    assert send(rows, key=token.key).status_code == 413
    body = ndjson(*rows)
    assert send(body, key=token.key, content_type="application/x-ndjson").status_code == 413
    assert not Contact.objects.exists()


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("[]", "application/json", 400),
        ("", "application/json", 400),
        ("\n\n", "application/x-ndjson", 400),
        ('{"external_id": "x"}', "application/json", 400),  # an object, not an array
        ("[{", "application/json", 400),
        ("[" * 100_000, "application/json", 400),
        ("external_id,channel\nx,phone\n", "text/csv", 415),
    ],
)
def test_a_body_that_holds_no_rows_is_refused_with_a_message(token, body, content_type, status):
    response = send(body, key=token.key, content_type=content_type)
    assert response.status_code == status
    assert response.json()["detail"]


# --- who may send ------------------------------------------------------------------------


@pytest.mark.parametrize("role", ["rep", "manager", "executive"])
def test_people_other_than_admins_may_not_send_in_bulk(cast, role):
    response = send([row(1, source="x")], user=getattr(cast, role))
    assert response.status_code == 403
    assert not Contact.objects.exists()


def test_a_revoked_or_unknown_token_is_a_401(token):
    assert send([row(1)], key="vocingest_not-a-real-key").status_code == 401
    ingest_token_revoke(token=token)
    response = send([row(1)], key=token.key)
    assert response.status_code == 401
    assert response["WWW-Authenticate"]
    assert send([row(1)]).status_code == 401  # no credentials at all
    assert not Contact.objects.exists()


def test_an_ingest_token_is_good_for_sending_contacts_only(token):
    headers = {"HTTP_AUTHORIZATION": f"Ingest {token.key}"}
    client = APIClient()
    assert client.get(reverse("api-contact-list"), **headers).status_code == 401
    assert client.get(reverse("api-customer-list"), **headers).status_code == 401
    response = client.post(reverse("api-customer-create"), {"name": "x"}, format="json", **headers)
    assert response.status_code == 401
    # one contact at a time, stored under the token's source
    response = client.post(
        reverse("api-contact-create"), {"external_id": "one", "channel": "email"}, format="json",
        **headers,
    )  # fmt: skip
    assert response.status_code == 201
    assert response.json()["source"] == "genesys"


def test_ingest_tokens_are_rate_limited_each_on_its_own(token, cast):
    _other, other_key = ingest_token_create(name="Zendesk", source="zendesk", by=None)
    with override_settings(VOC_INGEST_RATE="2/minute"):
        assert send([row(1)], key=token.key).status_code == 200
        assert send([row(2)], key=token.key).status_code == 200
        response = send([row(3)], key=token.key)
        assert response.status_code == 429
        assert int(response["Retry-After"]) > 0
        assert send([row(3)], key=other_key).status_code == 200
        for n in range(3):  # people are not counted by the ingest throttle
            assert send([row(n, source="admin")], user=cast.admin).status_code == 200
    assert not Contact.objects.filter(source="genesys", external_id="call-3").exists()


def test_a_tokens_use_is_recorded_at_most_once_a_minute(token):
    with time_machine.travel(T0, tick=False):
        send([row(1)], key=token.key)
        token.refresh_from_db()
        assert token.last_used_at == T0
    with time_machine.travel(T0 + timedelta(seconds=30), tick=False):
        send([row(2)], key=token.key)
        token.refresh_from_db()
        assert token.last_used_at == T0
    with time_machine.travel(T0 + timedelta(seconds=61), tick=False):
        send([row(3)], key=token.key)
        token.refresh_from_db()
        assert token.last_used_at == T0 + timedelta(seconds=61)


# --- tokens ------------------------------------------------------------------------------


def test_only_a_hash_of_a_tokens_key_is_stored(token):
    stored = IngestToken.objects.get(id=token.id)
    assert stored.key_hash == ingest_token_hash(token.key) != token.key
    assert token.key.startswith("vocingest_") and token.key.startswith(stored.key_hint)
    assert len(stored.key_hint) < 16


@pytest.mark.parametrize(
    ("name", "source", "field"),
    [("", "genesys", "name"), ("x", "", "source"), ("x", "has space", "source"),
     ("x", "api", "source"), ("x", "a" * 51, "source")],
)  # fmt: skip
def test_a_token_needs_a_name_and_a_plain_source(cast, name, source, field):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        ingest_token_create(name=name, source=source, by=cast.admin)
    assert field in error.value.message_dict
    assert not IngestToken.objects.exists()


def test_admins_create_a_token_in_the_admin_and_see_its_key_once(client, cast):
    client.force_login(cast.admin)
    response = client.post(
        reverse("admin:contacts_ingesttoken_add"),
        {"name": "Genesys", "source": "genesys"},
        follow=True,
    )
    assert response.status_code == 200
    token = IngestToken.objects.get()
    assert (token.source, token.created_by) == ("genesys", cast.admin)
    page = response.content.decode()
    key = page.split("is vocingest_")[1].split(" ")[0]
    key = "vocingest_" + key
    assert ingest_token_hash(key) == token.key_hash
    assert key in page and token.key_hash not in page
    # never again
    change = client.get(reverse("admin:contacts_ingesttoken_change", args=[token.id]))
    assert key not in change.content.decode()
    assert token.key_hash not in change.content.decode()
    # revoked with an action, then refused
    client.post(
        reverse("admin:contacts_ingesttoken_changelist"),
        {"action": "revoke", "_selected_action": [token.id]},
    )
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert send([row(1)], key=key).status_code == 401


def test_the_admin_refuses_a_token_for_the_api_source(client, cast):
    client.force_login(cast.admin)
    response = client.post(
        reverse("admin:contacts_ingesttoken_add"), {"name": "Sneaky", "source": "API"}
    )
    assert response.status_code == 200  # the form again, with the error
    assert "kept for contacts people log" in response.content.decode()
    assert not IngestToken.objects.exists()
