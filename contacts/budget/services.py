"""Writes of the contact budget: the claim, opt-outs, and what erasure and merges do to it.

**The claim is the one way to contact a customer.** ``budget_claim`` answers allowed or
refused and records either: a ``BudgetTouch`` for a yes, a ``BudgetRefusal`` row with the
reason for every no (rows rather than counters, so "why was this customer not surveyed?" has
an answer per customer; they hold ids and codes only).

**Why two concurrent claims cannot both win.** The claim takes a row lock on the customer
(``SELECT … FOR NO KEY UPDATE``) before it reads the ledger, and holds it until its
transaction commits. A second claim for the same customer waits at that lock, then reads the
ledger with the first one's touch in it (READ COMMITTED takes a fresh snapshot per statement)
and is refused. The lock is per customer, not per purpose, so the rules may look across
purposes; it is the weak ``NO KEY UPDATE`` so that contacts being written for the customer
(whose foreign key takes ``KEY SHARE``) are not held up, while erasure and merges (``FOR
UPDATE``) are serialised with claims. The partial unique constraint ``budget_fix_notice_once``
makes a second fix notice for one issue impossible even for a writer that skipped the claim.
On SQLite there are no row locks, but its writers take the whole database one at a time.

Call the claim inside the transaction that records the contact it allows (the send-once row of
an email, the follow-up of a callback): if that rolls back, so does the touch.

**Many claims at once.** ``budget_claim_many`` is the claim for a batch (the survey job's tens
of thousands of closed contacts) in a fixed number of queries: it locks the batch's customers
in id order, reads their facts with the same ``budget_facts``, decides each claim with the same
``budget_decide`` in the order given, as if the claims ran one after the other (a customer
allowed once in the batch is refused the next claim of the cool-down), and writes the touches
and refusals in bulk.
"""

from collections.abc import Sequence
from dataclasses import replace
from typing import cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from contacts.budget.rules import KEYED_PURPOSES, BudgetAnswer, budget_decide
from contacts.budget.selectors import budget_facts, customer_id_among
from contacts.models import BudgetOptOut, BudgetPurpose, BudgetRefusal, BudgetTouch, Customer
from voc.core.audit import Actor, SystemActor, actor_fields, audit_record

# The actor of an opt-out made by the customer through a signed link (no login).
OPT_OUT_LINK = SystemActor("opt-out-link")
# A CharField's, so always set.
KEY_MAX_LENGTH = cast(int, BudgetTouch._meta.get_field("key").max_length)


def _purpose(purpose: str) -> BudgetPurpose:
    try:
        return BudgetPurpose(purpose)
    except ValueError:
        choices = ", ".join(BudgetPurpose.values)
        raise ValidationError(f"Unknown purpose “{purpose}”: use one of {choices}.") from None


def _key(purpose: BudgetPurpose, key: str) -> str:
    key = str(key or "").strip()
    if len(key) > KEY_MAX_LENGTH:
        raise ValidationError(f"A budget key has at most {KEY_MAX_LENGTH} characters.")
    if purpose == BudgetPurpose.FIX_NOTICE and not key:
        raise ValidationError("A fix notice needs its key: the issue it is about.")
    return key


@transaction.atomic
def budget_claim(*, customer: Customer, purpose: str, key: str = "", by: Actor) -> BudgetAnswer:
    """May ``by`` contact ``customer`` for ``purpose`` now? Records the touch when allowed and
    the refusal with its reason when not, atomically (see the module's docstring). ``key``
    names what the touch is about: required for a fix notice (the issue), optional otherwise
    (the contact a survey follows)."""
    purpose = _purpose(purpose)
    key = _key(purpose, key)
    actor = actor_fields(by)
    # The lock that serialises claims for this customer; taken before the clock is read, so
    # a claim that waited judges by the time it got its turn.
    locked = Customer.objects.select_for_update(no_key=True).filter(pk=customer.pk)
    if not list(locked.values_list("id", flat=True)):
        raise Customer.DoesNotExist(f"No customer {customer.pk}.")
    now = timezone.now()
    facts = budget_facts(customer_ids=[customer.pk], purpose=purpose, now=now, key=key)
    answer = budget_decide(facts[customer.pk])
    row = {"customer_id": customer.pk, "purpose": purpose, "key": key, "at": now, **actor}
    if answer.allowed:
        BudgetTouch.objects.create(**row)
    else:
        BudgetRefusal.objects.create(**row, reason=answer.reason)
    return answer


@transaction.atomic
def budget_claim_many(
    *, claims: Sequence[tuple[int, str]], purpose: str, by: Actor
) -> list[BudgetAnswer]:
    """``budget_claim`` for each (customer id, key) of ``claims``, in order, recording every
    touch and refusal; the answers in the same order. Same lock, same facts, same rules: the
    claims are decided as if made one after another (see the module's docstring), at one
    ``now``. Queries: a fixed few whatever the number of claims (the lock, the facts, one insert
    of touches, one of refusals; one more for a fix notice's keys).

    One difference: a customer id that no longer exists is answered "unknown" without a
    refusal row (there is no customer to hang it on), where ``budget_claim`` raises, so one
    record deleted meanwhile does not stop the batch."""
    purpose = _purpose(purpose)
    wanted = [(int(customer_id), _key(purpose, key)) for customer_id, key in claims]
    if not wanted:
        return []
    actor = actor_fields(by)
    ids = sorted({customer_id for customer_id, _ in wanted})
    locked = Customer.objects.select_for_update(no_key=True).filter(customer_id_among(ids))
    existing = set(locked.order_by("id").values_list("id", flat=True))
    now = timezone.now()
    facts = budget_facts(customer_ids=ids, purpose=purpose, now=now)
    keys_touched: set[tuple[int, str]] = set()
    if purpose in KEYED_PURPOSES:
        keys_touched = set(
            BudgetTouch.objects.filter(
                customer_id__in=ids, purpose=purpose, key__in={key for _, key in wanted}
            ).values_list("customer_id", "key")
        )
    answers: list[BudgetAnswer] = []
    touches: list[BudgetTouch] = []
    refusals: list[BudgetRefusal] = []
    for customer_id, key in wanted:
        if customer_id not in existing:
            answers.append(budget_decide(replace(facts[customer_id], known=False)))
            continue
        fact = replace(facts[customer_id], key_touched=(customer_id, key) in keys_touched)
        answer = budget_decide(fact)
        row = {"customer_id": customer_id, "purpose": purpose, "key": key, "at": now, **actor}
        if answer.allowed:
            touches.append(BudgetTouch(**row))
            # What the next claim of this customer in the batch would read from the ledger.
            facts[customer_id] = replace(fact, last_touch_at=now)
            keys_touched.add((customer_id, key))
        else:
            refusals.append(BudgetRefusal(**row, reason=answer.reason))
        answers.append(answer)
    BudgetTouch.objects.bulk_create(touches)
    BudgetRefusal.objects.bulk_create(refusals)
    return answers


@transaction.atomic
def budget_opt_out(*, customer: Customer, purpose: str, by: Actor) -> bool:
    """The customer says no to ``purpose``: set by a rep (``by`` the user) or through a signed
    link (``by=OPT_OUT_LINK``). Returns False when they had already opted out. A record merged
    into another since the link was sent opts out the customer it was merged into."""
    purpose = _purpose(purpose)
    actor = actor_fields(by)
    customer = _survivor(customer)
    _, created = BudgetOptOut.objects.get_or_create(
        customer_id=customer.pk, purpose=purpose, defaults={"at": timezone.now(), **actor}
    )
    if created:
        audit_record(
            by=by,
            action="budget.opt_out",
            target=customer,
            changes={"opted_out": [None, purpose]},
            customer_id=customer.pk,
        )
    return created


def _survivor(customer: Customer) -> Customer:
    """The customer a merged-away record now lives on (itself when it was not merged)."""
    seen = set()
    while customer.merged_into_id and customer.pk not in seen:
        seen.add(customer.pk)
        customer = Customer.objects.get(pk=customer.merged_into_id)
    return customer


@transaction.atomic
def budget_opt_in(*, customer: Customer, purpose: str, by: Actor, why: str = "") -> bool:
    """Undo an opt-out (the customer asked a rep to be contacted again). Returns False when
    there was none."""
    purpose = _purpose(purpose)
    actor_fields(by)
    deleted, _ = BudgetOptOut.objects.filter(customer_id=customer.pk, purpose=purpose).delete()
    if deleted:
        audit_record(
            by=by,
            action="budget.opt_in",
            target=customer,
            changes={"opted_out": [purpose, None]},
            why=why,
            customer_id=customer.pk,
        )
    return bool(deleted)


def budget_forget_customers(*, customer_ids: list[int]) -> dict[str, int]:
    """Erasure: delete the erased customers' touches, refusals and opt-outs. Nothing is lost
    for the budget: an erased customer is refused every purpose from then on."""
    counts = {}
    for name, model in (
        ("budget_touches", BudgetTouch),
        ("budget_refusals", BudgetRefusal),
        ("budget_opt_outs", BudgetOptOut),
    ):
        counts[name], _ = model.objects.filter(customer_id__in=customer_ids).delete()
    return counts


@transaction.atomic
def budget_merge_customers(*, source_id: int, target_id: int) -> dict[str, int]:
    """A customer merge moves the duplicate's budget to the record that survives, so the
    person's cool-downs, fix notices and opt-outs stay with them. Call it inside the merge's
    transaction. Both customers are locked (id order) so no claim runs half-way through.

    - touches move; a fix notice both records had for one issue is kept once (the target's);
    - refusals move;
    - opt-outs move unless the target has one for the purpose already (an opt-out of either
      record holds for the person).

    Returns the rows moved and dropped, by kind."""
    if source_id == target_id:
        raise ValidationError("A customer cannot be merged into itself.")
    list(
        Customer.objects.select_for_update(no_key=True)
        .filter(id__in=[source_id, target_id])
        .order_by("id")
        .values_list("id", flat=True)
    )
    target_notices = BudgetTouch.objects.filter(
        customer_id=target_id, purpose=BudgetPurpose.FIX_NOTICE
    ).values("key")
    notices_dropped, _ = BudgetTouch.objects.filter(
        customer_id=source_id, purpose=BudgetPurpose.FIX_NOTICE, key__in=target_notices
    ).delete()
    target_opt_outs = BudgetOptOut.objects.filter(customer_id=target_id).values("purpose")
    opt_outs_dropped, _ = BudgetOptOut.objects.filter(
        customer_id=source_id, purpose__in=target_opt_outs
    ).delete()
    return {
        "budget_touches": BudgetTouch.objects.filter(customer_id=source_id).update(
            customer_id=target_id
        ),
        "budget_touches_dropped": notices_dropped,
        "budget_refusals": BudgetRefusal.objects.filter(customer_id=source_id).update(
            customer_id=target_id
        ),
        "budget_opt_outs": BudgetOptOut.objects.filter(customer_id=source_id).update(
            customer_id=target_id
        ),
        "budget_opt_outs_dropped": opt_outs_dropped,
    }
