"""The contacts REST API: customers, contacts, messages and reasons, per role and row scope.

Bulk ingest and ingest tokens are in test_bulk_api.py; who may call each route at all is in
tests/test_role_matrix.py.
"""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason, ContactRollup, Customer, Message
from contacts.redaction import contains_card_number
from contacts.rollups import rollups_rebuild
from contacts.services.reasons import reason_retire
from tests.contacts.rollup_checks import assert_rollups_match_rebuild
from voc.core.audit import SWEEP

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
VISA = "4111 1111 1111 1111"
XSS = ['<script>alert("x")</script>', "<img src=x onerror=alert(1)>", '"><svg onload=alert(1)>']


@pytest.fixture
def world(cast):
    """A billing reason (department A) with a contact of team A, and an outage reason
    (department B) with a contact of team B, each with a customer and a message."""
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a)
    cast.double = ContactReason.objects.create(
        name="Double charge", parent=billing, department=cast.dept_a
    )
    cast.outage = ContactReason.objects.create(name="Outage", department=cast.dept_b)
    contacts_ingest(
        rows=[
            row("a-1", team=cast.team_a.name, reason="Billing › Double charge",
                customer_ref="CRM-A", customer_name="Ann Able"),
            row("b-1", team=cast.team_b.name, reason="Outage", customer_ref="CRM-B",
                customer_name="Bob Baker", channel="chat"),
        ]
    )  # fmt: skip
    cast.contact_a = Contact.objects.get(external_id="a-1")
    cast.contact_b = Contact.objects.get(external_id="b-1")
    return cast


def row(external_id: str, **fields) -> dict:
    return {
        "source": "genesys",
        "external_id": external_id,
        "channel": "phone",
        "occurred_at": T0.isoformat(),
        "text": f"About {external_id}",
        **fields,
    }


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_login(user)
    return client


def post(user, name, data=None, **kwargs):
    return client_for(user).post(reverse(name, kwargs=kwargs or None), data, format="json")


def get(user, name, params=None, **kwargs):
    return client_for(user).get(reverse(name, kwargs=kwargs or None), params)


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["results"]}


# --- customers ---------------------------------------------------------------------------


def test_customers_are_listed_within_the_callers_scope(world):
    a, b = world.contact_a.customer_id, world.contact_b.customer_id
    assert ids(get(world.rep, "api-customer-list")) == {a}
    assert ids(get(world.manager, "api-customer-list")) == {a}
    assert ids(get(world.outsider, "api-customer-list")) == {b}
    assert ids(get(world.executive, "api-customer-list")) == {a, b}
    assert ids(get(world.admin, "api-customer-list", {"external_ref": "CRM-B"})) == {b}
    assert ids(get(world.admin, "api-customer-list", {"email": "NOBODY@X.COM"})) == set()


def test_a_customer_outside_the_scope_is_not_found(world):
    customer_b = world.contact_b.customer_id
    assert get(world.rep, "api-customer-detail", customer_id=customer_b).status_code == 404
    response = get(world.executive, "api-customer-detail", customer_id=customer_b)
    assert response.status_code == 200
    assert response.json()["external_ref"] == "CRM-B"


def test_creating_a_customer_redacts_text_and_normalises_the_phone(world):
    response = post(
        world.rep,
        "api-customer-create",
        {"name": f"Card {VISA} holder", "phone": "(202) 555-0143", "email": "Ann@Example.com",
         "external_ref": " CRM-NEW ", "segment": "small_business"},
    )  # fmt: skip
    # A rep is answered 202 with the stored values and no id (docs/access.md).
    assert response.status_code == 202, response.content
    assert response.json() == {
        "external_ref": "CRM-NEW",
        "name": "Card [card number redacted] holder",
        "email": "Ann@Example.com",
        "phone": "+12025550143",
        "segment": "small_business",
    }
    customer = Customer.objects.get(external_ref="CRM-NEW")
    assert customer.name == "Card [card number redacted] holder"
    assert customer.phone == "+12025550143"
    assert (customer.external_ref, customer.email) == ("CRM-NEW", "Ann@Example.com")
    assert customer.segment == "small_business"
    assert VISA not in response.content.decode()


def test_a_duplicate_ref_or_email_is_refused_with_a_message(world):
    post(world.admin, "api-customer-create", {"external_ref": "CRM-9", "email": "ann@example.com"})
    response = post(world.admin, "api-customer-create", {"external_ref": "CRM-9"})
    assert response.status_code == 409
    assert response.json() == {
        "external_ref": ["A customer with this external ref already exists."]
    }
    response = post(world.admin, "api-customer-create", {"email": "ANN@EXAMPLE.COM"})
    assert response.status_code == 409
    assert "already exists" in response.json()["email"][0]
    assert Customer.objects.filter(email__iexact="ann@example.com").count() == 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"phone": "12"}, "phone"),
        ({"phone": VISA}, "phone"),  # a card number is never a phone number, nor stored
        ({"email": "not an email"}, "email"),
        ({"segment": "galactic"}, "segment"),
        ({"name": 42}, "name"),
        ({"name": "nul\x00"}, "name"),
        # 180 characters typed, 204 once each card is a placeholder: too long for a name
        ({"name": " or ".join([VISA] * 8)}, "name"),
    ],
)
def test_bad_customer_fields_are_a_400_naming_the_field(world, data, field):
    before = Customer.objects.count()
    response = post(world.rep, "api-customer-create", data)
    assert response.status_code == 400
    assert list(response.json()) == [field]
    assert Customer.objects.count() == before
    assert "4111" not in response.content.decode()


def test_executives_read_customers_but_never_write(world):
    assert post(world.executive, "api-customer-create", {"name": "X"}).status_code == 403
    customer_a = world.contact_a.customer_id
    response = post(world.executive, "api-customer-update", {"name": "X"}, customer_id=customer_a)
    assert response.status_code == 403


def test_a_customer_is_updated_field_by_field_within_the_scope(world):
    customer_a = world.contact_a.customer_id
    response = post(
        world.rep, "api-customer-update", {"segment": "enterprise"}, customer_id=customer_a
    )
    assert response.status_code == 200
    customer = Customer.objects.get(id=customer_a)
    assert (customer.segment, customer.name, customer.external_ref) == (
        "enterprise", "Ann Able", "CRM-A",
    )  # fmt: skip
    customer_b = world.contact_b.customer_id
    response = post(world.rep, "api-customer-update", {"name": "Mine"}, customer_id=customer_b)
    assert response.status_code == 404
    assert Customer.objects.get(id=customer_b).name == "Bob Baker"
    # Another customer's ref is refused; null removes the email.
    assert (
        post(world.admin, "api-customer-update", {"external_ref": "CRM-B"}, customer_id=customer_a)
    ).status_code == 409
    post(world.admin, "api-customer-update", {"email": "a@x.com"}, customer_id=customer_a)
    post(world.admin, "api-customer-update", {"email": None}, customer_id=customer_a)
    assert Customer.objects.get(id=customer_a).email == ""


# --- contacts ----------------------------------------------------------------------------


def test_contacts_are_listed_within_the_scope_newest_first(world):
    a, b = world.contact_a.id, world.contact_b.id
    assert ids(get(world.rep, "api-contact-list")) == {a}
    assert ids(get(world.manager, "api-contact-list")) == {a}
    assert ids(get(world.other_manager, "api-contact-list")) == {b}
    response = get(world.executive, "api-contact-list")
    assert [item["id"] for item in response.json()["results"]] == [b, a]  # same time: id desc
    first = response.json()["results"][1]
    assert first["reason_path"] == "Billing › Double charge"
    assert first["customer"] == world.contact_a.customer_id


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"channel": "chat"}, {"b"}),
        ({"reason": "parent"}, {"a"}),  # a parent reason takes in its children
        ({"reason": "outage"}, {"b"}),
        ({"team": "team_a"}, {"a"}),
        ({"customer": "customer_b"}, {"b"}),
        ({"source": "genesys"}, {"a", "b"}),
        ({"occurred_after": "2026-11-02T09:30:00Z"}, {"a", "b"}),
        ({"occurred_after": "2026-11-02T10:30:01+01:00"}, set()),
        ({"occurred_before": "2026-11-02T09:30:01Z"}, {"a", "b"}),
        ({"occurred_before": "0001-01-01T00:00:00+05:00"}, set()),  # past the calendar's start
        ({"reason": "999999999"}, set()),
    ],
)
def test_contacts_are_filtered(world, params, expected):
    values = {
        "parent": world.double.parent_id, "outage": world.outage.id, "team_a": world.team_a.id,
        "customer_b": world.contact_b.customer_id,
    }  # fmt: skip
    params = {key: values.get(value, value) for key, value in params.items()}
    by_letter = {"a": world.contact_a.id, "b": world.contact_b.id}
    assert ids(get(world.admin, "api-contact-list", params)) == {by_letter[x] for x in expected}


@pytest.mark.parametrize(
    "params",
    [{"channel": "fax"}, {"occurred_after": "yesterday"}, {"source": ""}, {"team": "a"},
     {"limit": "-1"}, {"source": "\x00"}],
)  # fmt: skip
def test_malformed_filters_are_a_400(world, params):
    assert get(world.admin, "api-contact-list", params).status_code == 400


def test_the_contact_list_reads_a_page_in_a_fixed_number_of_queries(world):
    """Prevents an N+1 over reasons (their path needs the parent) and customers."""

    def queries_for_page() -> int:
        client = client_for(world.manager)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("api-contact-list")).status_code == 200
        return len(captured)

    few = queries_for_page()
    contacts_ingest(
        rows=[
            row(f"more-{n}", team=world.team_a.name, reason="Billing › Double charge",
                customer_ref=f"CRM-{n}")
            for n in range(30)
        ]
    )  # fmt: skip
    assert queries_for_page() == few


def test_the_customer_and_reason_lists_read_a_page_in_a_fixed_number_of_queries(
    world, django_assert_max_num_queries
):
    for n in range(30):
        ContactReason.objects.create(name=f"Child {n}", parent=world.outage)
    contacts_ingest(rows=[row(f"c-{n}", customer_ref=f"CRM-{n}") for n in range(30)])
    client = client_for(world.admin)
    # session, user, count, page (the reasons' parents joined)
    with django_assert_max_num_queries(4):
        assert client.get(reverse("api-reason-list")).json()["count"] == 33
    with django_assert_max_num_queries(4):
        assert client.get(reverse("api-customer-list")).json()["count"] == 32


def test_a_contact_shows_its_customer_and_messages_within_the_scope(world):
    response = get(world.rep, "api-contact-detail", contact_id=world.contact_a.id)
    assert response.status_code == 200
    body = response.json()
    assert body["customer_detail"]["name"] == "Ann Able"
    assert [m["text"] for m in body["messages"]] == ["About a-1"]
    assert get(world.rep, "api-contact-detail", contact_id=world.contact_b.id).status_code == 404
    assert (
        get(world.manager, "api-contact-detail", contact_id=world.contact_b.id).status_code == 404
    )


def test_a_rep_logs_a_contact_for_their_team_under_the_api_source(world):
    data = {"external_id": "web-1", "channel": "web_form", "text": "Where is my refund?",
            "reason": "billing › double charge", "tags": ["Refund", " refund "]}  # fmt: skip
    response = post(world.rep, "api-contact-create", data)
    assert response.status_code == 201, response.content
    contact = Contact.objects.get(id=response.json()["id"])
    assert (contact.source, contact.external_id) == ("api", "web-1")
    assert (contact.team, contact.rep, contact.reason) == (world.team_a, world.rep, world.double)
    assert contact.tags == ["refund"]
    assert response.json()["messages"][0]["text"] == "Where is my refund?"
    # Sending it again is idempotent: unchanged, then updated when something differs.
    assert post(world.rep, "api-contact-create", data).status_code == 200
    response = post(world.rep, "api-contact-create", {**data, "road": 3})
    assert response.status_code == 200
    assert Contact.objects.get(id=contact.id).road == 3
    assert Contact.objects.filter(external_id="web-1").count() == 1
    assert_rollups_match_rebuild()


def test_reps_and_managers_log_contacts_only_for_teams_in_their_scope(world):
    data = {"external_id": "x-1", "channel": "phone", "team": world.team_b.name}
    response = post(world.rep, "api-contact-create", data)
    assert response.status_code == 400
    assert "own teams" in response.json()["team"][0]
    assert post(world.manager, "api-contact-create", data).status_code == 400
    response = post(world.manager, "api-contact-create", {**data, "team": world.team_a.name})
    assert response.status_code == 201
    assert (
        post(world.admin, "api-contact-create", {**data, "external_id": "x-2"}).status_code == 201
    )
    assert not Contact.objects.filter(external_id="x-1", team=world.team_b).exists()


def test_a_rep_cannot_overwrite_another_teams_contact_by_its_external_id(world):
    post(world.admin, "api-contact-create", {"external_id": "shared", "channel": "phone",
                                             "team": world.team_b.name, "notes": "theirs"})  # fmt: skip
    response = post(world.rep, "api-contact-create", {"external_id": "shared", "channel": "chat"})
    assert response.status_code == 409
    contact = Contact.objects.get(source="api", external_id="shared")
    assert (contact.channel, contact.notes, contact.team) == ("phone", "theirs", world.team_b)


@pytest.mark.parametrize(
    ("data", "status", "field"),
    [
        ({"external_id": "r-1", "channel": "phone", "reason": "No such reason"}, 409, "reason"),
        ({"external_id": "r-1", "channel": "phone", "rep": "nobody"}, 409, "rep"),
        ({"external_id": "r-1", "channel": "phone", "customer_phone": "12"}, 400, "customer_phone"),
        ({"external_id": "r-1", "channel": "fax"}, 400, "channel"),
        ({"channel": "phone"}, 400, "external_id"),
        ({"external_id": "  ", "channel": "phone"}, 400, "external_id"),
        ({"external_id": "r-1", "channel": "phone", "road": 5}, 400, "road"),
        ({"external_id": "r-1", "channel": "phone", "road": "2"}, 400, "road"),
        ({"external_id": "r-1", "channel": "phone", "occurred_at": "0001-01-01T00:00:00Z"},
         400, "occurred_at"),
        ({"external_id": "r-1", "channel": "phone", "occurred_at": "2026-02-30T00:00:00Z"},
         400, "occurred_at"),
        ({"external_id": "r-1", "channel": "phone", "text": "a", "messages": [{"text": "b"}]},
         400, "text"),
        ({"external_id": "r-1", "channel": "phone", "messages": [{"text": "  "}]},
         400, "messages[0].text"),
        ({"external_id": "r-1", "channel": "phone", "tags": ["ok", 5]}, 400, "tags[1]"),
    ],
)  # fmt: skip
def test_a_contact_that_cannot_be_logged_is_refused_with_its_field(world, data, status, field):
    response = post(world.rep, "api-contact-create", data)
    assert response.status_code == status, response.content
    assert field in response.json()
    assert not Contact.objects.filter(source="api").exists()


def test_card_numbers_in_any_field_never_reach_the_database_or_the_response(world):
    card = "4111-1111-1111-1111"
    response = post(
        world.rep,
        "api-contact-create",
        {"external_id": f"id {card}", "channel": "email", "customer_ref": f"ref {card}",
         "customer_name": f"name {card}", "subject": f"subj {card}", "notes": f"notes {card}",
         "tags": [f"tag {card}"],
         "messages": [{"text": f"my card is {card}", "author": f"by {card}",
                       "external_id": f"m {card}"}]},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    for key, value in response.json().items():
        assert not contains_card_number(json.dumps(value)), (key, value)
    assert not contains_card_number(response.content.decode())
    contact = Contact.objects.get(id=response.json()["id"])
    message = post(world.rep, "api-message-create", {"text": f"again {card}"},
                   contact_id=contact.id)  # fmt: skip
    assert not contains_card_number(message.content.decode())
    update = post(world.rep, "api-contact-update", {"notes": f"note {card}", "tags": [card]},
                  contact_id=contact.id)  # fmt: skip
    assert not contains_card_number(update.content.decode())
    with connection.cursor() as cursor:
        for table in ("contacts_contact", "contacts_message", "contacts_customer"):
            cursor.execute(f"SELECT * FROM {table}")  # noqa: S608
            for stored in cursor.fetchall():
                assert not contains_card_number(json.dumps(stored, default=str)), table


def test_hostile_text_is_stored_as_written_and_returned_as_json(world):
    for n, vector in enumerate(XSS):
        response = post(world.rep, "api-contact-create",
                        {"external_id": f"xss-{n}", "channel": "chat", "notes": vector,
                         "text": vector, "customer_ref": f"XSS-{n}", "customer_name": vector})  # fmt: skip
        assert response.status_code == 201
        assert response["Content-Type"] == "application/json"
        assert response.json()["notes"] == vector
        assert response.json()["messages"][0]["text"] == vector
        contact = Contact.objects.get(id=response.json()["id"])
        assert contact.notes == vector and contact.customer.name == vector
    listing = get(world.rep, "api-contact-list")
    assert listing["Content-Type"] == "application/json"
    assert {item["notes"] for item in listing.json()["results"]} >= set(XSS)
    # Where the browsable API is on (development), the same text is escaped in its HTML.
    page = client_for(world.rep).get(reverse("api-contact-list"), HTTP_ACCEPT="text/html")
    if page["Content-Type"].startswith("text/html"):
        html = page.content.decode()
        assert "<script>alert(" not in html and "<img src=x" not in html
        assert "&lt;script&gt;alert(" in html


def test_a_contact_update_moves_its_counts_to_the_new_reason(world):
    contact = world.contact_a
    post(world.admin, "api-contact-update", {"handle_seconds": 120}, contact_id=contact.id)
    response = post(world.rep, "api-contact-update",
                    {"reason": world.outage.id, "road": 2, "outcome": "resolved",
                     "first_contact_resolution": True, "notes": f"paid with {VISA}",
                     "tags": ["B", "a", "b"]},
                    contact_id=contact.id)  # fmt: skip
    assert response.status_code == 200, response.content
    contact.refresh_from_db()
    assert (contact.reason, contact.road, contact.outcome) == (world.outage, 2, "resolved")
    assert contact.first_contact_resolution is True
    assert contact.notes == "paid with [card number redacted]"
    assert contact.tags == ["a", "b"]
    assert not ContactRollup.objects.filter(reason_id=world.double.id).exists()
    moved = ContactRollup.objects.get(reason_id=world.outage.id, team_id=world.team_a.id)
    assert (moved.contacts, moved.handle_seconds) == (1, 120)
    assert_rollups_match_rebuild()
    # null clears; unchanged fields stay
    post(world.rep, "api-contact-update", {"road": None, "reason": None}, contact_id=contact.id)
    contact.refresh_from_db()
    assert (contact.road, contact.reason, contact.outcome) == (None, None, "resolved")
    assert_rollups_match_rebuild()


def test_contacts_are_updated_within_the_scope_and_never_by_executives(world):
    a, b = world.contact_a.id, world.contact_b.id
    assert post(world.teammate, "api-contact-update", {"road": 1}, contact_id=a).status_code == 200
    assert post(world.rep, "api-contact-update", {"road": 1}, contact_id=b).status_code == 404
    assert post(world.manager, "api-contact-update", {"road": 1}, contact_id=a).status_code == 200
    assert post(world.manager, "api-contact-update", {"road": 1}, contact_id=b).status_code == 404
    assert post(world.outsider, "api-contact-update", {"road": 4}, contact_id=b).status_code == 200
    assert post(world.executive, "api-contact-update", {"road": 2}, contact_id=a).status_code == 403
    assert post(world.admin, "api-contact-update", {"road": 3}, contact_id=b).status_code == 200
    assert Contact.objects.get(id=a).road == 1
    assert Contact.objects.get(id=b).road == 3


def test_a_contact_cannot_get_a_retired_or_unknown_reason(world):
    reason_retire(reason=world.outage, by=SWEEP)
    for reason_id in (world.outage.id, 987654):
        response = post(world.rep, "api-contact-update", {"reason": reason_id},
                        contact_id=world.contact_a.id)  # fmt: skip
        assert response.status_code == 409
        assert "no active reason" in response.json()["reason"][0]
    assert Contact.objects.get(id=world.contact_a.id).reason == world.double


# --- messages ----------------------------------------------------------------------------


def test_messages_are_listed_in_order_through_their_contact(world):
    for text in ("second", "third"):
        post(world.rep, "api-message-create", {"text": text}, contact_id=world.contact_a.id)
    response = get(world.rep, "api-message-list", {"limit": 2}, contact_id=world.contact_a.id)
    assert response.status_code == 200
    assert response.json()["count"] == 3
    assert [m["text"] for m in response.json()["results"]] == ["About a-1", "second"]
    response = get(world.rep, "api-message-list", {"direction": "outgoing"},
                   contact_id=world.contact_a.id)  # fmt: skip
    assert response.json()["count"] == 0
    assert get(world.rep, "api-message-list", contact_id=world.contact_b.id).status_code == 404


def test_an_appended_message_goes_last_redacted_and_rescores_sentiment(
    world, django_capture_on_commit_callbacks
):
    contact = world.contact_a
    Contact.objects.filter(id=contact.id).update(sentiment=-0.9)
    rollups_rebuild()
    assert ContactRollup.objects.get(reason_id=world.double.id).negative_contacts == 1
    with django_capture_on_commit_callbacks() as callbacks:
        response = post(world.rep, "api-message-create",
                        {"text": f"Card {VISA} ok", "direction": "outgoing", "author": "Rep"},
                        contact_id=contact.id)  # fmt: skip
    assert response.status_code == 201
    # Sentiment is scored again after commit; the rollups changed, so the dashboards' data
    # version moves (voc.core.dataversion).
    assert sorted(callback.__qualname__ for callback in callbacks) == [
        "_store_new_version",
        "enqueue_sentiment_on_commit.<locals>.<lambda>",
    ]
    message = Message.objects.get(id=response.json()["id"])
    assert (message.position, message.external_id, message.direction) == (1, "1", "outgoing")
    assert message.text == "Card [card number redacted] ok"
    assert Contact.objects.get(id=contact.id).sentiment is None
    assert ContactRollup.objects.get(reason_id=world.double.id).negative_contacts == 0
    assert_rollups_match_rebuild()
    response = post(world.rep, "api-message-create", {"text": "dup", "external_id": "1"},
                    contact_id=contact.id)  # fmt: skip
    assert response.status_code == 409


def test_messages_are_appended_only_within_the_scope_and_never_by_executives(world):
    for user, contact, status in [
        (world.rep, world.contact_b, 404),
        (world.manager, world.contact_b, 404),
        (world.executive, world.contact_a, 403),
        (world.outsider, world.contact_b, 201),
        (world.admin, world.contact_a, 201),
    ]:
        response = post(user, "api-message-create", {"text": "hi"}, contact_id=contact.id)
        assert response.status_code == status, user
    assert Message.objects.filter(text="hi").count() == 2


# --- reasons -----------------------------------------------------------------------------


def test_reasons_are_active_ones_unless_retired_ones_are_asked_for(world):
    reason_retire(reason=world.outage, by=SWEEP)
    names = {r["path"] for r in get(world.rep, "api-reason-list").json()["results"]}
    assert names == {"Billing", "Billing › Double charge"}
    response = get(world.rep, "api-reason-list", {"include_retired": "1"})
    assert {r["path"] for r in response.json()["results"]} == names | {"Outage"}
    assert get(world.rep, "api-reason-list", {"include_retired": "maybe"}).status_code == 400
    response = get(world.rep, "api-reason-list", {"parent": world.double.parent_id})
    assert [r["name"] for r in response.json()["results"]] == ["Double charge"]
    assert get(world.rep, "api-reason-detail", reason_id=world.outage.id).json()["active"] is False


def test_admins_maintain_the_taxonomy(world):
    assert post(world.manager, "api-reason-create", {"name": "Roaming"}).status_code == 403
    response = post(world.admin, "api-reason-create",
                    {"name": " Roaming ", "department": world.dept_b.id, "avoidable": True})  # fmt: skip
    assert response.status_code == 201, response.content
    roaming = ContactReason.objects.get(id=response.json()["id"])
    assert (roaming.name, roaming.department, roaming.avoidable) == ("Roaming", world.dept_b, True)
    response = post(world.admin, "api-reason-create", {"name": "Abroad", "parent": roaming.id})
    assert response.json()["path"] == "Roaming › Abroad"
    response = post(world.admin, "api-reason-update",
                    {"department": world.dept_a.id, "avoidable": False}, reason_id=roaming.id)  # fmt: skip
    assert response.status_code == 200
    roaming.refresh_from_db()
    assert (roaming.department, roaming.avoidable, roaming.name) == (world.dept_a, False, "Roaming")


@pytest.mark.parametrize(
    ("data", "status", "field"),
    [
        ({"name": "ROAMING"}, 409, "name"),  # names are unique among siblings in any case
        ({"name": "Bills / refunds"}, 400, "name"),
        ({"name": "  "}, 400, "name"),
        ({"name": "Abroad", "parent": "child"}, 409, "parent"),  # two levels at most
        ({"name": "Abroad", "parent": 987654}, 409, "parent"),
        ({"name": "Abroad", "department": 987654}, 409, "department"),
        ({"name": "Abroad", "avoidable": "yes"}, 400, "avoidable"),
    ],
)
def test_a_reason_that_would_break_the_taxonomy_is_refused(world, data, status, field):
    post(world.admin, "api-reason-create", {"name": "Roaming"})
    if data.get("parent") == "child":
        data = {**data, "parent": world.double.id}
    count = ContactReason.objects.count()
    response = post(world.admin, "api-reason-create", data)
    assert response.status_code == status, response.content
    assert field in response.json()
    assert ContactReason.objects.count() == count


def test_a_reason_with_children_stays_top_level(world):
    billing = world.double.parent
    response = post(world.admin, "api-reason-update", {"parent": world.outage.id},
                    reason_id=billing.id)  # fmt: skip
    assert response.status_code == 409
    response = post(world.admin, "api-reason-update", {"parent": billing.id}, reason_id=billing.id)
    assert response.status_code == 409
    billing.refresh_from_db()
    assert billing.parent is None


def test_time_zone_offsets_are_honoured_in_created_contacts(world):
    response = post(world.admin, "api-contact-create",
                    {"external_id": "tz-1", "channel": "phone",
                     "occurred_at": "2026-11-02T23:30:00-05:00"})  # fmt: skip
    assert response.status_code == 201
    stored = Contact.objects.get(external_id="tz-1").occurred_at
    assert stored == datetime(2026, 11, 3, 4, 30, tzinfo=UTC)
    assert stored - T0 == timedelta(hours=19)
