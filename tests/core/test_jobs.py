import socket
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.sessions.models import Session
from django.test import override_settings
from django_celery_beat.models import (
    CrontabSchedule,
    IntervalSchedule,
    PeriodicTask,
    SolarSchedule,
)

from voc.core import jobs, services
from voc.core.jobs import (
    MANAGED_MARKER,
    PeriodicJob,
    periodic_job,
    periodic_jobs_sync,
    registered_jobs,
    run_recorded,
)
from voc.core.models import JobRun, OutboxMessage

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


# --- run_recorded ---------------------------------------------------------------------------


def test_run_recorded_records_a_successful_run():
    seen_while_running = []

    with time_machine.travel(NOW, tick=False) as traveller:

        def job() -> int:
            seen_while_running.append(JobRun.objects.get().status)
            traveller.shift(timedelta(seconds=7))
            return 3

        assert run_recorded("tests.job", job) == 3

    assert seen_while_running == [JobRun.Status.RUNNING]
    run = JobRun.objects.get()
    assert run.job == "tests.job"
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.rows_touched == 3
    assert run.started_at == NOW
    assert run.finished_at == NOW + timedelta(seconds=7)
    assert run.duration == timedelta(seconds=7)
    assert run.worker == socket.gethostname()
    assert run.error == ""


def test_run_recorded_counts_none_as_no_rows_touched():
    assert run_recorded("tests.job", lambda: None) == 0
    run = JobRun.objects.get()
    assert run.status == JobRun.Status.SUCCEEDED
    assert run.rows_touched == 0


def test_run_recorded_records_a_failure_with_its_error_and_reraises():
    def job() -> int:
        raise ValueError("the feed is down")

    with time_machine.travel(NOW, tick=False), pytest.raises(ValueError, match="the feed is down"):
        run_recorded("tests.failing", job)

    run = JobRun.objects.get()
    assert run.job == "tests.failing"
    assert run.status == JobRun.Status.FAILED
    assert run.error == "ValueError: the feed is down"
    assert run.finished_at == NOW
    assert run.rows_touched == 0


def test_run_recorded_truncates_a_long_error():
    def job() -> int:
        raise RuntimeError("x" * 10_000)

    with pytest.raises(RuntimeError):
        run_recorded("tests.failing", job)

    error = JobRun.objects.get().error
    assert len(error) == 4000
    assert error.startswith("RuntimeError: xxx")


def test_each_run_gets_its_own_record():
    run_recorded("tests.job", lambda: 1)
    with pytest.raises(KeyError):
        run_recorded("tests.job", lambda: {}["missing"])
    run_recorded("tests.job", lambda: 2)

    assert sorted(JobRun.objects.values_list("status", "rows_touched")) == [
        (JobRun.Status.FAILED, 0),
        (JobRun.Status.SUCCEEDED, 1),
        (JobRun.Status.SUCCEEDED, 2),
    ]


def test_a_periodic_job_task_records_its_run():
    from voc.core.tasks import clear_expired_sessions

    Session.objects.create(session_key="old", session_data="", expire_date=NOW - timedelta(days=1))
    with time_machine.travel(NOW, tick=False):
        assert clear_expired_sessions() == 1  # called in-process, as the worker would

    assert clear_expired_sessions.name == "core.clear_expired_sessions"
    run = JobRun.objects.get()
    assert (run.job, run.status, run.rows_touched) == (
        "core.clear_expired_sessions",
        JobRun.Status.SUCCEEDED,
        1,
    )


@pytest.mark.parametrize(
    "schedule",
    [{}, {"every": timedelta(minutes=1), "crontab": {"minute": "0"}}],
    ids=["neither", "both"],
)
def test_a_periodic_job_needs_exactly_one_schedule(schedule):
    with pytest.raises(ValueError, match="exactly one"):
        periodic_job("tests.unscheduled", **schedule)


# --- periodic_jobs_sync ---------------------------------------------------------------------


def _managed_tasks() -> dict[str, PeriodicTask]:
    return {
        task.name: task
        for task in PeriodicTask.objects.filter(description__startswith=MANAGED_MARKER)
    }


def test_the_core_jobs_are_registered():
    assert {"core.heartbeat", "core.clear_expired_sessions", "core.prune_records"} <= set(
        registered_jobs()
    )


def test_sync_writes_a_beat_row_for_every_registered_job():
    PeriodicTask.objects.all().delete()

    written = periodic_jobs_sync()

    registry = registered_jobs()
    assert sorted(written) == sorted(registry)
    tasks = _managed_tasks()
    assert set(tasks) == set(registry)
    for name, job in registry.items():
        task = tasks[name]
        assert task.task == name
        assert task.enabled
        assert task.description == f"{MANAGED_MARKER} {job.description}".strip()
        if job.every is not None:
            assert task.crontab is None
            assert task.interval.period == IntervalSchedule.SECONDS
            assert task.interval.every == int(job.every.total_seconds())
        else:
            assert task.interval is None
            assert task.crontab.minute == job.crontab.get("minute", "0")
            assert task.crontab.hour == job.crontab.get("hour", "*")
            assert str(task.crontab.timezone) == "UTC"

    assert tasks["core.heartbeat"].interval.every == 60
    assert (
        tasks["core.prune_records"].crontab.minute,
        tasks["core.prune_records"].crontab.hour,
    ) == (
        "27",
        "3",
    )


def test_sync_is_idempotent():
    periodic_jobs_sync()
    before = {
        "tasks": sorted(
            PeriodicTask.objects.values_list("id", "name", "interval_id", "crontab_id")
        ),
        "intervals": IntervalSchedule.objects.count(),
        "crontabs": CrontabSchedule.objects.count(),
    }

    periodic_jobs_sync()
    periodic_jobs_sync()

    assert before == {
        "tasks": sorted(
            PeriodicTask.objects.values_list("id", "name", "interval_id", "crontab_id")
        ),
        "intervals": IntervalSchedule.objects.count(),
        "crontabs": CrontabSchedule.objects.count(),
    }


def test_sync_keeps_an_admins_disabling_but_restores_the_schedule():
    periodic_jobs_sync()
    hourly, _ = IntervalSchedule.objects.get_or_create(every=3600, period=IntervalSchedule.SECONDS)
    heartbeat = PeriodicTask.objects.get(name="core.heartbeat")
    heartbeat.enabled = False
    heartbeat.interval = hourly
    heartbeat.save()

    periodic_jobs_sync()

    heartbeat.refresh_from_db()
    assert heartbeat.enabled is False
    assert heartbeat.interval.every == 60


def test_sync_replaces_a_solar_schedule_set_by_hand():
    periodic_jobs_sync()
    heartbeat = PeriodicTask.objects.get(name="core.heartbeat")
    heartbeat.interval = None
    heartbeat.solar = SolarSchedule.objects.create(event="sunrise", latitude=51.5, longitude=0)
    heartbeat.save()

    periodic_jobs_sync()

    heartbeat.refresh_from_db()
    assert heartbeat.solar is None
    assert heartbeat.interval.every == 60


def test_sync_tolerates_duplicate_schedules_added_in_the_admin():
    periodic_jobs_sync()
    for _ in range(2):
        IntervalSchedule.objects.create(every=60, period=IntervalSchedule.SECONDS)
        CrontabSchedule.objects.create(minute="17", hour="3", timezone="UTC")

    periodic_jobs_sync()

    assert PeriodicTask.objects.get(name="core.heartbeat").interval.every == 60
    crontab = PeriodicTask.objects.get(name="core.clear_expired_sessions").crontab
    assert (crontab.minute, crontab.hour) == ("17", "3")


def test_sync_does_not_reuse_a_narrower_crontab_made_by_hand():
    PeriodicTask.objects.all().delete()
    CrontabSchedule.objects.all().delete()
    mondays = CrontabSchedule.objects.create(minute="17", hour="3", day_of_week="1", timezone="UTC")

    periodic_jobs_sync()

    crontab = PeriodicTask.objects.get(name="core.clear_expired_sessions").crontab
    assert crontab != mondays
    assert (crontab.minute, crontab.hour) == ("17", "3")
    assert (crontab.day_of_week, crontab.day_of_month, crontab.month_of_year) == ("*", "*", "*")


def test_sync_removes_jobs_dropped_from_the_code_and_keeps_hand_made_rows(monkeypatch):
    registered_jobs()  # import every tasks module first, so the registry is complete
    monkeypatch.setitem(
        jobs._registry,
        "tests.temporary",
        PeriodicJob(
            name="tests.temporary", every=timedelta(hours=2), crontab=None, description="Brief."
        ),
    )
    periodic_jobs_sync()
    assert PeriodicTask.objects.get(name="tests.temporary").interval.every == 7200
    hourly, _ = IntervalSchedule.objects.get_or_create(every=3600, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="hand-made", task="core.heartbeat", interval=hourly, description="Added in the admin."
    )

    monkeypatch.delitem(jobs._registry, "tests.temporary")
    written = periodic_jobs_sync()

    assert "tests.temporary" not in written
    assert not PeriodicTask.objects.filter(name="tests.temporary").exists()
    assert PeriodicTask.objects.filter(name="hand-made").exists()
    assert set(_managed_tasks()) == set(registered_jobs())


# --- the housekeeping services --------------------------------------------------------------


def test_records_prune_deletes_only_records_past_their_retention():
    def run_started(at: datetime) -> JobRun:
        return JobRun.objects.create(job="tests.job", started_at=at, status=JobRun.Status.SUCCEEDED)

    def mail_stored(at: datetime) -> OutboxMessage:
        with time_machine.travel(at, tick=False):
            return OutboxMessage.objects.create(subject=f"stored {at:%Y-%m-%d %H:%M}", to=["a@b.c"])

    old_run = run_started(NOW - timedelta(days=31))
    edge_run = run_started(NOW - timedelta(days=30))  # exactly at the limit: kept
    new_run = run_started(NOW - timedelta(days=1))
    old_mail = mail_stored(NOW - timedelta(days=8))
    new_mail = mail_stored(NOW - timedelta(days=6))

    with time_machine.travel(NOW, tick=False):
        deleted = services.records_prune(
            job_runs_older_than=timedelta(days=30), outbox_older_than=timedelta(days=7)
        )

    assert deleted == 2
    assert set(JobRun.objects.values_list("id", flat=True)) == {edge_run.id, new_run.id}
    assert set(OutboxMessage.objects.values_list("id", flat=True)) == {new_mail.id}
    assert not JobRun.objects.filter(id=old_run.id).exists()
    assert not OutboxMessage.objects.filter(id=old_mail.id).exists()


@override_settings(JOB_RUN_RETENTION=timedelta(days=30), OUTBOX_RETENTION=timedelta(days=30))
def test_the_prune_job_uses_the_retention_settings():
    from voc.core.tasks import prune_records

    done = JobRun.Status.SUCCEEDED
    JobRun.objects.create(job="core.heartbeat", started_at=NOW - timedelta(days=31), status=done)
    kept = JobRun.objects.create(
        job="core.heartbeat", started_at=NOW - timedelta(days=29), status=done
    )

    with time_machine.travel(NOW, tick=False):
        assert prune_records() == 1

    own_run = JobRun.objects.get(job="core.prune_records")
    assert own_run.rows_touched == 1
    assert set(JobRun.objects.values_list("id", flat=True)) == {kept.id, own_run.id}


def test_session_delete_expired_deletes_only_expired_sessions():
    for key, expires in [
        ("expired-long-ago", NOW - timedelta(days=10)),
        ("expired-just-now", NOW - timedelta(seconds=1)),
        ("expires-now", NOW),  # not yet past: kept
        ("live", NOW + timedelta(days=1)),
    ]:
        Session.objects.create(session_key=key, session_data="", expire_date=expires)

    with time_machine.travel(NOW, tick=False):
        assert services.session_delete_expired() == 2

    assert set(Session.objects.values_list("session_key", flat=True)) == {"expires-now", "live"}


@pytest.mark.django_db
def test_runs_whose_worker_died_are_closed_as_failed():
    from datetime import timedelta

    from django.utils import timezone

    from voc.core.models import JobRun
    from voc.core.services import job_runs_mark_lost

    now = timezone.now()
    stale = JobRun.objects.create(job="x", started_at=now - timedelta(hours=3))
    recent = JobRun.objects.create(job="x", started_at=now - timedelta(minutes=5))
    done = JobRun.objects.create(
        job="x", started_at=now - timedelta(hours=3), status=JobRun.Status.SUCCEEDED
    )
    assert job_runs_mark_lost(started_before=now - timedelta(hours=1)) == 1
    stale.refresh_from_db()
    recent.refresh_from_db()
    done.refresh_from_db()
    assert stale.status == JobRun.Status.FAILED and stale.finished_at and stale.error
    assert recent.status == JobRun.Status.RUNNING
    assert done.status == JobRun.Status.SUCCEEDED


@pytest.mark.django_db
def test_scheduled_runs_expire_instead_of_piling_up():
    from django_celery_beat.models import PeriodicTask

    from voc.core.jobs import periodic_jobs_sync

    periodic_jobs_sync()
    assert PeriodicTask.objects.get(name="core.heartbeat").expire_seconds == 60
    assert PeriodicTask.objects.get(name="core.prune_records").expire_seconds == 3600
