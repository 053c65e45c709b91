from datetime import timedelta
from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from voc.core import jobs
from voc.core.jobs import PeriodicJob, registered_jobs
from voc.core.models import JobRun, OutboxMessage

pytestmark = pytest.mark.django_db

NOT_ADMINS = ["rep", "teammate", "outsider", "manager", "other_manager", "executive"]


def _run(job: str, *, minutes_ago: int, **fields) -> JobRun:
    started = timezone.now() - timedelta(minutes=minutes_ago)
    return JobRun.objects.create(
        job=job,
        started_at=started,
        finished_at=started + timedelta(seconds=2),
        status=fields.pop("status", JobRun.Status.SUCCEEDED),
        **fields,
    )


def _mail(subject: str, to: str = "rep@example.com") -> OutboxMessage:
    return OutboxMessage.objects.create(
        subject=subject, from_email="voc@example.com", to=[to], body_text=f"Body of {subject}"
    )


# --- /healthz/ ------------------------------------------------------------------------------


def test_healthz_answers_anonymous_callers_with_json(client):
    response = client.get("/healthz/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_healthz_answers_503_when_the_database_is_unreachable(client):
    with mock.patch("voc.core.views.connection") as broken:
        broken.cursor.side_effect = OperationalError("connection refused")
        response = client.get("/healthz/")

    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "unreachable"}


# --- /ops/jobs/ -----------------------------------------------------------------------------


def test_the_jobs_page_lists_registered_jobs_and_recent_runs(client, cast):
    heartbeat = _run("core.heartbeat", minutes_ago=1, worker="worker-1")
    failed = _run(
        "core.prune_records",
        minutes_ago=5,
        status=JobRun.Status.FAILED,
        error="OperationalError: the disk is full",
    )
    client.force_login(cast.admin)

    response = client.get(reverse("core:jobs"))

    assert response.status_code == 200
    rows = response.context["jobs"]
    assert [row["job"].name for row in rows] == list(registered_jobs())
    last_runs = {row["job"].name: row["last_run"] for row in rows}
    assert last_runs["core.heartbeat"] == heartbeat
    assert last_runs["core.prune_records"] == failed
    assert last_runs["core.clear_expired_sessions"] is None
    assert response.context["runs"] == [heartbeat, failed]
    assert response.context["heartbeat"] == heartbeat
    page = response.content.decode()
    for name in registered_jobs():
        assert name in page
    assert "worker-1" in page
    assert "OperationalError: the disk is full" in page


def test_the_jobs_page_filters_runs_by_job(client, cast):
    heartbeat = _run("core.heartbeat", minutes_ago=1)
    _run("core.prune_records", minutes_ago=2)
    client.force_login(cast.admin)

    response = client.get(reverse("core:jobs"), {"job": "core.heartbeat"})

    assert response.status_code == 200
    assert response.context["selected_job"] == "core.heartbeat"
    assert response.context["runs"] == [heartbeat]


def test_the_jobs_page_queries_do_not_grow_with_jobs_or_runs(client, cast, monkeypatch):
    client.force_login(cast.admin)
    _run("core.heartbeat", minutes_ago=1)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("core:jobs")).status_code == 200

    registered_jobs()  # import every tasks module first, so the registry is complete
    for n in range(5):
        name = f"tests.extra_{n}"
        monkeypatch.setitem(
            jobs._registry,
            name,
            PeriodicJob(name=name, every=timedelta(minutes=n + 1), crontab=None, description=""),
        )
    for minutes in range(2, 30):
        for job in registered_jobs():
            _run(job, minutes_ago=minutes)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("core:jobs"))
    assert response.status_code == 200
    assert len(response.context["jobs"]) == len(registered_jobs())

    # One query for every job's latest run: no N+1 over jobs, nor over the runs listed.
    assert len(many) == len(few)


@pytest.mark.parametrize("username", NOT_ADMINS)
def test_the_jobs_page_is_refused_to_everyone_but_admins(client, cast, username):
    client.force_login(getattr(cast, username))
    assert client.get(reverse("core:jobs")).status_code == 403


def test_the_jobs_page_sends_anonymous_users_to_sign_in(client):
    url = reverse("core:jobs")
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"


# --- /outbox/ -------------------------------------------------------------------------------


def test_the_outbox_lists_stored_mail_newest_first(client, cast):
    older = _mail("Older", to="first@example.com")
    newer = _mail("Newer", to="second@example.com")
    client.force_login(cast.admin)

    response = client.get(reverse("core:outbox"))

    assert response.status_code == 200
    assert list(response.context["page"]) == [newer, older]
    page = response.content.decode()
    assert reverse("core:outbox-message", args=[newer.id]) in page
    assert "second@example.com" in page


def test_the_outbox_pages_fifty_messages_at_a_time(client, cast):
    oldest = _mail("Oldest")
    for n in range(50):
        _mail(f"Message {n}")
    client.force_login(cast.admin)

    first = client.get(reverse("core:outbox"))
    second = client.get(reverse("core:outbox"), {"page": 2})

    assert len(first.context["page"]) == 50
    assert oldest not in first.context["page"]
    assert list(second.context["page"]) == [oldest]


def test_an_outbox_message_shows_its_text(client, cast):
    message = _mail("Reset your password")
    client.force_login(cast.admin)

    response = client.get(reverse("core:outbox-message", args=[message.id]))

    assert response.status_code == 200
    assert response.context["message"] == message
    assert "Body of Reset your password" in response.content.decode()


def test_an_unknown_outbox_message_is_404(client, cast):
    client.force_login(cast.admin)
    response = client.get(reverse("core:outbox-message", args=[_mail("Only").id + 1]))
    assert response.status_code == 404


@pytest.mark.parametrize("username", NOT_ADMINS)
def test_the_outbox_is_refused_to_everyone_but_admins(client, cast, username):
    message = _mail("Reset link inside")
    client.force_login(getattr(cast, username))

    assert client.get(reverse("core:outbox")).status_code == 403
    assert client.get(reverse("core:outbox-message", args=[message.id])).status_code == 403


def test_the_outbox_sends_anonymous_users_to_sign_in(client):
    message = _mail("Reset link inside")
    for url in (reverse("core:outbox"), reverse("core:outbox-message", args=[message.id])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('login')}?next={url}"


@override_settings(OUTBOX_ENABLED=False)
def test_the_outbox_is_404_when_disabled(client, cast):
    message = _mail("Reset link inside")
    client.force_login(cast.admin)

    assert client.get(reverse("core:outbox")).status_code == 404
    assert client.get(reverse("core:outbox-message", args=[message.id])).status_code == 404


def test_the_outbox_page_blocks_remote_content_in_messages(client, cast):
    from voc.core.models import OutboxMessage

    message = OutboxMessage.objects.create(
        subject="Pixel",
        from_email="a@example.com",
        to=["b@example.com"],
        body_html='<img src="https://tracker.example/p.gif">',
    )
    client.force_login(cast.admin)
    response = client.get(f"/outbox/{message.id}/")
    policy = response["Content-Security-Policy"]
    assert "img-src 'self' data:" in policy
    assert "default-src 'self'" in policy
