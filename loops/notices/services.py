"""Writes of fix notices: draft, edit, approve, then send in chunks, reconcile, resolve.

**Sending** runs in Celery tasks (``loops/notices/tasks.py``), never in the request:

1. ``notice_approve`` (the owner) moves the notice draft → approved and queues the plan;
2. ``notice_plan`` locks the notice, inserts one ``NoticeRecipient`` per customer of the
   audience in one ``bulk_create`` (unique per notice and customer, so a plan run twice adds
   nothing), and queues the pending recipients in chunks of :data:`CHUNK` (by id range);
3. ``notice_send_chunk``, in ONE transaction per chunk, locks the chunk's recipients that are
   still pending and not yet handed over, leaves out the erased, merged-away and address-less
   customers, claims the contact budget's "fix notice" rule for the others at once
   (``budget_claim_many``: an opt-out or an earlier notice on the same issue says no, and the
   refusal is recorded), asks the send-once helper for the allowed customers' emails at once
   (``send_once_many``, key per issue and customer, so one email per customer and issue, ever)
   and writes every recipient's outcome. The queries per chunk are a fixed dozen whatever its
   size; the emails then go out from send-once's own chunked tasks.

A chunk task delivered twice, or one whose worker died, does nothing twice: until its
transaction commits nothing of it exists, and once it has, its recipients are no longer
pending-and-unhanded. After that, each email is send-once's: claimed, handed over once, and a
row caught between "the ESP accepted it" and "recorded" is marked unknown by send-once's sweep,
never resent blindly; ``notices_reconcile`` (a periodic job) brings those states to the
recipients ("uncertain", shown on the notice page with the Message-ID to look up), queues what
a lost task left behind, and marks a notice sent once no recipient waits.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import CharField, Exists, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat
from django.urls import reverse
from django.utils import timezone

from contacts.budget.links import OPT_OUT_LINK_PURPOSES
from contacts.budget.services import budget_claim_many
from contacts.models import BudgetPurpose, Customer
from loops.models import FixNotice, Issue, NoticeRecipient
from loops.notices.selectors import (
    BUDGET_REASONS,
    NOTICE_STATUSES,
    budget_key,
    may_send_notices,
    reason_contact_ids,
    reporter_ids,
    send_key,
)
from voc.core.audit import SystemActor, audit_record
from voc.core.links import link_token
from voc.core.mail import EmailData, email_render
from voc.core.models import SendOnce
from voc.core.queueing import enqueue, enqueue_on_commit
from voc.core.sendonce import OnceEmail, send_once_many, send_once_resolve
from voc.people.models import User

NOTICES = SystemActor("fix-notices")
SEND_ONCE_PURPOSE = "loops.fix_notice"
EMAIL_TEMPLATE = "fix-notice"
CHUNK = 500  # recipients per chunk task
MAX_SUBJECT = 200
MAX_BODY = 5000
PLAN_TASK = "loops.notice_plan"
CHUNK_TASK = "loops.notice_chunk"
SWEEP_JOB = "loops.notices_reconcile"
# A plan or chunk not done this long after it was asked for lost its task: queue it again.
STALE_AFTER = timedelta(minutes=5)

Status = NoticeRecipient.Status
SkipReason = NoticeRecipient.SkipReason

AUDIT_LABELS = {
    "notice.draft": "wrote a fix notice",
    "notice.edit": "edited the fix notice",
    "notice.approve": "approved the fix notice",
    "notice.send": "started sending the fix notice",
    "notice.sent": "finished sending the fix notice",
    "notice.resolve": "resolved an uncertain fix notice",
}


class NoticeRefused(ValidationError):
    """A notice that may not be written, changed or approved now; the message says why."""


def default_text(issue: Issue) -> tuple[str, str]:
    """The subject and text a new notice starts from; the owner edits them."""
    subject = f"We fixed it: {issue.title}"[:MAX_SUBJECT]
    body = (
        f"You told us about a problem: {issue.title}.\n\n"
        "Thank you. Because you and others took the time to tell us, we found the cause and "
        "fixed it. If you still see it, reply to this email and we will look again."
    )
    return subject, body


def _clean(subject: str, body: str) -> tuple[str, str]:
    subject, body = " ".join(subject.split()), body.strip()
    errors: dict[str, str] = {}
    if not subject:
        errors["subject"] = "Give the notice a subject."
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = f"Keep the subject to {MAX_SUBJECT} characters (it has {len(subject)})."
    if not body:
        errors["body"] = "Write what you want to tell the customers."
    elif len(body) > MAX_BODY:
        errors["body"] = f"Keep the text to {MAX_BODY} characters (it has {len(body)})."
    if errors:
        raise ValidationError(errors)
    return subject, body


def _check_may_send(user: User, issue: Issue) -> None:
    if not may_send_notices(user, issue):
        raise PermissionDenied("Only the issue's owner or its department head sends notices.")


def _check_issue(issue: Issue) -> None:
    if issue.merged_into_id is not None:
        raise NoticeRefused("This issue was merged into another one: notify from that one.")
    if issue.status not in NOTICE_STATUSES:
        raise NoticeRefused(
            f"The issue is {Issue.Status(issue.status).label.lower()}: customers are told once "
            "it is fixed or verified."
        )


def notice_draft(
    *,
    issue: Issue,
    by: User,
    subject: str | None = None,
    body: str | None = None,
    include_reason_contacts: bool = False,
) -> FixNotice:
    """A new draft notice for a fixed or verified issue, by its owner or department head."""
    _check_may_send(by, issue)
    _check_issue(issue)
    default_subject, default_body = default_text(issue)
    subject, body = _clean(
        default_subject if subject is None else subject, default_body if body is None else body
    )
    with transaction.atomic():
        notice = FixNotice.objects.create(
            issue=issue,
            subject=subject,
            body=body,
            include_reason_contacts=include_reason_contacts,
            created_by=by,
        )
        audit_record(
            by=by,
            action="notice.draft",
            target=issue,
            changes={"notice": [None, notice.pk]},
        )
    return notice


def notice_edit(
    *, notice: FixNotice, by: User, subject: str, body: str, include_reason_contacts: bool
) -> FixNotice:
    """Change a draft's subject, text or audience."""
    _check_may_send(by, notice.issue)
    subject, body = _clean(subject, body)
    with transaction.atomic():
        notice = FixNotice.objects.select_for_update().select_related("issue").get(pk=notice.pk)
        if notice.status != FixNotice.Status.DRAFT:
            raise NoticeRefused("This notice was approved: it can no longer be changed.")
        changes: dict[str, list[object]] = {}
        for name, value in (
            ("subject", subject),
            ("body", body),
            ("include_reason_contacts", include_reason_contacts),
        ):
            if getattr(notice, name) != value:
                changes[name] = [getattr(notice, name), value]
                setattr(notice, name, value)
        if changes:
            notice.save()
            # The text is the owner's, not a customer's: the trail keeps what it said.
            audit_record(by=by, action="notice.edit", target=notice.issue, changes=changes)
    return notice


def notice_approve(*, notice: FixNotice, by: User) -> FixNotice:
    """The owner approves the notice: it is sent, once, by the workers (module docstring)."""
    _check_may_send(by, notice.issue)
    with transaction.atomic():
        notice = FixNotice.objects.select_for_update().select_related("issue").get(pk=notice.pk)
        if notice.status != FixNotice.Status.DRAFT:
            raise NoticeRefused("This notice was approved already.")
        _check_issue(notice.issue)
        notice.status = FixNotice.Status.APPROVED
        notice.approved_by = by
        notice.approved_at = timezone.now()
        notice.save(update_fields=["status", "approved_by", "approved_at"])
        audit_record(
            by=by,
            action="notice.approve",
            target=notice.issue,
            changes={
                "notice": notice.pk,
                "status": [FixNotice.Status.DRAFT, FixNotice.Status.APPROVED],
                "include_reason_contacts": notice.include_reason_contacts,
            },
        )
        enqueue_on_commit(PLAN_TASK, notice.pk, catch_up=SWEEP_JOB)
    return notice


# --- Sending ---------------------------------------------------------------------------------


def notice_plan(*, notice_id: int) -> int:
    """Step 2: the recipients of an approved notice, inserted once, and their chunks queued.
    Returns the recipients inserted (0 when a previous run did it)."""
    with transaction.atomic():
        notice = (
            FixNotice.objects.select_for_update()
            .select_related("issue")
            .filter(pk=notice_id, status=FixNotice.Status.APPROVED)
            .first()
        )
        if notice is None:
            return 0
        created = 0
        if not notice.recipients.exists():
            reporters = reporter_ids(notice.issue)
            others = reason_contact_ids(notice.issue) if notice.include_reason_contacts else set()
            now = timezone.now()
            rows = [
                NoticeRecipient(
                    notice=notice, customer_id=customer_id, reporter=True, updated_at=now
                )
                for customer_id in sorted(reporters)
            ] + [
                NoticeRecipient(
                    notice=notice, customer_id=customer_id, reporter=False, updated_at=now
                )
                for customer_id in sorted(others - reporters)
            ]
            NoticeRecipient.objects.bulk_create(rows, ignore_conflicts=True)
            created = len(rows)
            audit_record(
                by=NOTICES,
                action="notice.send",
                target=notice.issue,
                changes={
                    "notice": notice.pk,
                    "recipients": created,
                    "reporters": len(reporters),
                },
            )
            if not rows:
                _finish(notice)
                return 0
        _queue_chunks(notice.pk)
    return created


def _queue_chunks(notice_id: int) -> int:
    """Queue (after commit) the notice's recipients not yet handed over, by id range."""
    ids = list(
        NoticeRecipient.objects.filter(
            notice_id=notice_id, status=Status.PENDING, send_once__isnull=True
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    for start in range(0, len(ids), CHUNK):
        chunk = ids[start : start + CHUNK]
        enqueue_on_commit(CHUNK_TASK, notice_id, chunk[0], chunk[-1], catch_up=SWEEP_JOB)
    return len(ids)


def notice_email_context(*, notice: FixNotice, name: str, opt_out_url: str) -> dict[str, Any]:
    """What the email's templates show (JSON-safe: it waits in the send-once row)."""
    return {
        "subject": notice.subject,
        "body": notice.body,
        "name": name,
        "company": settings.COMPANY_NAME,
        "opt_out_url": opt_out_url,
        "list_unsubscribe": opt_out_url,
    }


def notice_render(*, notice: FixNotice, name: str, opt_out_url: str) -> EmailData:
    """The email as a customer would get it (the preview shows exactly this)."""
    return email_render(
        EMAIL_TEMPLATE, notice_email_context(notice=notice, name=name, opt_out_url=opt_out_url)
    )


def opt_out_link(customer_id: int) -> str:
    """The customer's signed, absolute link to stop fix notices (also List-Unsubscribe)."""
    return OptOutLinks().url(customer_id)


@dataclass(frozen=True)
class ChunkRun:
    asked: int = 0
    left_out: int = 0


def notice_send_chunk(*, notice_id: int, first_id: int, last_id: int) -> ChunkRun:
    """Step 3 for the recipients with ids in [first_id, last_id] (module docstring)."""
    with transaction.atomic():
        notice = (
            FixNotice.objects.select_related("issue")
            .filter(pk=notice_id, status=FixNotice.Status.APPROVED)
            .first()
        )
        if notice is None:
            return ChunkRun()
        # skip_locked: a second copy of this task running at once leaves these to the first.
        recipients = list(
            NoticeRecipient.objects.select_for_update(skip_locked=True)
            .filter(
                notice_id=notice_id,
                id__gte=first_id,
                id__lte=last_id,
                status=Status.PENDING,
                send_once__isnull=True,
            )
            .order_by("id")
        )
        if not recipients:
            return ChunkRun()
        now = timezone.now()
        customers = {
            row[0]: row[1:]
            for row in Customer.objects.filter(
                id__in=[r.customer_id for r in recipients if r.customer_id]
            ).values_list("id", "name", "email", "erased_at", "merged_into_id")
        }
        to_claim: list[NoticeRecipient] = []
        for recipient in recipients:
            facts = customers.get(recipient.customer_id) if recipient.customer_id else None
            recipient.updated_at = now
            if facts is None or facts[2] is not None:
                _skip(recipient, SkipReason.ERASED)
            elif facts[3] is not None:
                _skip(recipient, SkipReason.MERGED, "merged into another customer record")
            elif not facts[1]:
                _skip(recipient, SkipReason.NO_ADDRESS)
            else:
                to_claim.append(recipient)
        answers = budget_claim_many(
            claims=[(int(r.customer_id or 0), budget_key(notice.issue_id)) for r in to_claim],
            purpose=BudgetPurpose.FIX_NOTICE,
            by=NOTICES,
        )
        allowed: list[NoticeRecipient] = []
        for recipient, answer in zip(to_claim, answers, strict=True):
            if answer.allowed:
                allowed.append(recipient)
            else:
                _skip(
                    recipient,
                    BUDGET_REASONS.get(answer.reason, SkipReason.BUDGET),
                    answer.explanation,
                )
        opt_out = OptOutLinks()
        emails = []
        for recipient in allowed:
            customer_id = recipient.customer_id
            assert customer_id is not None
            name, email = customers[customer_id][0], customers[customer_id][1]
            emails.append(
                OnceEmail(
                    key=send_key(notice.issue_id, customer_id),
                    to=[email],
                    context=notice_email_context(
                        notice=notice, name=name, opt_out_url=opt_out.url(customer_id)
                    ),
                    customer_id=customer_id,
                )
            )
        send_once_many(
            purpose=SEND_ONCE_PURPOSE, template=EMAIL_TEMPLATE, emails=emails, by=NOTICES
        )
        _write_outcomes(notice, recipients, allowed, now)
    return ChunkRun(asked=len(allowed), left_out=len(recipients) - len(allowed))


def _write_outcomes(
    notice: FixNotice,
    recipients: list[NoticeRecipient],
    allowed: list[NoticeRecipient],
    now: datetime,
) -> None:
    """Every recipient's outcome, in a few set-based UPDATEs whatever the chunk's size: the
    allowed ones point to their send-once row (found by its unique key), the others are
    left out, one UPDATE per (reason, detail). A bulk_update of 500 rows (a CASE per column)
    took seconds."""
    if allowed:
        key = Concat(
            Value(f"issue:{notice.issue_id}:customer:"),
            Cast(OuterRef("customer_id"), CharField()),
        )
        email = SendOnce.objects.filter(purpose=SEND_ONCE_PURPOSE, key=key).values("id")[:1]
        NoticeRecipient.objects.filter(id__in=[r.pk for r in allowed]).update(
            send_once_id=Subquery(email), updated_at=now
        )
    groups: dict[tuple[str, str], list[int]] = {}
    for recipient in recipients:
        if recipient.status == Status.SKIPPED:
            groups.setdefault((recipient.skip_reason, recipient.detail), []).append(recipient.pk)
    for (reason, detail), ids in groups.items():
        NoticeRecipient.objects.filter(id__in=ids).update(
            status=Status.SKIPPED, skip_reason=reason, detail=detail, updated_at=now
        )


class OptOutLinks:
    """Signed opt-out links for many customers: the URL is reversed once, each token signed."""

    def __init__(self) -> None:
        placeholder = "__token__"
        self._path = budget_opt_out_url_pattern(placeholder)
        self._placeholder = placeholder
        self._purpose = OPT_OUT_LINK_PURPOSES[BudgetPurpose.FIX_NOTICE]

    def url(self, customer_id: int) -> str:
        token = link_token(purpose=self._purpose, target=Customer(pk=customer_id))
        return settings.VOC_BASE_URL + self._path.replace(self._placeholder, token)


def budget_opt_out_url_pattern(placeholder: str) -> str:
    return reverse("budget:opt-out", args=[BudgetPurpose.FIX_NOTICE, placeholder])


def _skip(recipient: NoticeRecipient, reason: str, detail: str = "") -> None:
    recipient.status = Status.SKIPPED
    recipient.skip_reason = reason
    recipient.detail = detail[:300]


# send-once's state → the recipient's, for recipients that have not heard more from the ESP.
SYNC = (
    (SendOnce.Status.SENT, Status.SENT),
    (SendOnce.Status.FAILED, Status.FAILED),
    (SendOnce.Status.UNKNOWN, Status.UNCERTAIN),
)


@dataclass(frozen=True)
class ReconcileRun:
    planned: int = 0
    requeued: int = 0
    synced: int = 0
    finished: int = 0

    @property
    def touched(self) -> int:
        return self.planned + self.requeued + self.synced + self.finished


def notices_reconcile(*, stale_after: timedelta = STALE_AFTER) -> ReconcileRun:
    """The periodic catch-up (module docstring): plans and chunks whose task was lost are
    queued again; send-once's outcomes (sent, failed, unknown: the window) are written on the
    recipients, an email resolved by a person included; a notice with nobody waiting is
    marked sent. Set-based: a fixed number of queries plus one per notice that moves."""
    now = timezone.now()
    cutoff = now - stale_after
    approved = FixNotice.objects.filter(status=FixNotice.Status.APPROVED)
    has_recipients = Exists(NoticeRecipient.objects.filter(notice=OuterRef("pk")))
    unplanned = list(
        approved.filter(approved_at__lt=cutoff).exclude(has_recipients).values_list("id", flat=True)
    )
    for notice_id in unplanned:
        enqueue(PLAN_TASK, notice_id, catch_up=SWEEP_JOB)
    stuck = list(
        NoticeRecipient.objects.filter(
            notice__status=FixNotice.Status.APPROVED,
            status=Status.PENDING,
            send_once__isnull=True,
            updated_at__lt=cutoff,
        )
        .values_list("notice_id", flat=True)
        .distinct()
    )
    requeued = 0
    for notice_id in stuck:
        with transaction.atomic():
            # Touch them, so the next run waits for these tasks before queueing them again.
            NoticeRecipient.objects.filter(
                notice_id=notice_id, status=Status.PENDING, send_once__isnull=True
            ).update(updated_at=now)
            requeued += _queue_chunks(notice_id)
    synced = 0
    for once_status, status in SYNC:
        synced += (
            NoticeRecipient.objects.filter(
                status__in=[Status.PENDING, Status.UNCERTAIN, Status.FAILED],
                send_once__status=once_status,
            )
            .exclude(status=status)
            .update(status=status, updated_at=now)
        )
    # A person resolved an uncertain or failed email as "send it again": it waits once more.
    synced += NoticeRecipient.objects.filter(
        status__in=[Status.UNCERTAIN, Status.FAILED],
        send_once__status__in=[SendOnce.Status.PENDING, SendOnce.Status.SENDING],
    ).update(status=Status.PENDING, updated_at=now)
    waiting = NoticeRecipient.objects.filter(notice=OuterRef("pk"), status=Status.PENDING)
    done = list(approved.filter(has_recipients).exclude(Exists(waiting)))
    for notice in done:
        with transaction.atomic():
            if FixNotice.objects.filter(pk=notice.pk, status=FixNotice.Status.APPROVED).update(
                status=FixNotice.Status.SENT, finished_at=now
            ):
                _audit_finished(notice)
    return ReconcileRun(len(unplanned), requeued, synced, len(done))


def _finish(notice: FixNotice) -> None:
    FixNotice.objects.filter(pk=notice.pk).update(
        status=FixNotice.Status.SENT, finished_at=timezone.now()
    )
    _audit_finished(notice)


def _audit_finished(notice: FixNotice) -> None:
    counts = dict.fromkeys(Status.values, 0)
    for status in NoticeRecipient.objects.filter(notice=notice).values_list("status", flat=True):
        counts[status] += 1
    audit_record(
        by=NOTICES,
        action="notice.sent",
        target=notice.issue,
        changes={"notice": notice.pk, **{k: v for k, v in counts.items() if v}},
    )


def notice_recipient_resolve(
    *, recipient: NoticeRecipient, delivered: bool, by: User, why: str = ""
) -> NoticeRecipient:
    """A person's decision on an uncertain (or failed) email after looking it up in the email
    service's log by its Message-ID: it was delivered, or send it again (send-once keeps the
    same Message-ID)."""
    notice = recipient.notice
    _check_may_send(by, notice.issue)
    if recipient.send_once is None or recipient.status not in (Status.UNCERTAIN, Status.FAILED):
        raise NoticeRefused("Only an uncertain or failed email can be resolved.")
    with transaction.atomic():
        try:
            send_once_resolve(email=recipient.send_once, delivered=delivered, by=by, why=why)
        except ValueError as error:
            raise NoticeRefused(str(error)) from error
        before = recipient.status
        recipient.status = Status.SENT if delivered else Status.PENDING
        recipient.updated_at = timezone.now()
        recipient.save(update_fields=["status", "updated_at"])
        if not delivered and notice.status == FixNotice.Status.SENT:
            FixNotice.objects.filter(pk=notice.pk).update(
                status=FixNotice.Status.APPROVED, finished_at=None
            )
        audit_record(
            by=by,
            action="notice.resolve",
            target=notice.issue,
            changes={"notice": notice.pk, "status": [before, recipient.status]},
            why=why,
            customer_id=recipient.customer_id,
        )
    return recipient


def notices_erase(*, customer_ids: list[int], erasure: object = None) -> dict[str, int]:
    """Erasure: an erased customer's recipient rows keep their status (the notice's counts
    stay right) and lose the customer, the ESP's words and message id. The address and the
    personalised text live in the send-once row, which erasure empties
    (``send_once_forget_customers``)."""
    cleared = NoticeRecipient.objects.filter(customer_id__in=customer_ids).update(
        customer=None, detail="", esp_message_id=""
    )
    return {"notice_recipients": cleared}
