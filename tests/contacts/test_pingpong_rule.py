"""The email ping-pong rule (contacts.pingpong.needs_call) at its boundaries, without a
database: the third customer message nudges, the second does not; the company's replies never
count; a resolution or a call from the third message on ends it."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from contacts.models import Contact, Message
from contacts.pingpong import CALL_GRACE, CallNudge, ThreadFacts, needs_call

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def times(n: int) -> tuple[datetime, ...]:
    """n customer messages, an hour apart from T0."""
    return tuple(T0 + i * HOUR for i in range(n))


def thread(n: int, **facts) -> ThreadFacts:
    return ThreadFacts(**{"channel": "email", "customer_message_times": times(n), **facts})


def test_two_customer_messages_do_not_nudge():
    assert needs_call(thread(2)) is None


def test_the_third_customer_message_nudges_from_its_time():
    assert needs_call(thread(3)) == CallNudge(customer_messages=3, since=T0 + 2 * HOUR)


def test_later_messages_keep_the_nudge_and_its_start():
    assert needs_call(thread(5)) == CallNudge(customer_messages=5, since=T0 + 2 * HOUR)


def test_a_resolved_thread_does_not_nudge():
    assert needs_call(thread(3, outcome=Contact.Outcome.RESOLVED)) is None


def test_other_outcomes_keep_the_nudge():
    for outcome in Contact.Outcome.values:
        if outcome != Contact.Outcome.RESOLVED:
            assert needs_call(thread(3, outcome=outcome)) is not None, outcome


def test_a_call_from_the_third_message_on_ends_the_nudge():
    third = T0 + 2 * HOUR
    assert needs_call(thread(3, last_call_at=third)) is None
    assert needs_call(thread(3, last_call_at=third + timedelta(days=3))) is None


def test_a_call_logged_within_the_minute_before_the_third_message_counts():
    # The log form records the call to the minute.
    third = T0 + 2 * HOUR
    assert timedelta(minutes=1) == CALL_GRACE
    assert needs_call(thread(3, last_call_at=third - CALL_GRACE)) is None
    before = third - CALL_GRACE - timedelta(seconds=1)
    assert needs_call(thread(3, last_call_at=before)) == CallNudge(3, third)


def test_a_call_before_the_third_message_does_not_count():
    # The customer wrote again after the call: it did not settle it.
    assert needs_call(thread(3, last_call_at=T0 + HOUR)) == CallNudge(3, T0 + 2 * HOUR)


def test_only_email_threads_nudge():
    for channel in ("chat", "web_form", "phone", "social"):
        assert needs_call(thread(3, channel=channel)) is None, channel


def test_a_thread_without_a_customer_to_call_does_not_nudge():
    assert needs_call(thread(3, has_customer=False)) is None


def message(position: int, direction: str, sent_at: datetime | None = None) -> Message:
    return Message(id=position, position=position, direction=direction, sent_at=sent_at, text="x")


def contact(**fields) -> Contact:
    customer = SimpleNamespace(erased_at=fields.pop("erased_at", None))
    contact = Contact(channel="email", occurred_at=T0 - HOUR, **fields)
    contact._state.fields_cache["customer"] = customer
    return contact


IN, OUT = Message.Direction.INCOMING, Message.Direction.OUTGOING


def test_outgoing_messages_do_not_count():
    # Customer, reply, customer, reply, reply, reply: two customer messages among six.
    messages = [message(1, IN, T0), message(2, OUT, T0)]
    messages += [message(3, IN, T0 + HOUR)] + [message(p, OUT, T0 + 2 * HOUR) for p in (4, 5, 6)]
    facts = ThreadFacts.for_contact(contact(), messages=messages, last_call_at=None)
    assert facts.customer_message_times == (T0, T0 + HOUR)
    assert needs_call(facts) is None
    facts = ThreadFacts.for_contact(
        contact(), messages=[*messages, message(7, IN, T0 + 3 * HOUR)], last_call_at=None
    )
    assert needs_call(facts) == CallNudge(3, T0 + 3 * HOUR)


def test_facts_take_messages_in_thread_order_and_the_contact_time_for_an_undated_one():
    messages = [message(3, IN, None), message(1, IN, T0), message(2, IN, T0 + HOUR)]
    facts = ThreadFacts.for_contact(contact(), messages=messages, last_call_at=None)
    assert facts.customer_message_times == (T0, T0 + HOUR, T0 - HOUR)
    assert needs_call(facts) == CallNudge(3, T0 - HOUR)


def test_an_erased_customer_is_not_to_be_called():
    messages = [message(p, IN, T0) for p in (1, 2, 3)]
    assert needs_call(ThreadFacts.for_contact(contact(), messages=messages, last_call_at=None))
    facts = ThreadFacts.for_contact(contact(erased_at=T0), messages=messages, last_call_at=None)
    assert facts.has_customer is False
    assert needs_call(facts) is None
