"""Send once with a live worker: the web process asks for an email inside its transaction, a
separate worker claims, renders and sends it once, and asking again sends nothing."""

import pytest
from django.db import transaction

from tests.integration.conftest import wait_for
from voc.core.audit import SWEEP
from voc.core.models import OutboxMessage, SendOnce
from voc.core.sendonce import send_once, send_once_task

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TIMEOUT = 20.0
CONTEXT = {
    "username": "ada",
    "site_name": "VoC",
    "protocol": "https",
    "domain": "voc.example",
    "uid": "MQ",
    "token": "abc-123",
}


def ask() -> tuple[SendOnce, bool]:
    return send_once(
        purpose="test.survey",
        key="contact:1",
        to=["ada@customer.example"],
        template="password-reset",
        context=CONTEXT,
        by=SWEEP,
    )


def test_the_worker_sends_a_send_once_email_once(start_worker):
    worker = start_worker()
    with transaction.atomic():
        email, created = ask()
    assert created

    def sent() -> SendOnce | None:
        return SendOnce.objects.filter(id=email.id, status=SendOnce.Status.SENT).first()

    row = wait_for(sent, timeout=TIMEOUT, message="the worker did not send it", worker=worker)
    message = OutboxMessage.objects.get()
    assert message.headers["Message-ID"] == row.message_id
    assert message.to == ["ada@customer.example"]
    assert "https://voc.example/accounts/reset/MQ/abc-123/" in message.body_text
    assert row.attempts == 1

    # Asking again, and a stray redelivery of the task, both send nothing.
    with transaction.atomic():
        _again, created = ask()
    assert not created
    send_once_task.delay(email.id)

    def runs() -> int:
        lines = worker.log_text().splitlines()
        return sum("core.send_once[" in line and "succeeded" in line for line in lines)

    wait_for(
        lambda: runs() >= 2,
        timeout=TIMEOUT,
        message="the worker did not run the repeated task",
        worker=worker,
    )
    assert OutboxMessage.objects.count() == 1
    assert SendOnce.objects.get().attempts == 1
