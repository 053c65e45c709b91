"""Email ping-pong: when to tell the rep to pick up the phone.

A customer who has written three times in one email thread without being helped is not
going to be helped by a fourth email: each round trip costs a day and a little more of the
customer's patience. From the customer's third message on, the contact page tells the rep to
call the customer (with the number), and the thread is on the team's worklist on the home
page, until someone calls the customer or the contact is resolved.

In terms of the stored rows:

- **Thread**: one :class:`~contacts.models.Contact` on the email channel, however it came in
  (an email to a support mailbox threaded by ``contacts/inbound/``, a contact ingested from
  another system, one logged by hand), with a customer who is not erased (without one there
  is nobody to call). Its :class:`~contacts.models.Message` rows are the thread's emails.
- **Customer message**: a message of that contact whose direction is *incoming*. The
  company's replies (*outgoing*) do not count, however many there are. Messages are taken in
  their order (``position``); the time of a message is its ``sent_at``, or the contact's
  ``occurred_at`` when the message has none.
- **Resolution**: the contact's outcome is *resolved*. Any other outcome (escalated,
  transferred, a link sent, still open, none) leaves the customer waiting, so the nudge stays.
- **Call**: a contact on the phone channel with the same customer, in either direction (the
  rep rang the customer, or the customer rang and got through: either way they spoke), whose
  outcome is not *abandoned* (a call the customer hung up on before anyone answered), and
  which happened no earlier than :data:`CALL_GRACE` before the third customer message. The
  log form records a call's time to the minute, so a call logged in the same minute as the
  message still counts. A call before that does not: the customer wrote again after it. Who
  made the call does not matter, nor whether the viewer may see it: once someone has spoken
  with the customer, the thread leaves every list.

The rule is a pure function of :class:`ThreadFacts` (:func:`needs_call`), tested without a
database; :func:`threads_needing_call` is its set-based form for lists, and the tests check
that the two agree.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import (
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce

from contacts.models import Channel, Contact, Message

CUSTOMER_MESSAGES = 3  # the customer message from which the rep should call
CALL_GRACE = timedelta(minutes=1)


@dataclass(frozen=True)
class ThreadFacts:
    """What the rule looks at for one contact."""

    channel: str
    outcome: str = ""
    has_customer: bool = True  # a customer who is not erased
    # The time of each customer (incoming) message, in the thread's order.
    customer_message_times: tuple[datetime, ...] = ()
    # The latest call with the customer that counts (any direction, not abandoned), or None.
    last_call_at: datetime | None = None

    @classmethod
    def for_contact(
        cls, contact: Contact, *, messages: list[Message], last_call_at: datetime | None
    ) -> "ThreadFacts":
        """Facts of a saved contact, from its messages (as the contact page has them) and
        :func:`last_call_at`."""
        customer = contact.customer
        incoming = sorted(
            (m for m in messages if m.direction == Message.Direction.INCOMING),
            key=lambda m: (m.position, m.id),
        )
        return cls(
            channel=contact.channel,
            outcome=contact.outcome,
            has_customer=customer is not None and customer.erased_at is None,
            customer_message_times=tuple(m.sent_at or contact.occurred_at for m in incoming),
            last_call_at=last_call_at,
        )


@dataclass(frozen=True)
class CallNudge:
    """ "Call the customer": the customer has written ``customer_messages`` times, the third
    at ``since``."""

    customer_messages: int
    since: datetime
    phone: str = ""  # filled in for the viewer by the selector (contacts.selectors)


def needs_call(facts: ThreadFacts) -> CallNudge | None:
    """The nudge when an email thread has reached its third customer message without a
    resolution and nobody has called the customer since; None otherwise."""
    if facts.channel != Channel.EMAIL or not facts.has_customer:
        return None
    if facts.outcome == Contact.Outcome.RESOLVED:
        return None
    if len(facts.customer_message_times) < CUSTOMER_MESSAGES:
        return None
    third = facts.customer_message_times[CUSTOMER_MESSAGES - 1]
    if facts.last_call_at is not None and facts.last_call_at >= third - CALL_GRACE:
        return None
    return CallNudge(customer_messages=len(facts.customer_message_times), since=third)


def calls() -> QuerySet[Contact]:
    """The contacts that count as a call with their customer (see the module docstring)."""
    return Contact.objects.filter(channel=Channel.PHONE).exclude(outcome=Contact.Outcome.ABANDONED)


def last_call_at(*, customer_id: int | None) -> datetime | None:
    """When the customer's latest call that counts happened (one query), or None."""
    if customer_id is None:
        return None
    return (
        calls()
        .filter(customer_id=customer_id)
        .order_by("-occurred_at")
        .values_list("occurred_at", flat=True)
        .first()
    )


def threads_needing_call(contacts: QuerySet[Contact]) -> QuerySet[Contact]:
    """The contacts of ``contacts`` for which :func:`needs_call` holds, in one query, annotated
    with ``third_customer_message_at`` (how many the customer wrote is the contact's own
    ``customer_messages``)."""
    incoming = Message.objects.filter(
        contact_id=OuterRef("pk"), direction=Message.Direction.INCOMING
    )
    third_at = (
        incoming.order_by("position", "id")
        .annotate(at=Coalesce("sent_at", OuterRef("occurred_at")))
        .values("at")[CUSTOMER_MESSAGES - 1 : CUSTOMER_MESSAGES]
    )
    called = calls().filter(
        customer_id=OuterRef("customer_id"), occurred_at__gte=OuterRef("call_counts_from")
    )
    return (
        contacts.filter(
            channel=Channel.EMAIL,
            customer_messages__gte=CUSTOMER_MESSAGES,  # the partial index of such threads
            customer__isnull=False,
            customer__erased_at__isnull=True,
        )
        .exclude(outcome=Contact.Outcome.RESOLVED)
        .annotate(third_customer_message_at=Subquery(third_at, output_field=DateTimeField()))
        .filter(third_customer_message_at__isnull=False)
        .annotate(
            call_counts_from=ExpressionWrapper(
                F("third_customer_message_at") - Value(CALL_GRACE), output_field=DateTimeField()
            ),
        )
        .filter(~Exists(called))
    )
