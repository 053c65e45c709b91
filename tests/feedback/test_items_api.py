"""The feedback items REST API: who sends, who reads, what each gets back."""

import json

import pytest
from rest_framework.test import APIClient

from contacts.ingest.service import MAX_BATCH, contacts_ingest
from contacts.ingest.tokens import ingest_token_create
from contacts.models import Contact
from feedback.items.rollups import feedback_rollups_differences
from feedback.items.services import feedback_item_record
from feedback.models import FeedbackItem
from tests.factories import CustomerFactory
from voc.core.audit import INGEST
from voc.people.services import api_token_create

pytestmark = pytest.mark.django_db
CARD = "4111 1111 1111 1111"
URL, BULK = "/api/v1/feedback/", "/api/v1/feedback/bulk/"


@pytest.fixture
def admin_api(cast):
    client = APIClient()
    key = api_token_create(user=cast.admin, name="t")[1]
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


@pytest.fixture
def ingest_api(cast, throttle_cache):
    client = APIClient()
    _, key = ingest_token_create(name="survey tool", source="qualtrics", by=cast.admin)
    client.credentials(HTTP_AUTHORIZATION=f"Ingest {key}")
    return client


def test_single_post_creates_201_then_updates_200(admin_api):
    body = {"kind": "nps", "score": 3, "external_id": "q-1", "source": "survey",
            "verbatim": f"charged on {CARD}", "received_at": "2026-11-23T14:05:00Z"}  # fmt: skip
    created = admin_api.post(URL, body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert (data["band"], data["source"], data["verbatim"]) == (
        "negative", "survey", "charged on [card number redacted]",
    )  # fmt: skip
    updated = admin_api.post(URL, {**body, "score": 10}, format="json")
    assert updated.status_code == 200
    assert updated.json()["id"] == data["id"]
    assert updated.json()["band"] == "positive"
    assert FeedbackItem.objects.count() == 1
    assert feedback_rollups_differences() == {}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "nps", "score": 11}, "score"),
        ({"kind": "csat", "score": 0}, "score"),
        ({"kind": "ces"}, "score"),
        ({"kind": "review", "score": 3}, "score"),
        ({"kind": "mood"}, "kind"),
        ({"kind": "nps", "score": "9"}, "score"),
        ({"kind": "nps", "score": 9, "received_at": "yesterday"}, "received_at"),
    ],
)
def test_single_post_refusals_are_400_with_a_message(admin_api, body, field):
    response = admin_api.post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not FeedbackItem.objects.exists()


def test_an_ingest_token_writes_under_its_source_and_links_customers_and_contacts(ingest_api, cast):
    customer = CustomerFactory(external_ref="CRM-9")
    contacts_ingest(
        rows=[{"source": "qualtrics", "external_id": "call-1", "channel": "phone",
               "team": cast.team_a.name, "occurred_at": "2026-11-23T10:00:00Z"}]
    )  # fmt: skip
    response = ingest_api.post(
        URL,
        {"kind": "csat", "score": 4, "external_id": "x", "source": "ignored",
         "customer_ref": "CRM-9", "contact_external_id": "call-1"},
        format="json",
    )  # fmt: skip
    assert response.status_code == 201, response.content
    item = FeedbackItem.objects.get()
    assert item.source == "qualtrics"
    assert (item.customer_id, item.contact_id) == (customer.id, Contact.objects.get().id)
    assert item.team_id == cast.team_a.id
    assert ingest_api.get(URL).status_code == 403  # a token sends; people read


@pytest.mark.parametrize(
    ("role", "single", "bulk"),
    [("rep", 403, 403), ("manager", 403, 403), ("executive", 403, 403), ("admin", 201, 200)],
)
def test_who_may_send(cast, role, single, bulk):
    client = APIClient()
    client.force_authenticate(getattr(cast, role))
    body = {"kind": "complaint", "external_id": "1", "source": "s"}
    assert client.post(URL, body, format="json").status_code == single
    assert client.post(BULK, [{**body, "external_id": "2"}], format="json").status_code == bulk
    assert APIClient().post(URL, body, format="json").status_code == 401


VISIBLE = {
    "rep": {"a"},
    "teammate": {"a"},
    "manager": {"a", "dept-a-topic"},
    "other_manager": {"b"},
    "outsider": {"b"},
    "executive": {"a", "b", "dept-a-topic", "none"},
    "admin": {"a", "b", "dept-a-topic", "none"},
}


@pytest.fixture
def scoped_items(cast):
    from contacts.models import ContactReason

    ContactReason.objects.create(name="Invoices", department=cast.dept_a)
    contacts_ingest(
        rows=[
            {"source": "crm", "external_id": team, "channel": "phone", "team": name,
             "occurred_at": "2026-11-23T10:00:00Z"}
            for team, name in (("a", cast.team_a.name), ("b", cast.team_b.name))
        ]
    )  # fmt: skip
    for key in ("a", "b"):
        contact = Contact.objects.get(external_id=key)
        feedback_item_record(kind="csat", score=5, source="t", external_id=key, contact=contact,
                             by=INGEST)  # fmt: skip
    from contacts.models import ContactReason as Reason

    feedback_item_record(kind="complaint", source="t", external_id="dept-a-topic",
                         reason=Reason.objects.get(name="Invoices"), by=INGEST)  # fmt: skip
    feedback_item_record(kind="review", source="t", external_id="none", by=INGEST)


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_list_and_detail_follow_the_row_scope(cast, scoped_items, role):
    client = APIClient()
    client.force_authenticate(getattr(cast, role))
    listed = client.get(URL, {"limit": 50}).json()["results"]
    assert {row["external_id"] for row in listed} == VISIBLE[role]
    for item in FeedbackItem.objects.all():
        status = client.get(f"{URL}{item.id}/").status_code
        assert status == (200 if item.external_id in VISIBLE[role] else 404)


def test_list_filters(cast, scoped_items):
    client = APIClient()
    client.force_authenticate(cast.admin)
    contact = Contact.objects.get(external_id="a")
    assert [r["external_id"] for r in client.get(URL, {"kind": "review"}).json()["results"]] == [
        "none"
    ]
    by_contact = client.get(URL, {"contact": contact.id}).json()["results"]
    assert [r["external_id"] for r in by_contact] == ["a"]
    assert client.get(URL, {"since": "2100-01-01T00:00:00Z"}).json()["results"] == []
    assert client.get(URL, {"kind": "nope"}).status_code == 400
    assert client.get(URL, {"customer": ""}).status_code == 400


def test_bulk_reports_bad_rows_with_index_and_keeps_the_good(admin_api):
    rows = [
        {"source": "s", "external_id": "1", "kind": "nps", "score": 9, "verbatim": f"my {CARD}"},
        {"source": "s", "external_id": "2", "kind": "nps", "score": 12},
        {"source": "s", "kind": "nps", "score": 1},
        {"source": "s", "external_id": "4", "kind": "csat", "score": 4, "colour": "red"},
        {"source": "s", "external_id": "5", "kind": "ces", "score": 7},
    ]
    response = admin_api.post(BULK, rows, format="json")
    assert response.status_code == 200
    assert response.json() == {
        "created": 2, "updated": 0, "unchanged": 0, "rejected": 3,
        "errors": [
            {"index": 1, "field": "score", "reason": "Give a score from 0 to 10."},
            {"index": 2, "field": "external_id", "reason": "is required"},
            {"index": 3, "field": "colour",
             "reason": "is not a feedback field (see docs/feedback-items.md)"},
        ],
    }  # fmt: skip
    assert FeedbackItem.objects.get(external_id="1").verbatim == "my [card number redacted]"
    again = admin_api.post(BULK, rows, format="json").json()
    assert (again["created"], again["unchanged"]) == (0, 2)


def test_bulk_ndjson_reports_lines(admin_api):
    body = b'{"source":"s","external_id":"1","kind":"compliment"}\n\nnot json\n'
    response = admin_api.generic("POST", BULK, body, content_type="application/x-ndjson")
    assert response.status_code == 200
    assert response.json()["errors"] == [
        {"index": 1, "line": 3, "field": "row", "reason": "is not valid JSON"}
    ]


def test_bulk_limits_are_4xx(admin_api):
    too_many = [
        {"source": "s", "external_id": str(n), "kind": "review"} for n in range(MAX_BATCH + 1)
    ]
    assert admin_api.post(BULK, too_many, format="json").status_code == 413
    assert admin_api.post(BULK, [], format="json").status_code == 400
    assert admin_api.post(BULK, {"a": 1}, format="json").status_code == 400
    assert admin_api.generic("POST", BULK, "x", content_type="text/plain").status_code == 415
    assert admin_api.generic("POST", BULK, b"[", content_type="application/json").status_code == 400
    assert json.loads(admin_api.get(BULK).content)  # 405 in JSON, not a page


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "nps", "score": 9, "customer_ref": "unknown"}, "customer_ref"),
        ({"kind": "nps", "score": 9, "customer_email": "no@example.com"}, "customer_email"),
        ({"kind": "nps", "score": 9, "contact_external_id": "c-0"}, "contact_external_id"),
        ({"kind": "nps", "score": 9, "reason": "Not › There"}, "reason"),
    ],
)
def test_naming_what_is_not_stored_is_a_409_with_a_message(admin_api, body, field):
    response = admin_api.post(URL, body, format="json")
    assert response.status_code == 409, response.content
    assert field in response.json()
