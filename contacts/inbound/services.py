"""Writes of inbound email: storing what a webhook delivered, and threading it into a contact.

``inbound_email_store`` runs inside the webhook request and does only what must happen before
the ESP gets its answer: parse, redact, classify, decide the direction and mailbox, and insert
one row (unique on Message-ID, so a redelivery is stored once). ``inbound_email_thread`` runs in
a worker: it claims the row with a conditional update and creates or extends the contact.
"""

import logging
import re
from datetime import datetime, timedelta
from email.message import Message as EmailMessage

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from contacts import redaction_rules
from contacts.inbound.parsing import InboundRejected, ParsedEmail, parse_email
from contacts.inbound.quotes import reply_text
from contacts.inbound.selectors import mailboxes_for
from contacts.ingest.records import MAX_TEXT
from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, Customer, InboundEmail, Message, SupportMailbox
from contacts.queue import enqueue_inbound_thread_on_commit
from contacts.services.messages import message_append
from contacts.tombstones import (
    email_is_erased,
    erased_message_id,
    hold_erasure_lock_shared,
)
from voc.core.audit import INBOUND_EMAIL

logger = logging.getLogger(__name__)

Status = InboundEmail.Status
Direction = InboundEmail.Direction
NOT_TO_A_MAILBOX = "Not addressed to an active support mailbox."
NO_CUSTOMER = "No customer address: no sender, or only support addresses."


def _direction(parsed: ParsedEmail) -> tuple[str, SupportMailbox | None, str]:
    """(direction, mailbox, customer address). Mail from a support address is the mailbox's
    copy of its own reply (outgoing, the customer is the first other recipient); anything
    else is incoming, to the first support address among its recipients."""
    recipients = parsed.recipients()
    mailboxes = mailboxes_for([parsed.from_address, *recipients])
    if parsed.from_address in mailboxes:
        customer = next((a for a in [*parsed.to, *parsed.cc] if a not in mailboxes), "")
        return Direction.OUTGOING, mailboxes[parsed.from_address], customer
    mailbox = next((mailboxes[a] for a in recipients if a in mailboxes), None)
    return Direction.INCOMING, mailbox, parsed.from_address


def inbound_email_store(
    *, message: EmailMessage, esp: str, envelope_recipient: str = ""
) -> tuple[InboundEmail, bool]:
    """Store one delivered email; returns (row, created). A Message-ID already stored returns
    the stored row and changes nothing (also when two deliveries race: the unique constraint
    decides). Raises InboundRejected for input VoC refuses; nothing is stored then."""
    try:
        parsed = parse_email(
            message, envelope_recipient=envelope_recipient, redactor=redaction_rules.redactor()
        )
    except InboundRejected:
        raise
    except Exception as error:  # the email package on hostile MIME
        logger.warning("inbound email could not be parsed (%s)", type(error).__name__)
        raise InboundRejected(400, "The email could not be parsed.") from None

    # An erased person's email keeps only a keyed hash of its Message-ID: look for both.
    stored_ids = [parsed.message_id, erased_message_id(parsed.message_id)]
    existing = InboundEmail.objects.filter(message_id__in=stored_ids).first()
    if existing is not None:  # the usual redelivery; the constraint below covers a race
        return existing, False

    direction, mailbox, customer_address = _direction(parsed)
    values = {
        "esp": esp[:30],
        "sent_at": parsed.sent_at,
        "from_address": parsed.from_address,
        "from_name": parsed.from_name,
        "to_addresses": parsed.to,
        "cc_addresses": parsed.cc,
        "subject": parsed.subject,
        "in_reply_to": parsed.in_reply_to,
        "references": parsed.references,
        "text": parsed.text,
        "headers": parsed.headers,
        "spam_detected": parsed.spam_detected,
        "spam_score": parsed.spam_score,
        "attachments": parsed.attachments,
        "kind": parsed.kind,
        "direction": direction,
        "mailbox": mailbox,
    }
    message_id = parsed.message_id
    hold_erasure_lock_shared()  # the view's transaction holds it until the row is committed
    if customer_address and email_is_erased(customer_address):
        # Whatever its kind: the person's mail is not stored. Checked again before threading.
        values.update(
            InboundEmail.cleared_content(), status=Status.ERASED, processed_at=timezone.now()
        )
        message_id = stored_ids[1]
    elif parsed.kind != InboundEmail.Kind.MESSAGE:
        values.update(status=Status.SKIPPED, processed_at=timezone.now())
    elif mailbox is None:
        values.update(status=Status.SKIPPED, processed_at=timezone.now(), error=NOT_TO_A_MAILBOX)
    elif not customer_address:
        values.update(status=Status.SKIPPED, processed_at=timezone.now(), error=NO_CUSTOMER)
    try:
        with transaction.atomic():
            email = InboundEmail.objects.create(message_id=message_id, **values)
    except IntegrityError:
        stored = InboundEmail.objects.filter(message_id__in=stored_ids).first()
        if stored is None:
            raise
        return stored, False
    if email.status == Status.PENDING:
        enqueue_inbound_thread_on_commit(email.id)
    return email, True


def _customer_address(email: InboundEmail) -> str:
    if email.direction == Direction.OUTGOING:
        support = set(mailboxes_for([*email.to_addresses, *email.cc_addresses]))
        return next((a for a in [*email.to_addresses, *email.cc_addresses] if a not in support), "")
    return email.from_address


def _customer_id(address: str) -> int | None:
    """The customer with this address (case-insensitive), as the ingest matching would find
    them: the oldest record, or the one it was merged into."""
    row = (
        Customer.objects.annotate(lemail=Lower("email"))
        .filter(lemail=address.lower())
        .order_by("id")
        .values("id", "merged_into_id")
        .first()
    )
    if row is None:
        return None
    return row["merged_into_id"] or row["id"]


def _occurred_at(email: InboundEmail) -> datetime:
    """The Date header when it is plausible, else when VoC received the email."""
    received = email.received_at
    if email.sent_at and received - timedelta(days=30) <= email.sent_at <= received + timedelta(
        hours=1
    ):
        return email.sent_at
    return received


def _message_text(email: InboundEmail) -> str:
    text = reply_text(email.text)
    if not text:
        names = ", ".join(a["name"] or a["type"] for a in email.attachments)
        text = f"(no text; attachments: {names})" if names else "(no text)"
    if len(text) > MAX_TEXT:
        text = text[: MAX_TEXT - 20].rstrip() + "\n[… cut]"
    return text


def _message_direction(email: InboundEmail) -> str:
    return (
        Message.Direction.OUTGOING
        if email.direction == Direction.OUTGOING
        else Message.Direction.INCOMING
    )


def _thread_root(email: InboundEmail) -> str:
    """The thread's first Message-ID (the contact's external_id), so that every later message
    of the thread, whose References start with it, finds the contact."""
    return str((email.references or [email.in_reply_to or email.message_id])[0])


def _create_contact(email: InboundEmail, customer_address: str) -> int:
    mailbox = email.mailbox
    if mailbox is None:  # an email to no mailbox is stored as skipped, never threaded
        raise ValueError(f"inbound email {email.id} reached no support mailbox")
    outgoing = email.direction == Direction.OUTGOING
    reason = mailbox.default_reason
    row = {
        "source": "email",
        "external_id": _thread_root(email),
        "channel": "email",
        "direction": Contact.Direction.OUTBOUND if outgoing else Contact.Direction.INBOUND,
        "occurred_at": _occurred_at(email).isoformat(),
        "customer_email": customer_address,
        "customer_name": "" if outgoing else email.from_name,
        "team": mailbox.team.name,
        "reason": [reason.parent.name, reason.name]
        if reason and reason.parent is not None
        else ([reason.name] if reason else None),
        "subject": email.subject[:300],
        "messages": [
            {
                "external_id": email.message_id,
                "direction": _message_direction(email),
                "author": email.from_name or email.from_address,
                "sent_at": email.sent_at.isoformat() if email.sent_at else None,
                "text": _message_text(email),
            }
        ],
    }
    result = contacts_ingest(rows=[row], by=INBOUND_EMAIL)
    if result.rejected:
        rejected = result.rejected[0]
        raise ThreadingFailed(f"The contact was refused: {rejected.field} {rejected.reason}")
    return Contact.objects.only("id").get(source="email", external_id=row["external_id"]).id


_REPLY_PREFIX = re.compile(
    r"^\s*(?:re|aw|sv|vs|antw|odp|rif|réf|fw|fwd|wg|tr|enc)\s*(?:\[\d{1,4}\])?\s*:\s*",
    re.IGNORECASE,
)
MAX_THREAD_DEPTH = 5


def normalise_subject(subject: str) -> tuple[str, bool]:
    """(the subject without reply/forward prefixes, lower case; whether it had one)."""
    subject = " ".join(subject.split())
    had_prefix = False
    for _ in range(20):  # "Re: Re: AW: ..." is bounded
        stripped = _REPLY_PREFIX.sub("", subject, count=1)
        if stripped == subject:
            break
        subject, had_prefix = stripped, True
    return subject.strip().lower(), had_prefix


def _thread_contact_id(email: InboundEmail, *, customer_id: int | None, depth: int) -> int | None:
    """The contact this email continues, or None for a new thread: by In-Reply-To and
    References (newest first), then by subject and customer within
    VOC_INBOUND_THREAD_WINDOW_DAYS for a reply whose references VoC never saw."""
    candidates = [
        ident
        for ident in dict.fromkeys([email.in_reply_to, *reversed(email.references)])
        if ident and ident != email.message_id
    ]
    if candidates:
        if depth < MAX_THREAD_DEPTH:
            # A reply may overtake the email it answers: thread that one first, so both join
            # one contact. If another worker holds it, the claim waits for its commit.
            for pending_id in InboundEmail.objects.filter(
                message_id__in=candidates, status=Status.PENDING
            ).values_list("id", flat=True):
                inbound_email_thread(inbound_id=pending_id, depth=depth + 1)
        known = dict(
            InboundEmail.objects.filter(
                message_id__in=candidates, contact__isnull=False
            ).values_list("message_id", "contact_id")
        )
        known.update(
            (external_id, contact_id)
            for external_id, contact_id in Contact.objects.filter(
                source="email", external_id__in=candidates
            ).values_list("external_id", "id")
            if external_id not in known
        )
        for ident in candidates:
            if ident in known:
                return known[ident]
    subject, had_prefix = normalise_subject(email.subject)
    if customer_id is None or not subject or not (had_prefix or candidates):
        return None
    occurred = _occurred_at(email)
    window = timedelta(days=settings.VOC_INBOUND_THREAD_WINDOW_DAYS)
    for contact_id, contact_subject in (
        Contact.objects.filter(
            customer_id=customer_id,
            source="email",
            occurred_at__gte=occurred - window,
            occurred_at__lte=occurred,
        )
        .order_by("-occurred_at", "-id")
        .values_list("id", "subject")[:50]
    ):
        if normalise_subject(contact_subject)[0] == subject[:300].strip():
            return contact_id
    return None


class ThreadingFailed(Exception):
    """A permanent reason this email cannot become a contact (recorded on the row)."""


def inbound_email_thread(*, inbound_id: int, depth: int = 0) -> str | None:
    """Thread one stored email into a contact. Claims the row with a conditional update, so a
    second run (a redelivered task, a sweep) does nothing; returns the new status or None."""
    with transaction.atomic():
        hold_erasure_lock_shared()  # before any row lock, as the erasure takes it
        claimed = InboundEmail.objects.filter(
            id=inbound_id, status=Status.PENDING, processed_at__isnull=True
        ).update(processed_at=timezone.now())
        if not claimed:
            return None
        email = InboundEmail.objects.select_related(
            "mailbox__team", "mailbox__default_reason__parent"
        ).get(id=inbound_id)
        customer_address = _customer_address(email)
        if customer_address and email_is_erased(customer_address):
            InboundEmail.objects.filter(id=email.id).update(
                **InboundEmail.cleared_content(),
                message_id=erased_message_id(email.message_id),
                status=Status.ERASED,
            )
            return Status.ERASED
        if email.mailbox is None or not email.mailbox.active or not customer_address:
            error = NO_CUSTOMER if email.mailbox else NOT_TO_A_MAILBOX
            InboundEmail.objects.filter(id=email.id).update(status=Status.SKIPPED, error=error)
            return Status.SKIPPED

        customer_id = _customer_id(customer_address)
        contact_id = _thread_contact_id(email, customer_id=customer_id, depth=depth)
        try:
            with transaction.atomic():
                if contact_id is None:
                    contact_id = _create_contact(email, customer_address)
                else:
                    message_append(
                        contact_id=contact_id,
                        external_id=email.message_id[:200],
                        direction=_message_direction(email),
                        author=(email.from_name or email.from_address)[:200],
                        sent_at=email.sent_at,
                        text=_message_text(email),
                        by=INBOUND_EMAIL,
                        skip_duplicate=True,
                    )
        except ThreadingFailed as error:
            InboundEmail.objects.filter(id=email.id).update(status=Status.FAILED, error=str(error))
            return Status.FAILED
        customer_id = Contact.objects.filter(id=contact_id).values_list("customer_id", flat=True)[0]
        InboundEmail.objects.filter(id=email.id).update(
            status=Status.THREADED, contact_id=contact_id, customer_id=customer_id, error=""
        )
    return Status.THREADED


def inbound_email_fail(*, inbound_id: int, error: str) -> None:
    """Record that threading failed for good (the task gave up); the row stays for admins."""
    InboundEmail.objects.filter(id=inbound_id, status=Status.PENDING).update(
        status=Status.FAILED, error=error[:500], processed_at=timezone.now()
    )


def inbound_pending_ids(*, older_than: timedelta, limit: int) -> list[int]:
    """Rows still waiting (their task was lost with a worker or never queued)."""
    return list(
        InboundEmail.objects.filter(
            status=Status.PENDING,
            processed_at__isnull=True,
            received_at__lt=timezone.now() - older_than,
        )
        .order_by("id")
        .values_list("id", flat=True)[:limit]
    )
