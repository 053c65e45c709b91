"""Digests with live workers: the digest job delivered three times to two workers at once
builds one digest for the period and sends one email."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contacts.models import Message
from loops.digests.services import SubscriptionData, subscription_create
from loops.models import Digest, DigestSubscription
from tests.integration.conftest import wait_for
from tests.loops.world import contact_of
from voc.celery import app
from voc.core.models import OutboxMessage, SendOnce

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TIMEOUT = 30.0


def test_two_workers_and_a_repeated_job_send_one_digest(start_worker, cast):
    subscription = subscription_create(
        user=cast.executive, data=SubscriptionData(name="Everything", hour=0), by=cast.executive
    )
    since = timezone.now() - timedelta(days=2)
    DigestSubscription.objects.filter(pk=subscription.pk).update(sent_until=since)
    contact = contact_of(cast.team_a, at=since + timedelta(minutes=1))
    Message.objects.create(
        contact=contact, external_id="m", position=0, direction="incoming", text="Help!"
    )
    first, second = start_worker(), start_worker()
    for _ in range(3):
        app.send_task("loops.digests_due")

    def runs() -> int:
        text = first.log_text() + second.log_text()
        return sum(
            "loops.digests_due[" in line and "succeeded" in line for line in text.splitlines()
        )

    wait_for(lambda: runs() >= 3, timeout=TIMEOUT, message="the job did not run three times")
    wait_for(
        lambda: SendOnce.objects.filter(status=SendOnce.Status.SENT).exists(),
        timeout=TIMEOUT,
        message="the digest was not sent",
    )
    digest = Digest.objects.get()
    assert digest.thread_count == 1 and digest.status == Digest.Status.QUEUED
    assert OutboxMessage.objects.count() == 1
    message = OutboxMessage.objects.get()
    assert message.to == [cast.executive.email]
    assert "Help!" in message.body_text
