"""Opt-out links: a customer says "no more of these" from an email, without signing in.

One signed-link purpose per budget purpose (voc.core.links), so a link to stop surveys can't
be turned into one that stops callbacks, nor used for another customer. A link works for a
year and may be followed again (opting out twice changes nothing)."""

from datetime import timedelta

from django.urls import reverse

from contacts.models import BudgetPurpose, Customer
from voc.core.links import LinkPurpose, link_token

OPT_OUT_LINK_PURPOSES = {
    purpose: LinkPurpose(f"contacts.opt_out.{purpose}", max_age=timedelta(days=365))
    for purpose in BudgetPurpose.values
}


def budget_opt_out_url(*, customer: Customer, purpose: str) -> str:
    """The path of the customer's opt-out link for ``purpose`` (an email makes it absolute)."""
    token = link_token(purpose=OPT_OUT_LINK_PURPOSES[purpose], target=customer)
    return reverse("budget:opt-out", args=[purpose, token])
