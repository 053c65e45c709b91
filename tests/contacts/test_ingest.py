from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings

from contacts.ingest.records import NUL_REASON, ParseOptions, RowError, parse_row
from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason, ContactRollup, Customer, Message
from contacts.redaction import stand_in
from contacts.services.sentiment import contact_sentiment_update
from tests.contacts.rollup_checks import assert_rollups_match_rebuild
from tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
VISA = "4111 1111 1111 1111"


@pytest.fixture
def reasons(cast):
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a)
    return {
        "double": ContactReason.objects.create(
            name="Double charge", parent=billing, department=cast.dept_a, avoidable=True
        ),
        "outage": ContactReason.objects.create(name="Outage", department=cast.dept_b),
    }


def row(n: int, **fields) -> dict:
    return {
        "source": "genesys",
        "external_id": f"call-{n}",
        "channel": "phone",
        "occurred_at": (T0 + timedelta(hours=n)).isoformat(),
        "customer_ref": f"CRM-{n}",
        "text": f"Hello, this is call {n}.",
        **fields,
    }


def test_rows_become_contacts_with_messages_customers_and_rollups(cast, reasons):
    result = contacts_ingest(
        rows=[
            row(1, reason="Billing › Double charge", team=cast.team_a.name, handle_seconds=300),
            row(
                2,
                rep=cast.rep.username,
                messages=[
                    {"direction": "incoming", "text": "My bill is wrong again"},
                    {"direction": "outgoing", "text": "Sorry, I fixed it", "author": "Rep"},
                ],
                text=None,
            ),
        ]
    )
    assert result.counts() == {"created": 2, "updated": 0, "unchanged": 0, "rejected": 0}
    first = Contact.objects.get(external_id="call-1")
    assert first.reason == reasons["double"]
    assert first.team == cast.team_a
    assert first.customer.external_ref == "CRM-1"
    second = Contact.objects.get(external_id="call-2")
    assert second.rep == cast.rep and second.team == cast.team_a  # the rep's team by default
    assert list(second.messages.values_list("position", "direction", "text")) == [
        (0, "incoming", "My bill is wrong again"),
        (1, "outgoing", "Sorry, I fixed it"),
    ]
    day_total = ContactRollup.objects.get(reason_id=reasons["double"].id)
    assert (day_total.contacts, day_total.handle_seconds) == (1, 300)
    assert_rollups_match_rebuild()


def test_a_resent_batch_creates_nothing_and_updates_what_changed(cast, reasons):
    batch = [row(n) for n in range(5)]
    contacts_ingest(rows=batch)
    again = contacts_ingest(rows=batch)
    assert again.counts() == {"created": 0, "updated": 0, "unchanged": 5, "rejected": 0}
    batch[2] = row(2, text="New words", reason="Outage")
    changed = contacts_ingest(rows=batch)
    assert changed.counts() == {"created": 0, "updated": 1, "unchanged": 4, "rejected": 0}
    assert Contact.objects.count() == 5
    contact = Contact.objects.get(external_id="call-2")
    assert list(contact.messages.values_list("text", flat=True)) == ["New words"]
    assert contact.reason == reasons["outage"]
    assert Message.objects.count() == 5
    assert_rollups_match_rebuild()


def test_bad_rows_are_reported_and_good_rows_kept(cast, reasons):
    result = contacts_ingest(
        rows=[
            row(1),
            row(2, channel="carrier pigeon"),
            {"source": "genesys", "channel": "phone"},
            row(4, occurred_at="yesterday-ish"),
            row(5, customer_email="not-an-email 4111111111111111"),
            row(6, reason="No such reason"),
            row(7, rep="nobody"),
            row(8, handle_seconds=-3),
            row(1),
            "not an object",
            row(11, colour="blue"),
        ],
        first_index=1,
    )
    assert result.created == 1
    rejected = {r.index: (r.field, r.reason) for r in result.rejected}
    assert rejected[2][0] == "channel"
    assert rejected[3] == ("external_id", "is required")
    assert rejected[4][0] == "occurred_at"
    assert rejected[5][0] == "customer_email"
    assert rejected[6] == ("reason", "is not in the contact-reason taxonomy")
    assert rejected[7][0] == "rep"
    assert rejected[8] == ("handle_seconds", "must be between 0 and 604800")
    assert rejected[9] == ("external_id", "repeats the contact of row 1")
    assert rejected[10][0] == "row"
    assert rejected[11][0] == "colour"
    assert "4111" not in repr(result.rejected)  # rejected values are never echoed


def test_unknown_reasons_can_be_created_for_imports(cast):
    result = contacts_ingest(rows=[row(1, reason="Delivery > Late")], create_reasons=True)
    assert result.created == 1
    reason = Contact.objects.get().reason
    assert (reason.parent.name, reason.name) == ("Delivery", "Late")


def test_card_numbers_never_reach_the_database(cast):
    contacts_ingest(
        rows=[
            row(
                1,
                text=f"my card is {VISA} exp 12/27",
                notes=f"customer read {VISA.replace(' ', '-')}",
                subject="card 4111111111111111",
            )
        ]
    )
    contact = Contact.objects.get()
    stored = " ".join(
        [contact.notes, contact.subject, *contact.messages.values_list("text", flat=True)]
    )
    assert "4111" not in stored
    assert "redacted" in stored


def test_customers_match_by_reference_then_email_then_phone(cast):
    by_ref = CustomerFactory(external_ref="CRM-1", email="")
    by_email = CustomerFactory(external_ref="X-2", email="Ana@Example.com")
    by_phone = CustomerFactory(external_ref="X-3", email="", phone="+15551234567")
    contacts_ingest(
        rows=[
            row(1, customer_email="someone@else.example"),
            row(2, customer_ref=None, customer_email="ana@example.COM"),
            row(3, customer_ref=None, customer_phone="(555) 123-4567"),
            row(4, customer_ref=None, customer_email="new@example.com", customer_name="New"),
            row(5, customer_ref=None, customer_email="NEW@example.com"),
        ]
    )
    contacts = {c.external_id: c.customer_id for c in Contact.objects.all()}
    assert contacts["call-1"] == by_ref.id
    assert contacts["call-2"] == by_email.id
    assert contacts["call-3"] == by_phone.id
    assert contacts["call-4"] == contacts["call-5"]  # one new customer, matched case-insensitively
    by_ref.refresh_from_db()
    assert by_ref.email == "someone@else.example"  # a blank filled, nothing overwritten
    assert Customer.objects.count() == 4


def test_a_merged_customer_still_matches_as_the_survivor(cast):
    survivor = CustomerFactory(external_ref="CRM-A")
    CustomerFactory(external_ref="CRM-B", merged_into=survivor)
    contacts_ingest(rows=[row(1, customer_ref="CRM-B")])
    assert Contact.objects.get().customer == survivor


def test_contacts_within_the_window_are_repeats_and_late_arrivals_relink(cast):
    same = {"customer_ref": "CRM-9"}
    contacts_ingest(rows=[row(0, **same), row(24 * 3, **same), row(24 * 20, **same)])
    links = dict(Contact.objects.values_list("external_id", "repeat_of__external_id"))
    assert links == {"call-0": None, "call-72": "call-0", "call-480": None}
    # A contact arriving late, between the first two, becomes the one call-72 repeats.
    contacts_ingest(rows=[row(24 * 2, **same), row(24 * 15, **same)])
    links = dict(Contact.objects.values_list("external_id", "repeat_of__external_id"))
    assert links == {
        "call-0": None,
        "call-48": "call-0",
        "call-72": "call-48",
        "call-360": None,
        "call-480": "call-360",
    }
    assert sum(ContactRollup.objects.values_list("repeat_contacts", flat=True)) == 3
    assert_rollups_match_rebuild()


def test_moving_a_contact_moves_its_rollup_counts(cast, reasons):
    contacts_ingest(rows=[row(1, reason="Outage", channel="chat", handle_seconds=60)])
    contacts_ingest(
        rows=[row(1, reason="Billing > Double charge", channel="email", handle_seconds=90)]
    )
    rows = list(ContactRollup.objects.values("reason_id", "channel", "contacts", "handle_seconds"))
    assert rows == [
        {"reason_id": reasons["double"].id, "channel": "email", "contacts": 1, "handle_seconds": 90}
    ]
    assert_rollups_match_rebuild()


def test_late_sentiment_updates_the_negative_count(cast):
    contacts_ingest(
        rows=[
            row(1, text="This is terrible, awful service and I am furious."),
            row(2, text="Thank you, that was great and very helpful!"),
        ]
    )
    assert sum(ContactRollup.objects.values_list("negative_contacts", flat=True)) == 0
    assert contact_sentiment_update(contact_ids=Contact.objects.values_list("id", flat=True)) == 2
    assert Contact.objects.get(external_id="call-1").sentiment < -0.5
    assert Contact.objects.get(external_id="call-2").sentiment > 0.5
    assert sum(ContactRollup.objects.values_list("negative_contacts", flat=True)) == 1
    # Scoring again changes nothing: only unscored contacts are scored.
    assert contact_sentiment_update(contact_ids=Contact.objects.values_list("id", flat=True)) == 0
    assert_rollups_match_rebuild()


def test_sentiment_is_queued_after_commit(cast, django_capture_on_commit_callbacks, monkeypatch):
    from contacts import queue

    queued = []
    monkeypatch.setattr(queue, "enqueue_sentiment", queued.append)
    with django_capture_on_commit_callbacks(execute=True):
        contacts_ingest(rows=[row(n) for n in range(3)])
    assert queued == [sorted(Contact.objects.values_list("id", flat=True))]


def test_the_source_option_wins_and_naive_dates_take_the_given_zone(cast):
    from zoneinfo import ZoneInfo

    options = ParseOptions(source="regulator", naive_tz=ZoneInfo("America/New_York"))
    contacts_ingest(
        rows=[row(1, source="ignored", occurred_at="2026-11-02 09:00")], options=options
    )
    contact = Contact.objects.get()
    assert contact.source == "regulator"
    assert contact.occurred_at == datetime(2026, 11, 2, 14, 0, tzinfo=UTC)


def test_ingest_does_a_fixed_number_of_queries(cast, reasons, django_assert_max_num_queries):
    # Prevents per-row queries: 200 rows with customers, reasons and messages.
    rows = [row(n, reason="Outage", customer_email=f"c{n}@example.com") for n in range(200)]
    with django_assert_max_num_queries(30):
        result = contacts_ingest(rows=rows)
    assert result.created == 200


def test_card_numbers_in_tags_are_redacted(cast):
    contacts_ingest(rows=[row(1, tags=["billing", "4111111111111111"])])
    tags = Contact.objects.get().tags
    assert "billing" in tags
    assert not any("4111" in tag for tag in tags)


def test_text_that_cannot_be_stored_is_rejected_not_crashing(cast):
    result = contacts_ingest(rows=[row(1, text="broken \udc00 surrogate"), row(2)])
    assert result.created == 1
    assert [(r.index, r.field) for r in result.rejected] == [(0, "messages[0].text")]


NOT_TEXT = "contains an unpaired surrogate (\\ud800-\\udfff), which is not text"
SURROGATE = "\ud800"  # what a JSON "\\ud800" escape decodes to: no UTF-8 form, so not storable


def bad(text: str = "") -> str:
    """Text with a lone surrogate next to a card number, which no error may repeat."""
    return f"{text}card 4111111111111111 {SURROGATE}"


def no_messages(**message) -> dict:
    return {"text": None, "messages": [{"text": "first"}, {"text": "second", **message}]}


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"tags": ["billing", bad()]}, "tags"),
        ({"tags": f"billing, {bad()}"}, "tags"),
        ({"reason": f"Billing › {bad()}"}, "reason"),
        ({"reason": ["Billing", bad()]}, "reason"),
        (no_messages(text=bad()), "messages[1].text"),
        (no_messages(author=bad()), "messages[1].author"),
        (no_messages(external_id=bad()), "messages[1].external_id"),
        ({"text": bad()}, "messages[0].text"),
        ({"source": bad()}, "source"),
        ({"external_id": bad()}, "external_id"),
        ({"customer_ref": bad()}, "customer_ref"),
        ({"customer_name": bad()}, "customer_name"),
        ({"customer_email": f"{SURROGATE}@example.com"}, "customer_email"),
        ({"customer_phone": f"+1 415 555 0100 {SURROGATE}"}, "customer_phone"),
        ({"rep": bad()}, "rep"),
        ({"team": bad()}, "team"),
        ({"subject": bad()}, "subject"),
        ({"notes": bad()}, "notes"),
    ],
)
def test_parse_row_refuses_an_unpaired_surrogate_in_any_text_naming_its_field(fields, field):
    with pytest.raises(RowError) as caught:
        parse_row(row(1, **fields), ParseOptions())
    assert (caught.value.field, caught.value.reason) == (field, NOT_TEXT)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"channel": f"phone{SURROGATE}"}, "channel"),
        ({"direction": SURROGATE}, "direction"),
        ({"customer_segment": SURROGATE}, "customer_segment"),
        ({"outcome": SURROGATE}, "outcome"),
        ({"occurred_at": f"2026-11-02T09:30:00Z{SURROGATE}"}, "occurred_at"),
        ({"handle_seconds": f"30{SURROGATE}"}, "handle_seconds"),
        ({"first_contact_resolution": SURROGATE}, "first_contact_resolution"),
        ({"road": SURROGATE}, "road"),
        (no_messages(direction=SURROGATE), "messages[1].direction"),
        (no_messages(sent_at=f"2026-11-02T09:30:00Z{SURROGATE}"), "messages[1].sent_at"),
    ],
)
def test_parse_row_refuses_an_unpaired_surrogate_in_other_fields_too(fields, field):
    """Fields that must be one of a few values reject it as not one of them."""
    with pytest.raises(RowError) as caught:
        parse_row(row(1, **fields), ParseOptions())
    assert caught.value.field == field
    assert caught.value.reason.encode("utf-8")  # storable, and never the value
    assert SURROGATE not in caught.value.reason


def test_parse_row_refuses_nul_characters_in_tags_and_reasons():
    for fields, field in [
        ({"tags": ["billing", "v\x00ip"]}, "tags"),
        ({"tags": "billing, v\x00ip"}, "tags"),
        ({"reason": "Billing › Dou\x00ble"}, "reason"),
        ({"reason": ["Billing", "Dou\x00ble"]}, "reason"),
    ]:
        with pytest.raises(RowError) as caught:
            parse_row(row(1, **fields), ParseOptions())
        assert (caught.value.field, caught.value.reason) == (field, NUL_REASON), fields


def test_parse_row_keeps_text_that_is_not_ascii():
    record = parse_row(
        row(
            1,
            tags=["café", "😀"],
            reason=["Facturación", "Cobro doble"],
            messages=[{"text": "Merci 😀", "author": "Zoë"}],
            text=None,
        ),
        ParseOptions(),
    )
    assert record.tags == ["café", "😀"]
    assert record.reason_path == ("Facturación", "Cobro doble")
    assert (record.messages[0].text, record.messages[0].author) == ("Merci 😀", "Zoë")


def test_rows_with_text_that_cannot_be_stored_are_rejected_and_the_others_written(cast):
    result = contacts_ingest(
        rows=[
            row(1, tags=["vip", SURROGATE]),
            row(2, reason=f"Billing › {SURROGATE}"),
            row(3, **no_messages(text=bad())),
            row(4, tags=["nul\x00"]),
            row(5, tags=["vip"]),
        ],
        create_reasons=True,
    )
    assert result.created == 1
    assert [(r.index, r.field, r.reason) for r in result.rejected] == [
        (0, "tags", NOT_TEXT), (1, "reason", NOT_TEXT), (2, "messages[1].text", NOT_TEXT),
        (3, "tags", NUL_REASON),
    ]  # fmt: skip
    assert list(Contact.objects.values_list("external_id", flat=True)) == ["call-5"]
    assert not ContactReason.objects.exists()


def test_a_row_rejected_for_its_rep_creates_no_reason(cast):
    result = contacts_ingest(rows=[row(1, rep="nobody", reason="Brand new")], create_reasons=True)
    assert result.rejected[0].field == "rep"
    assert not ContactReason.objects.filter(name="Brand new").exists()


def test_extreme_dates_and_overlong_ids_are_row_errors_and_ids_with_cards_stand_ins(cast):
    result = contacts_ingest(
        rows=[
            row(1, occurred_at="0001-01-01T00:00:00Z"),
            row(2, occurred_at="9999-12-31T23:59:59Z"),
            row(3, messages=[{"text": "hi", "external_id": "4111111111111111x" * 13}], text=None),
            {**row(4), "external_id": "4111111111111111x" * 12},
            row(5, messages=[{"text": "hi", "external_id": "card 4111111111111111"}], text=None),
            # 187 characters: fits, and is stored as its stand-in (69 characters)
            {**row(6), "external_id": "4111111111111111x" * 11},
        ]
    )
    rejected = {r.index: r.field for r in result.rejected}
    assert rejected == {
        0: "occurred_at",
        1: "occurred_at",
        2: "messages[0].external_id",
        3: "external_id",
    }
    key = settings.SECRET_KEY.encode()
    assert Message.objects.get(contact__external_id="call-5").external_id == stand_in(
        "card 4111111111111111", key=key
    )
    assert Contact.objects.filter(external_id=stand_in("4111111111111111x" * 11, key=key)).exists()


def test_any_utc_offset_python_reads_is_stored(cast):
    result = contacts_ingest(rows=[row(1, occurred_at="2030-11-23T20:56:28+17:44")])
    assert result.created == 1
    assert Contact.objects.get().occurred_at == datetime(2030, 11, 23, 3, 12, 28, tzinfo=UTC)


def test_unknown_field_names_that_are_not_text_are_reported_safely(cast):
    result = contacts_ingest(
        rows=[
            {**row(1), "\udb8f\ude66": "x"},
            row(2, messages=[{"text": "hi", "\ud800": 1}], text=None),
        ]
    )
    assert result.created == 0
    assert len(result.rejected) == 2
    for rejected in result.rejected:
        text = rejected.field + rejected.reason
        assert text.encode("utf-8", "strict")  # raises for lone surrogates: JSON can't carry them
        assert not any(0xD800 <= ord(character) <= 0xDFFF for character in text)


def test_a_message_without_an_id_steps_aside_for_one_that_took_its_position_as_id(cast, reasons):
    """A message sent without an id is known by its position; another message's own id "0"
    makes the first one "#0" instead of refusing the contact. Ids still given twice are refused,
    and the same payload sent again matches the same messages."""
    messages = [
        {"text": "first, without an id"},
        {"text": "second, without an id"},
        {"external_id": "0", "text": "third, calling itself 0"},
    ]
    batch = [row(1, messages=messages, text=None)]
    assert contacts_ingest(rows=batch).counts()["created"] == 1
    stored = Contact.objects.get(external_id="call-1").messages.order_by("position")
    assert list(stored.values_list("position", "external_id")) == [(0, "#0"), (1, "1"), (2, "0")]
    assert contacts_ingest(rows=batch).counts()["unchanged"] == 1

    twice = [{"external_id": "a", "text": "one"}, {"external_id": "a", "text": "two"}]
    result = contacts_ingest(rows=[row(2, messages=twice, text=None)])
    assert result.counts()["rejected"] == 1
    assert (result.rejected[0].field, result.rejected[0].reason) == (
        "messages[1].external_id",
        "is used twice in this contact",
    )
