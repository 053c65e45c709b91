"""The contact budget's rules: may VoC contact this customer for this purpose now?

One rule per purpose, checked after the rules every purpose shares:

- an **erased** customer, a record **merged** into another (ask for the survivor) or an
  unknown one: no, whatever the purpose;
- a customer who **opted out** of the purpose (through a rep or a signed link): no;
- **survey**: not while a contact of the customer is open, and not within the survey cool-down
  (30 days) of the last survey; at exactly 30 days it is allowed again;
- **callback**: blocked only by the shared rules (the customer is waiting for it);
- **fix notice**: once per customer and key (the issue);
- **outreach**: at most once per outreach cool-down (90 days); at exactly 90 days allowed;
- **thank-you** (for a complaint): once per customer and key (the complaint), and at most once
  per thank-you cool-down (30 days), so a customer who complains three times in a week is
  thanked once, not three times; it does not wait for open contacts or outreach.

A contact is **open** while its outcome is *open* or *callback* and that outcome was set within
the open window (14 days, inclusive: set exactly 14 days ago is still open); once the outcome
becomes anything else, or the window passes, it no longer holds surveys back. Each purpose looks
at its own touches only: a callback does not start the survey cool-down.

The rules are pure functions of :class:`BudgetFacts` (contacts/roads.py is the model), so they
are tested without a database; ``contacts.budget.selectors.budget_facts`` gathers the facts
for one customer or fifty thousand, and the claim and the set-based answer use the same rules.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from contacts.models import BudgetPurpose, BudgetRefusal, Contact

Reason = BudgetRefusal.Reason
OPEN_OUTCOMES = (Contact.Outcome.OPEN, Contact.Outcome.CALLBACK)


@dataclass(frozen=True)
class CoolDowns:
    """How long the rules wait. The defaults; ``budget_cool_downs()`` says which apply."""

    survey: timedelta = timedelta(days=30)
    outreach: timedelta = timedelta(days=90)
    open_contact: timedelta = timedelta(days=14)  # how long an open outcome holds surveys back
    thanks: timedelta = timedelta(days=30)


DEFAULT_COOL_DOWNS = CoolDowns()


@dataclass(frozen=True)
class BudgetFacts:
    """What the rules look at for one customer and one purpose, at ``now``."""

    purpose: str
    now: datetime
    cool_downs: CoolDowns = DEFAULT_COOL_DOWNS
    known: bool = True
    erased: bool = False
    merged_into_id: int | None = None
    opted_out: bool = False
    last_touch_at: datetime | None = None  # the latest touch for this purpose
    key_touched: bool = False  # a touch for this purpose and key exists
    # When the outcome of the customer's latest open/callback contact was set (its occurred_at
    # when nobody set it); None when it has none.
    open_outcome_at: datetime | None = None


@dataclass(frozen=True)
class BudgetAnswer:
    """Allowed, or refused with a reason code (BudgetRefusal.Reason) and words for people."""

    allowed: bool
    reason: str = ""
    explanation: str = ""


ALLOWED = BudgetAnswer(True)

Rule = Callable[[BudgetFacts], BudgetAnswer | None]


def _days(delta: timedelta) -> str:
    days = delta.days
    return "1 day" if days == 1 else f"{days} days"


def customer_state(facts: BudgetFacts) -> BudgetAnswer | None:
    """No contact at all for an unknown, erased or merged-away customer."""
    if not facts.known:
        return BudgetAnswer(False, Reason.UNKNOWN, "no such customer")
    if facts.erased:
        return BudgetAnswer(False, Reason.ERASED, "the customer was erased")
    if facts.merged_into_id is not None:
        return BudgetAnswer(
            False,
            Reason.MERGED,
            f"this record was merged into customer {facts.merged_into_id}: ask for that one",
        )
    return None


def opted_out(facts: BudgetFacts) -> BudgetAnswer | None:
    """The customer said no to this purpose."""
    if facts.opted_out:
        label = BudgetPurpose(facts.purpose).label.lower()
        return BudgetAnswer(False, Reason.OPTED_OUT, f"the customer opted out of {label}s")
    return None


def contact_open(facts: BudgetFacts) -> BudgetAnswer | None:
    """Surveys wait while a contact is open: outcome open or callback, set at most
    ``cool_downs.open_contact`` ago (inclusive)."""
    if facts.open_outcome_at is None:
        return None
    if facts.open_outcome_at >= facts.now - facts.cool_downs.open_contact:
        return BudgetAnswer(False, Reason.CONTACT_OPEN, "a contact of this customer is still open")
    return None


def within(window: timedelta, facts: BudgetFacts) -> BudgetAnswer | None:
    """No new touch while the last one of this purpose is less than ``window`` old; at exactly
    ``window`` it is allowed again."""
    if facts.last_touch_at is None:
        return None
    elapsed = facts.now - facts.last_touch_at
    if elapsed < window:
        label = BudgetPurpose(facts.purpose).label.lower()
        return BudgetAnswer(
            False,
            Reason.COOL_DOWN,
            f"last {label} {_days(elapsed)} ago; the cool-down is {_days(window)}",
        )
    return None


def survey_cool_down(facts: BudgetFacts) -> BudgetAnswer | None:
    return within(facts.cool_downs.survey, facts)


def outreach_cool_down(facts: BudgetFacts) -> BudgetAnswer | None:
    return within(facts.cool_downs.outreach, facts)


def thanks_cool_down(facts: BudgetFacts) -> BudgetAnswer | None:
    return within(facts.cool_downs.thanks, facts)


def once_per_key(facts: BudgetFacts) -> BudgetAnswer | None:
    """A fix notice goes once per customer and issue; a thank-you once per complaint."""
    if facts.key_touched:
        return BudgetAnswer(False, Reason.ALREADY_SENT, "already sent to this customer")
    return None


SHARED: tuple[Rule, ...] = (customer_state, opted_out)
RULES: dict[str, tuple[Rule, ...]] = {
    BudgetPurpose.SURVEY: (*SHARED, contact_open, survey_cool_down),
    BudgetPurpose.CALLBACK: SHARED,
    BudgetPurpose.FIX_NOTICE: (*SHARED, once_per_key),
    BudgetPurpose.OUTREACH: (*SHARED, outreach_cool_down),
    BudgetPurpose.THANKS: (*SHARED, once_per_key, thanks_cool_down),
}
# Purposes whose claims are answered per key: their facts need the key's touch.
KEYED_PURPOSES = frozenset(purpose for purpose, rules in RULES.items() if once_per_key in rules)


def budget_decide(facts: BudgetFacts) -> BudgetAnswer:
    """The first rule of the purpose that says no, or ALLOWED."""
    for rule in RULES[facts.purpose]:
        answer = rule(facts)
        if answer is not None:
            return answer
    return ALLOWED
