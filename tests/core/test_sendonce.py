"""Send once: one row per (purpose, key), claimed by one worker, rendered there, sent with a
deterministic Message-ID, and never sent twice, whatever point a worker dies at."""

import smtplib
from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
import time_machine
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import DatabaseError
from django.test import override_settings
from django.urls import reverse

from voc.core import sendonce
from voc.core.audit import SWEEP
from voc.core.jobs import registered_jobs
from voc.core.mail import OutboxBackend, TransientEmailError
from voc.core.models import AuditEntry, OutboxMessage, SendOnce
from voc.core.sendonce import (
    ESP_METADATA_KEY,
    MAX_ATTEMPTS,
    STALE_AFTER,
    message_id_for,
    register_email_context,
    send_once,
    send_once_deliver,
    send_once_deliver_now,
    send_once_forget_customers,
    send_once_resolve,
    send_once_sweep,
    send_once_task,
)

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
STALE = T0 + STALE_AFTER + timedelta(seconds=1)
# An existing trio of templates; what matters here is how the email goes, not what it says.
CONTEXT = {
    "username": "ada",
    "site_name": "VoC",
    "protocol": "https",
    "domain": "voc.example",
    "uid": "MQ",
    "token": "abc-123",
}


class WorkerDied(BaseException):
    """Stands for the worker process dying: no `except Exception` in the code catches it."""


class AcceptThenDie(LocmemBackend):
    """The email service accepts the message, then the worker dies before the next line."""

    def send_messages(self, messages):
        super().send_messages(messages)
        raise WorkerDied


class OutboxAcceptThenDie(OutboxBackend):
    def send_messages(self, messages):
        super().send_messages(messages)
        raise WorkerDied


class Refuse(LocmemBackend):
    error: Exception = smtplib.SMTPServerDisconnected("connection lost")

    def send_messages(self, messages):
        raise self.error


def ask(key: str = "contact:1", **kwargs) -> SendOnce:
    email, created = send_once(
        purpose="test.survey",
        key=key,
        to=["ada@customer.example"],
        template="password-reset",
        context=CONTEXT,
        by=SWEEP,
        **kwargs,
    )
    assert created
    return email


@pytest.fixture
def clock():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def refreshed(email: SendOnce) -> SendOnce:
    email.refresh_from_db()
    return email


def test_it_queues_after_commit_and_sends_once(django_capture_on_commit_callbacks, clock):
    with django_capture_on_commit_callbacks() as callbacks:
        email = ask()
    assert len(callbacks) == 1
    assert (email.status, email.requested_by, email.queued_at) == ("pending", "sweep", T0)

    assert send_once_deliver(email_id=email.id) == "sent"
    assert send_once_deliver(email_id=email.id) == "not pending"  # a redelivered task
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["ada@customer.example"]
    assert message.subject == "Reset your VoC password"
    assert "https://voc.example/accounts/reset/MQ/abc-123/" in message.body
    assert message.extra_headers["Message-ID"] == email.message_id
    assert message.metadata == {ESP_METADATA_KEY: "test.survey:contact:1"}
    email = refreshed(email)
    assert (email.status, email.attempts, email.sent_at, email.error) == ("sent", 1, T0, "")


def test_asking_again_returns_the_first_row_and_queues_nothing(django_capture_on_commit_callbacks):
    first = ask()
    with django_capture_on_commit_callbacks() as callbacks:
        again, created = send_once(
            purpose="test.survey",
            key="contact:1",
            to=["someone.else@example.com"],
            template="password-reset",
            by=SWEEP,
        )
    assert (again.id, created, callbacks) == (first.id, False, [])
    assert again.to == ["ada@customer.example"]
    assert SendOnce.objects.count() == 1


def test_another_key_or_purpose_is_another_email():
    ask("contact:1")
    ask("contact:2")
    send_once(purpose="test.other", key="contact:1", to=["a@b.example"], template="x", by=SWEEP)
    assert SendOnce.objects.count() == 3


def test_the_message_id_depends_only_on_purpose_and_key():
    assert message_id_for("test.survey", "contact:1") == message_id_for("test.survey", "contact:1")
    assert message_id_for("test.survey", "contact:1") != message_id_for("test.survey", "contact:2")
    assert message_id_for("test.survey", "contact:1") != message_id_for("test.other", "contact:1")
    with override_settings(DEFAULT_FROM_EMAIL="VoC <voc@mail.acme.example>"):
        message_id = message_id_for("test.survey", "contact:1")
    assert message_id.startswith("<once.") and message_id.endswith("@mail.acme.example>")
    assert len(message_id) == len("<once.@mail.acme.example>") + 32


def test_a_recipient_is_required():
    with pytest.raises(ValueError, match="recipient"):
        send_once(purpose="test.survey", key="k", to=[], template="password-reset", by=SWEEP)


# --- faults, at each point a worker can die --------------------------------------------------


def test_a_worker_dying_before_the_claim_leaves_it_pending_for_the_next_delivery(clock):
    email = ask()
    with mock.patch.object(sendonce, "_claim", side_effect=WorkerDied), pytest.raises(WorkerDied):
        send_once_deliver(email_id=email.id)
    assert (refreshed(email).status, refreshed(email).attempts, mail.outbox) == ("pending", 0, [])
    # acks_late: the broker delivers the task again, which sends it.
    assert send_once_deliver(email_id=email.id) == "sent"
    assert len(mail.outbox) == 1


def test_a_lost_task_is_queued_again_by_the_sweep(django_capture_on_commit_callbacks, clock):
    email = ask()  # its task never reaches a worker
    clock.move_to(T0 + STALE_AFTER)
    with django_capture_on_commit_callbacks() as callbacks:
        assert send_once_sweep() == 0  # at the limit: still waiting for its task
    assert callbacks == []
    clock.move_to(STALE)
    with django_capture_on_commit_callbacks() as callbacks:
        assert send_once_sweep() == 1
    assert len(callbacks) == 1
    assert refreshed(email).queued_at == STALE
    assert send_once_deliver(email_id=email.id) == "sent"
    assert len(mail.outbox) == 1


def test_a_worker_dying_after_the_claim_is_sent_after_the_sweep(
    django_capture_on_commit_callbacks, clock
):
    email = ask()
    with mock.patch.object(sendonce, "_compose", side_effect=WorkerDied), pytest.raises(WorkerDied):
        send_once_deliver(email_id=email.id)
    email = refreshed(email)
    assert (email.status, email.attempts, email.handed_at) == ("sending", 1, None)
    assert send_once_deliver(email_id=email.id) == "not pending"  # the redelivered task
    assert mail.outbox == []

    clock.move_to(T0 + STALE_AFTER)
    assert send_once_sweep() == 0  # a claim as old as the limit may still be alive
    clock.move_to(STALE)
    with django_capture_on_commit_callbacks() as callbacks:
        assert send_once_sweep() == 1  # never handed over: safe to send
    assert len(callbacks) == 1
    assert refreshed(email).status == "pending"
    assert send_once_deliver(email_id=email.id) == "sent"
    assert (len(mail.outbox), refreshed(email).attempts) == (1, 2)


@override_settings(EMAIL_BACKEND="tests.core.test_sendonce.AcceptThenDie")
def test_a_worker_dying_after_the_backend_accepts_is_never_resent(
    django_capture_on_commit_callbacks, clock
):
    email = ask()
    with pytest.raises(WorkerDied):
        send_once_deliver(email_id=email.id)
    assert len(mail.outbox) == 1
    email = refreshed(email)
    assert (email.status, email.handed_at) == ("sending", T0)
    assert send_once_deliver(email_id=email.id) == "not pending"

    clock.move_to(STALE)
    with django_capture_on_commit_callbacks() as callbacks:
        assert send_once_sweep() == 1
    assert callbacks == []  # nothing queued: only a person may resend it
    email = refreshed(email)
    assert email.status == "unknown"
    assert "Message-ID" in email.error
    assert len(mail.outbox) == 1
    entry = AuditEntry.objects.get(action="send_once.sweep")
    assert (entry.actor_name, entry.changes) == ("sweep", {"requeued": 0, "sent": 0, "unknown": 1})


@override_settings(EMAIL_BACKEND="tests.core.test_sendonce.OutboxAcceptThenDie")
def test_the_sweep_finds_an_email_the_outbox_accepted_by_its_message_id(clock):
    email = ask()
    other = ask("contact:2")
    with pytest.raises(WorkerDied):
        send_once_deliver(email_id=email.id)
    assert OutboxMessage.objects.get().headers["Message-ID"] == email.message_id
    with (
        mock.patch.object(sendonce, "_record_sent", side_effect=WorkerDied),
        override_settings(EMAIL_BACKEND="voc.core.mail.OutboxBackend"),
        pytest.raises(WorkerDied),
    ):
        send_once_deliver(email_id=other.id)
    clock.move_to(STALE)
    with override_settings(EMAIL_BACKEND="voc.core.mail.OutboxBackend"):
        assert send_once_sweep() == 2
    assert (refreshed(email).status, refreshed(email).sent_at) == ("sent", STALE)
    assert refreshed(other).status == "sent"
    assert OutboxMessage.objects.count() == 2


def test_a_failure_before_the_record_is_never_resent(django_capture_on_commit_callbacks, clock):
    email = ask()
    failing = mock.patch.object(sendonce, "_record_sent", side_effect=DatabaseError("gone away"))
    with failing, pytest.raises(DatabaseError):
        send_once_deliver(email_id=email.id)
    assert len(mail.outbox) == 1
    assert refreshed(email).status == "sending"
    assert send_once_deliver(email_id=email.id) == "not pending"
    clock.move_to(STALE)
    with django_capture_on_commit_callbacks() as callbacks:
        send_once_sweep()
    assert (refreshed(email).status, callbacks, len(mail.outbox)) == ("unknown", [], 1)


def test_a_slow_worker_whose_claim_was_taken_back_sends_nothing(clock):
    email = ask()
    compose = sendonce._compose

    def slow_compose(row):
        clock.move_to(STALE)
        send_once_sweep()  # the sweep thinks this worker is gone
        return compose(row)

    with mock.patch.object(sendonce, "_compose", side_effect=slow_compose):
        assert send_once_deliver(email_id=email.id) == "claim lost"
    assert mail.outbox == []
    assert send_once_deliver(email_id=email.id) == "sent"
    assert len(mail.outbox) == 1


# --- errors from the email service -----------------------------------------------------------


@override_settings(EMAIL_BACKEND="tests.core.test_sendonce.Refuse")
def test_a_transient_error_puts_it_back_for_a_retry(clock):
    email = ask()
    with pytest.raises(TransientEmailError, match="connection lost"):
        send_once_deliver(email_id=email.id)
    email = refreshed(email)
    assert (email.status, email.attempts, email.handed_at) == ("pending", 1, None)
    assert email.error == "SMTPServerDisconnected: connection lost"
    with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
        assert send_once_deliver(email_id=email.id) == "sent"
    assert (refreshed(email).attempts, refreshed(email).error, len(mail.outbox)) == (2, "", 1)


@override_settings(EMAIL_BACKEND="tests.core.test_sendonce.Refuse")
def test_transient_errors_fail_for_good_at_the_last_attempt():
    email = ask()
    for _attempt in range(MAX_ATTEMPTS - 1):
        with pytest.raises(TransientEmailError):
            send_once_deliver(email_id=email.id)
    assert refreshed(email).status == "pending"
    assert send_once_deliver(email_id=email.id) == "failed"
    assert (refreshed(email).status, refreshed(email).attempts) == ("failed", MAX_ATTEMPTS)


@override_settings(EMAIL_BACKEND="tests.core.test_sendonce.Refuse")
def test_a_permanent_error_fails_without_a_retry(monkeypatch):
    monkeypatch.setattr(Refuse, "error", smtplib.SMTPDataError(550, b"mailbox unavailable"))
    email = ask()
    assert send_once_deliver(email_id=email.id) == "failed"
    email = refreshed(email)
    assert (email.status, email.attempts) == ("failed", 1)
    assert email.error.startswith("SMTPDataError: (550")


class RefuseBea(LocmemBackend):
    def send_messages(self, messages):
        if messages[0].to == ["bea@customer.example"]:
            raise smtplib.SMTPServerDisconnected("connection lost")
        return super().send_messages(messages)


@override_settings(EMAIL_BACKEND="tests.core.test_sendonce.RefuseBea")
def test_delivered_now_each_once_and_a_transient_failure_queued_for_its_retrying_task(
    monkeypatch,
):
    sent, refused, broken = ask("contact:1"), ask("contact:2"), ask("contact:3")
    SendOnce.objects.filter(pk=broken.pk).update(template="nope")
    queued = []
    monkeypatch.setattr(
        sendonce, "enqueue", lambda task, email_id, catch_up: queued.append((task, email_id))
    )
    SendOnce.objects.filter(pk=refused.pk).update(to=["bea@customer.example"])
    ids = [sent.id, refused.id, broken.id, sent.id]
    assert send_once_deliver_now(email_ids=ids) == {
        "sent": 1,
        "retry": 1,
        "failed": 1,
        "not pending": 1,  # asked twice: sent once
    }
    assert len(mail.outbox) == 1
    assert (refreshed(sent).status, refreshed(refused).status) == ("sent", "pending")
    assert refreshed(broken).status == "failed"
    assert queued == [("core.send_once", refused.id)]  # retried with backoff by the task
    # The email's own queued task, coming later, finds it sent.
    assert send_once_deliver(email_id=sent.id) == "not pending"


def test_a_template_that_cannot_render_fails_the_email():
    email, _ = send_once(
        purpose="test.survey", key="k", to=["a@b.example"], template="nope", by=SWEEP
    )
    with pytest.raises(Exception, match="nope"):
        send_once_deliver(email_id=email.id)
    email = refreshed(email)
    assert email.status == "failed"
    assert email.error.startswith("Could not render: TemplateDoesNotExist")
    assert mail.outbox == []


def test_a_registered_builder_makes_the_context_in_the_worker(monkeypatch):
    monkeypatch.setattr(sendonce, "_context_builders", {})
    register_email_context("test.survey", lambda context: {**CONTEXT, "username": context["name"]})
    email, _ = send_once(
        purpose="test.survey",
        key="k",
        to=["a@b.example"],
        template="password-reset",
        context={"name": "fresh from the worker"},
        by=SWEEP,
    )
    send_once_deliver(email_id=email.id)
    assert "Hello fresh from the worker," in mail.outbox[0].body


# --- a person's decision, erasure, wiring ----------------------------------------------------


@override_settings(EMAIL_BACKEND="tests.core.test_sendonce.AcceptThenDie")
def unknown_email(clock) -> SendOnce:
    email = ask(customer_id=42)
    with pytest.raises(WorkerDied):
        send_once_deliver(email_id=email.id)
    clock.move_to(STALE)
    send_once_sweep()
    return refreshed(email)


def test_a_person_marks_an_unknown_email_delivered(cast, clock):
    email = unknown_email(clock)
    email = send_once_resolve(email=email, delivered=True, by=cast.admin, why="In the ESP's log")
    assert (email.status, email.sent_at) == ("sent", STALE)
    entry = AuditEntry.objects.get(action="send_once.resolve")
    assert (entry.actor, entry.target_id, entry.customer_id) == (cast.admin, email.id, 42)
    assert (entry.changes, entry.why) == ({"status": ["unknown", "sent"]}, "In the ESP's log")


def test_a_person_sends_an_unknown_email_again(cast, clock, django_capture_on_commit_callbacks):
    email = unknown_email(clock)
    with django_capture_on_commit_callbacks() as callbacks:
        email = send_once_resolve(email=email, delivered=False, by=cast.admin)
    assert (email.status, len(callbacks)) == ("pending", 1)
    assert send_once_deliver(email_id=email.id) == "sent"
    assert len(mail.outbox) == 2  # the first (accepted) and the one the person asked for
    assert mail.outbox[1].extra_headers["Message-ID"] == mail.outbox[0].extra_headers["Message-ID"]
    assert AuditEntry.objects.get(action="send_once.resolve").changes == {
        "status": ["unknown", "pending"]
    }


def test_a_sent_email_cannot_be_resolved(cast):
    email = ask()
    send_once_deliver(email_id=email.id)
    with pytest.raises(ValueError, match="sent"):
        send_once_resolve(email=email, delivered=False, by=cast.admin)


def test_erasure_drops_the_address_and_context_and_keeps_the_row():
    erased, kept = ask(customer_id=42), ask("contact:2", customer_id=43)
    assert send_once_forget_customers(customer_ids=[42]) == 1
    assert (refreshed(erased).to, refreshed(erased).context) == ([], {})
    assert refreshed(kept).to == ["ada@customer.example"]


def test_the_task_retries_transient_errors_only_and_acks_late():
    assert send_once_task.name == "core.send_once"
    assert send_once_task.acks_late is True
    assert send_once_task.autoretry_for == (TransientEmailError,)
    assert send_once_task.max_retries == MAX_ATTEMPTS - 1
    assert send_once_task.retry_backoff and send_once_task.retry_jitter


def test_the_sweep_is_a_periodic_job():
    assert registered_jobs()["core.send_once_sweep"].every == timedelta(minutes=5)


@override_settings(EMAIL_BACKEND="tests.core.test_sendonce.AcceptThenDie")
def test_an_admin_resolves_unknown_emails_and_skips_the_others(client, cast, clock):
    unknown = unknown_email(clock)
    sent = ask("contact:2")
    SendOnce.objects.filter(id=sent.id).update(status="sent")
    client.force_login(cast.admin)
    url = reverse("admin:core_sendonce_changelist")
    assert client.get(url).status_code == 200
    response = client.post(
        url, {"action": "mark_delivered", "_selected_action": [unknown.id, sent.id]}, follow=True
    )
    assert "1 resolved; 1 skipped" in response.content.decode()
    assert refreshed(unknown).status == "sent"
    entry = AuditEntry.objects.get(action="send_once.resolve")
    assert (entry.actor, entry.target_id) == (cast.admin, unknown.id)
