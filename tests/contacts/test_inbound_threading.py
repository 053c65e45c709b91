"""Threading stored emails into contacts: new threads, replies, bcc'd support replies, the
subject fallback, erased customers, and the append service that leaves a rep's work alone."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from anymail.inbound import AnymailInboundMessage
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import TestCase

from contacts import tombstones
from contacts.inbound.quotes import reply_text
from contacts.inbound.services import (
    inbound_email_store,
    inbound_email_thread,
    inbound_pending_ids,
    normalise_subject,
)
from contacts.models import (
    Contact,
    ContactReason,
    Customer,
    CustomerErasure,
    ErasureTombstone,
    InboundEmail,
    Message,
    SupportMailbox,
)
from contacts.rollups import rollup_snapshot, rollups_rebuild
from contacts.services.contacts import contact_update
from contacts.services.messages import message_append
from contacts.tasks import inbound_email_thread_task, inbound_sweep
from tests.contacts import inbound_payloads as p
from voc.core.audit import INBOUND_EMAIL

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
QUOTED = (
    "\n\nOn Fri, 20 Nov 2026 at 09:30, Help desk <help@northwind.example>\nwrote:\n> Earlier text"
)


@pytest.fixture
def mailbox(cast):
    parent = ContactReason.objects.create(name="Billing", department=cast.dept_a)
    reason = ContactReason.objects.create(name="Unclassified email", parent=parent)
    return SupportMailbox.objects.create(address=p.SUPPORT, team=cast.team_a, default_reason=reason)


@pytest.fixture(autouse=True)
def no_task(monkeypatch):
    monkeypatch.setattr(inbound_email_thread_task, "delay", lambda _id: None)


def deliver(**kwargs) -> InboundEmail:
    """Store an email as if it arrived a minute after its Date header."""
    kwargs.setdefault("date", DAY)
    message = AnymailInboundMessage.parse_raw_mime_bytes(p.mime(**kwargs))
    with time_machine.travel(kwargs["date"] + timedelta(minutes=1), tick=False):
        return inbound_email_store(message=message, esp="test")[0]


def thread(**kwargs) -> InboundEmail:
    email = deliver(**kwargs)
    inbound_email_thread(inbound_id=email.id)
    email.refresh_from_db()
    return email


def test_a_new_thread_becomes_a_contact_through_ingestion(mailbox, cast):
    email = thread(text=f"I was charged twice.{QUOTED}")
    assert email.status == "threaded"
    contact = email.contact
    assert (contact.source, contact.external_id, contact.channel) == (
        "email",
        "m1@mail.example",
        "email",
    )
    assert contact.direction == "inbound"
    assert contact.team == cast.team_a
    assert contact.reason == mailbox.default_reason
    assert contact.subject == "My bill is wrong"
    assert contact.occurred_at == DAY
    customer = contact.customer
    assert (customer.email, customer.name) == ("ann@mail.example", "Ann Customer")
    assert email.customer == customer
    [message] = contact.messages.all()
    assert (message.external_id, message.direction, message.position) == (
        "m1@mail.example",
        "incoming",
        0,
    )
    assert message.text == "I was charged twice."  # the quoted earlier text is not kept
    assert "Earlier text" in email.text  # the record keeps the whole body
    assert rollup_snapshot() == _rebuilt()


def test_an_existing_customer_is_matched_case_insensitively(mailbox):
    known = Customer.objects.create(name="Ann", email="Ann@Mail.Example", external_ref="CRM-1")
    email = thread()
    assert email.contact.customer == known


def test_a_reply_joins_its_thread_and_keeps_the_reps_classification(mailbox, cast):
    first = thread()
    contact = first.contact
    other = ContactReason.objects.create(name="Double charge", department=cast.dept_a)
    contact_update(
        contact=contact,
        changes={"reason": other, "tags": ["vip"], "notes": "called", "road": 2},
        by=cast.rep,
    )
    Contact.objects.filter(id=contact.id).update(sentiment=-0.8)
    rollups_rebuild()
    reply = thread(
        message_id="<m2@mail.example>",
        subject="Re: My bill is wrong",
        in_reply_to="<m1@mail.example>",
        references="<m1@mail.example>",
        text=f"Still not fixed!{QUOTED}",
        date=DAY + timedelta(hours=2),
    )
    assert reply.contact_id == contact.id
    contact.refresh_from_db()
    assert (contact.reason, contact.tags, contact.notes, contact.road) == (
        other,
        ["vip"],
        "called",
        2,
    )
    assert contact.sentiment is None  # scored again by the sentiment task
    # The fingerprint stays: the source re-sending the first email's row unchanged must
    # not replace the messages and lose the reply (see the append service).
    assert contact.content_hash != ""
    assert list(contact.messages.values_list("position", "external_id", "text")) == [
        (0, "m1@mail.example", "Hello, I was charged twice this month."),
        (1, "m2@mail.example", "Still not fixed!"),
    ]
    assert Contact.objects.count() == 1
    assert rollup_snapshot() == _rebuilt()


def test_a_reply_found_through_references_only(mailbox):
    first = thread()
    reply = thread(
        message_id="<m3@mail.example>",
        references="<m1@mail.example> <m2@unknown>",
        subject="Re: My bill is wrong",
    )
    assert reply.contact_id == first.contact_id


def test_a_reply_to_an_unseen_message_starts_a_contact_its_followers_find(mailbox):
    first = thread(
        message_id="<r1@mail.example>",
        in_reply_to="<sent-by-crm@northwind.example>",
        references="<sent-by-crm@northwind.example>",
    )
    assert first.contact.external_id == "sent-by-crm@northwind.example"
    second = thread(
        message_id="<r2@mail.example>",
        subject="different words",
        references="<sent-by-crm@northwind.example> <r1@mail.example>",
    )
    assert second.contact_id == first.contact_id


def test_the_subject_fallback_joins_a_reply_without_known_references(mailbox):
    first = thread()
    same = thread(
        message_id="<s1@mail.example>",
        subject="RE: AW:  my bill is WRONG",
        date=DAY + timedelta(days=3),
    )
    assert same.contact_id == first.contact_id
    # Without a reply prefix it is a new conversation, as is one past the window.
    fresh = thread(
        message_id="<s2@mail.example>", subject="My bill is wrong", date=DAY + timedelta(days=4)
    )
    late = thread(
        message_id="<s3@mail.example>",
        subject="Re: My bill is wrong",
        date=DAY + timedelta(days=30),
    )
    assert len({first.contact_id, fresh.contact_id}) == 2
    assert late.contact_id not in {first.contact_id, fresh.contact_id}


def test_the_subject_fallback_needs_the_same_customer(mailbox):
    first = thread()
    other = thread(
        message_id="<o1@mail.example>",
        sender="Bob <bob@mail.example>",
        subject="Re: My bill is wrong",
    )
    assert other.contact_id != first.contact_id


def test_a_bccd_support_reply_joins_as_outgoing(mailbox):
    first = thread()
    reply = thread(
        message_id="<out-1@northwind.example>",
        sender=f"Help desk <{p.SUPPORT}>",
        to="Ann Customer <ann@mail.example>",
        subject="Re: My bill is wrong",
        in_reply_to="<m1@mail.example>",
        text="We refunded the second charge.",
        date=DAY + timedelta(hours=1),
    )
    assert reply.direction == "outgoing"
    assert reply.contact_id == first.contact_id
    assert reply.customer == first.customer
    message = Message.objects.get(external_id="out-1@northwind.example")
    assert (message.direction, message.position, message.author) == ("outgoing", 1, "Help desk")


def test_a_support_mail_that_starts_a_thread_is_an_outbound_contact(mailbox):
    email = thread(
        message_id="<out-2@northwind.example>",
        sender=p.SUPPORT,
        to="Bob Newcustomer <bob@mail.example>",
        subject="Your new router",
    )
    contact = email.contact
    assert contact.direction == "outbound"
    assert contact.customer.email == "bob@mail.example"
    assert contact.messages.get().direction == "outgoing"


def test_a_reply_that_overtakes_its_original_still_joins_it(mailbox):
    original = deliver()
    reply = deliver(
        message_id="<m2@mail.example>",
        in_reply_to="<m1@mail.example>",
        subject="Re: My bill is wrong",
        date=DAY + timedelta(minutes=5),
    )
    inbound_email_thread(inbound_id=reply.id)  # the worker took the reply first
    original.refresh_from_db()
    reply.refresh_from_db()
    assert original.status == reply.status == "threaded"
    assert original.contact_id == reply.contact_id
    assert original.contact.external_id == "m1@mail.example"
    assert inbound_email_thread(inbound_id=original.id) is None  # already done


def test_threading_twice_does_nothing_the_second_time(mailbox):
    email = deliver()
    assert inbound_email_thread(inbound_id=email.id) == "threaded"
    assert inbound_email_thread(inbound_id=email.id) is None
    assert Message.objects.count() == 1


def test_an_erasure_between_webhook_and_threading_wins(mailbox):
    email = deliver()
    erasure = CustomerErasure.objects.create(customer_id_erased=1)
    ErasureTombstone.objects.create(
        kind=ErasureTombstone.Kind.EMAIL,
        digest=tombstones.digest(ErasureTombstone.Kind.EMAIL, "ANN@mail.example"),
        erasure=erasure,
    )
    original_id = email.message_id
    assert inbound_email_thread(inbound_id=email.id) == "erased"
    email.refresh_from_db()
    assert (email.status, email.from_address, email.subject, email.text) == ("erased", "", "", "")
    assert email.message_id == tombstones.erased_message_id(original_id)
    assert deliver().id == email.id  # a redelivery is recognised, not stored again
    assert not Contact.objects.exists() and not Customer.objects.exists()


def test_a_mailbox_deactivated_before_threading_skips_the_email(mailbox):
    email = deliver()
    mailbox.active = False
    mailbox.save()
    assert inbound_email_thread(inbound_id=email.id) == "skipped"
    assert not Contact.objects.exists()


def test_an_attachment_only_email_gets_a_placeholder_text(mailbox):
    email = thread(text=None, attachments=[("photo.jpg", "image/jpeg", b"\xff\xd8" * 100)])
    assert email.contact.messages.get().text == "(no text; attachments: photo.jpg)"


def test_the_task_and_the_sweep(mailbox, settings):
    email = deliver()
    assert inbound_email_thread_task.run(email.id) == "threaded"
    assert inbound_email_thread_task.run(email.id) is None
    lost = deliver(message_id="<lost@mail.example>", subject="Another question")
    InboundEmail.objects.filter(id=lost.id).update(received_at=DAY - timedelta(hours=1))
    assert inbound_pending_ids(older_than=timedelta(minutes=2), limit=10) == [lost.id]
    assert inbound_sweep() == 1
    lost.refresh_from_db()
    assert lost.status == "threaded"


def test_a_failure_is_recorded_on_the_row(mailbox, monkeypatch):
    import contacts.inbound.services as services

    email = deliver()

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(services, "_create_contact", broken)
    with pytest.raises(RuntimeError):
        inbound_email_thread_task.run(email.id)
    email.refresh_from_db()
    assert (email.status, email.error) == ("failed", "Threading failed (RuntimeError).")


# --- the append service -----------------------------------------------------------------------


def test_append_redacts_and_refuses_bad_input(mailbox):
    contact = thread().contact
    message = message_append(
        contact_id=contact.id,
        by=INBOUND_EMAIL,
        skip_duplicate=True,
        external_id="x1",
        direction="incoming",
        author="Ann",
        sent_at=None,
        text="card 4111 1111 1111 1111",
    )
    assert "4111" not in message.text
    assert (
        message_append(
            contact_id=contact.id,
            by=INBOUND_EMAIL,
            skip_duplicate=True,
            external_id="x1",
            direction="incoming",
            author="",
            sent_at=None,
            text="again",
        )
        is None
    )
    with pytest.raises(ValidationError):
        message_append(
            contact_id=contact.id,
            by=INBOUND_EMAIL,
            skip_duplicate=True,
            external_id="x2",
            direction="sideways",
            author="",
            sent_at=None,
            text="hi",
        )
    with pytest.raises(ValidationError):
        message_append(
            contact_id=contact.id,
            by=INBOUND_EMAIL,
            skip_duplicate=True,
            external_id="x3",
            direction="incoming",
            author="",
            sent_at=None,
            text="   ",
        )


def test_append_queues_sentiment_after_commit(mailbox):
    contact = thread().contact
    with TestCase.captureOnCommitCallbacks() as callbacks:
        message_append(
            contact_id=contact.id,
            by=INBOUND_EMAIL,
            skip_duplicate=True,
            external_id="y1",
            direction="incoming",
            author="",
            sent_at=None,
            text="Thanks, all good now",
        )
    assert len(callbacks) == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_replies_appended_at_once_get_distinct_positions(cast):
    import threading

    if connection.vendor != "postgresql":
        pytest.skip("needs concurrent writers")
    SupportMailbox.objects.create(address=p.SUPPORT, team=cast.team_a)
    contact = thread().contact
    barrier = threading.Barrier(2, timeout=10)
    errors = []

    def append(n):
        try:
            barrier.wait()
            message_append(
                contact_id=contact.id,
                by=INBOUND_EMAIL,
                skip_duplicate=True,
                external_id=f"c{n}",
                direction="incoming",
                author="",
                sent_at=None,
                text=f"reply {n}",
            )
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=append, args=(n,)) for n in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert errors == []
    assert sorted(contact.messages.values_list("position", flat=True)) == [0, 1, 2]


# --- helpers ----------------------------------------------------------------------------------


def _rebuilt():
    snapshot = rollup_snapshot()
    rollups_rebuild()
    rebuilt = rollup_snapshot()
    assert snapshot == rebuilt
    return rebuilt


@pytest.mark.parametrize(
    ("subject", "expected"),
    [
        ("Re: Bill", ("bill", True)),
        ("RE: AW: Fwd:  Bill  total", ("bill total", True)),
        ("Re[2]: Bill", ("bill", True)),
        ("Bill", ("bill", False)),
        ("Reply needed", ("reply needed", False)),
    ],
)
def test_normalise_subject(subject, expected):
    assert normalise_subject(subject) == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "Thanks!\n\nOn Mon, 23 Nov 2026 at 09:00, Ann <ann@x.example> wrote:\n> old\n> older",
            "Thanks!",
        ),
        ("Danke\n\nAm 23.11.2026 um 09:00 schrieb Ann <ann@x.example>:\n> alt", "Danke"),
        ("Top\n\n-----Original Message-----\nFrom: Ann\nSent: Monday\nTo: help\n\nold", "Top"),
        (
            "Top\n________________________________\nFrom: Ann <a@x.example>\nSent: Monday\n"
            "To: help@x.example\nSubject: Re: bill\n\nold",
            "Top",
        ),
        ("Inline answer\n> quoted question\nmore of mine", "Inline answer\nmore of mine"),
        ("> only quoted\n> text", "> only quoted\n> text"),
        (
            "From: my landlord\nI moved house, please update the address.",
            "From: my landlord\nI moved house, please update the address.",
        ),
    ],
)
def test_reply_text_strips_quoted_history(body, expected):
    assert reply_text(body) == expected


def test_reply_text_is_linear_on_hostile_bodies():
    # Inputs that take minutes in the regex-based parsers: here a single pass each.
    for body in ("On " * 40_000, "From: a\n" * 20_000, "On x\n" * 30_000, ">" * 100_000):
        assert isinstance(reply_text(body), str)
