"""Send once: the one way to send an email that must reach its recipient once (survey
invitations, fix notices, escalation emails, digests).

A service asks for the email inside its own transaction::

    send_once(purpose="loops.fix_notice", key=f"issue:{issue.id}:customer:{customer.id}",
              to=[customer.email], template="fix-notice", context={"issue_id": issue.id},
              customer_id=customer.id, by=request.user)

That writes one row per (purpose, key), and a unique constraint makes a second row impossible;
asking again returns the first row and sends nothing. Once the transaction commits a worker:

1. **claims** the row with a conditional update (pending → sending); if no row changed, another
   worker has it, or it went out already;
2. **renders** the message (``context`` through the purpose's builder, if one is registered with
   :func:`register_email_context`, then ``emails/<template>-…`` as for every email);
3. **hands it over**: marks the row ``handed_at`` and gives the message to the backend with a
   deterministic ``Message-ID`` (:func:`message_id_for`) and the ESP metadata key
   ``voc_send_once`` = "purpose:key" (anymail passes ``metadata`` to every ESP it supports);
4. **records** it: sending → sent, with the ESP's own message id.

**The window.** Between the backend accepting the message (step 3 returns) and the row being
written "sent" (step 4 commits), a worker that dies, or a database that fails, leaves a row
"sending" with ``handed_at`` set, and nothing in VoC can know whether the email left. No code
resends it: :func:`send_once_sweep` marks such a row "unknown" for a person to check the ESP's
log for its Message-ID (or its metadata key) and decide (:func:`send_once_resolve`). Where the
sweep can see the backend's record itself (the local outbox, searched by Message-ID) it marks the
row sent instead. A row claimed but never handed over (the worker died while rendering) is
safe to send, so the sweep puts it back to pending. A duplicate email is worse than a late one
for a customer asked for feedback or told of a fix twice, hence "unknown" rather than a resend.

Transient errors (timeouts, 4xx SMTP replies, 5xx and 429 from an ESP) put the row back to
pending and the task retries with backoff, up to :data:`MAX_ATTEMPTS`; anything else fails for
good. A timeout after the ESP has read the whole request is the same window as above; the
deterministic Message-ID lets mail clients (and ESPs that honour it) collapse such a repeat.

**Unsubscribing.** A purpose whose emails a customer may stop (surveys) puts the absolute URL
of its one-click opt-out in the built context as ``list_unsubscribe``; the message then carries
``List-Unsubscribe`` (RFC 2369) and ``List-Unsubscribe-Post: List-Unsubscribe=One-Click``
(RFC 8058), so the mail client's own "unsubscribe" posts to that URL without a form.

**Many at once.** :func:`send_once_many` asks for a batch of emails of one purpose with a
fixed number of queries whatever their number, and queues them in chunks
(``core.send_once_batch``); each email is still claimed and sent on its own, as above.
"""

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import parseaddr
from typing import Any

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone

from voc.core.audit import SWEEP, Actor, actor_fields, audit_record
from voc.core.mail import TransientEmailError, email_build, email_render, is_transient
from voc.core.models import OutboxMessage, SendOnce
from voc.core.queueing import enqueue, enqueue_on_commit

logger = logging.getLogger(__name__)

ESP_METADATA_KEY = "voc_send_once"
MAX_ATTEMPTS = 6
OUTBOX_BACKEND = "voc.core.mail.OutboxBackend"
# A claim older than the hard task time limit (plus a margin) belongs to a worker that is gone.
STALE_AFTER = timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT) + timedelta(minutes=5)

Status = SendOnce.Status

# purpose -> builder(context) -> the template context; runs in the worker, so it may read
# fresh data (a digest's messages) from the ids the row holds.
ContextBuilder = Callable[[dict[str, Any]], dict[str, Any]]
_context_builders: dict[str, ContextBuilder] = {}


def register_email_context(purpose: str, builder: ContextBuilder) -> None:
    """Let a purpose build its template context in the worker (from its AppConfig.ready())."""
    _context_builders[purpose] = builder


def message_id_for(purpose: str, key: str) -> str:
    """The same Message-ID for the same (purpose, key), whichever worker sends it."""
    digest = hashlib.sha256(f"{purpose}\0{key}".encode()).hexdigest()[:32]
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "voc.invalid"
    return f"<once.{digest}@{domain}>"


def send_once(
    *,
    purpose: str,
    key: str,
    to: Sequence[str],
    template: str,
    context: dict[str, Any] | None = None,
    customer_id: int | None = None,
    by: Actor,
) -> tuple[SendOnce, bool]:
    """Ask for the email (purpose, key) and send it from a worker once the surrounding
    transaction commits. Returns (row, created); if it was asked for before, nothing is sent
    again, whatever ``to`` or ``context`` say now. ``context`` must be JSON-safe (ids, text)."""
    if not to:
        raise ValueError("A send-once email needs a recipient.")
    email, created = SendOnce.objects.get_or_create(
        purpose=purpose,
        key=key,
        defaults={
            "to": list(to),
            "template": template,
            "context": context or {},
            "customer_id": customer_id,
            "message_id": message_id_for(purpose, key),
            "requested_by": actor_fields(by)["actor_name"],
            "queued_at": timezone.now(),
        },
    )
    if created:
        _enqueue(email.id)
    return email, created


def _enqueue(email_id: int) -> None:
    # Never an error for the caller's saved write: with the broker down, the sweep queues it.
    enqueue_on_commit("core.send_once", email_id, catch_up="core.send_once_sweep")


def send_once_deliver(*, email_id: int) -> str:
    """The worker's part: claim, render, hand over, record. Returns what happened ("sent",
    "not pending", ...); raises TransientEmailError for the task to retry."""
    attempt = _claim(email_id)
    if attempt is None:
        return "not pending"  # another worker has it, or it was sent, failed or is unknown
    # Every later update names the attempt (a sort of optimistic lock): if the sweep took a
    # stale claim back and another worker claimed it again, this worker's updates change nothing.
    mine = SendOnce.objects.filter(id=email_id, status=Status.SENDING, attempts=attempt)
    email = SendOnce.objects.get(id=email_id)
    try:
        message = _compose(email)
    except Exception as exc:
        mine.update(status=Status.FAILED, error=f"Could not render: {_describe(exc)}")
        raise
    if not mine.filter(handed_at__isnull=True).update(handed_at=timezone.now()):
        return "claim lost"
    try:
        message.send()
    except Exception as exc:
        return _record_failure(mine, exc, attempt=attempt)
    _record_sent(mine, message)
    return "sent"


def send_once_deliver_now(*, email_ids: Sequence[int]) -> dict[str, int]:
    """:func:`send_once_deliver` for emails asked for in this process, right away, one after
    the other, instead of waiting for their queued tasks (which then find them sent and do
    nothing). Each email is claimed, handed over and recorded on its own, with the same
    states and window. One that fails in a way worth retrying is queued to ``core.send_once``
    (the queued task may already have found it claimed); anything else is logged and left as
    its row says. Returns what happened, counted."""
    outcomes: dict[str, int] = {}
    for email_id in email_ids:
        try:
            outcome = send_once_deliver(email_id=email_id)
        except TransientEmailError:
            outcome = "retry"
            enqueue("core.send_once", email_id, catch_up="core.send_once_sweep")
        except Exception:
            outcome = "failed"
            logger.exception("send-once email %s could not be sent", email_id)
        outcomes[outcome] = outcomes.get(outcome, 0) + 1
    return outcomes


def _claim(email_id: int) -> int | None:
    """pending → sending, as a compare-and-swap on the attempt count; the attempt number this
    worker now holds, or None if it got nothing."""
    attempts = (
        SendOnce.objects.filter(id=email_id, status=Status.PENDING)
        .values_list("attempts", flat=True)
        .first()
    )
    if attempts is None:
        return None
    claimed = SendOnce.objects.filter(id=email_id, status=Status.PENDING, attempts=attempts).update(
        status=Status.SENDING, claimed_at=timezone.now(), handed_at=None, attempts=attempts + 1
    )
    return attempts + 1 if claimed else None


def _compose(email: SendOnce) -> EmailMultiAlternatives:
    builder = _context_builders.get(email.purpose)
    context = builder(dict(email.context)) if builder else dict(email.context)
    # A context's "attachments" (text files as JSON: a calendar invitation) go with the message.
    attachments = context.get("attachments", [])
    message = email_build(
        {
            **email_render(email.template, context),
            "to": email.to,
            "headers": list_unsubscribe_headers(context.get("list_unsubscribe", "")),
            "attachments": attachments,
        }
    )
    message.extra_headers["Message-ID"] = email.message_id
    # anymail's option, which it reads off any EmailMessage it sends.
    message.metadata = {ESP_METADATA_KEY: f"{email.purpose}:{email.key}"}  # type: ignore[attr-defined]
    return message


def list_unsubscribe_headers(url: str) -> dict[str, str]:
    """The one-click unsubscribe headers for ``url`` (absolute, http or https); none for "".
    RFC 8058 wants the URL to identify the recipient by itself (a signed token), since the
    client posts ``List-Unsubscribe=One-Click`` to it with no cookie and no form."""
    if not url:
        return {}
    if not url.startswith(("https://", "http://")) or any(c in url for c in "<>\r\n\t "):
        raise ValueError("A List-Unsubscribe URL is an absolute http(s) URL without spaces.")
    return {
        "List-Unsubscribe": f"<{url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _record_sent(mine: QuerySet[SendOnce], message: EmailMultiAlternatives) -> None:
    # The window ends here: until this update commits, the email may be out while the row
    # still says "sending" (see the module's docstring).
    status = getattr(message, "anymail_status", None)
    mine.update(
        status=Status.SENT,
        sent_at=timezone.now(),
        esp_message_id=(getattr(status, "message_id", None) or "")[:255],
        error="",
    )


def _record_failure(mine: QuerySet[SendOnce], exc: Exception, *, attempt: int) -> str:
    """The backend refused the message: back to pending for a retry if that may help and
    attempts remain, otherwise failed for good."""
    error = _describe(exc)
    if is_transient(exc) and attempt < MAX_ATTEMPTS:
        mine.update(status=Status.PENDING, handed_at=None, queued_at=timezone.now(), error=error)
        raise TransientEmailError(error) from exc
    mine.update(status=Status.FAILED, error=error)
    logger.warning("send-once email failed for good after %s attempt(s): %s", attempt, error)
    return "failed"


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:2000]


@shared_task(
    name="core.send_once",
    acks_late=True,  # safe: a redelivered task finds the row claimed or sent and does nothing
    autoretry_for=(TransientEmailError,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=MAX_ATTEMPTS - 1,
)
def send_once_task(email_id: int) -> None:
    send_once_deliver(email_id=email_id)


@dataclass(frozen=True)
class OnceEmail:
    """One email of a :func:`send_once_many` batch."""

    key: str
    to: Sequence[str]
    context: dict[str, Any] = field(default_factory=dict)
    customer_id: int | None = None


BATCH_CHUNK = 100  # emails per queued task


def send_once_many(
    *, purpose: str, template: str, emails: Sequence[OnceEmail], by: Actor
) -> list[int]:
    """:func:`send_once` for many emails of one purpose, in two queries whatever their number:
    one insert that skips the (purpose, key) pairs asked for before, one read of the rows it
    made. Returns the ids of the rows it made (asked-for-before keys send nothing again); they
    are queued, in chunks of :data:`BATCH_CHUNK`, once the surrounding transaction commits."""
    if any(not email.to for email in emails):
        raise ValueError("A send-once email needs a recipient.")
    if not emails:
        return []
    now = timezone.now()
    requested_by = actor_fields(by)["actor_name"]
    SendOnce.objects.bulk_create(
        [
            SendOnce(
                purpose=purpose,
                key=email.key,
                to=list(email.to),
                template=template,
                context=email.context,
                customer_id=email.customer_id,
                message_id=message_id_for(purpose, email.key),
                requested_by=requested_by,
                queued_at=now,
            )
            for email in emails
        ],
        ignore_conflicts=True,
    )
    # The rows this call made: an earlier request of the same key has another queued_at (and
    # a concurrent one is either blocked on the unique index until this commits, or first).
    created = list(
        SendOnce.objects.filter(
            purpose=purpose,
            key__in=[email.key for email in emails],
            queued_at=now,
            requested_by=requested_by,
            status=Status.PENDING,
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    for start in range(0, len(created), BATCH_CHUNK):
        chunk = created[start : start + BATCH_CHUNK]
        enqueue_on_commit("core.send_once_batch", chunk, catch_up="core.send_once_sweep")
    return created


@shared_task(name="core.send_once_batch", acks_late=True, ignore_result=True)
def send_once_batch_task(email_ids: list[int]) -> None:
    """Deliver a chunk (:func:`send_once_deliver_many`: a redelivered chunk sends nothing
    twice). An email that fails in a way worth retrying goes to ``core.send_once``, which
    retries it with backoff; one that cannot be rendered is failed and the others still go."""
    send_once_deliver_many(email_ids=email_ids)


def send_once_deliver_many(*, email_ids: Sequence[int]) -> dict[str, int]:
    """:func:`send_once_deliver` for a chunk, with the same states and the same window per
    email, in fewer commits: the chunk is claimed in one transaction (pending → sending, each
    row's attempt counted), the emails go through one backend connection, and each email's
    "sent" is written in the same transaction as the next one's hand-over. Every email is
    still handed over (committed) before the backend sees it and recorded after the backend
    accepted it, so a worker that dies leaves at most one email in the window, as before.
    Returns what happened, counted ("sent", "failed", "retry", "not pending", ...)."""
    outcomes: dict[str, int] = {}

    def count(outcome: str) -> None:
        outcomes[outcome] = outcomes.get(outcome, 0) + 1

    claimed = _claim_many(email_ids)
    for _ in range(len(set(email_ids)) - len(claimed)):
        count("not pending")
    if not claimed:
        return outcomes
    emails = {email.id: email for email in SendOnce.objects.filter(id__in=list(claimed))}
    # The previous email, accepted by the backend: recorded with the next hand-over.
    accepted: tuple[QuerySet[SendOnce], EmailMultiAlternatives] | None = None
    connection = get_connection()
    try:
        for email_id in sorted(claimed):
            attempt = claimed[email_id]
            mine = SendOnce.objects.filter(id=email_id, status=Status.SENDING, attempts=attempt)
            try:
                message = _compose(emails[email_id])
            except Exception as exc:
                mine.update(status=Status.FAILED, error=f"Could not render: {_describe(exc)}")
                logger.exception("send-once email %s could not be rendered", email_id)
                count("failed")
                continue
            message.connection = connection
            with transaction.atomic():
                if accepted is not None:
                    _record_sent(*accepted)
                    accepted = None
                handed = mine.filter(handed_at__isnull=True).update(handed_at=timezone.now())
            if not handed:
                count("claim lost")
                continue
            try:
                message.send()
            except Exception as exc:
                try:
                    count(_record_failure(mine, exc, attempt=attempt))
                except TransientEmailError:
                    count("retry")
                    enqueue("core.send_once", email_id, catch_up="core.send_once_sweep")
                continue
            accepted = (mine, message)
            count("sent")
        if accepted is not None:
            _record_sent(*accepted)
    finally:
        connection.close()
    return outcomes


def _claim_many(email_ids: Sequence[int]) -> dict[int, int]:
    """pending → sending for every row of ``email_ids`` that is pending and not locked by
    another claim; {id: the attempt this worker now holds}."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            SendOnce.objects.select_for_update(skip_locked=True)
            .filter(id__in=list(email_ids), status=Status.PENDING)
            .order_by("id")
            .values_list("id", "attempts")
        )
        if rows:
            SendOnce.objects.filter(id__in=[row[0] for row in rows]).update(
                status=Status.SENDING,
                claimed_at=now,
                handed_at=None,
                attempts=F("attempts") + 1,
            )
    return {email_id: attempts + 1 for email_id, attempts in rows}


def send_once_sweep(*, stale_after: timedelta = STALE_AFTER) -> int:
    """Reconcile what workers left behind; returns the rows it touched.

    - pending for longer than ``stale_after`` (its task was lost): enqueued again;
    - sending, claimed longer ago but never handed to the backend: back to pending, enqueued;
    - sending and handed over: "sent" if the local outbox holds its Message-ID, else "unknown".
      Never resent: only a person who checked the ESP may (send_once_resolve)."""
    now = timezone.now()
    cutoff = now - stale_after
    with transaction.atomic():
        lost = list(
            SendOnce.objects.select_for_update(skip_locked=True)
            .filter(status=Status.PENDING, queued_at__lt=cutoff)
            .values_list("id", flat=True)
        )
        SendOnce.objects.filter(id__in=lost).update(queued_at=now)
        unhanded = list(
            SendOnce.objects.select_for_update(skip_locked=True)
            .filter(status=Status.SENDING, claimed_at__lt=cutoff, handed_at__isnull=True)
            .values_list("id", flat=True)
        )
        SendOnce.objects.filter(id__in=unhanded).update(status=Status.PENDING, queued_at=now)
        for email_id in [*lost, *unhanded]:
            _enqueue(email_id)
        handed = SendOnce.objects.filter(
            status=Status.SENDING, claimed_at__lt=cutoff, handed_at__isnull=False
        )
        in_outbox = _in_outbox(handed.values_list("message_id", flat=True))
        sent = handed.filter(message_id__in=in_outbox).update(
            status=Status.SENT, sent_at=now, error=""
        )
        unknown = handed.exclude(message_id__in=in_outbox).update(
            status=Status.UNKNOWN,
            error="The worker stopped after handing the email to the backend: check the email "
            "service's log for its Message-ID before resending.",
        )
        counts = {"requeued": len(lost) + len(unhanded), "sent": sent, "unknown": unknown}
        if any(counts.values()):
            audit_record(by=SWEEP, action="send_once.sweep", changes=counts)
    return sum(counts.values())


def _in_outbox(message_ids: Iterable[str]) -> list[str]:
    """The Message-IDs the local outbox holds; [] when mail goes to a real service, whose log
    VoC cannot read."""
    if settings.EMAIL_BACKEND != OUTBOX_BACKEND:
        return []
    wanted = list(message_ids)
    if not wanted:
        return []
    return list(
        OutboxMessage.objects.filter(**{"headers__Message-ID__in": wanted}).values_list(
            "headers__Message-ID", flat=True
        )
    )


@transaction.atomic
def send_once_resolve(*, email: SendOnce, delivered: bool, by: Actor, why: str = "") -> SendOnce:
    """A person's decision on an "unknown" or "failed" email after checking the ESP:
    delivered (mark it sent) or not (send it again, with the same Message-ID)."""
    email = SendOnce.objects.select_for_update().get(id=email.id)
    if email.status not in {Status.UNKNOWN, Status.FAILED}:
        raise ValueError(
            f"Only an unknown or failed email can be resolved, not a {email.status} one."
        )
    before = email.status
    if delivered:
        email.status, email.sent_at = Status.SENT, timezone.now()
    else:
        email.status, email.queued_at, email.claimed_at, email.handed_at = (
            Status.PENDING,
            timezone.now(),
            None,
            None,
        )
        _enqueue(email.id)
    email.save(update_fields=["status", "sent_at", "queued_at", "claimed_at", "handed_at"])
    audit_record(
        by=by,
        action="send_once.resolve",
        target=email,
        changes={"status": [before, email.status]},
        customer_id=email.customer_id,
        why=why,
    )
    return email


def send_once_forget_customers(*, customer_ids: Iterable[int]) -> int:
    """Erasure: keep each row (that an email went out, and when) and drop the address and the
    context, which may hold personal values."""
    return SendOnce.objects.filter(customer_id__in=list(customer_ids)).update(to=[], context={})
