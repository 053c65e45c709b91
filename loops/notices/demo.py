"""Demo: a fixed issue whose customers were told. "The app logs me out when I switch to
mobile data" was fixed a week ago; its owner sent a notice to everyone who reported it; most
were delivered, one bounced, and a customer who had opted out was left out, with the reason.

Everything goes through the real services (draft, approve, plan, chunk, send-once) so the
outbox holds the emails and the notice page shows real counts."""

from django.db import transaction

from contacts.budget.services import budget_opt_out
from contacts.models import Contact, ContactReason
from loops.models import FixNotice, NoticeRecipient
from loops.notices.services import (
    notice_approve,
    notice_draft,
    notice_plan,
    notice_send_chunk,
    notices_reconcile,
)
from loops.services.issues import evidence_add, issue_open, issue_transition
from voc.core.audit import SystemActor
from voc.core.demo import DemoContext
from voc.core.models import SendOnce
from voc.core.sendonce import send_once_deliver

DEMO = SystemActor("demo")
REPORTERS = 24


def seed_notices(ctx: DemoContext) -> None:
    managers = [m for m in ctx.data.get("managers", []) if m.department_id]
    heads = {m.department_id: m for m in managers if m.department.head_id == m.pk}
    reason = ContactReason.objects.filter(department_id__in=list(heads)).order_by("id").first()
    if reason is None or reason.department_id is None:
        ctx.stdout("  loops.notices: no department head with a reason, no notice")
        return
    owner = heads[reason.department_id]
    contacts = list(
        Contact.objects.filter(reason=reason, customer__email__gt="", customer__erased_at=None)
        .select_related("customer")
        .order_by("-occurred_at")[:REPORTERS]
    )
    if len(contacts) < 3:
        ctx.stdout("  loops.notices: too few contacts for a notice")
        return
    issue = issue_open(
        title="The app logs me out when I switch to mobile data",
        description="Customers are signed out of the app whenever it moves from Wi-Fi to "
        "mobile data, and have to sign in again, sometimes mid-payment.",
        reasons=[reason],
        owner=owner,
        by=owner,
    )
    for contact in contacts:
        evidence_add(issue=issue, source=contact, by=owner)
    for status in ("in_progress", "fixed"):
        issue = issue_transition(
            issue=issue, to=status, by=owner, why="Session tokens now survive a network change."
        )
    # One reporter had asked not to hear about fixes: left out, with the reason.
    opted_out = contacts[-1].customer
    if opted_out is not None:
        budget_opt_out(customer=opted_out, purpose="fix_notice", by=DEMO)
    with transaction.atomic():
        notice = notice_draft(
            issue=issue,
            by=owner,
            subject="Fixed: the app no longer signs you out on mobile data",
            body="You told us the app signed you out whenever your phone switched from Wi-Fi "
            "to mobile data. We found the cause and fixed it in this week's update.\n\n"
            "Thank you for telling us: it is how we find what to fix.",
        )
        notice_approve(notice=notice, by=owner)
    notice_plan(notice_id=notice.pk)
    ids = list(NoticeRecipient.objects.filter(notice=notice).values_list("id", flat=True))
    notice_send_chunk(notice_id=notice.pk, first_id=min(ids), last_id=max(ids))
    # Sent here rather than by a worker, so the demo's outbox shows them at once.
    for email_id in SendOnce.objects.filter(
        purpose="loops.fix_notice", status=SendOnce.Status.PENDING
    ).values_list("id", flat=True):
        send_once_deliver(email_id=email_id)
    notices_reconcile()
    sent = list(
        NoticeRecipient.objects.filter(notice=notice, status=NoticeRecipient.Status.SENT)
        .order_by("id")
        .values_list("id", flat=True)
    )
    NoticeRecipient.objects.filter(id__in=sent[1:]).update(status=NoticeRecipient.Status.DELIVERED)
    NoticeRecipient.objects.filter(id__in=sent[:1]).update(
        status=NoticeRecipient.Status.BOUNCED, detail="550 5.1.1 mailbox unavailable"
    )
    notice.refresh_from_db()
    ctx.stdout(
        f"  loops.notices: issue #{issue.pk} fixed, notice {notice.get_status_display().lower()} "
        f"to {len(sent)} customers"
    )
    assert notice.status in (FixNotice.Status.SENT, FixNotice.Status.APPROVED)
