"""The contact budget on the database: the claim and what it records, opt-outs, open contacts,
the set-based answer, erasure and merges."""

import random
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from contacts.budget.rules import ALLOWED
from contacts.budget.selectors import budget_allowed, budget_cool_downs, budget_opt_outs
from contacts.budget.services import (
    OPT_OUT_LINK,
    budget_claim,
    budget_merge_customers,
    budget_opt_in,
    budget_opt_out,
)
from contacts.erasure.services import customer_erase
from contacts.models import (
    BudgetOptOut,
    BudgetPurpose,
    BudgetRefusal,
    BudgetTouch,
    Contact,
    Customer,
)
from contacts.services.customers import customer_merge
from tests.factories import CustomerFactory
from voc.core.audit import SWEEP, SystemActor
from voc.core.models import AuditEntry

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
SAMPLER = SystemActor("survey-sampler")
Reason = BudgetRefusal.Reason


def claim(customer, purpose, key="", by=SAMPLER, at=NOW):
    with time_machine.travel(at, tick=False):
        return budget_claim(customer=customer, purpose=purpose, key=key, by=by)


def contact(customer, *, outcome, occurred_at, outcome_set_at=None, n=[0]):  # noqa: B006
    n[0] += 1
    return Contact.objects.create(
        source="test",
        external_id=f"budget-{n[0]}",
        customer=customer,
        channel="phone",
        occurred_at=occurred_at,
        outcome=outcome,
        outcome_set_at=outcome_set_at,
    )


def test_an_allowed_claim_records_one_touch_with_who_and_when():
    ann = CustomerFactory()
    assert claim(ann, "survey", key="contact-7") == ALLOWED
    touch = BudgetTouch.objects.get()
    assert (touch.customer_id, touch.purpose, touch.key, touch.at) == (
        ann.id,
        "survey",
        "contact-7",
        NOW,
    )
    assert (touch.actor, touch.actor_name) == (None, "survey-sampler")
    assert not BudgetRefusal.objects.exists()


def test_every_no_is_recorded_with_its_reason_and_no_touch(cast):
    ann = CustomerFactory()
    claim(ann, "survey")
    answer = claim(ann, "survey", by=cast.rep, at=NOW + timedelta(days=3))
    assert (answer.allowed, answer.reason) == (False, Reason.COOL_DOWN)
    assert answer.explanation == "last survey 3 days ago; the cool-down is 30 days"
    refusal = BudgetRefusal.objects.get()
    assert (refusal.customer_id, refusal.purpose, refusal.reason, refusal.at) == (
        ann.id,
        "survey",
        "cool_down",
        NOW + timedelta(days=3),
    )
    assert (refusal.actor, refusal.actor_name) == (cast.rep, "rep")
    assert BudgetTouch.objects.count() == 1


def test_a_survey_claim_at_exactly_30_days_is_allowed_and_a_minute_earlier_is_not():
    ann = CustomerFactory()
    claim(ann, "survey")
    early = claim(ann, "survey", at=NOW + timedelta(days=29, hours=23, minutes=59))
    assert early.reason == Reason.COOL_DOWN
    assert claim(ann, "survey", at=NOW + timedelta(days=30)) == ALLOWED
    # The cool-down runs from the latest survey.
    assert claim(ann, "survey", at=NOW + timedelta(days=59)).reason == Reason.COOL_DOWN
    assert BudgetTouch.objects.count() == 2


def test_outreach_at_90_days_is_allowed_and_at_89_is_not():
    ann = CustomerFactory()
    claim(ann, "outreach")
    assert claim(ann, "outreach", at=NOW + timedelta(days=89)).reason == Reason.COOL_DOWN
    assert claim(ann, "outreach", at=NOW + timedelta(days=90)) == ALLOWED


def test_each_purpose_has_its_own_cool_down():
    ann = CustomerFactory()
    claim(ann, "outreach")
    claim(ann, "callback")
    assert claim(ann, "survey") == ALLOWED


def test_a_fix_notice_goes_once_per_issue():
    ann, bob = CustomerFactory(), CustomerFactory()
    assert claim(ann, "fix_notice", key="issue-12") == ALLOWED
    again = claim(ann, "fix_notice", key="issue-12", at=NOW + timedelta(days=400))
    assert (again.allowed, again.reason) == (False, Reason.ALREADY_SENT)
    assert claim(ann, "fix_notice", key="issue-13") == ALLOWED
    assert claim(bob, "fix_notice", key="issue-12") == ALLOWED


def test_a_fix_notice_without_its_issue_is_refused_as_bad_input():
    with pytest.raises(ValidationError, match="needs its key"):
        claim(CustomerFactory(), "fix_notice", key="  ")
    with pytest.raises(ValidationError, match="at most 100"):
        claim(CustomerFactory(), "fix_notice", key="x" * 101)
    assert not BudgetTouch.objects.exists()


def test_a_second_fix_notice_row_is_impossible_even_outside_the_claim():
    from django.db import IntegrityError

    ann = CustomerFactory()
    claim(ann, "fix_notice", key="issue-1")
    with pytest.raises(IntegrityError), transaction.atomic():
        BudgetTouch.objects.create(
            customer=ann, purpose="fix_notice", key="issue-1", at=NOW, actor_name="x"
        )


def test_callbacks_are_blocked_only_by_an_opt_out(cast):
    ann = CustomerFactory()
    contact(ann, outcome="callback", occurred_at=NOW - timedelta(hours=1))
    assert claim(ann, "callback") == ALLOWED
    assert claim(ann, "callback", at=NOW + timedelta(minutes=1)) == ALLOWED
    budget_opt_out(customer=ann, purpose="callback", by=cast.rep)
    assert claim(ann, "callback", at=NOW + timedelta(minutes=2)).reason == Reason.OPTED_OUT


def test_unknown_purposes_and_missing_actors_are_refused_before_anything_is_written():
    ann = CustomerFactory()
    with pytest.raises(ValidationError, match="Unknown purpose “spam”"):
        claim(ann, "spam")
    with pytest.raises(ValueError, match="Say who acted"):
        claim(ann, "survey", by=None)
    assert not BudgetTouch.objects.exists() and not BudgetRefusal.objects.exists()


# Open contacts hold surveys back for 14 days from when their outcome was set.


def test_an_ingested_open_contact_counts_from_when_it_occurred_14_days_yes_15_no():
    ann, bob = CustomerFactory(), CustomerFactory()
    contact(ann, outcome="open", occurred_at=NOW - timedelta(days=14))
    contact(bob, outcome="open", occurred_at=NOW - timedelta(days=15))
    assert claim(ann, "survey").reason == Reason.CONTACT_OPEN
    assert claim(bob, "survey") == ALLOWED


def test_outcome_set_at_stands_for_when_the_contact_opened_when_it_is_set():
    ann, bob, cy = CustomerFactory(), CustomerFactory(), CustomerFactory()
    old = NOW - timedelta(days=60)
    contact(ann, outcome="callback", occurred_at=old, outcome_set_at=NOW - timedelta(days=14))
    contact(bob, outcome="callback", occurred_at=old, outcome_set_at=NOW - timedelta(days=15))
    # Set long ago, although the contact itself is recent: the outcome's time decides.
    contact(
        cy,
        outcome="open",
        occurred_at=NOW - timedelta(days=1),
        outcome_set_at=NOW - timedelta(days=15),
    )
    assert claim(ann, "survey").reason == Reason.CONTACT_OPEN
    assert claim(bob, "survey") == ALLOWED
    assert claim(cy, "survey") == ALLOWED


def test_a_contact_closes_when_its_outcome_becomes_anything_else():
    ann = CustomerFactory()
    open_one = contact(ann, outcome="open", occurred_at=NOW - timedelta(hours=2))
    assert claim(ann, "survey").reason == Reason.CONTACT_OPEN
    for outcome in set(Contact.Outcome.values) - {"open", "callback"} | {""}:
        Contact.objects.filter(pk=open_one.pk).update(outcome=outcome, outcome_set_at=NOW)
        assert budget_allowed(customer_ids=[ann.id], purpose="survey", now=NOW)[ann.id] == (
            ALLOWED
        ), outcome
    assert claim(ann, "survey") == ALLOWED


def test_only_the_customers_own_open_contacts_count():
    ann, bob = CustomerFactory(), CustomerFactory()
    contact(bob, outcome="open", occurred_at=NOW)
    contact(None, outcome="open", occurred_at=NOW)
    assert claim(ann, "survey") == ALLOWED


# Opt-outs


def test_a_rep_opts_a_customer_out_and_it_is_audited(cast):
    ann = CustomerFactory()
    assert budget_opt_out(customer=ann, purpose="survey", by=cast.rep) is True
    assert budget_opt_out(customer=ann, purpose="survey", by=cast.rep) is False  # once
    opt_out = BudgetOptOut.objects.get()
    assert (opt_out.customer_id, opt_out.purpose, opt_out.actor) == (ann.id, "survey", cast.rep)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor, entry.customer_id, entry.target_id) == (
        "budget.opt_out",
        cast.rep,
        ann.id,
        ann.id,
    )
    assert entry.changes == {"opted_out": [None, "survey"]}
    assert claim(ann, "survey").reason == Reason.OPTED_OUT
    assert claim(ann, "outreach") == ALLOWED  # per purpose
    assert budget_opt_outs(customer_id=ann.id) == ["survey"]


def test_the_signed_link_opts_out_as_the_link_actor():
    ann = CustomerFactory()
    budget_opt_out(customer=ann, purpose="outreach", by=OPT_OUT_LINK)
    assert BudgetOptOut.objects.get().actor_name == "opt-out-link"
    assert AuditEntry.objects.get().actor_name == "opt-out-link"
    assert claim(ann, "outreach").reason == Reason.OPTED_OUT


def test_a_link_sent_before_a_merge_opts_out_the_surviving_customer():
    ann, dup = CustomerFactory(), CustomerFactory()
    customer_merge(source=dup, target=ann, by=SWEEP)
    dup.refresh_from_db()
    budget_opt_out(customer=dup, purpose="survey", by=OPT_OUT_LINK)
    assert budget_opt_outs(customer_id=ann.id) == ["survey"]
    assert budget_opt_outs(customer_id=dup.id) == []
    assert AuditEntry.objects.get(action__startswith="budget.").customer_id == ann.id


def test_opting_back_in_removes_the_opt_out_and_is_audited(cast):
    ann = CustomerFactory()
    budget_opt_out(customer=ann, purpose="survey", by=cast.rep)
    assert budget_opt_in(customer=ann, purpose="survey", by=cast.manager, why="asked") is True
    assert budget_opt_in(customer=ann, purpose="survey", by=cast.manager) is False
    assert not BudgetOptOut.objects.exists()
    entry = AuditEntry.objects.get(action="budget.opt_in")
    assert (entry.actor, entry.changes, entry.why) == (
        cast.manager,
        {"opted_out": ["survey", None]},
        "asked",
    )
    assert claim(ann, "survey") == ALLOWED


def test_an_unknown_purpose_cannot_be_opted_out_of(cast):
    with pytest.raises(ValidationError):
        budget_opt_out(customer=CustomerFactory(), purpose="everything", by=cast.rep)


# Erased and merged customers


def test_an_erased_customer_is_refused_every_purpose(cast):
    ann = CustomerFactory()
    customer_erase(customer=ann, by=cast.admin)
    for purpose in BudgetPurpose.values:
        assert claim(ann, purpose, key="issue-1").reason == Reason.ERASED


def test_erasure_deletes_the_customers_budget_rows_and_no_one_elses(cast):
    ann, bob = CustomerFactory(), CustomerFactory()
    for person in (ann, bob):
        claim(person, "survey")
        claim(person, "survey", at=NOW + timedelta(days=1))
        budget_opt_out(customer=person, purpose="outreach", by=cast.rep)
    erasure = customer_erase(customer=ann, by=cast.admin)
    assert erasure.counts["budget_touches"] == 1
    assert erasure.counts["budget_refusals"] == 1
    assert erasure.counts["budget_opt_outs"] == 1
    for model in (BudgetTouch, BudgetRefusal, BudgetOptOut):
        assert set(model.objects.values_list("customer_id", flat=True)) == {bob.id}


def test_a_merge_moves_the_budget_to_the_survivor(cast):
    ann, dup = CustomerFactory(), CustomerFactory()
    claim(dup, "survey", at=NOW - timedelta(days=10))
    claim(dup, "survey", at=NOW - timedelta(days=9))  # a refusal
    claim(dup, "fix_notice", key="issue-1")
    claim(dup, "fix_notice", key="issue-2")
    claim(ann, "fix_notice", key="issue-1")
    budget_opt_out(customer=dup, purpose="outreach", by=cast.rep)
    budget_opt_out(customer=dup, purpose="callback", by=cast.rep)
    budget_opt_out(customer=ann, purpose="callback", by=cast.rep)
    customer_merge(source=dup, target=ann, by=cast.admin)  # moves the budget with it
    # Nothing is left to move: the merge did it.
    moved = budget_merge_customers(source_id=dup.id, target_id=ann.id)
    assert moved == {
        "budget_touches": 0,
        "budget_touches_dropped": 0,
        "budget_refusals": 0,
        "budget_opt_outs": 0,
        "budget_opt_outs_dropped": 0,
    }
    assert BudgetTouch.objects.filter(customer=dup).count() == 0
    # The survey and issue-2 moved; issue-1 is kept once (ann was told already).
    assert sorted(BudgetTouch.objects.filter(customer=ann).values_list("purpose", "key")) == [
        ("fix_notice", "issue-1"),
        ("fix_notice", "issue-2"),
        ("survey", ""),
    ]
    assert budget_opt_outs(customer_id=ann.id) == ["callback", "outreach"]
    assert BudgetRefusal.objects.get().customer_id == ann.id
    # The person's budget holds on the survivor; the duplicate is refused as merged.
    assert claim(ann, "survey").reason == Reason.COOL_DOWN
    assert claim(ann, "outreach").reason == Reason.OPTED_OUT
    assert claim(ann, "fix_notice", key="issue-2").reason == Reason.ALREADY_SENT
    assert claim(dup, "callback").reason == Reason.MERGED
    assert not BudgetTouch.objects.filter(customer=dup).exists()


def test_a_customer_cannot_be_merged_into_itself():
    ann = CustomerFactory()
    with pytest.raises(ValidationError):
        budget_merge_customers(source_id=ann.id, target_id=ann.id)


# The set-based form


def population():
    """Customers in every state the rules distinguish, and what a survey claim says of each."""
    fresh, surveyed, old_survey, opened, closed, opted, erased, merged = (
        CustomerFactory() for _ in range(8)
    )
    BudgetTouch.objects.create(
        customer=surveyed, purpose="survey", at=NOW - timedelta(days=29), actor_name="t"
    )
    BudgetTouch.objects.create(
        customer=old_survey, purpose="survey", at=NOW - timedelta(days=30), actor_name="t"
    )
    contact(opened, outcome="callback", occurred_at=NOW - timedelta(days=3))
    contact(closed, outcome="resolved", occurred_at=NOW - timedelta(days=3))
    BudgetOptOut.objects.create(customer=opted, purpose="survey", at=NOW, actor_name="t")
    Customer.objects.filter(pk=erased.pk).update(erased_at=NOW)
    Customer.objects.filter(pk=merged.pk).update(merged_into=fresh)
    return {
        fresh.id: "",
        surveyed.id: Reason.COOL_DOWN,
        old_survey.id: "",
        opened.id: Reason.CONTACT_OPEN,
        closed.id: "",
        opted.id: Reason.OPTED_OUT,
        erased.id: Reason.ERASED,
        merged.id: Reason.MERGED,
    }


def test_the_set_based_answer_agrees_with_the_claim_for_every_state():
    expected = population()
    missing = max(expected) + 1000
    answers = budget_allowed(customer_ids=[*expected, missing, missing], purpose="survey", now=NOW)
    assert {cid: answer.reason for cid, answer in answers.items()} == {
        **expected,
        missing: Reason.UNKNOWN,
    }
    for customer_id, reason in expected.items():
        customer = Customer.objects.get(pk=customer_id)
        assert claim(customer, "survey").reason == reason
    assert not BudgetRefusal.objects.exclude(reason__in=set(expected.values())).exists()


def test_the_set_based_answer_records_nothing():
    ann = CustomerFactory()
    budget_allowed(customer_ids=[ann.id], purpose="survey", now=NOW)
    assert not BudgetTouch.objects.exists() and not BudgetRefusal.objects.exists()


def test_the_set_based_answer_for_fix_notices_looks_at_the_key():
    ann, bob = CustomerFactory(), CustomerFactory()
    claim(ann, "fix_notice", key="issue-9")
    answers = budget_allowed(
        customer_ids=[ann.id, bob.id], purpose="fix_notice", now=NOW, key="issue-9"
    )
    assert (answers[ann.id].reason, answers[bob.id]) == (Reason.ALREADY_SENT, ALLOWED)
    other = budget_allowed(customer_ids=[ann.id], purpose="fix_notice", now=NOW, key="issue-8")
    assert other[ann.id] == ALLOWED


@pytest.mark.parametrize("purpose", BudgetPurpose.values)
def test_the_set_based_answer_takes_the_same_queries_however_many_candidates(purpose):
    # Prevents a query per candidate: sampling a survey asks about tens of thousands at once.
    few = [customer.id for customer in CustomerFactory.create_batch(3)]
    many = [customer.id for customer in CustomerFactory.create_batch(60)]
    for customer_id in many[::2]:
        BudgetTouch.objects.create(
            customer_id=customer_id, purpose=purpose, key="k", at=NOW, actor_name="t"
        )
        contact(Customer(pk=customer_id), outcome="open", occurred_at=NOW)
    budget_cool_downs()  # the business settings: read once per request or task, then cached
    with CaptureQueriesContext(connection) as for_few:
        budget_allowed(customer_ids=few, purpose=purpose, now=NOW, key="k")
    with CaptureQueriesContext(connection) as for_many:
        answers = budget_allowed(
            customer_ids=[*many, *range(10**9, 10**9 + 5000)], purpose=purpose, now=NOW, key="k"
        )
    # One SELECT; PostgreSQL first turns JIT off for the transaction.
    expected = 2 if connection.vendor == "postgresql" else 1
    assert len(for_few) == len(for_many) == expected
    assert len(answers) == 60 + 5000
    refused = {cid for cid, answer in answers.items() if not answer.allowed and cid in many}
    assert refused == (set(many[::2]) if purpose != "callback" else set())


def test_no_candidates_no_query(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert budget_allowed(customer_ids=[], purpose="survey", now=NOW) == {}


def test_the_set_based_and_one_at_a_time_answers_agree_on_random_data():
    rng = random.Random(20261205)
    people = CustomerFactory.create_batch(40)
    for person in people:
        for _ in range(rng.randint(0, 3)):
            BudgetTouch.objects.create(
                customer=person,
                purpose=rng.choice(["survey", "callback", "outreach"]),
                at=NOW - timedelta(days=rng.randint(0, 120), hours=rng.randint(0, 23)),
                actor_name="t",
            )
        if rng.random() < 0.3:
            BudgetTouch.objects.create(
                customer=person, purpose="fix_notice", key="issue-1", at=NOW, actor_name="t"
            )
        if rng.random() < 0.2:
            BudgetOptOut.objects.create(
                customer=person, purpose=rng.choice(BudgetPurpose.values), at=NOW, actor_name="t"
            )
        for _ in range(rng.randint(0, 3)):
            occurred = NOW - timedelta(days=rng.randint(0, 30), hours=rng.randint(0, 23))
            contact(
                person,
                outcome=rng.choice(["open", "callback", "resolved", ""]),
                occurred_at=occurred,
                outcome_set_at=rng.choice([None, occurred + timedelta(days=rng.randint(0, 5))]),
            )
    ids = [person.id for person in people]
    for purpose in BudgetPurpose.values:
        together = budget_allowed(customer_ids=ids, purpose=purpose, now=NOW, key="issue-1")
        alone = {
            cid: budget_allowed(customer_ids=[cid], purpose=purpose, now=NOW, key="issue-1")[cid]
            for cid in ids
        }
        assert together == alone, purpose
        assert {answer.allowed for answer in together.values()} == {True, False}, purpose


def test_the_cool_downs_are_the_admins_business_settings(cast):
    from contacts.budget.selectors import budget_cool_downs
    from voc.core.business import business_setting_set

    assert budget_cool_downs().survey == timedelta(days=30)
    business_setting_set(key="survey_cooldown_days", value=45, by=cast.admin)
    business_setting_set(key="outreach_cooldown_days", value=120, by=cast.admin)
    business_setting_set(key="open_contact_days", value=7, by=cast.admin)
    cool_downs = budget_cool_downs()
    assert (cool_downs.survey, cool_downs.outreach, cool_downs.open_contact) == (
        timedelta(days=45),
        timedelta(days=120),
        timedelta(days=7),
    )
    # The claim follows them: 30 days after a survey is now too soon, 45 is allowed.
    ann = CustomerFactory()
    claim(ann, "survey")
    assert claim(ann, "survey", at=NOW + timedelta(days=44, hours=23)).reason == Reason.COOL_DOWN
    assert claim(ann, "survey", at=NOW + timedelta(days=45)) == ALLOWED
