"""Digests with live workers and faults: a worker killed in the middle of a digest run, a
worker killed after the email service accepted a digest and before it was recorded, build
and send tasks delivered twice with the job queued twice (beat running twice), and a restart
after an outage. Each ends with one digest per (subscription, period) and one email each.

The kills land at known points (tests/integration/paused_digests.py): the worker stops at the
commit of its third claim, or after handing its third email to the backend. SIGKILL to the
whole process group, as when the machine dies: nothing is acknowledged or given back.
"""

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.test import override_settings
from django.utils import timezone

from contacts.models import Message
from loops.digests.selectors import digest_problems
from loops.digests.services import SubscriptionData, subscription_create
from loops.models import Digest, DigestSubscription
from tests.integration.conftest import Worker, wait_for
from tests.loops.world import contact_of
from voc.celery import app
from voc.core.models import OutboxMessage, SendOnce
from voc.core.sendonce import OUTBOX_BACKEND, send_once_sweep

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TIMEOUT = 45.0
PAUSED_APP = "tests.integration.paused_digests"
ROLES = ("executive", "admin", "manager", "other_manager", "rep")


def subscribers(cast, *, days_missed: int = 1) -> list[DigestSubscription]:
    """One daily subscription (at midnight UTC) each for five people, each with something to
    read in each of the last ``days_missed`` days, their cursor that many days back."""
    today = timezone.now().astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    for user in [getattr(cast, role) for role in ROLES]:
        user.time_zone = "UTC"
        user.save(update_fields=["time_zone"])
    subscriptions = [
        subscription_create(
            user=getattr(cast, role),
            data=SubscriptionData(name=f"For {role}", hour=0),
            by=cast.admin,
        )
        for role in ROLES
    ]
    DigestSubscription.objects.update(sent_until=today - timedelta(days=days_missed))
    for day in range(1, days_missed + 1):
        for team in (cast.team_a, cast.team_b):
            contact = contact_of(team, at=today - timedelta(days=day, hours=-2))
            Message.objects.create(
                contact=contact, external_id="m", position=0, direction="incoming",
                text=f"<script>alert('{day}')</script> charged twice",
            )  # fmt: skip
    return subscriptions


def wait_until_all_sent(expected: int, worker: Worker) -> None:
    wait_for(
        lambda: SendOnce.objects.filter(status=SendOnce.Status.SENT).count() >= expected,
        timeout=TIMEOUT,
        message=f"not every digest was sent ({expected} expected)",
        worker=worker,
    )


def assert_one_digest_and_one_email_each(subscriptions, *, periods: int = 1) -> None:
    digests = list(Digest.objects.order_by("subscription_id"))
    assert Counter(d.subscription_id for d in digests) == {s.pk: 1 for s in subscriptions}
    assert all(len(d.period_keys) == periods for d in digests)
    assert all(d.status == Digest.Status.QUEUED for d in digests)
    emails = list(OutboxMessage.objects.all())
    recipients = Counter(address for email in emails for address in email.to)
    assert recipients == {s.user.email: 1 for s in subscriptions}
    for email in emails:  # customer text escaped in every HTML part
        assert "<script>" not in email.body_html and "&lt;script&gt;" in email.body_html
    # Nothing is left due, and nothing pending to be sent.
    assert not SendOnce.objects.exclude(status=SendOnce.Status.SENT).exists()


def run_job(worker: Worker, job: str = "loops.digests_due") -> None:
    """Queue the job by name, as beat does, and wait until the worker ran it."""
    before = worker.log_text().count(f"{job}[")
    app.send_task(job)
    wait_for(
        lambda: (
            worker.log_text().count(f"{job}[") > before
            and "succeeded" in worker.log_text().split(f"{job}[")[-1]
        ),
        timeout=TIMEOUT,
        message=f"the worker did not run {job}",
        worker=worker,
    )


def sweep_lost_tasks() -> None:
    """The send-once sweep as beat runs it, without waiting for its staleness margin: tasks
    the killed worker had reserved are queued again (only pending or unhanded rows)."""
    with transaction.atomic():
        send_once_sweep(stale_after=timedelta(0))


def test_a_worker_killed_in_the_middle_of_a_digest_run(cast, start_worker, tmp_path):
    subscriptions = subscribers(cast)
    paused = start_worker(
        app=PAUSED_APP,
        env={"VOC_PAUSE_AT_CALL": "3", "VOC_PAUSE_FILE": str(tmp_path / "paused")},
    )
    app.send_task("loops.digests_due")
    wait_for((tmp_path / "paused").exists, timeout=TIMEOUT, message="no pause", worker=paused)
    paused.kill()

    # The first two claims committed; the third (written, not committed) is gone.
    assert Digest.objects.count() == 2
    claimed = set(Digest.objects.values_list("subscription_id", flat=True))
    assert claimed == {subscriptions[0].pk, subscriptions[1].pk}

    fresh = start_worker()
    run_job(fresh)
    sweep_lost_tasks()  # the two emails queued before the kill, if the dead worker held them
    wait_until_all_sent(len(subscriptions), fresh)
    assert_one_digest_and_one_email_each(subscriptions)
    # Beat again, the job and the sweep: nothing more.
    run_job(fresh)
    sweep_lost_tasks()
    assert_one_digest_and_one_email_each(subscriptions)


@pytest.mark.parametrize("outbox_visible", [True, False])
def test_a_worker_killed_after_the_email_service_accepted_is_reconciled_not_resent(
    cast, start_worker, tmp_path, outbox_visible
):
    subscriptions = subscribers(cast)
    paused = start_worker(
        app=PAUSED_APP,
        env={
            "VOC_PAUSE_AT_CALL": "3",
            "VOC_PAUSE_FILE": str(tmp_path / "paused"),
            "VOC_PAUSE_IN": "sent",
        },
    )
    app.send_task("loops.digests_due")
    wait_for((tmp_path / "paused").exists, timeout=TIMEOUT, message="no pause", worker=paused)
    paused.kill()

    # The third email is out (the outbox has it) and its row still says "sending".
    assert OutboxMessage.objects.count() == 3
    window = SendOnce.objects.get(status=SendOnce.Status.SENDING)
    assert window.handed_at is not None

    fresh = start_worker()
    backend = OUTBOX_BACKEND if outbox_visible else "anymail.backends.test.EmailBackend"
    with override_settings(EMAIL_BACKEND=backend):
        sweep_lost_tasks()
    wait_until_all_sent(len(subscriptions) - (0 if outbox_visible else 1), fresh)
    window.refresh_from_db()
    # Where VoC can read the backend's record it knows the email left; where it cannot (a
    # real email service) the row waits for a person, on the admins' problems page.
    digest = Digest.objects.get(send_once=window)
    if outbox_visible:
        assert window.status == SendOnce.Status.SENT
        assert list(digest_problems()) == []
    else:
        assert window.status == SendOnce.Status.UNKNOWN
        assert list(digest_problems()) == [digest]
    # Never resent: one email each, the job and a stray redelivery notwithstanding.
    app.send_task("core.send_once", args=[window.pk])
    run_job(fresh)
    assert OutboxMessage.objects.count() == len(subscriptions)
    recipients = Counter(a for m in OutboxMessage.objects.all() for a in m.to)
    assert recipients == {s.user.email: 1 for s in subscriptions}
    assert Digest.objects.count() == len(subscriptions)


def test_tasks_delivered_twice_and_beat_running_twice_send_one_digest_each(cast, start_worker):
    subscriptions = subscribers(cast)
    first, second = start_worker(), start_worker()
    ids = [s.pk for s in subscriptions]
    for _ in range(2):  # beat twice, and each build chunk delivered twice more
        app.send_task("loops.digests_due")
        app.send_task("loops.digests_build", args=[ids])
        app.send_task("loops.digests_build", args=[list(reversed(ids))])
    wait_until_all_sent(len(subscriptions), first)
    for email_id in SendOnce.objects.values_list("id", flat=True):  # each email redelivered
        app.send_task("core.send_once", args=[email_id])
    app.send_task("loops.digests_due")
    app.send_task("loops.digests_due")

    def succeeded(task: str) -> int:
        lines = (first.log_text() + second.log_text()).splitlines()
        return sum(f"{task}[" in line and "succeeded" in line for line in lines)

    wait_for(
        lambda: (
            succeeded("core.send_once") >= 2 * len(subscriptions)
            and succeeded("loops.digests_due") >= 4
        ),
        timeout=TIMEOUT,
        message="the redelivered emails and the repeated job did not run",
    )
    assert_one_digest_and_one_email_each(subscriptions)


def test_a_restart_after_an_outage_merges_the_missed_periods_into_one_digest(cast, start_worker):
    subscriptions = subscribers(cast, days_missed=3)
    worker = start_worker()
    run_job(worker)
    wait_until_all_sent(len(subscriptions), worker)
    assert_one_digest_and_one_email_each(subscriptions, periods=3)
    digest = Digest.objects.get(subscription=subscriptions[0])
    today = timezone.now().astimezone(UTC).date()
    assert digest.period_keys == [(today - timedelta(days=d)).isoformat() for d in (2, 1, 0)]
    assert digest.subject.endswith("(3 periods)") and digest.thread_count == 6
    email = OutboxMessage.objects.get(to=[subscriptions[0].user.email])
    assert "over 3 periods" in email.body_html and "merged after a pause" in email.body_text
    assert datetime.fromisoformat(digest.period_keys[0]).date() < today
