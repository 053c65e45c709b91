"""A real Celery worker (with beat embedded) for the integration tests.

The worker runs as a subprocess on VoC's own settings, pointed at the pytest-django test
database and at the test broker (Redis database 15, flushed before each start). Tests start it
through the ``start_worker`` fixture, so a test can prepare the beat schedule first; the fixture
stops the worker, and everything it forked, before pytest-django flushes the database.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.services import TEST_REDIS_BROKER_URL

REPO_ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0

_worker_key = pytest.StashKey["list[Worker]"]()


def wait_for(
    condition: Callable[[], object], *, timeout: float, message: str, worker: "Worker | None" = None
):
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        if worker is not None and worker.process.poll() is not None:
            pytest.fail(
                f"{message}: the worker exited with code {worker.process.returncode}\n"
                f"{worker.log_text()}"
            )
        if time.monotonic() > deadline:
            log = f"\n{worker.log_text()}" if worker is not None else ""
            pytest.fail(f"{message} (gave up after {timeout:.0f} s){log}")
        time.sleep(0.2)


class Worker:
    def __init__(self, process: subprocess.Popen, nodename: str, log_path: Path):
        self.process = process
        self.nodename = nodename
        self.log_path = log_path

    def log_text(self) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return "(no worker log)"
        return f"----- celery worker log ({self.log_path}) -----\n{text}"

    def answers_ping(self) -> bool:
        from voc.celery import app

        replies = app.control.ping(destination=[self.nodename], timeout=0.5)
        return any(self.nodename in reply for reply in replies)

    def kill(self) -> None:
        """SIGKILL to the whole group at once, as when the machine or container dies: no task
        is acknowledged, rejected or given back to the broker."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)

    def stop(self) -> None:
        """Warm shutdown of the whole process group (worker, pool child, embedded beat)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        # Whatever is left of the group (a pool child that outlived its parent, say) goes hard.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.wait(timeout=STOP_TIMEOUT)


def _flush_broker() -> None:
    import redis

    client = redis.Redis.from_url(TEST_REDIS_BROKER_URL)
    try:
        client.flushdb()
    finally:
        client.close()


@pytest.fixture
def start_worker(request, transactional_db, tmp_path) -> Callable[[], Worker]:
    """Returns a function that starts the worker and waits until it answers a ping.

    Depends on ``transactional_db`` so the worker sees what the test commits, and is stopped
    before the database is flushed at the end of the test."""
    from django.db import connection

    workers: list[Worker] = []
    request.node.stash[_worker_key] = workers

    def start(app: str = "voc", env: dict[str, str] | None = None) -> Worker:
        """``app`` is the module ``celery -A`` loads; ``env`` adds environment variables."""
        db = connection.settings_dict
        database_url = (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
        )
        var_dir = tmp_path / "var"
        var_dir.mkdir(exist_ok=True)
        nodename = f"voc-test-{uuid.uuid4().hex[:8]}@localhost"
        environment = {
            **os.environ,
            **(env or {}),
            "DJANGO_SETTINGS_MODULE": "voc.settings",
            "DATABASE_URL": database_url,
            "CELERY_BROKER_URL": TEST_REDIS_BROKER_URL,
            "EMAIL_BACKEND": "voc.core.mail.OutboxBackend",
            "VOC_VAR_DIR": str(var_dir),
            "VOC_ENV": "development",
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("REDIS_URL", "VOC_EMAIL_ESP"):
            environment.pop(name, None)
        _flush_broker()  # no stale message from an earlier run may reach this worker
        log_path = tmp_path / f"worker-{len(workers)}.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [
                    str(Path(sys.prefix) / "bin" / "celery"),
                    "-A",
                    app,
                    "worker",
                    "--beat",
                    "--loglevel=INFO",
                    "--concurrency=1",
                    "--without-gossip",
                    "--without-mingle",
                    "--hostname",
                    nodename,
                ],
                cwd=REPO_ROOT,
                env=environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, so stop() reaches its children
            )
        worker = Worker(process, nodename, log_path)
        workers.append(worker)
        wait_for(
            worker.answers_ping,
            timeout=READY_TIMEOUT,
            message="the Celery worker did not become ready",
            worker=worker,
        )
        return worker

    yield start

    for worker in workers:
        worker.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Attach the worker's log to the report of a failed test, to help debugging."""
    report = yield
    if report.failed and call.when == "call":
        for worker in item.stash.get(_worker_key, []):
            report.sections.append((f"celery worker {worker.nodename}", worker.log_text()))
    return report
