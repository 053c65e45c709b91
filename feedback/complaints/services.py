"""Thanking a customer for a complaint (complaints as gifts).

``complaint_thank`` asks the contact budget first (``budget_claim``: opted out, within the
cool-down, erased, merged), then asks for the email through send-once and records who thanked
and when, all in one transaction with the complaint's row locked. So a double click, a second
tab or a retried request thanks once: the second call finds the thank-you and does nothing.
When the budget says no, nothing is sent and the refusal (with its reason) is what the caller
gets back; the budget keeps its own record of the refusal.
"""

from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from contacts.budget.links import budget_opt_out_url
from contacts.budget.rules import BudgetAnswer
from contacts.budget.services import budget_claim
from feedback.access import THANK_COMPLAINTS
from feedback.complaints.selectors import THANKS_PURPOSE, thanks_key
from feedback.models import ComplaintThanks, FeedbackItem
from voc.core.audit import audit_record
from voc.core.capabilities import has_capability
from voc.core.sendonce import send_once
from voc.people.models import User

EMAIL_PURPOSE = "feedback.complaint_thanks"
EMAIL_TEMPLATE = "complaint-thanks"
QUOTED_CHARS = 600  # how much of the complaint the email quotes back

AUDIT_LABELS = {"feedback.complaint_thank": "thanked the customer for the complaint"}


@dataclass(frozen=True)
class ThankResult:
    thanks: ComplaintThanks | None  # None when the budget refused
    created: bool  # False: thanked before (nothing sent now) or refused
    refusal: BudgetAnswer | None = None


def complaint_thank(*, item: FeedbackItem, by: User) -> ThankResult:
    """Thank the customer of complaint ``item`` by email, once. The caller has checked that
    ``by`` may see the item."""
    if not has_capability(by, THANK_COMPLAINTS):
        raise PermissionDenied("Only managers and executives thank customers for complaints.")
    if item.kind != FeedbackItem.Kind.COMPLAINT:
        raise ValidationError("Only a complaint is thanked for.")
    with transaction.atomic():
        # The lock serialises two clicks: the second waits here, then finds the thank-you.
        item = (
            FeedbackItem.objects.select_for_update(of=("self",))
            .select_related("customer", "reason")
            .get(pk=item.pk)
        )
        existing = ComplaintThanks.objects.filter(item=item).first()
        if existing is not None:
            return ThankResult(existing, created=False)
        customer = item.customer
        if customer is None:
            raise ValidationError("This complaint names no customer: there is nobody to thank.")
        if customer.erased_at is None and not customer.email:
            raise ValidationError(
                "The customer has no email address: thank them on the phone instead."
            )
        answer = budget_claim(
            customer=customer, purpose=THANKS_PURPOSE, key=thanks_key(item), by=by
        )
        if not answer.allowed:
            return ThankResult(None, created=False, refusal=answer)
        email, _ = send_once(
            purpose=EMAIL_PURPOSE,
            key=thanks_key(item),
            to=[customer.email],
            template=EMAIL_TEMPLATE,
            context=_email_context(item, by),
            customer_id=customer.pk,
            by=by,
        )
        thanks = ComplaintThanks.objects.create(
            item=item, thanked_by=by, thanked_at=timezone.now(), email=email
        )
        audit_record(
            by=by,
            action="feedback.complaint_thank",
            target=item,
            changes={"thanked_at": [None, thanks.thanked_at]},
            customer_id=customer.pk,
        )
    return ThankResult(thanks, created=True)


def _email_context(item: FeedbackItem, by: User) -> dict[str, str]:
    """JSON-safe: it waits in the send-once row (erasure empties it). The templates escape
    the customer's words like any other text."""
    customer = item.customer
    assert customer is not None
    verbatim = item.verbatim
    if len(verbatim) > QUOTED_CHARS:
        verbatim = verbatim[: QUOTED_CHARS - 1].rstrip() + "…"
    return {
        "name": customer.name,
        "verbatim": verbatim,
        "received_on": timezone.localtime(item.received_at).strftime("%-d %B %Y"),
        "topic": item.reason.name if item.reason is not None else "",
        "sender": by.get_full_name() or by.get_username(),
        "opt_out_url": settings.VOC_BASE_URL.rstrip("/")
        + budget_opt_out_url(customer=customer, purpose=THANKS_PURPOSE),
    }
