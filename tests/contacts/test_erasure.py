"""Customer erasure: what goes, what stays, and that the person does not come back."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from contacts import registry, tombstones
from contacts.erasure.services import (
    ERASED_TEXT,
    AlreadyErased,
    customer_erase,
    erased_external_id,
)
from contacts.ingest.service import contacts_ingest, parse_options
from contacts.models import (
    Contact,
    ContactReason,
    Customer,
    CustomerErasure,
    CustomerEvent,
    ErasureTombstone,
    ImportRun,
    InboundEmail,
    Message,
)
from contacts.rollups import rollup_snapshot, rollups_rebuild
from contacts.services.customers import customer_merge
from contacts.services.sentiment import contact_sentiment_update
from voc.core.audit import SWEEP
from voc.core.models import OutboxMessage

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 10, 1, 12, 0, tzinfo=UTC)

# What Ann's records say: none of it may be stored anywhere once she is erased.
ANN = {
    "name": "Annabel Quixley",
    "email": "Annabel.Quixley@mail.example",
    "phone": "+15558675309",
    "ref": "CRM-QUIXLEY-1",
    "old_email": "quixley.old@mail.example",
    "old_ref": "CRM-QUIXLEY-OLD",
    "words": "My parrot Zanzibar chewed the router and I am furious",
    "reply": "Sorry to hear about Zanzibar, Annabel",
    "subject": "Zanzibar router refund",
    "notes": "Annabel prefers calls after six",
    "event": "Moved to Quixcorp Telecom",
    "call_id": "quixley-call-1",
    "message_id": "zanzibar-msg-7",
}


def ann_rows() -> list[dict]:
    return [
        {
            "source": "genesys",
            "external_id": ANN["call_id"],
            "channel": "phone",
            "occurred_at": T0.isoformat(),
            "customer_ref": ANN["ref"],
            "customer_name": ANN["name"],
            "customer_email": ANN["email"],
            "customer_phone": ANN["phone"],
            "reason": "Billing › Double charge",
            "team": "Billing Care",
            "subject": ANN["subject"],
            "notes": ANN["notes"],
            "handle_seconds": 300,
            "messages": [
                {"external_id": ANN["message_id"], "author": ANN["name"], "text": ANN["words"]},
                {"direction": "outgoing", "author": "Rep Ray", "text": ANN["reply"]},
            ],
        },
        {
            "source": "genesys",
            "external_id": "quixley-call-2",
            "channel": "chat",
            "occurred_at": (T0 + timedelta(days=1)).isoformat(),
            "customer_ref": ANN["ref"],
            "team": "Billing Care",
            "reason": "Billing › Double charge",
            "text": "Still waiting, this is terrible",
        },
        {  # the duplicate record an admin merged into Ann's
            "source": "zendesk",
            "external_id": "quixley-ticket-9",
            "channel": "email",
            "occurred_at": (T0 + timedelta(days=2)).isoformat(),
            "customer_ref": ANN["old_ref"],
            "customer_email": ANN["old_email"],
            "team": "Billing Care",
            "text": "Thanks, all good now",
        },
    ]


def bob_row(n: int = 1, **fields) -> dict:
    return {
        "source": "genesys",
        "external_id": f"bob-call-{n}",
        "channel": "phone",
        "occurred_at": (T0 + timedelta(hours=n)).isoformat(),
        "customer_ref": "CRM-BOB",
        "customer_email": "bob@example.com",
        "team": "Billing Care",
        "text": "Bob says thanks",
        **fields,
    }


@pytest.fixture
def ann(cast):
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a)
    ContactReason.objects.create(name="Double charge", parent=billing, department=cast.dept_a)
    result = contacts_ingest(rows=[*ann_rows(), bob_row()])
    assert result.created == 4, result.rejected
    customer = Customer.objects.get(external_ref=ANN["ref"])
    duplicate = Customer.objects.get(external_ref=ANN["old_ref"])
    customer_merge(source=duplicate, target=customer, by=SWEEP)
    CustomerEvent.objects.create(
        customer=customer, kind="lost", occurred_on=T0.date(), reason_text=ANN["event"]
    )
    contact = Contact.objects.get(external_id=ANN["call_id"])
    InboundEmail.objects.create(
        message_id="<zanzibar-1@mail.example>",
        esp="mailgun",
        from_address=ANN["email"].lower(),
        from_name=ANN["name"],
        to_addresses=["help@company.example"],
        subject=ANN["subject"],
        text=ANN["words"],
        headers={"X-Original-Sender": ANN["email"]},
        attachments=[{"name": "zanzibar.jpg", "type": "image/jpeg", "size": 10}],
        status=InboundEmail.Status.THREADED,
        customer=customer,
        contact=contact,
    )
    InboundEmail.objects.create(  # the mailbox's copy of its reply: Ann is the recipient
        message_id="<reply-1@company.example>",
        esp="mailgun",
        from_address="help@company.example",
        to_addresses=[f"{ANN['name']} <{ANN['email']}>"],
        subject=f"Re: {ANN['subject']}",
        text=ANN["reply"],
    )
    OutboxMessage.objects.create(
        subject=f"About {ANN['subject']}",
        from_email="help@company.example",
        to=[ANN["email"]],
        body_text=ANN["reply"],
    )
    OutboxMessage.objects.create(subject="To Bob", from_email="help@x", to=["bob@example.com"])
    for obj in (customer, contact):
        LogEntry.objects.log_actions(
            user_id=cast.admin.id,
            queryset=[obj],
            action_flag=CHANGE,
            change_message=json.dumps([{"changed": {"fields": ["Name"], "name": ANN["name"]}}]),
        )
    customer.refresh_from_db()
    return customer


def erase(customer, cast, **kwargs) -> CustomerErasure:
    return customer_erase(customer=customer, by=cast.admin, **kwargs)


def values_of_ann() -> list[str]:
    phone_digits = ANN["phone"].lstrip("+")
    return [
        *ANN.values(),
        ANN["email"].lower(),
        phone_digits,
        "Still waiting",
        "all good now",
        "Rep Ray",
        "zanzibar-1@mail.example",
        "reply-1@company.example",
        "zanzibar.jpg",
    ]


def stored_text_columns():
    """Every text-like column of every table VoC has (its apps and Django's)."""
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField | models.TextField | models.JSONField):
                yield model, field.name


def find_values(values: list[str]) -> list[tuple[str, str, str]]:
    found = []
    for model, name in stored_text_columns():
        for value in values:
            if model._default_manager.filter(**{f"{name}__icontains": value}).exists():
                found.append((model._meta.label, name, value))
    return found


def test_it_leaves_no_erased_value_anywhere_in_the_database(ann, cast):
    assert find_values(values_of_ann()), "the scan must see Ann before the erasure"
    erase(ann, cast, note="GDPR-REQ-42")
    assert find_values(values_of_ann()) == []
    # Bob is untouched.
    assert Customer.objects.filter(external_ref="CRM-BOB", email="bob@example.com").exists()
    assert Message.objects.get(contact__external_id="bob-call-1").text == "Bob says thanks"
    assert OutboxMessage.objects.filter(subject="To Bob").exists()


def test_audit_entries_and_send_once_emails_keep_nothing_of_the_customer(ann, cast):
    from contacts.services.contacts import contact_update
    from voc.core.sendonce import send_once

    contact = Contact.objects.get(external_id=ANN["call_id"])
    contact_update(contact=contact, changes={"notes": f"{ANN['name']} called"}, by=cast.rep)
    send_once(
        purpose="test.notice",
        key=f"customer:{ann.id}",
        to=[ANN["email"]],
        template="password-reset",
        context={"name": ANN["name"]},
        customer_id=ann.id,
        by=cast.rep,
    )
    assert find_values([ANN["name"], ANN["email"]]), "the scan must see them first"
    erasure = erase(ann, cast)
    assert find_values(values_of_ann()) == []
    assert erasure.counts["send_once_emails"] == 1
    assert erasure.counts["audit_entries"] >= 2  # the merge and the rep's note


def test_the_customer_row_stays_anonymised_with_its_merged_record(ann, cast):
    duplicate = Customer.objects.get(merged_into=ann)
    contact_ids = set(Contact.objects.filter(customer_id__in=[ann.id]).values_list("id", flat=True))
    erasure = erase(ann, cast)
    for customer in (ann, duplicate):
        customer.refresh_from_db()
        assert customer.erased_at is not None
        assert (customer.name, customer.email, customer.phone) == ("", "", "")
        assert customer.external_ref is None
        assert str(customer) == "Erased customer"
    assert duplicate.merged_into_id == ann.id  # the ids, and what hangs on them, stay
    assert set(Contact.objects.filter(customer=ann).values_list("id", flat=True)) == contact_ids
    for contact in Contact.objects.filter(customer=ann):
        assert (contact.subject, contact.notes, contact.content_hash) == ("", "", "")
        assert contact.external_id.startswith("erased-")
        assert contact.sentiment is not None  # scored from the real words before they went
        for message in contact.messages.all():
            assert (message.text, message.author) == (ERASED_TEXT, "")
    call = Contact.objects.get(
        external_id=erased_external_id("genesys", ANN["call_id"]), source="genesys"
    )
    assert call.handle_seconds == 300 and call.reason.name == "Double charge"
    assert CustomerEvent.objects.get(customer=ann).reason_text == ""
    assert CustomerEvent.objects.get(customer=ann).kind == "lost"
    email = InboundEmail.objects.get(customer=ann)
    assert email.status == InboundEmail.Status.ERASED
    assert (email.from_address, email.subject, email.text, email.headers) == ("", "", "", {})
    assert email.message_id.startswith("erased-")
    assert erasure.customer_id_erased == ann.id
    assert erasure.erased_by == cast.admin
    assert erasure.note == ""
    assert erasure.counts == {
        "customers": 2,
        "contacts": 3,
        "messages": 4,
        "customer_events": 1,
        "inbound_emails": 2,
        "admin_log_entries": 2,
        "outbox_messages": 1,
        "tombstones": 8,  # 2 refs, 2 emails, 1 phone, 3 contacts
        "audit_entries": 2,  # the merge, on both records: kept, values dropped
        "send_once_emails": 0,
        "budget_touches": 0,
        "budget_refusals": 0,
        "budget_opt_outs": 0,
        # later apps' handlers (contacts.registry.register_erasure_handler)
        "loops.digests.digests": 0,
        "loops.follow_ups.follow_ups": 0,
        "loops.flags.flag_notes": 0,
        "loops.flags.search_documents": 0,
        "loops.notices.notice_recipients": 0,
    }


def test_mail_of_an_address_that_merely_contains_the_customers_is_kept(ann, cast):
    other = InboundEmail.objects.create(
        message_id="<other@mail.example>",
        esp="mailgun",
        from_address="help@company.example",
        to_addresses=["x" + ANN["old_email"]],
        subject="Unrelated",
    )
    erase(ann, cast)
    other.refresh_from_db()
    assert other.subject == "Unrelated" and other.status == InboundEmail.Status.PENDING


def test_tombstones_hold_only_keyed_hashes(ann, cast):
    erasure = erase(ann, cast)
    stored = list(ErasureTombstone.objects.filter(erasure=erasure).values_list("kind", "digest"))
    assert sorted(kind for kind, _ in stored) == sorted(
        ["customer_ref", "customer_ref", "email", "email", "phone", "contact", "contact", "contact"]
    )
    for _, value in stored:
        assert len(value) == 64 and int(value, 16) >= 0
    Kind = ErasureTombstone.Kind
    assert (Kind.EMAIL, tombstones.digest(Kind.EMAIL, " ANNABEL.quixley@mail.example")) in stored
    assert (Kind.PHONE, tombstones.digest(Kind.PHONE, ANN["phone"])) in stored
    assert (Kind.CONTACT, tombstones.contact_digest("genesys", ANN["call_id"])) in stored
    assert tombstones.email_is_erased(ANN["old_email"].upper())
    assert not tombstones.email_is_erased("bob@example.com")


def test_rollups_stay_what_a_rebuild_gives(ann, cast):
    contact_sentiment_update(contact_ids=Contact.objects.values_list("id", flat=True))
    before = rollup_snapshot()
    repeats = dict(Contact.objects.values_list("id", "repeat_of_id"))
    erase(ann, cast)
    assert rollup_snapshot() == before
    assert dict(Contact.objects.values_list("id", "repeat_of_id")) == repeats
    rollups_rebuild()
    assert rollup_snapshot() == before


def test_unscored_contacts_are_scored_before_their_words_go(ann, cast):
    assert Contact.objects.filter(sentiment__isnull=True).count() == 4
    erase(ann, cast)
    furious = Contact.objects.get(customer=ann, channel="phone")
    assert furious.sentiment < 0  # from "I am furious", not from the placeholder
    kept = rollup_snapshot()
    rollups_rebuild()
    assert rollup_snapshot() == kept
    # Nothing of Ann is left for the sentiment sweep to score again.
    assert not Contact.objects.filter(customer=ann, sentiment__isnull=True).exists()


def test_the_admin_history_keeps_who_and_when_but_not_what(ann, cast):
    bob = Customer.objects.get(external_ref="CRM-BOB")
    LogEntry.objects.log_actions(
        user_id=cast.admin.id, queryset=[bob], action_flag=CHANGE, change_message="Bob edit"
    )
    erase(ann, cast)
    customer_type = ContentType.objects.get_for_model(Customer)
    entry = LogEntry.objects.get(content_type=customer_type, object_id=str(ann.id))
    assert (entry.object_repr, entry.change_message) == ("Erased customer", "")
    assert entry.user == cast.admin and entry.action_flag == CHANGE
    assert LogEntry.objects.get(object_id=str(bob.id), content_type=customer_type).object_repr
    assert LogEntry.objects.get(object_id=str(bob.id)).change_message == "Bob edit"


def test_registered_handlers_run_in_the_erasure_before_anonymising(ann, cast, monkeypatch):
    seen = {}

    def handler(*, customer_ids, erasure):
        seen["ids"] = sorted(customer_ids)
        seen["emails"] = sorted(Customer.objects.filter(id__in=customer_ids).values_list("email"))
        seen["erasure"] = erasure.id
        return {"answers": 3}

    monkeypatch.setitem(registry._erasure_handlers, "feedback", handler)
    duplicate = Customer.objects.get(merged_into=ann)
    erasure = erase(ann, cast)
    assert seen["ids"] == sorted([ann.id, duplicate.id])
    assert seen["emails"] == sorted([(ANN["email"],), (ANN["old_email"],)])
    assert seen["erasure"] == erasure.id
    assert erasure.counts["feedback.answers"] == 3


def test_a_failing_handler_rolls_the_whole_erasure_back(ann, cast, monkeypatch):
    def broken(*, customer_ids, erasure):
        raise RuntimeError("feedback store unavailable")

    monkeypatch.setitem(registry._erasure_handlers, "feedback", broken)
    with pytest.raises(RuntimeError):
        erase(ann, cast)
    ann.refresh_from_db()
    assert ann.name == ANN["name"] and ann.erased_at is None
    assert not CustomerErasure.objects.exists() and not ErasureTombstone.objects.exists()
    assert Message.objects.filter(text=ANN["words"]).exists()


def test_erasing_twice_or_a_merged_away_record_is_refused(ann, cast):
    duplicate = Customer.objects.get(merged_into=ann)
    with pytest.raises(ValidationError, match=f"merged into customer {ann.id}"):
        erase(duplicate, cast)
    erase(ann, cast)
    with pytest.raises(AlreadyErased):
        erase(ann, cast)
    assert CustomerErasure.objects.count() == 1


def test_the_note_is_redacted(ann, cast):
    erasure = erase(ann, cast, note="Ticket 7, card 4111 1111 1111 1111")
    assert "4111" not in erasure.note and erasure.note.startswith("Ticket 7")


# --- coming back --------------------------------------------------------------------------


def test_a_reingested_row_of_an_erased_customer_is_refused(ann, cast):
    erase(ann, cast)
    before = Contact.objects.count()
    result = contacts_ingest(
        rows=[
            *ann_rows(),  # the same contacts again, with Ann's identifiers
            bob_row(2),
            bob_row(3, external_id="new-call", customer_ref="", customer_email=ANN["email"]),
            bob_row(4, customer_ref="", customer_email="", customer_phone="(555) 867-5309"),
            bob_row(5, customer_ref=ANN["old_ref"], customer_email=""),
        ]
    )
    rejected = {(item.index, item.field, item.reason) for item in result.rejected}
    reason = "belongs to an erased customer"
    assert rejected == {
        (0, "external_id", reason),
        (1, "external_id", reason),
        (2, "external_id", reason),
        (4, "customer", reason),  # Ann's email on a new contact
        (5, "customer", reason),  # her phone, as a national number
        (6, "customer", reason),  # the merged record's ref
    }
    assert result.created == 1
    assert Contact.objects.count() == before + 1
    assert find_values(values_of_ann()) == []


def test_the_erasure_check_is_two_queries_a_batch(ann, cast):
    erase(ann, cast)
    rows = [bob_row(n, customer_email=ANN["email"], customer_ref="") for n in range(10, 60)]
    options = parse_options()
    with CaptureQueriesContext(connection) as queries:
        result = contacts_ingest(rows=rows, options=options)
    assert len(result.rejected) == 50
    # Everything is refused: whether any tombstone exists, then one lookup for the 50 rows,
    # taken under the erasure lock (PostgreSQL), and nothing else is read or written.
    statements = [query["sql"] for query in queries.captured_queries]
    lookups = [sql for sql in statements if ErasureTombstone._meta.db_table in sql]
    assert len(lookups) == 2
    others = [
        sql
        for sql in statements
        if sql not in lookups
        and "SAVEPOINT" not in sql
        and "pg_advisory_xact_lock_shared" not in sql
        and not sql.startswith("SET LOCAL jit = off")
    ]
    assert others == []


def test_without_tombstones_no_row_is_hashed_and_one_query_checks(cast, monkeypatch):
    from contacts import tombstones

    def no_hashing(record):
        raise AssertionError("hashed while no customer was ever erased")

    monkeypatch.setattr(tombstones, "record_erasure_keys", no_hashing)
    rows = [bob_row(n) for n in range(10, 20)]
    with CaptureQueriesContext(connection) as queries:
        result = contacts_ingest(rows=rows, options=parse_options())
    assert result.created == 10
    lookups = [
        query["sql"]
        for query in queries.captured_queries
        if ErasureTombstone._meta.db_table in query["sql"]
    ]
    assert len(lookups) == 1


def test_import_contacts_refuses_an_erased_customers_rows(ann, cast, tmp_path):
    erase(ann, cast)
    path = tmp_path / "crm-export.ndjson"
    path.write_text("\n".join(json.dumps(row) for row in [*ann_rows(), bob_row(7)]) + "\n")
    call_command("import_contacts", str(path), "--no-progress")
    run = ImportRun.objects.get()
    assert (run.created, run.rejected) == (1, 3)
    report = (tmp_path / run.error_report).read_text() if run.error_report else ""
    assert report.count("belongs to an erased customer") == 3
    assert ANN["call_id"] not in report
    assert find_values(values_of_ann()) == []
    assert not Customer.objects.filter(erased_at__isnull=True, email__iexact=ANN["email"]).exists()


def test_a_file_parsed_in_a_second_process_is_checked_the_same(ann, cast, tmp_path, monkeypatch):
    """Large files are parsed (and their erasure keys hashed) in forked processes."""
    from contacts.ingest import imports, parsing

    if not parsing.fork_available():
        pytest.skip("needs the fork start method")
    monkeypatch.setattr(imports, "PARALLEL_MIN_BYTES", 0)
    started, real = [], parsing.ForkedBatches.__init__

    def counting(self, *args, **kwargs):
        started.append(1)
        real(self, *args, **kwargs)

    monkeypatch.setattr(parsing.ForkedBatches, "__init__", counting)
    test_import_contacts_refuses_an_erased_customers_rows(ann, cast, tmp_path)
    assert started


def test_the_bulk_api_refuses_an_erased_customers_rows(ann, cast):
    erase(ann, cast)
    client = APIClient()
    client.force_login(cast.admin)
    response = client.post(
        reverse("api-contact-bulk"), data=[*ann_rows(), bob_row(8)], format="json"
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["created"] == 1 and body["rejected"] == 3
    assert {error["reason"] for error in body["errors"]} == {"belongs to an erased customer"}
    assert find_values(values_of_ann()) == []


# --- the page, the admin and the API --------------------------------------------------------


def test_the_erase_page_confirms_with_counts_then_erases(ann, cast, client):
    client.force_login(cast.admin)
    url = reverse("contacts:customer-erase", args=[ann.id])
    detail = client.get(reverse("contacts:customer-detail", args=[ann.id]))
    assert url in detail.content.decode()
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-count="contacts">3<' in html and 'data-count="messages">4<' in html

    refused = client.post(url, {"note": "no tick"})
    assert refused.status_code == 400
    assert "Tick the box" in refused.content.decode()
    ann.refresh_from_db()
    assert ann.erased_at is None

    response = client.post(url, {"confirm": "on", "note": "REQ-9"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("contacts:customer-detail", args=[ann.id])
    html = response.content.decode()
    assert "The customer was erased." in html and "Erased customer" in html
    assert ANN["name"] not in html
    assert CustomerErasure.objects.get().note == "REQ-9"

    again = client.post(url, {"confirm": "on"}, follow=True)
    assert "already erased" in again.content.decode()
    assert CustomerErasure.objects.count() == 1
    assert client.get(url).status_code == 200  # says so, with nothing to submit


def test_pages_show_an_erased_customer_without_failing(ann, cast, client):
    erase(ann, cast)
    client.force_login(cast.rep)
    contact = Contact.objects.filter(customer=ann).first()
    for url in (
        reverse("contacts:customer-detail", args=[ann.id]),
        reverse("contacts:contact-detail", args=[contact.id]),
        reverse("contacts:contact-list"),
        reverse("contacts:customer-search") + "?q=Quixley",
    ):
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert ANN["name"] not in html and ANN["words"] not in html
    detail = client.get(reverse("contacts:customer-detail", args=[ann.id])).content.decode()
    assert "Erased customer" in detail
    assert reverse("contacts:customer-erase", args=[ann.id]) not in detail


@pytest.mark.parametrize("role", ["rep", "manager", "executive", "outsider"])
def test_only_admins_may_erase(ann, cast, client, role):
    client.force_login(getattr(cast, role))
    url = reverse("contacts:customer-erase", args=[ann.id])
    assert client.get(url).status_code == 403
    assert client.post(url, {"confirm": "on"}).status_code == 403
    detail = client.get(reverse("contacts:customer-detail", args=[ann.id]))
    assert url not in detail.content.decode()
    api = APIClient()
    api.force_login(getattr(cast, role))
    assert api.post(reverse("api-customer-erase", args=[ann.id]), format="json").status_code == 403
    ann.refresh_from_db()
    assert ann.erased_at is None


def test_the_api_erases_once_then_answers_409(ann, cast):
    api = APIClient()
    url = reverse("api-customer-erase", args=[ann.id])
    assert api.post(url, {}, format="json").status_code == 401
    api.force_login(cast.admin)
    response = api.post(url, {"note": "REQ-1"}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["customer"] == ann.id and body["erased_by"] == cast.admin.id
    assert body["counts"]["contacts"] == 3 and body["note"] == "REQ-1"
    again = api.post(url, {}, format="json")
    assert again.status_code == 409
    assert "already erased" in again.json()["detail"]
    assert api.post(url, {"note": 5}, format="json").status_code == 400
    missing = reverse("api-customer-erase", args=[ann.id + 1000])
    assert api.post(missing, {}, format="json").status_code == 404
    merged = Customer.objects.get(merged_into=ann)
    assert api.post(reverse("api-customer-erase", args=[merged.id])).status_code == 404
    detail = api.get(reverse("api-customer-detail", args=[ann.id])).json()
    assert (detail["name"], detail["email"], detail["external_ref"]) == ("", "", None)


def test_the_admin_action_confirms_then_erases(ann, cast, client):
    client.force_login(cast.admin)
    changelist = reverse("admin:contacts_customer_changelist")
    duplicate = Customer.objects.get(merged_into=ann)
    data = {"action": "erase", "_selected_action": [ann.id, duplicate.id]}
    confirm = client.post(changelist, data)
    assert confirm.status_code == 200
    html = confirm.content.decode()
    assert "This cannot be undone" in html and "1 selected record(s)" in html
    assert Customer.objects.get(id=ann.id).erased_at is None

    done = client.post(
        changelist, {**data, "erase_confirmed": "yes", "erase_note": "REQ-3"}, follow=True
    )
    assert done.status_code == 200
    assert "Erased 1 customer(s)." in done.content.decode()
    assert CustomerErasure.objects.get().note == "REQ-3"
    erasures = client.get(reverse("admin:contacts_customererasure_changelist"))
    assert erasures.status_code == 200 and str(ann.id) in erasures.content.decode()
    # An erased customer's form is read-only: the identity cannot be filled in again.
    change = client.post(
        reverse("admin:contacts_customer_change", args=[ann.id]),
        {"name": ANN["name"], "segment": "consumer"},
    )
    assert change.status_code in (200, 302)
    ann.refresh_from_db()
    assert ann.name == ""


def test_identity_erased_names_the_first_tombstoned_identifier(ann, cast):
    assert tombstones.identity_erased(email=ANN["email"]) is None
    erase(ann, cast)
    assert tombstones.identity_erased(email=ANN["old_email"].upper()) == "email"
    assert tombstones.identity_erased(external_ref="CRM-BOB", phone=ANN["phone"]) == "phone"
    assert tombstones.identity_erased(external_ref="CRM-BOB", email="bob@example.com") is None
    assert tombstones.identity_erased() is None


def test_the_customer_api_does_not_bring_an_erased_identity_back(ann, cast):
    erase(ann, cast)
    api = APIClient()
    api.force_login(cast.admin)
    create = reverse("api-customer-create")
    for field, value in (
        ("email", ANN["email"].upper()),
        ("phone", ANN["phone"]),
        ("external_ref", ANN["ref"]),
    ):
        response = api.post(create, {"name": "Someone", field: value}, format="json")
        assert response.status_code == 409, (field, response.content)
        assert response.json()[field] == ["This belongs to an erased customer."]
    assert api.post(create, {"email": "new@example.com"}, format="json").status_code == 201
    # The anonymised record itself cannot be filled in again.
    response = api.post(
        reverse("api-customer-update", args=[ann.id]), {"name": ANN["name"]}, format="json"
    )
    assert response.status_code == 409
    ann.refresh_from_db()
    assert ann.name == ""


def test_a_rep_cannot_log_a_new_contact_against_an_erased_customer(ann, cast, client):
    erase(ann, cast)
    client.force_login(cast.rep)
    response = client.get(reverse("contacts:contact-log"), {"customer": ann.id})
    assert response.status_code == 200
    assert ann.id not in {
        customer.id for customer in response.context["form"].fields["customer"].queryset
    }
    before = Contact.objects.count()
    client.post(
        reverse("contacts:contact-log"),
        {"customer": ann.id, "channel": "phone", "customer_words": "hello again"},
    )
    assert Contact.objects.count() == before
