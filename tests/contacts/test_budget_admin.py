"""The contact budget in the Django admin: read-only records, and opt-outs removed through the
audited service."""

import pytest
from django.urls import reverse

from contacts.budget.services import budget_claim, budget_opt_out
from contacts.models import BudgetOptOut, BudgetRefusal, BudgetTouch
from tests.factories import CustomerFactory
from voc.core.audit import SystemActor
from voc.core.models import AuditEntry

pytestmark = pytest.mark.django_db

MODELS = (BudgetTouch, BudgetRefusal, BudgetOptOut)


def url(model, page="changelist", *args):
    return reverse(f"admin:contacts_{model._meta.model_name}_{page}", args=args)


def test_admins_see_the_records_and_cannot_add_change_or_delete_them(client, cast):
    ann = CustomerFactory()
    budget_claim(customer=ann, purpose="survey", by=SystemActor("sampler"))
    budget_claim(customer=ann, purpose="survey", by=SystemActor("sampler"))
    budget_opt_out(customer=ann, purpose="outreach", by=cast.rep)
    client.force_login(cast.admin)
    for model in MODELS:
        response = client.get(url(model))
        assert response.status_code == 200, model
        assert response.context["cl"].result_count == 1
        row = model.objects.get()
        assert client.get(url(model, "add")).status_code == 403
        assert client.post(url(model, "change", row.pk), {}).status_code == 403
        assert client.post(url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
        assert model.objects.filter(pk=row.pk).exists()


def test_a_rep_cannot_open_the_budget_admin(client, cast):
    client.force_login(cast.rep)
    for model in MODELS:
        assert (
            client.get(url(model)).status_code == 403
        )  # VoC refuses non-admins the Django admin with its 403 page


def test_removing_opt_outs_in_the_admin_goes_through_the_audited_service(client, cast):
    ann, bob = CustomerFactory(), CustomerFactory()
    budget_opt_out(customer=ann, purpose="survey", by=cast.rep)
    budget_opt_out(customer=bob, purpose="survey", by=cast.rep)
    client.force_login(cast.admin)
    response = client.post(
        url(BudgetOptOut),
        {
            "action": "remove",
            "_selected_action": [BudgetOptOut.objects.get(customer=ann).pk],
        },
    )
    assert response.status_code == 302
    assert list(BudgetOptOut.objects.values_list("customer_id", flat=True)) == [bob.id]
    entry = AuditEntry.objects.get(action="budget.opt_in")
    assert (entry.actor, entry.customer_id, entry.why) == (
        cast.admin,
        ann.id,
        "removed in the admin",
    )
