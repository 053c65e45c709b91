"""Every spelling of a card number through every stored field of every entry path: the ingest
service (subject, notes, message text, author and id, customer name and reference, tags,
reason names) and inbound email parsing (from-name, subject, Message-ID, In-Reply-To,
References, attachment names, text, HTML bodies); the admin's extra patterns on both; and ids
that hold card-like runs, which must never merge two contacts."""

import random
from email import message_from_bytes
from urllib.parse import quote

import pytest

from contacts.inbound.parsing import parse_email
from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason, Customer, Message, RedactionPattern
from tests.contacts.card_spellings import SPELLINGS, digits_of, number_of

pytestmark = pytest.mark.django_db

PLACEHOLDER = "[card number redacted]"


def _row(n: int, spelled: str) -> dict:
    one_line = " ".join(spelled.split())  # where a field is one line
    return {
        "source": "spellings",
        "external_id": f"row-{n}",
        "channel": "chat",
        "occurred_at": "2026-11-23T10:00:00Z",
        "customer_ref": f"ref-{one_line}",
        "customer_name": f"Ann {one_line}",
        "subject": f"card {one_line}",
        "notes": f"the customer read out {spelled} twice",
        "tags": [f"card {one_line}", "billing"],
        "reason": [f"Billing {one_line}", f"Card {one_line}"],
        "messages": [
            {"text": f"my card is {spelled}, thanks", "author": f"Ann {one_line}"},
            {"text": "anything else?", "author": "agent", "external_id": f"m-{one_line}"},
        ],
    }


def _stored_values() -> list[tuple[str, str]]:
    values = []
    for contact in Contact.objects.all():
        values += [
            ("contact.external_id", contact.external_id),
            ("contact.subject", contact.subject),
            ("contact.notes", contact.notes),
            *(("contact.tags", tag) for tag in contact.tags),
        ]
    for message in Message.objects.all():
        values += [
            ("message.text", message.text),
            ("message.author", message.author),
            ("message.external_id", message.external_id),
        ]
    for customer in Customer.objects.all():
        values += [("customer.name", customer.name), ("customer.ref", customer.external_ref)]
    values += [("reason.name", reason.name) for reason in ContactReason.objects.all()]
    return values


def test_every_spelling_through_every_ingested_field(cast):
    names = list(SPELLINGS)
    rows = [_row(n, SPELLINGS[name]) for n, name in enumerate(names)]
    result = contacts_ingest(rows=rows, create_reasons=True)
    assert result.rejected == []
    assert result.created == len(names)
    values = _stored_values()
    leaks = [
        (field, value)
        for field, value in values
        if any(number_of(name) in digits_of(value) for name in names)
    ]
    assert leaks == []
    # each text field shows the placeholder where the number was
    for n, name in enumerate(names):
        contact = Contact.objects.get(external_id=f"row-{n}")
        assert contact.subject == f"card {PLACEHOLDER}", name
        first = contact.messages.order_by("position").first()
        assert first.text == f"my card is {PLACEHOLDER}, thanks", name
        assert first.author == f"Ann {PLACEHOLDER}", name
        assert f"card {PLACEHOLDER}" in contact.tags, name
        assert contact.customer.name == f"Ann {PLACEHOLDER}", name
    # references hold the card whatever the spelling: each is its own stand-in, none merged
    refs = {c.customer.external_ref for c in Contact.objects.select_related("customer")}
    assert len(refs) == len(names) or len({" ".join(s.split()) for s in SPELLINGS.values()}) < len(
        names
    )
    assert all(ref.startswith("hash-") for ref in refs)
    # a re-send finds every row and customer again and changes nothing
    again = contacts_ingest(rows=rows, create_reasons=True)
    assert (again.created, again.updated, again.unchanged) == (0, 0, len(names))


def test_a_card_split_over_two_messages_of_an_ingested_row(cast):
    row = {
        "source": "chat",
        "external_id": "split-1",
        "channel": "chat",
        "occurred_at": "2026-11-23T10:00:00Z",
        "messages": [
            {"text": "my card is 4111 1111"},
            {"text": "1111 1111 thanks"},
        ],
    }
    assert contacts_ingest(rows=[row]).created == 1
    texts = list(Message.objects.order_by("position").values_list("text", flat=True))
    assert texts == [f"my card is {PLACEHOLDER}", f"{PLACEHOLDER} thanks"]


def test_the_admins_patterns_apply_to_every_ingested_field(cast):
    RedactionPattern.objects.create(name="member ID", regex=r"MBR-\d{6}")
    row = {
        "source": "chat",
        "external_id": "MBR-123456",
        "channel": "chat",
        "occurred_at": "2026-11-23T10:00:00Z",
        "customer_ref": "MBR-654321",
        "subject": "member MBR-123456",
        "tags": ["MBR-123456"],
        "reason": ["MBR-123456"],
        "messages": [{"text": "hi MBR-123456", "author": "MBR-123456"}],
    }
    assert contacts_ingest(rows=[row], create_reasons=True).created == 1
    assert not [v for _, v in _stored_values() if "MBR-" in v]
    contact = Contact.objects.get()
    assert contact.subject == "member [member ID redacted]"
    assert contact.external_id.startswith("hash-")
    assert ContactReason.objects.get().name == "[member id redacted]" or (
        ContactReason.objects.get().name == "[member ID redacted]"
    )


def test_ten_thousand_random_numeric_ids_give_ten_thousand_contacts(cast):
    rng = random.Random(11)
    ids = set()
    while len(ids) < 10_000:
        ids.add("".join(rng.choice("0123456789") for _ in range(20)))
    rows = [
        {
            "source": "dialer",
            "external_id": external_id,
            "channel": "phone",
            "occurred_at": "2026-11-23T10:00:00Z",
        }
        for external_id in sorted(ids)
    ]
    result = contacts_ingest(rows=rows)
    assert (result.created, result.rejected) == (10_000, [])
    assert Contact.objects.count() == 10_000
    # many ids hold a Luhn-valid window: those are stand-ins, the others kept as sent
    stored = set(Contact.objects.values_list("external_id", flat=True))
    assert len(stored) == 10_000
    assert 0 < sum(s.startswith("hash-") for s in stored) < 10_000
    assert not [s for s in stored if "redacted" in s]
    again = contacts_ingest(rows=rows)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 10_000)
    assert Contact.objects.count() == 10_000


def test_ids_the_issue_saw_collapse_stay_two_contacts(cast):
    rows = [
        {"source": "dialer", "external_id": external_id, "channel": "phone",
         "occurred_at": "2026-11-23T10:00:00Z"}
        for external_id in ("rec-20261123140000000", "rec-20261123140006000",
                            "rec-4111111111111111", "rec-4111 1111 1111 1111")
    ]  # fmt: skip
    assert contacts_ingest(rows=rows).created == 4
    assert Contact.objects.count() == 4


# --- inbound email ---------------------------------------------------------------------------


def _raw_email(*, name: str, subject: str, ident: str, filename: str, body: str) -> bytes:
    return (
        f'From: "{name}" <ann@mail.example>\r\n'
        "To: help@northwind.example\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: <{ident}@mail.example>\r\n"
        f"In-Reply-To: <{ident}.1@mail.example>\r\n"
        f"References: <{ident}.0@mail.example> <{ident}.1@mail.example>\r\n"
        "Date: Fri, 20 Nov 2026 09:30:00 +0000\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b"\r\n'
        "\r\n"
        "--b\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: 8bit\r\n"
        "\r\n"
        f"{body}\r\n"
        "--b\r\n"
        "Content-Type: application/pdf\r\n"
        # RFC 2231, as mail clients send a name that is not ASCII
        f"Content-Disposition: attachment; filename*=utf-8''{quote(filename)}\r\n"
        "\r\n"
        "xx\r\n"
        "--b--\r\n"
    ).encode()


@pytest.mark.parametrize("name", SPELLINGS)
def test_every_spelling_through_every_inbound_field(name, settings):
    spelled = SPELLINGS[name]
    one_line = " ".join(spelled.split())
    raw = _raw_email(
        name=f"Ann {one_line}",
        subject=f"card {one_line}",
        ident="".join(spelled.split()),
        filename=f"card {one_line}.pdf",
        body=f"Hello,\r\nmy card is {spelled.replace(chr(10), chr(13) + chr(10))}\r\nthanks",
    )
    parsed = parse_email(message_from_bytes(raw))
    number = number_of(name)
    fields = {
        "from_name": parsed.from_name,
        "subject": parsed.subject,
        "text": parsed.text,
        "attachment": parsed.attachments[0]["name"],
        "message_id": parsed.message_id,
        "in_reply_to": parsed.in_reply_to,
        "references": " ".join(parsed.references),
    }
    assert {f: v for f, v in fields.items() if number in digits_of(v)} == {}
    assert parsed.from_name == f"Ann {PLACEHOLDER}"
    assert parsed.subject == f"card {PLACEHOLDER}"
    assert PLACEHOLDER in parsed.text
    # ids are keyed stand-ins, distinct, never placeholders
    ids = [parsed.message_id, parsed.in_reply_to, *parsed.references]
    assert all(i.startswith("hash-") for i in ids)
    assert len(set(ids)) == 3


@pytest.mark.parametrize(
    "markup",
    [
        "<p>my card is 4111 1111<br>1111 1111</p>",
        "<div>4111 1111</div><div>1111 1111</div>",
        "<p>4111<br/>1111<br/>1111<br/>1111</p>",
        "<p>4111&#8203;1111&nbsp;1111&shy;1111</p>",
        "<table><tr><td>4111</td><td>1111</td><td>1111</td><td>1111</td></tr></table>",
    ],
)
def test_html_bodies_are_redacted_as_read(markup):
    raw = (
        "From: ann@mail.example\r\nTo: help@northwind.example\r\nSubject: hi\r\n"
        "Message-ID: <h1@mail.example>\r\nMIME-Version: 1.0\r\n"
        "Content-Type: text/html; charset=utf-8\r\n\r\n" + markup + "\r\n"
    ).encode()
    parsed = parse_email(message_from_bytes(raw))
    assert "4111111111111111" not in digits_of(parsed.text)
    assert PLACEHOLDER in parsed.text


def test_the_admins_patterns_apply_to_every_inbound_field():
    RedactionPattern.objects.create(name="member ID", regex=r"MBR-\d{6}")
    raw = _raw_email(
        name="Ann MBR-123456",
        subject="member MBR-123456",
        ident="MBR-123456",
        filename="MBR-123456.pdf",
        body="my member id is MBR-123456",
    )
    parsed = parse_email(message_from_bytes(raw))
    assert parsed.from_name == "Ann [member ID redacted]"
    assert parsed.subject == "member [member ID redacted]"
    assert parsed.attachments[0]["name"] == "[member ID redacted].pdf"
    assert parsed.text == "my member id is [member ID redacted]"
    assert all(
        i.startswith("hash-") for i in [parsed.message_id, parsed.in_reply_to, *parsed.references]
    )
