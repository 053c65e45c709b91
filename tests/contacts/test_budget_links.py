"""Opt-out links from emails: no login, one purpose and one customer each, GET only asks."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from contacts.budget.links import OPT_OUT_LINK_PURPOSES, budget_opt_out_url
from contacts.budget.selectors import budget_opt_outs
from contacts.budget.services import OPT_OUT_LINK
from tests.factories import CustomerFactory
from voc.core.links import link_token
from voc.core.models import AuditEntry

pytestmark = pytest.mark.django_db


def test_a_customer_opts_out_of_surveys_from_the_link_without_signing_in(client):
    ann = CustomerFactory()
    url = budget_opt_out_url(customer=ann, purpose="survey")
    page = client.get(url)
    assert page.status_code == 200
    assert "Stop surveys about your contacts with us?" in page.content.decode()
    assert budget_opt_outs(customer_id=ann.id) == []  # a GET (a mail scanner) changes nothing
    done = client.post(url)
    assert done.status_code == 200
    assert "Done: no more surveys" in done.content.decode()
    assert budget_opt_outs(customer_id=ann.id) == ["survey"]
    entry = AuditEntry.objects.get(action__startswith="budget.")
    assert entry.actor_name == OPT_OUT_LINK.name
    assert client.post(url).status_code == 200  # again: nothing more to do, no error
    assert budget_opt_outs(customer_id=ann.id) == ["survey"]


def test_a_survey_link_cannot_stop_callbacks_nor_serve_another_customer(client):
    ann = CustomerFactory()
    token = link_token(purpose=OPT_OUT_LINK_PURPOSES["survey"], target=ann)
    wrong_purpose = reverse("budget:opt-out", args=["callback", token])
    assert client.post(wrong_purpose).status_code == 400
    tampered = reverse("budget:opt-out", args=["survey", token[:-2] + "xx"])
    assert client.post(tampered).status_code == 400
    assert client.get(reverse("budget:opt-out", args=["newsletter", token])).status_code == 404
    assert budget_opt_outs(customer_id=ann.id) == []


def test_a_link_works_for_a_year_and_not_a_second_more(client):
    ann = CustomerFactory()
    sent = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
    with time_machine.travel(sent, tick=False):
        url = budget_opt_out_url(customer=ann, purpose="outreach")
    with time_machine.travel(sent + timedelta(days=365, seconds=1), tick=False):
        assert client.post(url).status_code == 410
    assert budget_opt_outs(customer_id=ann.id) == []
    with time_machine.travel(sent + timedelta(days=365), tick=False):
        assert client.post(url).status_code == 200
    assert budget_opt_outs(customer_id=ann.id) == ["outreach"]
