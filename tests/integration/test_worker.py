"""What only a live worker proves: a task enqueued on commit by the web process is consumed and
run by a separate worker, and beat's database schedule drives the recorded periodic jobs."""

import re
import socket

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core import mail
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.http import urlsafe_base64_decode

from tests.factories import UserFactory
from tests.integration.conftest import wait_for
from voc.core.models import JobRun, OutboxMessage

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

TIMEOUT = 20.0


def test_a_password_reset_mail_is_sent_by_the_worker(client, start_worker):
    worker = start_worker()
    user = UserFactory(username="forgetful", email="forgetful@example.com")

    response = client.post(reverse("password_reset"), {"email": user.email})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")

    message = wait_for(
        lambda: OutboxMessage.objects.filter(to=[user.email]).first(),
        timeout=TIMEOUT,
        message="the worker stored no reset mail in the outbox",
        worker=worker,
    )
    # The web process (locmem backend) sent nothing itself: the outbox row is the worker's.
    assert mail.outbox == []
    assert "password" in message.subject.lower()
    link = re.search(r"http://testserver/accounts/reset/([^/\s]+)/([^/\s]+)/", message.body_text)
    assert link, message.body_text
    uidb64, token = link.groups()
    assert force_str(urlsafe_base64_decode(uidb64)) == str(user.pk)
    assert default_token_generator.check_token(user, token)
    assert link.group(0) in message.body_html.replace("&amp;", "&")
    assert OutboxMessage.objects.count() == 1


def test_beat_runs_a_periodic_job_and_the_worker_records_it(start_worker):
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from voc.core.jobs import periodic_jobs_sync

    # The transactional test database was flushed, so write the schedule, then speed it up.
    periodic_jobs_sync()
    every_second, _ = IntervalSchedule.objects.get_or_create(
        every=1, period=IntervalSchedule.SECONDS
    )
    heartbeat = PeriodicTask.objects.get(name="core.heartbeat")
    heartbeat.interval = every_second
    heartbeat.save()
    assert not JobRun.objects.exists()

    worker = start_worker()

    def two_finished_heartbeats() -> list[JobRun] | None:
        runs = list(
            JobRun.objects.filter(
                job="core.heartbeat", status=JobRun.Status.SUCCEEDED, finished_at__isnull=False
            )
        )
        return runs if len(runs) >= 2 else None

    # Two runs: beat keeps to the 1-second schedule, it does not just fire once at start-up.
    runs = wait_for(
        two_finished_heartbeats,
        timeout=TIMEOUT,
        message="beat and worker recorded fewer than two successful heartbeats",
        worker=worker,
    )
    for run in runs:
        assert run.worker == socket.gethostname()
        assert run.error == ""
        assert run.rows_touched == 0
        assert run.finished_at >= run.started_at
    # Only the 1-second job was due: the daily crontab jobs did not run.
    assert set(JobRun.objects.values_list("job", flat=True)) == {"core.heartbeat"}
