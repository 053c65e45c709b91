"""Customers outside the viewer's scope (docs/access.md): partial matches never show them; an
exact ref, email or phone shows a minimal card (name and ref) and records the lookup; the
whole record follows the viewer's own contact; customers/create never says one exists."""

from datetime import UTC, datetime, timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from contacts.erasure.services import customer_erase
from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason, Customer
from contacts.selectors import CUSTOMER_CARD_PICKABLE, CUSTOMER_LOOKUP
from tests.factories import UserFactory
from voc.core.models import AuditEntry
from voc.people.roles import Role

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
ANN = {"ref": "CRM-B-100", "email": "ann.byrne@example.com", "phone": "+12025550143"}
SECRET_WORDS = "my router password is hunter2"  # Ann's message: never on a card

# Who sees Ann (team B, an outage reason of department B) and Bob (team A, billing of
# department A). `deputy` is a manager in department A who does not head it.
SEES_ANN = {"outsider", "other_manager", "executive", "admin"}
SEES_BOB = {"rep", "teammate", "manager", "deputy", "executive", "admin"}
ROLES = ["rep", "teammate", "outsider", "manager", "deputy", "other_manager", "executive", "admin"]


@pytest.fixture
def world(cast):
    cast.deputy = UserFactory(username="deputy", role=Role.MANAGER, department=cast.dept_a)
    ContactReason.objects.create(name="Outage", department=cast.dept_b)
    ContactReason.objects.create(name="Billing", department=cast.dept_a)
    rows = [
        {"external_id": "ann-1", "team": cast.team_b.name, "reason": "Outage",
         "customer_ref": ANN["ref"], "customer_name": "Ann Byrne",
         "customer_email": ANN["email"], "customer_phone": ANN["phone"],
         "subject": "Router down", "text": SECRET_WORDS},
        {"external_id": "bob-1", "team": cast.team_a.name, "reason": "Billing",
         "customer_ref": "CRM-A-200", "customer_name": "Bob Annan",
         "customer_email": "bob@example.com", "customer_phone": "+12025550177",
         "text": "Charged twice"},
    ]  # fmt: skip
    for row in rows:
        row.update(source="scope", channel="phone", occurred_at=T0.isoformat())
    result = contacts_ingest(rows=rows)
    assert not result.rejected, result.rejected
    cast.ann = Customer.objects.get(external_ref=ANN["ref"])
    cast.bob = Customer.objects.get(external_ref="CRM-A-200")
    return cast


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def lookups():
    return list(
        AuditEntry.objects.filter(action=CUSTOMER_LOOKUP)
        .order_by("id")
        .values("actor__username", "target_type", "target_id", "customer_id", "changes")
    )


def customer_page(client, q: str, **params):
    response = client.get(reverse("contacts:customer-search"), {"q": q, **params})
    assert response.status_code == 200
    return response


# --- partial matches: the viewer's scope only --------------------------------------------


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("query", ["Ann", "ann.byrne@", "example.com", "555-0143", "Byrne"])
def test_partial_matches_list_customers_in_scope_only(client, world, role, query):
    user = getattr(world, role)
    client.force_login(user)
    listed = {c.external_ref for c in customer_page(client, query).context["results"]}
    picked = {c.external_ref for c in customer_page(client, query, pick="1").context["results"]}
    search = client.get(reverse("contacts:message-search"), {"q": query})
    found = {c.external_ref for c in search.context["customers"]}
    expected_ann = role in SEES_ANN
    assert (ANN["ref"] in listed, ANN["ref"] in found) == (expected_ann, expected_ann)
    if role in ("rep", "manager", "deputy", "admin"):  # may log: the picker too
        assert (ANN["ref"] in picked) == expected_ann
    for response in (customer_page(client, query), search):
        assert not response.context.get("cards") and not response.context.get("customer_cards")
    assert lookups() == []  # a partial match records nothing


@pytest.mark.parametrize("role", ROLES)
def test_the_api_list_holds_customers_in_scope_only(world, role):
    response = api(getattr(world, role)).get(reverse("api-customer-list"), {"limit": 100})
    refs = {item["external_ref"] for item in response.json()["results"]}
    assert refs == {
        ref for ref, seen in ((ANN["ref"], SEES_ANN), ("CRM-A-200", SEES_BOB)) if role in seen
    }


# --- exact matches outside the scope: a card, recorded ---------------------------------------

EXACT = [
    ("crm-b-100", "external_ref"),  # any case
    ("ANN.BYRNE@EXAMPLE.COM", "email"),
    ("(202) 555-0143", "phone"),  # national format: the stored number is E.164
    ("+1 202 555 0143", "phone"),
]


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("query", "matched"), EXACT)
def test_an_exact_match_outside_the_scope_is_a_minimal_card(client, world, role, query, matched):
    user = getattr(world, role)
    client.force_login(user)
    response = customer_page(client, query)
    html = response.content.decode()
    ann_detail = reverse("contacts:customer-detail", args=[world.ann.id])
    if role in SEES_ANN:  # the whole record, as before, and nothing recorded
        assert [c.external_ref for c in response.context["results"]] == [ANN["ref"]]
        assert response.context["cards"] == []
        assert ann_detail in html
        assert lookups() == []
        return
    assert list(response.context["results"]) == []
    card = response.context["cards"]
    assert [(c.id, c.name, c.external_ref, c.matched) for c in card] == [
        (world.ann.id, "Ann Byrne", ANN["ref"], matched)
    ]
    assert "Ann Byrne" in html and ANN["ref"] in html
    assert ann_detail not in html  # no way into the record
    assert SECRET_WORDS not in html and "Router down" not in html
    # No email or phone number beyond what was typed.
    for field, value in (("email", ANN["email"]), ("phone", ANN["phone"])):
        if field != matched:
            assert value not in html and value.lower() not in html.lower()
    assert lookups() == [
        {
            "actor__username": user.username,
            "target_type": "contacts.customer",
            "target_id": world.ann.id,
            "customer_id": world.ann.id,
            "changes": {"matched": matched, "typed": query, "via": "customer-search"},
        }
    ]


@pytest.mark.parametrize("role", ROLES)
def test_the_search_page_shows_the_card_and_records_it(client, world, role):
    user = getattr(world, role)
    client.force_login(user)
    response = client.get(reverse("contacts:message-search"), {"q": ANN["email"]})
    assert response.status_code == 200
    cards = [(c.id, c.external_ref) for c in response.context["customer_cards"]]
    assert cards == ([] if role in SEES_ANN else [(world.ann.id, ANN["ref"])])
    assert SECRET_WORDS not in response.content.decode() or role in SEES_ANN
    expected = [] if role in SEES_ANN else [(user.username, {"matched": "email",
                                                               "typed": ANN["email"],
                                                               "via": "search"})]  # fmt: skip
    assert [(e["actor__username"], e["changes"]) for e in lookups()] == expected


def test_a_near_miss_is_no_match(client, world):
    client.force_login(world.rep)
    for query in ("CRM-B-10", "CRM-B-1000", "ann.byrne@example.co", "(202) 555-014", "Ann Byrne"):
        assert customer_page(client, query).context["cards"] == [], query
    assert lookups() == []


def test_a_ref_that_reads_like_a_vanity_number_is_no_phone_match(client, world):
    """Letters are not read as a keypad's digits: "CUST-0001234" would parse as +10001234."""
    Customer.objects.filter(id=world.ann.id).update(phone="+10001234")
    client.force_login(world.rep)
    assert customer_page(client, "CUST-0001234").context["cards"] == []
    assert lookups() == []


def test_erased_and_merged_customers_give_no_card(client, world):
    Customer.objects.create(name="Dup", external_ref="CRM-DUP", merged_into=world.ann)
    client.force_login(world.rep)
    assert customer_page(client, "CRM-DUP").context["cards"] == []
    customer_erase(customer=world.ann, by=world.admin)
    assert customer_page(client, "ANN.BYRNE@example.com").context["cards"] == []
    assert customer_page(client, ANN["ref"]).context["cards"] == []
    assert lookups() == []


@pytest.mark.parametrize("role", ROLES)
def test_the_api_lookup_gives_cards_and_records_those_outside_the_scope(world, role):
    user = getattr(world, role)
    response = api(user).get(reverse("api-customer-lookup"), {"q": ANN["ref"].lower()})
    assert response.status_code == 200, response.content
    card = {"id": world.ann.id, "name": "Ann Byrne", "external_ref": ANN["ref"],
            "matched": "external_ref", "in_scope": role in SEES_ANN}  # fmt: skip
    assert response.json() == {"results": [card]}
    assert ANN["email"] not in response.content.decode()
    expected = [] if role in SEES_ANN else [(user.username, world.ann.id, {
        "matched": "external_ref", "typed": ANN["ref"].lower(), "via": "api"})]  # fmt: skip
    assert [(e["actor__username"], e["target_id"], e["changes"]) for e in lookups()] == expected


def test_the_api_lookup_needs_a_query_and_a_login(world):
    assert api(world.rep).get(reverse("api-customer-lookup")).status_code == 400
    assert api(world.rep).get(reverse("api-customer-lookup"), {"q": " "}).status_code == 400
    assert APIClient().get(reverse("api-customer-lookup"), {"q": "x"}).status_code == 401
    assert api(world.rep).get(reverse("api-customer-lookup"), {"q": "nobody"}).json() == {
        "results": []
    }


def test_a_card_in_a_customers_history_keeps_who_and_what_until_erasure(client, world):
    client.force_login(world.rep)
    customer_page(client, ANN["email"])
    client.force_login(world.admin)
    page = client.get(reverse("contacts:customer-detail", args=[world.ann.id]))
    assert "found the customer by an exact match" in page.content.decode()
    customer_erase(customer=world.ann, by=world.admin)
    entry = AuditEntry.objects.get(action=CUSTOMER_LOOKUP)
    assert entry.actor_name == "rep"
    assert ANN["email"] not in str(entry.changes)  # what was typed is the customer's data


# --- the whole record follows the rep's own contact ---------------------------------------


def log_form(**fields) -> dict:
    return {
        "channel": "phone",
        "direction": "inbound",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "subject": "Calling about the outage",
        **fields,
    }


def test_a_rep_logs_a_contact_from_the_card_and_then_sees_the_record(client, world):
    client.force_login(world.rep)
    detail = reverse("contacts:customer-detail", args=[world.ann.id])
    assert client.get(detail).status_code == 404
    picker = customer_page(client, ANN["ref"], pick="1")
    assert [c.id for c in picker.context["cards"]] == [world.ann.id]
    assert f'value="{world.ann.id}"' in picker.content.decode()
    # The log form offers the card (name and ref only) ...
    form = client.get(reverse("contacts:contact-log"), {"customer": world.ann.id})
    assert form.context["chosen_customer"].name == "Ann Byrne"
    assert ANN["email"] not in form.content.decode()
    # ... and takes it.
    response = client.post(reverse("contacts:contact-log"), log_form(customer=world.ann.id))
    assert response.status_code == 302, response.content
    contact = Contact.objects.get(source="voc")
    assert (contact.customer_id, contact.team_id) == (world.ann.id, world.team_a.id)
    page = client.get(detail)
    assert page.status_code == 200
    html = page.content.decode()
    assert ANN["email"] in html and ANN["phone"] in html  # the whole record now
    # The teammate sees Ann too now (a contact of their team); the outsider's view is unchanged.
    client.force_login(world.teammate)
    assert client.get(detail).status_code == 200


def test_a_rep_cannot_pick_a_customer_they_did_not_find(client, world):
    client.force_login(world.rep)
    form = client.get(reverse("contacts:contact-log"), {"customer": world.ann.id})
    assert form.context["chosen_customer"] is None
    response = client.post(reverse("contacts:contact-log"), log_form(customer=world.ann.id))
    assert response.status_code == 400
    assert "customer" in response.context["form"].errors
    assert not Contact.objects.filter(source="voc").exists()


def test_a_card_can_be_picked_for_a_while_only(client, world):
    client.force_login(world.rep)
    customer_page(client, ANN["ref"])
    AuditEntry.objects.filter(action=CUSTOMER_LOOKUP).update(
        at=timezone.now() - CUSTOMER_CARD_PICKABLE - timedelta(minutes=1)
    )
    response = client.post(reverse("contacts:contact-log"), log_form(customer=world.ann.id))
    assert response.status_code == 400
    # Another rep's lookup is not this rep's either.
    client.force_login(world.teammate)
    customer_page(client, ANN["ref"])
    client.force_login(world.rep)
    response = client.post(reverse("contacts:contact-log"), log_form(customer=world.ann.id))
    assert response.status_code == 400


def test_typing_a_known_email_on_the_log_form_is_recorded_as_a_lookup(client, world):
    client.force_login(world.rep)
    response = client.post(
        reverse("contacts:contact-log"),
        log_form(customer_name="Ann", customer_email=ANN["email"].upper()),
    )
    assert response.status_code == 302, response.content
    assert Contact.objects.get(source="voc").customer_id == world.ann.id
    assert [(e["actor__username"], e["target_id"], e["changes"]) for e in lookups()] == [
        ("rep", world.ann.id, {"matched": "email", "typed": ANN["email"].upper(),
                               "via": "contact.log"})
    ]  # fmt: skip
    assert client.get(reverse("contacts:customer-detail", args=[world.ann.id])).status_code == 200


@pytest.mark.parametrize("role", ["rep", "manager", "deputy"])
def test_logging_a_contact_by_ref_through_the_api_is_recorded_then_reads_the_record(world, role):
    user = getattr(world, role)
    client = api(user)
    detail = reverse("api-customer-detail", args=[world.ann.id])
    assert client.get(detail).status_code == 404
    row = {"external_id": f"call-{role}", "channel": "phone", "customer_ref": ANN["ref"],
           "text": "Is the outage over?"}  # fmt: skip
    if user.team_id is None:
        row["team"] = world.team_a.name
    response = client.post(reverse("api-contact-create"), row, format="json")
    assert response.status_code == 201, response.content
    assert [(e["actor__username"], e["target_id"], e["changes"]) for e in lookups()] == [
        (user.username, world.ann.id, {"matched": "external_ref", "typed": ANN["ref"],
                                       "via": "contact.create"})
    ]  # fmt: skip
    assert client.get(detail).json()["email"] == ANN["email"]


def test_an_ingest_token_or_an_admin_logging_records_no_lookup(world):
    response = api(world.admin).post(
        reverse("api-contact-create"),
        {"external_id": "x", "channel": "phone", "customer_ref": ANN["ref"]},
        format="json",
    )
    assert response.status_code == 201
    assert lookups() == []


# --- customers/create: no answer says a customer outside the scope exists ------------------


def create(user, **data):
    return api(user).post(reverse("api-customer-create"), data, format="json")


@pytest.mark.parametrize("role", ["rep", "teammate", "manager", "deputy"])
@pytest.mark.parametrize(
    "taken",
    [{"external_ref": ANN["ref"]}, {"email": ANN["email"].upper()},
     {"external_ref": "CRM-NEW-1", "email": ANN["email"]}],
)  # fmt: skip
def test_creating_a_customer_known_outside_the_scope_answers_as_for_a_new_one(world, role, taken):
    user = getattr(world, role)
    before = Customer.objects.count()
    known = create(user, name="Ann B", **taken)
    assert Customer.objects.count() == before  # nothing stored, Ann unchanged
    world.ann.refresh_from_db()
    assert (world.ann.name, world.ann.email) == ("Ann Byrne", ANN["email"])
    # A new customer with the same kind of values gets the same kind of answer.
    fresh_values = {
        key: ("CRM-FRESH" if key == "external_ref" else "fresh@example.com") for key in taken
    }
    fresh = create(user, name="Ann B", **fresh_values)
    assert Customer.objects.count() == before + 1
    assert (known.status_code, fresh.status_code) == (202, 202)
    assert known.json() == {"external_ref": taken.get("external_ref"), "name": "Ann B",
                            "email": taken.get("email", ""), "phone": "",
                            "segment": "consumer"}  # fmt: skip
    assert set(known.json()) == set(fresh.json())
    assert known.headers.get("Location") == fresh.headers.get("Location")
    # ... and the match is recorded.
    matched = "external_ref" if taken.get("external_ref") == ANN["ref"] else "email"
    entries = [
        (e["actor__username"], e["target_id"], e["changes"]["matched"], e["changes"]["via"])
        for e in lookups()
    ]
    assert entries == [(user.username, world.ann.id, matched, "customer.create")]


@pytest.mark.parametrize("role", ["rep", "manager", "deputy"])
def test_a_duplicate_in_the_scope_is_still_a_409(world, role):
    response = create(getattr(world, role), name="Bob again", external_ref="CRM-A-200")
    assert response.status_code == 409
    assert response.json() == {
        "external_ref": ["A customer with this external ref already exists."]
    }
    assert lookups() == []


@pytest.mark.parametrize("role", ["outsider", "other_manager"])
def test_ann_is_a_409_for_those_who_see_her(world, role):
    response = create(getattr(world, role), external_ref=ANN["ref"])
    assert response.status_code == 409


def test_an_admin_still_gets_201_and_409(world):
    assert create(world.admin, external_ref=ANN["ref"]).status_code == 409
    response = create(world.admin, external_ref="CRM-ADMIN", name="New")
    assert response.status_code == 201
    assert response.json()["id"] == Customer.objects.get(external_ref="CRM-ADMIN").id


def test_an_erased_identity_is_not_revealed_to_a_rep(world):
    customer_erase(customer=world.ann, by=world.admin)
    before = Customer.objects.count()
    response = create(world.rep, name="Ann", email=ANN["email"])
    assert response.status_code == 202
    assert Customer.objects.count() == before
    assert create(world.admin, email=ANN["email"]).status_code == 409


def test_changing_a_customer_to_the_email_of_one_outside_the_scope_is_refused_and_recorded(
    world,
):
    response = api(world.rep).post(
        reverse("api-customer-update", args=[world.bob.id]), {"email": ANN["email"]}, format="json"
    )
    assert response.status_code == 409
    assert response.json() == {
        "email": ["This belongs to another customer; ask a manager to merge them."]
    }
    world.bob.refresh_from_db()
    assert world.bob.email == "bob@example.com"
    assert [(e["actor__username"], e["target_id"], e["changes"]) for e in lookups()] == [
        ("rep", world.ann.id, {"matched": "email", "typed": ANN["email"],
                               "via": "customer.update"})
    ]  # fmt: skip
