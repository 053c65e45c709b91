"""Shared set-up of the flag tests: reasons of the cast's departments, open issues with
evidence contacts in customers' words, and their search documents."""

from types import SimpleNamespace

from loops.flags.index import issues_index
from loops.models import Issue
from loops.services.issues import evidence_add
from tests.loops.world import T0, contact_of, open_issue, reason

DOUBLE_CHARGE = [
    "I was charged twice for my renewal this month, two identical charges on my card.",
    "Double charge again! The renewal payment went through two times.",
]
REFUND = [
    "I returned the router three weeks ago and the refund never arrived.",
    "Still waiting for my refund after sending the parcel back.",
]
INVOICE = [
    "The invoice PDF does not show our VAT number, accounting needs it.",
    "Please add the company VAT number to the invoice, the PDF lacks it.",
]
WIFI = [
    "The wifi drops every evening, the router light blinks orange.",
    "Internet disconnects at night, router restarts itself.",
]


def with_evidence(cast, issue: Issue, texts: list[str], team=None, reason_=None) -> Issue:
    for text in texts:
        contact = contact_of(team or cast.team_a, reason=reason_, notes=text, at=T0)
        evidence_add(issue=issue, source=contact, by=cast.manager)
    issue.refresh_from_db()
    return issue


def make_world(cast) -> SimpleNamespace:
    """Billing (department A) with three open issues on one reason, so the reason alone cannot
    tell them apart; a department B issue about wifi."""
    billing = reason("Billing", department=cast.dept_a)
    outage = reason("Outage", department=cast.dept_b)
    double = with_evidence(
        cast, open_issue(cast, title="Double charge on renewal", reasons=[billing]), DOUBLE_CHARGE
    )
    refund = with_evidence(
        cast, open_issue(cast, title="Refund not received", reasons=[billing]), REFUND
    )
    invoice = with_evidence(
        cast, open_issue(cast, title="Invoice without VAT number", reasons=[billing]), INVOICE
    )
    wifi = with_evidence(
        cast,
        open_issue(cast, title="Wifi drops at night", reasons=[outage], by=cast.other_manager),
        WIFI,
        team=cast.team_b,
    )
    issues_index(issue_ids=[double.pk, refund.pk, invoice.pk, wifi.pk])
    return SimpleNamespace(
        billing=billing, outage=outage, double=double, refund=refund, invoice=invoice, wifi=wifi
    )
