"""The rep pages: contact list, logging a contact, the contact and customer pages, road
suggestions. Every page is checked for each role, including the outsider."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from contacts.forms import parse_handle_time
from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason, ContactRollup, Customer, CustomerEvent, Message
from contacts.redaction import contains_card_number
from contacts.roads import RoadFacts, suggest_road
from contacts.rollups import rollup_snapshot
from contacts.services.contacts import contact_update
from contacts.views import format_handle_time
from tests.contacts.rollup_checks import assert_rollups_match_rebuild
from tests.factories import CustomerFactory
from voc.core.audit import SWEEP

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
VISA = "4111 1111 1111 1111"
AMEX = "3782-822463-10005"


@pytest.fixture
def reasons(cast):
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a)
    return {
        "billing": billing,
        "double": ContactReason.objects.create(
            name="Double charge", parent=billing, department=cast.dept_a, avoidable=True
        ),
        "refund": ContactReason.objects.create(
            name="Refund", parent=billing, department=cast.dept_a
        ),
        "outage": ContactReason.objects.create(name="Outage", department=cast.dept_b),
    }


def ingest(n: int, **fields) -> Contact:
    row = {
        "source": "test",
        "external_id": f"c-{n}",
        "channel": "phone",
        "occurred_at": (T0 + timedelta(hours=n)).isoformat(),
        **fields,
    }
    result = contacts_ingest(rows=[row])
    assert not result.rejected, result.rejected
    return Contact.objects.get(id=result.written_contact_ids[0])


@pytest.fixture
def contact_a(cast, reasons):
    """A team A contact about a dept A reason: rep, teammate and manager see it."""
    return ingest(
        1,
        team=cast.team_a.name,
        rep=cast.rep.username,
        reason="Billing › Double charge",
        subject="Charged twice for November",
        customer_ref="CRM-A",
        customer_name="Ada Customer",
        text="You charged me twice!",
        tags="billing",
    )


@pytest.fixture
def contact_b(cast, reasons):
    """A team B contact about a dept B reason: outside the rep's and the manager's scope."""
    return ingest(
        2,
        team=cast.team_b.name,
        rep=cast.outsider.username,
        reason="Outage",
        subject="Internet down in Springfield",
        customer_ref="CRM-B",
        customer_name="Bob Outsider-Customer",
        text="No internet since this morning",
    )


def log_form(**fields) -> dict:
    data = {
        "customer": "",
        "channel": "phone",
        "direction": "inbound",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "subject": "A question about the bill",  # a contact says something (see the form)
    }
    data.update(fields)
    return data


# --- access --------------------------------------------------------------------------------


def test_anonymous_users_go_to_the_login_page(client, contact_a):
    login = reverse("login")
    for url in (
        reverse("contacts:contact-list"),
        reverse("contacts:contact-log"),
        reverse("contacts:contact-detail", args=[contact_a.id]),
        reverse("contacts:customer-detail", args=[contact_a.customer_id]),
        reverse("contacts:customer-search"),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(login), url
    response = client.post(reverse("contacts:contact-log"), log_form(customer_words="hello"))
    assert response["Location"].startswith(login)
    assert not Contact.objects.filter(source="voc").exists()


def test_every_role_sees_contacts_in_the_navigation(client, cast):
    for role in ("rep", "manager", "executive", "admin"):
        client.force_login(getattr(cast, role))
        keys = [item["key"] for item in client.get(reverse("home")).context["nav_items"]]
        assert "contacts" in keys, role


def test_the_list_shows_each_role_its_scope(client, cast, reasons, contact_a, contact_b):
    # A team B contact about a dept A reason: the manager (head of dept A) sees it, the rep not.
    dept_a_in_team_b = ingest(
        3, team=cast.team_b.name, reason="Billing › Refund", subject="Refund via Tech Tier 1"
    )
    expected = {
        "rep": {contact_a.subject},
        "teammate": {contact_a.subject},
        "outsider": {contact_b.subject, dept_a_in_team_b.subject},
        "manager": {contact_a.subject, dept_a_in_team_b.subject},
        "other_manager": {contact_b.subject, dept_a_in_team_b.subject},
        "executive": {contact_a.subject, contact_b.subject, dept_a_in_team_b.subject},
        "admin": {contact_a.subject, contact_b.subject, dept_a_in_team_b.subject},
    }
    everything = expected["admin"]
    for role, subjects in expected.items():
        client.force_login(getattr(cast, role))
        page = client.get(reverse("contacts:contact-list")).content.decode()
        shown = {subject for subject in everything if subject in page}
        assert shown == subjects, role


def test_the_list_is_newest_first_and_filters(client, cast, reasons):
    now = timezone.now()
    ingest(1, team=cast.team_a.name, reason="Billing › Double charge", subject="old phone call",
           occurred_at=(now - timedelta(days=40)).isoformat())  # fmt: skip
    ingest(2, team=cast.team_a.name, reason="Billing › Refund", channel="email",
           subject="recent email", occurred_at=(now - timedelta(days=2)).isoformat())  # fmt: skip
    ingest(3, team=cast.team_b.name, reason="Outage", subject="team b chat", channel="chat",
           occurred_at=(now - timedelta(hours=1)).isoformat())  # fmt: skip
    client.force_login(cast.admin)
    url = reverse("contacts:contact-list")

    def subjects(**params) -> list[str]:
        response = client.get(url, params)
        assert response.status_code == 200
        return [contact.subject for contact in response.context["page"]]

    assert subjects() == ["team b chat", "recent email", "old phone call"]
    assert subjects(channel="email") == ["recent email"]
    assert subjects(reason=reasons["billing"].id) == ["recent email", "old phone call"]
    assert subjects(reason=reasons["refund"].id) == ["recent email"]
    assert subjects(team=cast.team_b.id) == ["team b chat"]
    assert subjects(period="30") == ["team b chat", "recent email"]
    assert subjects(period="1", team=cast.team_a.id) == []
    # A bad filter value is reported and ignored rather than failing the page.
    response = client.get(url, {"channel": "carrier-pigeon"})
    assert response.status_code == 200
    assert "carrier-pigeon" not in response.context["form"].cleaned_data.get("channel", "")
    assert response.context["form"].errors["channel"]


def test_a_rep_cannot_filter_by_another_teams_id(client, cast, contact_a, contact_b):
    client.force_login(cast.rep)
    response = client.get(reverse("contacts:contact-list"), {"team": cast.team_b.id})
    assert response.context["form"].errors["team"]
    assert contact_b.subject not in response.content.decode()


def test_the_list_pages_by_50_with_a_fixed_number_of_queries(
    client, cast, reasons, django_assert_max_num_queries
):
    client.force_login(cast.manager)
    url = reverse("contacts:contact-list")

    def count_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    for n in range(3):
        ingest(n, team=cast.team_a.name, reason="Billing › Refund", rep=cast.rep.username,
               customer_ref=f"CRM-{n}", tags="x,y")  # fmt: skip
    few = count_queries()
    contacts_ingest(
        rows=[
            {"source": "test", "external_id": f"bulk-{n}", "channel": "phone",
             "occurred_at": (T0 + timedelta(minutes=n)).isoformat(), "team": cast.team_a.name,
             "reason": "Billing › Double charge", "rep": cast.teammate.username,
             "customer_ref": f"BULK-{n}"}
            for n in range(70)
        ]
    )  # fmt: skip
    # Customers, reasons (and their parents), teams and reps come with the page's one query:
    # the count does not grow with the rows (prevents an N+1 over the related rows).
    assert count_queries() == few
    with django_assert_max_num_queries(12):
        response = client.get(url)
    assert len(response.context["page"].object_list) == 50
    assert response.context["page"].paginator.count == 73
    second = client.get(url, {"page": 2})
    assert len(second.context["page"].object_list) == 23
    assert 'rel="prev"' in second.content.decode()


def test_the_contact_page_is_404_outside_the_scope(client, cast, contact_a, contact_b):
    url = reverse("contacts:contact-detail", args=[contact_b.id])
    for role, status in {
        "rep": 404,
        "manager": 404,
        "outsider": 200,
        "other_manager": 200,
        "executive": 200,
        "admin": 200,
    }.items():
        client.force_login(getattr(cast, role))
        assert client.get(url).status_code == status, role
    client.force_login(cast.rep)
    assert client.get(reverse("contacts:contact-detail", args=[999_999])).status_code == 404


def test_executives_browse_contacts_but_do_not_log_or_edit_them(client, cast, contact_a):
    client.force_login(cast.executive)
    page = client.get(reverse("contacts:contact-detail", args=[contact_a.id]))
    assert page.status_code == 200
    assert 'data-testid="edit-contact"' not in page.content.decode()
    assert (
        'data-testid="log-contact"'
        not in client.get(reverse("contacts:contact-list")).content.decode()
    )
    assert client.get(reverse("contacts:contact-log")).status_code == 403
    assert client.post(reverse("contacts:contact-log"), log_form(notes="x")).status_code == 403
    assert (
        client.post(
            reverse("contacts:contact-edit", args=[contact_a.id]), {"notes": "x"}
        ).status_code
        == 403
    )
    assert client.post(reverse("contacts:road-suggestion"), {}).status_code == 403
    assert Contact.objects.count() == 1
    contact_a.refresh_from_db()
    assert contact_a.notes == "" and contact_a.tags == ["billing"]


# --- logging a contact ---------------------------------------------------------------------


def test_a_rep_logs_a_contact_for_a_new_customer(client, cast, reasons):
    client.force_login(cast.rep)
    assert client.get(reverse("contacts:contact-log")).status_code == 200
    response = client.post(
        reverse("contacts:contact-log"),
        log_form(
            customer_name="Carla Caller",
            customer_email="Carla@Example.com",
            customer_phone="(202) 555-0143",
            channel="chat",
            reason=reasons["double"].id,
            tags="Refund, app , refund",
            subject="Charged twice",
            customer_words="I was charged twice this month.",
            reply="Sorry! I refunded the second charge.",
            notes="Refund issued.",
            handle_time="7:30",
            outcome="resolved",
            first_contact_resolution="yes",
            road="4",
        ),
    )
    contact = Contact.objects.get(source="voc")
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:contact-detail", args=[contact.id])
    assert len(contact.external_id) == 32  # a uuid4 hex
    assert (contact.rep, contact.team, contact.reason) == (cast.rep, cast.team_a, reasons["double"])
    assert (contact.channel, contact.direction, contact.outcome) == ("chat", "inbound", "resolved")
    assert (contact.handle_seconds, contact.first_contact_resolution, contact.road) == (
        450,
        True,
        4,
    )
    assert contact.tags == ["app", "refund"]
    assert contact.customer.name == "Carla Caller"
    assert contact.customer.phone == "+12025550143"
    assert list(contact.messages.values_list("direction", "text")) == [
        ("incoming", "I was charged twice this month."),
        ("outgoing", "Sorry! I refunded the second charge."),
    ]
    # Rollups are kept by the ingest service, as for imports.
    assert ContactRollup.objects.get(reason_id=reasons["double"].id).contacts == 1
    assert_rollups_match_rebuild()
    # The author sees it right away, on its page and in the list.
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert "I was charged twice this month." in page.content.decode()
    assert "Charged twice" in client.get(reverse("contacts:contact-list")).content.decode()


def test_a_card_number_typed_on_the_log_form_never_reaches_the_database(client, cast):
    client.force_login(cast.rep)
    response = client.post(
        reverse("contacts:contact-log"),
        log_form(
            customer_name=f"Dora {VISA}",
            customer_email="dora@example.com",
            subject=f"card {AMEX}",
            tags=f"card {VISA}, ok",
            customer_words=f"My card is {VISA} exp 12/27 cvv 123",
            reply=f"I read back {VISA.replace(' ', '')}",
            notes=f"Customer gave card {AMEX} and SSN 219-09-9999",
        ),
    )
    assert response.status_code == 302
    contact = Contact.objects.get(source="voc")
    stored = [
        contact.subject, contact.notes, *contact.tags,
        *Message.objects.values_list("text", flat=True),
        *Message.objects.values_list("author", flat=True),
        *Customer.objects.values_list("name", flat=True),
    ]  # fmt: skip
    assert not any(contains_card_number(text) for text in stored), stored
    assert not any("219-09-9999" in text or "123" in text for text in stored)
    assert "[card number redacted]" in contact.notes
    assert "[security code redacted]" in contact.messages.get(position=0).text


def test_a_contact_logged_for_an_existing_customer_joins_their_history(client, cast, contact_a):
    client.force_login(cast.rep)
    form = client.get(reverse("contacts:contact-log"), {"customer": contact_a.customer_id})
    assert "Ada Customer" in form.content.decode()  # the chosen customer is pre-selected
    response = client.post(
        reverse("contacts:contact-log"),
        log_form(
            customer=contact_a.customer_id,
            occurred_at=(contact_a.occurred_at + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
            customer_words="Still charged twice",
        ),
    )
    assert response.status_code == 302
    logged = Contact.objects.get(source="voc")
    assert logged.customer_id == contact_a.customer_id
    assert logged.repeat_of == contact_a
    assert Customer.objects.count() == 1


def test_a_customer_without_any_identifier_still_gets_the_contact(client, cast, contact_a):
    # Created by hand with a name only: ingest cannot match it, the page attaches it.
    nameless = Customer.objects.create(name="Walk-in Wanda")
    Contact.objects.filter(id=contact_a.id).update(customer=nameless)
    client.force_login(cast.rep)
    response = client.post(
        reverse("contacts:contact-log"),
        log_form(
            customer=nameless.id,
            occurred_at=(contact_a.occurred_at + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        ),
    )
    assert response.status_code == 302
    logged = Contact.objects.get(source="voc")
    assert logged.customer == nameless
    assert logged.repeat_of_id == contact_a.id
    assert_rollups_match_rebuild()


def test_a_customer_outside_the_scope_cannot_be_chosen(client, cast, contact_b):
    client.force_login(cast.rep)
    response = client.post(
        reverse("contacts:contact-log"), log_form(customer=contact_b.customer_id, notes="hi")
    )
    assert response.status_code == 400
    assert response.context["form"].errors["customer"]
    assert not Contact.objects.filter(source="voc").exists()
    # ...nor pre-selected through the URL.
    page = client.get(reverse("contacts:contact-log"), {"customer": contact_b.customer_id})
    assert "Bob Outsider-Customer" not in page.content.decode()


@pytest.mark.parametrize(
    "fields, field",
    [
        (
            {"customer_name": "Ed", "customer_email": "ed@example.com", "customer_phone": "12"},
            "customer_phone",
        ),
        ({"customer_name": "Ed"}, "customer_email"),
        ({"customer_email": "not-an-email"}, "customer_email"),
        ({"handle_time": "soon"}, "handle_time"),
        ({"handle_time": "9:75"}, "handle_time"),
        ({"occurred_at": "2999-01-01T10:00"}, "occurred_at"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"channel": "pigeon"}, "channel"),
        ({"road": "5"}, "road"),
        ({"reason": "999999"}, "reason"),
        ({"tags": ",".join(f"t{n}" for n in range(31))}, "tags"),
        ({"notes": "nul \x00 byte"}, "notes"),
    ],
)
def test_bad_input_is_refused_with_a_message_and_nothing_is_stored(client, cast, fields, field):
    client.force_login(cast.rep)
    response = client.post(reverse("contacts:contact-log"), log_form(**fields))
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert 'class="errors"' in response.content.decode()
    assert not Contact.objects.exists()
    assert not Customer.objects.exists()


def test_an_existing_customer_and_a_new_one_at_once_is_refused(client, cast, contact_a):
    client.force_login(cast.rep)
    response = client.post(
        reverse("contacts:contact-log"),
        log_form(customer=contact_a.customer_id, customer_email="new@example.com"),
    )
    assert response.status_code == 400
    assert "not both" in response.content.decode()


def test_a_manager_without_a_team_logs_for_one_of_their_teams(client, cast, reasons):
    client.force_login(cast.manager)
    response = client.post(reverse("contacts:contact-log"), log_form(notes="no team"))
    assert response.status_code == 400 and response.context["form"].errors["team"]
    response = client.post(
        reverse("contacts:contact-log"), log_form(team=cast.team_b.id, notes="not theirs")
    )
    assert response.status_code == 400  # team B is not one of the manager's teams
    response = client.post(
        reverse("contacts:contact-log"), log_form(team=cast.team_a.id, notes="for team A")
    )
    assert response.status_code == 302
    contact = Contact.objects.get(source="voc")
    assert (contact.team, contact.rep) == (cast.team_a, cast.manager)
    assert client.get(response["Location"]).status_code == 200


def test_an_admin_without_a_team_may_log_without_one(client, cast):
    client.force_login(cast.admin)
    response = client.post(reverse("contacts:contact-log"), log_form(notes="admin call"))
    assert response.status_code == 302
    assert Contact.objects.get(source="voc").team is None


# --- the contact page ----------------------------------------------------------------------


def test_the_contact_page_shows_the_contact_and_its_messages_in_order(client, cast, reasons):
    contact = ingest(
        1,
        team=cast.team_a.name,
        reason="Billing › Double charge",
        subject="Double charge",
        tags="billing,urgent",
        outcome="link_sent",
        road=4,
        customer_ref="CRM-1",
        messages=[
            {"direction": "incoming", "text": "First, from the customer", "author": "Ada"},
            {"direction": "outgoing", "text": "Second, our answer", "author": "Rep"},
            {"direction": "incoming", "text": "Third, thanks"},
        ],
    )
    client.force_login(cast.rep)
    page = client.get(reverse("contacts:contact-detail", args=[contact.id])).content.decode()
    first, second, third = (
        page.index(text) for text in ("First, from", "Second, our", "Third, thanks")
    )
    assert first < second < third
    assert page.count('class="msg msg-incoming"') == 2
    assert page.count('class="msg msg-outgoing"') == 1
    for text in ("Billing › Double charge", "4 · Go away", "Sent a link", "urgent", "Phone"):
        assert text in page, text
    # The suggestion is shown beside the road picker.
    assert "suggested: <strong>1 · Learn</strong>" not in page
    assert "suggested: <strong>4 · Go away</strong>" in page


def test_the_repeat_banner_appears_for_a_second_contact_within_the_window(client, cast, reasons):
    first = ingest(1, team=cast.team_a.name, customer_ref="CRM-R", reason="Outage")
    second = ingest(30, team=cast.team_a.name, customer_ref="CRM-R",
                    reason="Billing › Double charge")  # fmt: skip
    third = ingest(40, team=cast.team_a.name, customer_ref="CRM-R",
                   reason="Billing › Double charge")  # fmt: skip
    much_later = ingest(24 * 30, team=cast.team_a.name, customer_ref="CRM-R")
    client.force_login(cast.rep)

    def banner(contact) -> str | None:
        response = client.get(reverse("contacts:contact-detail", args=[contact.id]))
        repeat = response.context["repeat"]
        return (
            None
            if repeat is None
            else " ".join(
                response.content.decode()
                .split('data-testid="repeat-banner"')[1]
                .split("</section>")[0]
                .split()
            )
        )

    assert banner(first) is None
    assert (
        "Spoke to us 2 times in the last 7 days</strong> about Billing › Double charge, Outage."
        in banner(second)
    )
    assert (
        "Spoke to us 3 times in the last 7 days</strong> about Billing › Double charge, Outage."
        in banner(third)
    )
    assert banner(much_later) is None


def test_the_repeat_window_is_a_setting(client, cast, reasons, settings):
    settings.VOC_REPEAT_WINDOW_DAYS = 3
    ingest(1, team=cast.team_a.name, customer_ref="CRM-W")
    second = ingest(30, team=cast.team_a.name, customer_ref="CRM-W")
    client.force_login(cast.rep)
    page = client.get(reverse("contacts:contact-detail", args=[second.id])).content.decode()
    assert "Spoke to us 2 times in the last 3 days" in page


def test_the_timeline_shows_out_of_scope_contacts_as_plain_text(client, cast, reasons):
    mine = ingest(1, team=cast.team_a.name, customer_ref="CRM-T", subject="Seen by team A",
                  reason="Billing › Refund")  # fmt: skip
    theirs = ingest(2, team=cast.team_b.name, customer_ref="CRM-T",
                    subject="Private to team B", reason="Outage", channel="email")  # fmt: skip
    client.force_login(cast.rep)
    for url in (
        reverse("contacts:contact-detail", args=[mine.id]),
        reverse("contacts:customer-detail", args=[mine.customer_id]),
    ):
        page = client.get(url).content.decode()
        timeline = page.split('data-testid="timeline"')[1].split("</ol>")[0]
        assert "Email · Outage" in timeline  # when and why the customer called: shown
        assert "Private to team B" not in page  # what was said: not
        assert reverse("contacts:contact-detail", args=[theirs.id]) not in page
        assert "Phone · Billing › Refund" in timeline
    client.force_login(cast.executive)
    page = client.get(reverse("contacts:contact-detail", args=[mine.id])).content.decode()
    assert reverse("contacts:contact-detail", args=[theirs.id]) in page


# --- editing ---------------------------------------------------------------------------------


def test_editing_a_contacts_reason_moves_its_rollup_counts(client, cast, reasons, contact_a):
    ingest(5, team=cast.team_a.name, reason="Billing › Refund", handle_seconds=60)
    before = rollup_snapshot()
    assert sum(v[0] for k, v in before.items() if k[1] == reasons["double"].id) == 1
    client.force_login(cast.rep)
    response = client.post(
        reverse("contacts:contact-edit", args=[contact_a.id]),
        {"reason": reasons["refund"].id, "outcome": "resolved", "road": "3",
         "first_contact_resolution": "no", "notes": f"card {VISA} read out"},
    )  # fmt: skip
    assert response.status_code == 302
    contact_a.refresh_from_db()
    assert (contact_a.reason, contact_a.outcome, contact_a.road) == (
        reasons["refund"],
        "resolved",
        3,
    )
    assert contact_a.first_contact_resolution is False
    assert not contains_card_number(contact_a.notes) and "redacted" in contact_a.notes
    after = rollup_snapshot()
    assert not any(k[1] == reasons["double"].id for k in after)
    assert sum(v[0] for k, v in after.items() if k[1] == reasons["refund"].id) == 2
    assert_rollups_match_rebuild()


def test_contact_update_keeps_rollups_right_for_every_field(cast, reasons, contact_a):
    contact_update(
        contact=contact_a, changes={"reason": reasons["outage"], "tags": ["a", "B "]}, by=SWEEP
    )
    contact_update(
        contact=contact_a, changes={"reason": None, "road": None, "outcome": ""}, by=SWEEP
    )
    contact_a.refresh_from_db()
    assert contact_a.reason is None and contact_a.tags == ["a", "b"]
    assert_rollups_match_rebuild()
    with pytest.raises(ValidationError):
        contact_update(contact=contact_a, changes={"channel": "email"}, by=SWEEP)


def test_a_rep_edits_their_teams_contacts_only(client, cast, reasons, contact_a, contact_b):
    client.force_login(cast.teammate)
    url = reverse("contacts:contact-edit", args=[contact_a.id])
    assert client.post(url, {"notes": "teammate note", "tags": "billing"}).status_code == 302
    client.force_login(cast.outsider)
    assert client.post(url, {"notes": "outsider note"}).status_code == 404
    assert client.post(url, {"tags": "x"}).status_code == 404
    assert client.get(url).status_code == 405
    contact_a.refresh_from_db()
    assert contact_a.notes == "teammate note" and contact_a.tags == ["billing"]


def test_bad_edits_are_refused_with_the_page_and_a_message(client, cast, contact_a):
    client.force_login(cast.rep)
    response = client.post(
        reverse("contacts:contact-edit", args=[contact_a.id]), {"road": "9", "outcome": "maybe"}
    )
    assert response.status_code == 400
    assert set(response.context["edit_form"].errors) == {"road", "outcome"}
    assert "<html" in response.content.decode()


def test_an_edit_that_moves_a_contact_out_of_scope_returns_to_the_list(client, cast, reasons):
    # Team B's contact about a dept A reason: the manager of dept A sees it through the reason.
    contact = ingest(1, team=cast.team_b.name, reason="Billing › Refund")
    client.force_login(cast.manager)
    response = client.post(
        reverse("contacts:contact-edit", args=[contact.id]), {"reason": reasons["outage"].id}
    )
    assert response.status_code == 302 and response["Location"] == reverse("contacts:contact-list")
    contact.refresh_from_db()
    assert contact.reason == reasons["outage"]


def test_tags_save_with_the_main_form_and_a_refusal_keeps_what_was_typed(client, cast, contact_a):
    client.force_login(cast.rep)
    url = reverse("contacts:contact-edit", args=[contact_a.id])
    response = client.post(url, {"tags": "Refund, app", "notes": "called back"})
    assert response.status_code == 302
    contact_a.refresh_from_db()
    assert (contact_a.tags, contact_a.notes) == (["app", "refund"], "called back")
    too_many = ",".join(f"t{n}" for n in range(31))
    response = client.post(url, {"tags": too_many, "notes": "more"})
    assert response.status_code == 400
    assert "at most 30 tags" in response.content.decode()
    assert response.context["edit_form"]["tags"].value() == too_many  # not lost
    contact_a.refresh_from_db()
    assert (contact_a.tags, contact_a.notes) == (["app", "refund"], "called back")


def test_the_road_suggestion_fragment_follows_the_form(client, cast, reasons, contact_a):
    client.force_login(cast.rep)
    url = reverse("contacts:road-suggestion")
    body = client.post(url, {"outcome": "link_sent"}, HTTP_HX_REQUEST="true").content.decode()
    assert (
        "suggested: <strong>4 · Go away</strong> — the customer was sent a link and the contact "
        "was not resolved" in body
    )
    body = client.post(
        url, {"outcome": "resolved", "reason": reasons["double"].id}
    ).content.decode()
    assert 'data-road="4"' in body and "avoidable" in body
    body = client.post(url, {"outcome": "resolved"}).content.decode()
    assert "No suggestion" in body
    # A customer who called within the window: a repeat, so learn.
    body = client.post(
        url,
        {"customer": contact_a.customer_id,
         "occurred_at": (contact_a.occurred_at + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")},
    ).content.decode()  # fmt: skip
    assert 'data-road="1"' in body and "again" in body
    # A complaint in the customer's angry words.
    body = client.post(
        url, {"tags": "complaint", "customer_words": "This is terrible, awful service. I hate it."}
    ).content.decode()
    assert 'data-road="2"' in body
    # The edit form sends the contact: its repeat link and its messages count.
    body = client.post(url, {"contact": contact_a.id, "outcome": "escalated"}).content.decode()
    assert 'data-road="1"' in body and "escalated" in body


def facts(**kwargs) -> RoadFacts:
    return RoadFacts(**kwargs)


@pytest.mark.parametrize(
    "given, road, rule",
    [
        ({"outcome": "link_sent"}, 4, "link_without_resolution"),
        ({"outcome": "link_sent", "first_contact_resolution": False}, 4, "link_without_resolution"),
        ({"reason_avoidable": True, "outcome": "resolved"}, 4, "avoidable_reason"),
        ({"outcome": "escalated"}, 1, "escalated_or_unresolved"),
        ({"outcome": "unresolved"}, 1, "escalated_or_unresolved"),
        ({"is_repeat": True, "outcome": "resolved"}, 1, "repeat_contact"),
        ({"tags": ("Complaint",), "sentiment": -0.6}, 2, "negative_complaint"),
        ({"reason_path": "Service › Complaints", "sentiment": -0.3}, 2, "negative_complaint"),
        ({"tags": ("how-to",), "outcome": "resolved"}, 3, "how_to_resolved"),
        (
            {"reason_path": "Account › How to reset a password", "first_contact_resolution": True},
            3,
            "how_to_resolved",
        ),
        # precedence: learning first, then empathy, then go away, then teach
        ({"outcome": "escalated", "reason_avoidable": True}, 1, "escalated_or_unresolved"),
        ({"is_repeat": True, "outcome": "link_sent"}, 1, "repeat_contact"),
        (
            {"tags": ("complaint",), "sentiment": -0.9, "reason_avoidable": True},
            2,
            "negative_complaint",
        ),
        ({"outcome": "link_sent", "tags": ("how-to",)}, 4, "link_without_resolution"),
        (
            {"reason_avoidable": True, "tags": ("question",), "outcome": "resolved"},
            4,
            "avoidable_reason",
        ),
    ],
)
def test_each_road_rule(given, road, rule):
    suggestion = suggest_road(facts(**given))
    assert (suggestion.road, suggestion.rule) == (road, rule)
    assert str(suggestion).startswith(f"suggested: {road} · ")


@pytest.mark.parametrize(
    "given",
    [
        {},
        {"outcome": "resolved"},
        {"outcome": "link_sent", "first_contact_resolution": True},  # the link did resolve it
        {"tags": ("complaint",), "sentiment": 0.6},  # a complaint, but calm
        {"tags": ("complaint",)},  # tone not known yet
        {"tags": ("how-to",), "outcome": "transferred"},  # not resolved
        {"reason_path": "Billing › Showroom hours"},  # "how" only as a whole word
    ],
)
def test_no_rule_no_suggestion(given):
    assert suggest_road(facts(**given)) is None


def test_the_link_rule_reads_as_the_page_shows_it():
    suggestion = suggest_road(facts(outcome="link_sent"))
    assert str(suggestion) == (
        "suggested: 4 · Go away — the customer was sent a link and the contact was not resolved"
    )


def test_facts_of_a_saved_contact(cast, reasons):
    first = ingest(1, customer_ref="CRM-F", reason="Billing › Double charge", tags="x")
    second = ingest(2, customer_ref="CRM-F", outcome="escalated")
    assert RoadFacts.for_contact(first).reason_avoidable is True
    assert RoadFacts.for_contact(first).reason_path == "Billing › Double charge"
    assert RoadFacts.for_contact(second).is_repeat is True
    assert RoadFacts.for_contact(second, sentiment=-0.5).sentiment == -0.5


# --- customers -----------------------------------------------------------------------------


def test_the_customer_page_per_role(client, cast, reasons, contact_a, contact_b):
    CustomerEvent.objects.create(
        customer=contact_a.customer, kind="lost", occurred_on=T0.date(), reason=reasons["double"],
        reason_text="moved to a competitor",
    )  # fmt: skip
    url = reverse("contacts:customer-detail", args=[contact_a.customer_id])
    for role, status in {"rep": 200, "teammate": 200, "manager": 200, "outsider": 404,
                         "other_manager": 404, "executive": 200, "admin": 200}.items():  # fmt: skip
        client.force_login(getattr(cast, role))
        assert client.get(url).status_code == status, role
    client.force_login(cast.rep)
    page = client.get(url).content.decode()
    for text in ("Ada Customer", "CRM-A", "Consumer", "Lost", "Billing › Double charge",
                 "moved to a competitor", "Charged twice for November"):  # fmt: skip
        assert text in page, text
    assert (
        client.get(reverse("contacts:customer-detail", args=[contact_b.customer_id])).status_code
        == 404
    )
    merged = CustomerFactory(merged_into=contact_a.customer)
    assert client.get(reverse("contacts:customer-detail", args=[merged.id])).status_code == 404


def test_customer_search_finds_visible_customers_only(client, cast, contact_a, contact_b):
    Customer.objects.filter(id=contact_a.customer_id).update(
        email="ada@example.com", phone="+12025550100"
    )
    client.force_login(cast.rep)
    url = reverse("contacts:customer-search")
    for query in ("ada", "ADA@example", "CRM-A", "555-0100"):
        response = client.get(url, {"q": query})
        assert [c.id for c in response.context["results"]] == [contact_a.customer_id], query
    assert client.get(url, {"q": "Bob"}).context["results"] == []
    fragment = client.get(url, {"q": "ada", "pick": "1"}, HTTP_HX_REQUEST="true").content.decode()
    assert (
        f'name="customer" value="{contact_a.customer_id}"' in fragment and "<html" not in fragment
    )
    assert client.get(url, {"q": "a"}).context["results"] == []  # too short
    client.force_login(cast.executive)
    assert [c.id for c in client.get(url, {"q": "Bob"}).context["results"]] == [
        contact_b.customer_id
    ]


# --- small helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, seconds",
    [
        ("", None),
        ("7", 420),
        ("7.5", 450),
        ("7,5", 450),
        ("7:30", 450),
        ("1:02:03", 3723),
        ("0", 0),
    ],
)
def test_handle_time_parsing(text, seconds):
    assert parse_handle_time(text) == seconds


@pytest.mark.parametrize("text", ["-1", "nan", "inf", "1e9", "7:60", "abc", "99999:00"])
def test_handle_time_refuses_nonsense(text):
    from django.forms import ValidationError

    with pytest.raises(ValidationError):
        parse_handle_time(text)


def test_handle_time_display():
    assert [format_handle_time(s) for s in (None, 5, 450, 3723)] == ["", "0:05", "7:30", "1:02:03"]
