"""Reads of the contact budget: the facts the rules look at, for one customer or many.

``budget_facts`` is one query whatever the number of customers (two on PostgreSQL, which
first turns JIT compilation off for its transaction): the candidates go to the database as one
array parameter (PostgreSQL) or one JSON text (SQLite), not as one placeholder each, and every
fact is a correlated subquery answered from an index alone (``budget_touch_customer``,
``budget_opt_out_once``, the partial ``contact_open_customer``). The claim reads the facts of
its one customer with the same function, so the claim and the set-based answer cannot
disagree.
"""

import json
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import BooleanField, Count, Exists, OuterRef, Subquery
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce

from contacts.budget.rules import (
    KEYED_PURPOSES,
    OPEN_OUTCOMES,
    BudgetAnswer,
    BudgetFacts,
    CoolDowns,
    budget_decide,
)
from contacts.models import (
    BudgetOptOut,
    BudgetPurpose,
    BudgetRefusal,
    BudgetTouch,
    Contact,
    Customer,
)
from voc.core.business import business_setting


def budget_cool_downs() -> CoolDowns:
    """The cool-downs in force, as admins set them in the business settings (survey 30 days,
    outreach 90, open contact 14 by default). The one place the rules get them from."""
    return CoolDowns(
        survey=timedelta(days=business_setting("survey_cooldown_days")),
        outreach=timedelta(days=business_setting("outreach_cooldown_days")),
        open_contact=timedelta(days=business_setting("open_contact_days")),
    )


def customer_id_among(ids: list[int]) -> RawSQL:
    """``customer.id`` is one of ``ids``, with one parameter whatever their number."""
    if connection.vendor == "postgresql":
        # An array literal ('{1,2,3}'): psycopg2 would send a list as ARRAY[...] with one
        # constant each, slower to build and to plan at tens of thousands of ids. ``= ANY``
        # rather than ``IN (SELECT unnest(...))``: the planner knows the array's length and
        # reads the customers in table order (a hash of the array, or the primary key for a
        # few), which keeps the probes of the ledger's indexes local; half the time at 50,000.
        literal = "{" + ",".join(map(str, ids)) + "}"
        return RawSQL(
            '"contacts_customer"."id" = ANY(%s::bigint[])', (literal,), output_field=BooleanField()
        )
    return RawSQL(
        '"contacts_customer"."id" IN (SELECT value FROM json_each(%s))',
        (json.dumps(ids),),
        output_field=BooleanField(),
    )


def budget_facts(
    *,
    customer_ids: Iterable[int],
    purpose: str,
    now: datetime,
    key: str = "",
    cool_downs: CoolDowns | None = None,
) -> dict[int, BudgetFacts]:
    """The facts for each of ``customer_ids`` (unknown ids included, as unknown), in one query.
    Only what the purpose's rules need is read: the open contacts for surveys, the key for
    fix notices and thank-yous."""
    purpose = BudgetPurpose(purpose)
    ids = sorted({int(customer_id) for customer_id in customer_ids})
    if not ids:
        return {}
    cool_downs = cool_downs or budget_cool_downs()
    touches = BudgetTouch.objects.filter(customer=OuterRef("pk"), purpose=purpose)
    columns: dict[str, Subquery] = {
        "opted_out": Exists(BudgetOptOut.objects.filter(customer=OuterRef("pk"), purpose=purpose)),
        "last_touch_at": Subquery(touches.order_by("-at").values("at")[:1]),
    }
    if purpose in KEYED_PURPOSES:
        columns["key_touched"] = Exists(touches.filter(key=key))
    if purpose == BudgetPurpose.SURVEY:
        columns["open_outcome_at"] = Subquery(
            Contact.objects.filter(customer=OuterRef("pk"), outcome__in=OPEN_OUTCOMES)
            .annotate(outcome_at=Coalesce("outcome_set_at", "occurred_at"))
            .order_by("-outcome_at")
            .values("outcome_at")[:1]
        )
    names = ("id", "erased_at", "merged_into_id", *columns)
    rows = (
        Customer.objects.filter(customer_id_among(ids))
        .annotate(**columns)
        .values_list(*names)
        .order_by()
    )
    with transaction.atomic(savepoint=False):
        if connection.vendor == "postgresql":
            # At tens of thousands of candidates the plan's cost passes jit_above_cost, and
            # compiling it took longer (1.1 s) than running it. For this transaction only.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL jit = off")
        fetched = list(rows)
    key_at = names.index("key_touched") if "key_touched" in names else None
    open_at = names.index("open_outcome_at") if "open_outcome_at" in names else None
    facts = {
        row[0]: BudgetFacts(
            purpose=purpose,
            now=now,
            cool_downs=cool_downs,
            erased=row[1] is not None,
            merged_into_id=row[2],
            opted_out=row[3],
            last_touch_at=row[4],
            key_touched=row[key_at] if key_at else False,
            open_outcome_at=row[open_at] if open_at else None,
        )
        for row in fetched
    }
    for customer_id in ids:
        if customer_id not in facts:
            facts[customer_id] = BudgetFacts(
                purpose=purpose, now=now, cool_downs=cool_downs, known=False
            )
    return facts


def budget_allowed(
    *, customer_ids: Iterable[int], purpose: str, now: datetime, key: str = ""
) -> dict[int, BudgetAnswer]:
    """The budget's answer for each candidate, in one query, without recording anything: for
    narrowing a list (who may be sampled for a survey today). Contacting someone still takes
    ``budget_claim``, the one atomic check that records the touch."""
    facts = budget_facts(customer_ids=customer_ids, purpose=purpose, now=now, key=key)
    return {customer_id: budget_decide(fact) for customer_id, fact in facts.items()}


def budget_opt_outs(*, customer_id: int) -> list[str]:
    """The purposes this customer opted out of."""
    return list(
        BudgetOptOut.objects.filter(customer_id=customer_id)
        .order_by("purpose")
        .values_list("purpose", flat=True)
    )


def budget_refusal_reasons(
    *, purpose: str, keys: Iterable[str]
) -> dict[str, list[tuple[str, int]]]:
    """Why the budget said no, per key (a call list, a notice): each reason's label and how
    many customers it stopped, the most frequent first. Keys without a refusal are absent."""
    labels = dict(BudgetRefusal.Reason.choices)
    rows = (
        BudgetRefusal.objects.filter(purpose=purpose, key__in=list(keys))
        .values("key", "reason")
        .annotate(customers=Count("id"))
        .order_by("key", "-customers", "reason")
    )
    reasons: dict[str, list[tuple[str, int]]] = {}
    for row in rows:
        label = labels.get(row["reason"], row["reason"])
        reasons.setdefault(row["key"], []).append((label, row["customers"]))
    return reasons
