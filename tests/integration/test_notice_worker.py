"""Fix notices with real Celery workers: faults injected before send-once's claim, after it,
after the backend accepted an email and before it was recorded, and inside a notice chunk
before its commit. After a restart (a fresh worker, the sweeps run as beat runs them) no
customer has two notices and every other customer has one; an email caught in the window is
found in the outbox (sent) or, where VoC cannot see the email service's log, reported as
uncertain on the notice, never lost and never resent on its own.

Each worker is killed with SIGKILL at a known point (tests/integration/paused_notice_worker.py):
its task is not acknowledged, and Redis would give it back only after the visibility timeout
(an hour), so recovery is the sweeps' job, as in production.
"""

from collections import Counter
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import override_settings

from loops.models import FixNotice, NoticeRecipient
from loops.notices.selectors import notice_counts
from loops.notices.services import notice_approve, notice_draft, notices_reconcile
from tests.integration.conftest import Worker, wait_for
from tests.loops.notices_world import fixed_issue
from voc.core.models import OutboxMessage, SendOnce
from voc.core.sendonce import OUTBOX_BACKEND, send_once_sweep

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TIMEOUT = 40.0
CUSTOMERS = 8
PAUSED_APP = "tests.integration.paused_notice_worker"
R = NoticeRecipient.Status


def approve(cast) -> tuple[FixNotice, list[str]]:
    world = fixed_issue(cast, reporters=CUSTOMERS)
    with transaction.atomic():
        notice = notice_draft(issue=world.issue, by=cast.manager, subject="Fixed")
        notice = notice_approve(notice=notice, by=cast.manager)  # the plan task, on commit
    return notice, sorted(c.email for c in world.reporters)


def start_paused(start_worker, tmp_path, fault: str, at: int) -> Worker:
    return start_worker(
        app=PAUSED_APP,
        env={
            "VOC_NOTICE_FAULT": fault,
            "VOC_PAUSE_AT_CALL": str(at),
            "VOC_PAUSE_FILE": str(tmp_path / "paused"),
        },
    )


def kill_when_paused(worker: Worker, tmp_path) -> None:
    wait_for(
        (tmp_path / "paused").exists,
        timeout=TIMEOUT,
        message="the worker did not reach the fault",
        worker=worker,
    )
    worker.kill()


def sent_to() -> Counter:
    return Counter(address for message in OutboxMessage.objects.all() for address in message.to)


def recover(worker: Worker, *, outbox_visible: bool = True) -> None:
    """What beat does after the stale windows pass, with the windows at zero: send-once's
    sweep (requeues pending and claimed-but-unhanded rows; settles handed-over ones) and the
    notices' reconcile (requeues lost chunks, writes outcomes on the recipients)."""
    backend = OUTBOX_BACKEND if outbox_visible else "django.core.mail.backends.locmem.EmailBackend"
    with override_settings(EMAIL_BACKEND=backend):
        send_once_sweep(stale_after=timedelta(0))
    notices_reconcile(stale_after=timedelta(0))


def wait_until_settled(worker: Worker, notice: FixNotice) -> None:
    def settled() -> bool:
        send_once_sweep(stale_after=timedelta(hours=1))  # harmless: nothing is that old
        notices_reconcile(stale_after=timedelta(0))
        # Sent once no recipient waits (planned, every email out or accounted for).
        return FixNotice.objects.filter(pk=notice.pk, status=FixNotice.Status.SENT).exists()

    wait_for(settled, timeout=TIMEOUT, message="the notice did not settle", worker=worker)


def test_a_notice_goes_to_every_customer_once_through_the_worker(cast, start_worker):
    worker = start_worker()
    notice, addresses = approve(cast)
    wait_until_settled(worker, notice)
    assert sorted(sent_to()) == addresses and set(sent_to().values()) == {1}
    notice.refresh_from_db()
    assert notice.status == FixNotice.Status.SENT
    assert notice_counts([notice.pk])[notice.pk].sent == CUSTOMERS


@pytest.mark.parametrize(
    ("fault", "at"),
    [("in_chunk", 1), ("before_claim", 1), ("after_claim", 1), ("after_accept", 3)],
)
def test_a_worker_killed_at_a_fault_leaves_nobody_with_two_and_everybody_with_one(
    cast, start_worker, tmp_path, fault, at
):
    paused = start_paused(start_worker, tmp_path, fault, at)
    notice, addresses = approve(cast)
    kill_when_paused(paused, tmp_path)
    before = sent_to()
    assert set(before.values()) <= {1}
    if fault in ("before_claim", "after_claim"):
        assert not before  # the chunk's emails were claimed (or about to be), none sent
    if fault == "in_chunk":
        # The chunk's transaction died with the worker: no budget touch, no email asked for.
        assert not SendOnce.objects.exists() and not before
    if fault == "after_accept":
        # The third email is out (in the outbox) while its row still says "sending".
        assert len(before) == at
        window = SendOnce.objects.filter(status=SendOnce.Status.SENDING, handed_at__isnull=False)
        assert window.count() == 1

    fresh = start_worker()
    recover(fresh)
    wait_until_settled(fresh, notice)

    after = sent_to()
    assert sorted(after) == addresses, f"{fault}: every customer once"
    assert set(after.values()) == {1}, f"{fault}: nobody twice"
    statuses = set(NoticeRecipient.objects.filter(notice=notice).values_list("status", flat=True))
    assert statuses == {R.SENT}
    notice.refresh_from_db()
    assert notice.status == FixNotice.Status.SENT


def test_the_window_with_an_email_service_is_reported_uncertain_not_resent(
    cast, start_worker, tmp_path
):
    """Where VoC cannot read the service's log (a real ESP), the email caught in the window
    is marked unknown by send-once's sweep and shows as uncertain on the notice; the others
    go out once; nothing is sent twice."""
    paused = start_paused(start_worker, tmp_path, "after_accept", 2)
    notice, addresses = approve(cast)
    kill_when_paused(paused, tmp_path)
    fresh = start_worker()
    recover(fresh, outbox_visible=False)
    wait_until_settled(fresh, notice)
    assert sorted(sent_to()) == addresses and set(sent_to().values()) == {1}
    counts = notice_counts([notice.pk])[notice.pk]
    assert counts[R.UNCERTAIN] == 1 and counts.sent == CUSTOMERS - 1
    assert SendOnce.objects.filter(status=SendOnce.Status.UNKNOWN).count() == 1
