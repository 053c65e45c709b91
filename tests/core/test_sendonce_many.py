"""Send-once's chunked delivery (``send_once_deliver_many``, behind ``core.send_once_batch``):
the same states and window per email as one at a time, in fewer commits."""

import smtplib

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from voc.core import sendonce
from voc.core.audit import SWEEP
from voc.core.models import SendOnce
from voc.core.sendonce import OnceEmail, send_once_deliver_many, send_once_many

pytestmark = pytest.mark.django_db
CONTEXT = {"username": "ada", "site_name": "VoC", "protocol": "https", "domain": "voc.example",
           "uid": "MQ", "token": "abc-123"}  # fmt: skip


class WorkerDied(BaseException):
    """Stands for the worker process dying: no `except Exception` in the code catches it."""


class DieOnThird(LocmemBackend):
    """Accepts the third message, then the worker dies before the next line."""

    def send_messages(self, messages):
        sent = super().send_messages(messages)
        if len(mail.outbox) == 3:
            raise WorkerDied
        return sent


class RefuseSecond(LocmemBackend):
    def send_messages(self, messages):
        if len(mail.outbox) == 1 and messages[0].to == ["p1@x.example"]:
            raise smtplib.SMTPServerDisconnected("connection lost")
        return super().send_messages(messages)


def ask(n: int, *, template: str = "password-reset") -> list[int]:
    return send_once_many(
        purpose="test.many",
        template=template,
        emails=[OnceEmail(key=f"k{i}", to=[f"p{i}@x.example"], context=CONTEXT) for i in range(n)],
        by=SWEEP,
    )


def test_a_chunk_is_sent_once_and_a_second_delivery_sends_nothing():
    ids = ask(5)
    assert send_once_deliver_many(email_ids=ids) == {"sent": 5}
    assert send_once_deliver_many(email_ids=ids) == {"not pending": 5}
    assert sorted(m.to[0] for m in mail.outbox) == [f"p{i}@x.example" for i in range(5)]
    rows = list(SendOnce.objects.order_by("id"))
    assert {(r.status, r.attempts) for r in rows} == {("sent", 1)}
    assert all(r.handed_at and r.sent_at for r in rows)
    assert [m.extra_headers["Message-ID"] for m in mail.outbox] == [r.message_id for r in rows]


def test_a_worker_dying_after_the_backend_accepted_leaves_one_email_in_the_window():
    ids = ask(5)
    with override_settings(EMAIL_BACKEND=f"{__name__}.DieOnThird"), pytest.raises(WorkerDied):
        send_once_deliver_many(email_ids=ids)
    statuses = list(SendOnce.objects.order_by("id").values_list("status", "handed_at"))
    assert [s for s, _ in statuses[:2]] == ["sent", "sent"]
    assert statuses[2][0] == "sending" and statuses[2][1] is not None  # the window: one email
    assert [(s, h) for s, h in statuses[3:]] == [("sending", None), ("sending", None)]


def test_a_transient_refusal_goes_back_to_pending_for_a_retry_and_the_rest_go(monkeypatch):
    queued = []
    monkeypatch.setattr(sendonce, "enqueue", lambda name, *args, catch_up: queued.append(args))
    ids = ask(3)
    with override_settings(EMAIL_BACKEND=f"{__name__}.RefuseSecond"):
        outcomes = send_once_deliver_many(email_ids=ids)
    assert outcomes == {"sent": 2, "retry": 1}
    assert queued == [(ids[1],)]
    assert SendOnce.objects.get(id=ids[1]).status == "pending"


def test_an_email_that_cannot_be_rendered_fails_and_the_others_go():
    broken = send_once_many(
        purpose="test.broken", template="no-such-template", by=SWEEP,
        emails=[OnceEmail(key=f"b{i}", to=["b@x.example"], context=CONTEXT) for i in range(2)],
    )  # fmt: skip
    ids = broken + ask(1)
    assert send_once_deliver_many(email_ids=ids) == {"failed": 2, "sent": 1}
    assert list(SendOnce.objects.order_by("id").values_list("status", flat=True)) == [
        "failed", "failed", "sent"
    ]  # fmt: skip
    assert [m.to for m in mail.outbox] == [["p0@x.example"]]


def test_queries_per_email_are_fewer_than_one_at_a_time():
    """Prevents the per-email commits from creeping back (the 20,000-customer notice)."""
    counts = []
    for n, prefix in ((10, "a"), (30, "b")):
        ids = send_once_many(
            purpose="test.many", template="password-reset", by=SWEEP,
            emails=[OnceEmail(key=f"{prefix}{i}", to=["x@x.example"], context=CONTEXT)
                    for i in range(n)],
        )  # fmt: skip
        with CaptureQueriesContext(connection) as queries:
            send_once_deliver_many(email_ids=ids)
        counts.append(len(queries))
    # A fixed few for the chunk (claim, read) and two per email (hand-over, record), plus,
    # inside the test's transaction, a savepoint and its release per email (one commit in
    # production). One at a time took six queries, each its own commit.
    assert counts[1] - counts[0] == 4 * 20
