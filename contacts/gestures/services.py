"""Make it right: record a goodwill gesture, approve or decline one that waits.

Every write takes ``by=`` and records one audit entry in its transaction, naming the customer
(the note may be personal: erasure drops the entry's values). Refusals raise
``PermissionDenied`` (not yours to give or decide), ``ValidationError`` (bad input) or
``Conflict`` (not now: already decided, the customer erased), each with a message a person
can act on.

The month's allowance is checked with the giver's user row locked (``SELECT … FOR UPDATE``):
two gestures recorded at the same moment by the same person are counted one after the other,
so they can't both slip under the monthly allowance.
"""

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from contacts.gestures.access import GIVE_GESTURES
from contacts.gestures.rules import needs_approval
from contacts.gestures.selectors import allowance_left, gesture_may_decide
from contacts.models import Contact, Gesture
from contacts.redaction_rules import redactor
from contacts.selectors import contact_list_visible
from voc.core.audit import audit_record
from voc.core.capabilities import has_capability
from voc.core.errors import Conflict
from voc.people.models import User

MAX_NOTE = 500
MAX_REASON = 300
MAX_VALUE = Decimal("9999999999.99")  # what the column holds (12 digits, 2 decimals)

AUDIT_LABELS = {
    "gesture.record": "gave a goodwill gesture",
    "gesture.approve": "approved the goodwill gesture",
    "gesture.decline": "declined the goodwill gesture",
}

State = Gesture.State


def clean_value(raw: Any, *, kind: str) -> Decimal:
    """A gesture's value: a number with at most two decimals, not negative; zero only for a
    call back from a specialist (anything else given is worth something)."""
    if isinstance(raw, bool) or not isinstance(raw, Decimal | int | str):
        raise ValidationError({"value": "Enter an amount such as 12.50."})
    text = str(raw).strip()
    if not re.fullmatch(r"\d{1,10}(\.\d{1,2})?", text):
        raise ValidationError(
            {"value": "Enter an amount such as 12.50 (not negative, at most two decimals)."}
        )
    try:
        value = Decimal(text).quantize(Decimal("0.01"))
    except InvalidOperation:
        raise ValidationError({"value": "Enter an amount such as 12.50."}) from None
    if value > MAX_VALUE:
        raise ValidationError({"value": f"Enter {MAX_VALUE} or less."})
    if value == 0 and kind != Gesture.Kind.SPECIALIST_CALL:
        raise ValidationError(
            {"value": "Give the gesture's value: only a call back may be worth nothing."}
        )
    return value


def gesture_record(*, contact: Contact, kind: str, value: Any, note: str = "", by: User) -> Gesture:
    """Give a gesture on ``contact``: granted at once within the giver's allowance, else
    waiting for a manager's approval."""
    if not has_capability(by, GIVE_GESTURES):
        raise PermissionDenied("Your role does not give goodwill gestures.")
    if not contact_list_visible(viewer=by).filter(id=contact.pk).exists():
        raise PermissionDenied("You can give gestures only on contacts you can see.")
    if kind not in Gesture.Kind.values:
        raise ValidationError(
            {"kind": "Choose credit, refund, fee waiver, replacement or call back."}
        )
    amount = clean_value(value, kind=kind)
    if not isinstance(note, str):
        raise ValidationError({"note": "Write the note as text."})
    if len(note) > MAX_NOTE:
        raise ValidationError({"note": f"Keep the note to {MAX_NOTE} characters."})
    clean_note = redactor().text(note.strip())[:MAX_NOTE]
    with transaction.atomic():
        # One gesture at a time per giver: the month's total is read and added to under this
        # lock, so two at once are counted one after the other. NO KEY UPDATE: rows that only
        # point at the user (a contact they log, an audit entry) need not wait for it.
        giver = User.objects.select_for_update(no_key=True).get(pk=by.pk)
        locked = Contact.objects.select_related("customer").get(pk=contact.pk)
        if locked.customer is None:
            raise Conflict("Link this contact to a customer before giving a gesture.")
        if locked.customer.erased_at is not None:
            raise Conflict("This customer was erased: gestures can't be given to them.")
        allowance = allowance_left(user=giver)
        waits = needs_approval(amount, allowance)
        gesture = Gesture.objects.create(
            contact=locked,
            kind=kind,
            value=amount,
            currency=allowance.currency,
            note=clean_note,
            state=State.PENDING if waits else State.GRANTED,
            given_by=giver,
            team_id=giver.team_id,
            given_at=timezone.now(),
        )
        audit_record(
            by=by,
            action="gesture.record",
            target=gesture,
            customer_id=locked.customer_id,
            changes={
                "contact": [None, locked.pk],
                "kind": [None, kind],
                "value": [None, amount],
                "currency": [None, allowance.currency],
                "state": [None, gesture.state],
                "note": [None, clean_note],
            },
        )
    return gesture


def _decide(*, gesture: Gesture, by: User, to: str, reason: str, doing: str) -> Gesture:
    if not isinstance(reason, str):
        raise ValidationError({"reason": "Write the reason as text."})
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": f"Keep the reason to {MAX_REASON} characters."})
    clean_reason = redactor().text(reason.strip())[:MAX_REASON]
    with transaction.atomic():
        locked = (
            Gesture.objects.select_for_update(of=("self",))
            .select_related("team__department", "contact", "decided_by")
            .get(pk=gesture.pk)
        )
        if locked.given_by_id == by.pk:
            raise PermissionDenied(
                "Nobody decides their own gesture: your team lead or department head will."
            )
        if not gesture_may_decide(gesture=locked, viewer=by):
            raise PermissionDenied(
                "Only the giver's team lead or department head, an executive or an admin "
                f"may {doing} this gesture."
            )
        if locked.state != State.PENDING:
            who = f" by {locked.decided_by}" if locked.decided_by else ""
            raise Conflict(f"This gesture is already {locked.get_state_display().lower()}{who}.")
        locked.state = to
        locked.decided_by = by
        locked.decided_at = timezone.now()
        locked.decision_reason = clean_reason
        locked.save(update_fields=["state", "decided_by", "decided_at", "decision_reason"])
        audit_record(
            by=by,
            action=f"gesture.{doing}",
            target=locked,
            customer_id=locked.contact.customer_id,
            changes={"state": [State.PENDING, to]},
            why=clean_reason,
        )
    return locked


def gesture_approve(*, gesture: Gesture, by: User, reason: str = "") -> Gesture:
    return _decide(gesture=gesture, by=by, to=State.APPROVED, reason=reason, doing="approve")


def gesture_decline(*, gesture: Gesture, by: User, reason: str = "") -> Gesture:
    return _decide(gesture=gesture, by=by, to=State.DECLINED, reason=reason, doing="decline")


def gesture_notes_erase(*, customer_ids: Iterable[int], erasure: object = None) -> dict[str, int]:
    """The erasure handler (contacts.registry): the notes and decision reasons of gestures
    given to an erased customer may name them, so they are blanked; kind, value, who and when stay
    (they are what the report counts)."""
    erased = Gesture.objects.filter(contact__customer_id__in=list(customer_ids)).update(
        note="", decision_reason=""
    )
    return {"notes": erased} if erased else {}
