"""Shared set-up of the survey tests: closed contacts, settings, the job at a frozen time."""

import itertools
from datetime import UTC, datetime, timedelta

import time_machine

from contacts.models import Contact
from feedback.surveys.services import survey_invitations_send
from tests.factories import CustomerFactory
from voc.core.audit import SystemActor
from voc.core.business import business_setting_set, business_settings_forget_cached

T0 = datetime(2026, 11, 10, 12, 0, tzinfo=UTC)
ADMIN = SystemActor("test-admin")
_numbers = itertools.count(1)


def setting(key: str, value) -> None:
    business_setting_set(key=key, value=value, by=ADMIN)
    # What the commit would do (the test's transaction never commits): later reads cache.
    business_settings_forget_cached()


def closed_contact(
    customer=None,
    *,
    closed_at: datetime = T0 - timedelta(hours=2),
    channel: str = "phone",
    outcome: str = "resolved",
    team=None,
    reason=None,
) -> Contact:
    customer = customer if customer is not None else CustomerFactory()
    return Contact.objects.create(
        source="test",
        external_id=f"survey-{next(_numbers)}",
        customer=customer,
        channel=channel,
        occurred_at=closed_at - timedelta(minutes=20),
        outcome=outcome,
        outcome_set_at=closed_at,
        team=team,
        reason=reason,
    )


def run_job(at: datetime = T0, **kwargs):
    with time_machine.travel(at, tick=False):
        return survey_invitations_send(**kwargs)
