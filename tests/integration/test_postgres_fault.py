"""PostgreSQL restarted (or stopped) in the middle of ``manage.py import_contacts``, on a
cluster of the test's own (``initdb``/``pg_ctl`` on a spare port, never the shared server):
the command ends with a clear message that says to run it again, the run is recorded, and the
re-run finishes the file with no contact twice and none missing.

The import runs as a subprocess against that cluster (``DATABASE_URL``), through
tests/integration/paused_import.py: it stops before its third batch, the test restarts the
server, then lets it go on. The file is over 1 MB, so the import parses in its forked
processes as it does for real exports.
"""

import contextlib
import csv
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.integration.pg_cluster import OwnPostgres

pytestmark = pytest.mark.pg_cluster

REPO_ROOT = Path(__file__).resolve().parents[2]
ROWS, BATCH, CUSTOMERS = 8000, 1000, 900
PAUSE_BEFORE_BATCH = 3  # batches 1 and 2 are committed when the server goes away
TIMEOUT = 60
FAILED = re.compile(
    r"CommandError: \S+contacts\.csv: the database failed during the import "
    r"\((?:OperationalError|InterfaceError): [^)]+\); the batches committed before it are "
    r"kept: run the same command again to finish \(nothing is imported twice\)"
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Iterator[OwnPostgres]:
    """One cluster for the module, with a migrated template database each test copies."""
    postgres = OwnPostgres()
    try:
        postgres.init()
        postgres.start()
        postgres.query("CREATE DATABASE voc_template", "postgres")
        var_dir = tmp_path_factory.mktemp("var")
        manage(postgres.url("voc_template"), var_dir, "migrate", "--no-input", "-v0")
        yield postgres
    finally:
        postgres.destroy()


@pytest.fixture
def database(cluster) -> Iterator[str]:
    cluster.query("CREATE DATABASE voc TEMPLATE voc_template", "postgres")
    yield cluster.url("voc")
    cluster.query("DROP DATABASE IF EXISTS voc WITH (FORCE)", "postgres")


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen]]:
    """Import processes still running when a test ends (it failed half-way) are killed."""
    started: list[subprocess.Popen] = []
    yield started
    for process in started:
        # The whole group: the import's forked parsing processes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=TIMEOUT)


def environment(database_url: str, var_dir: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "voc.settings",
        "DATABASE_URL": database_url,
        "VOC_VAR_DIR": str(var_dir),  # its filesystem broker takes the sentiment tasks
        "VOC_ENV": "development",
        "PYTHONUNBUFFERED": "1",
    }
    for name in ("REDIS_URL", "CELERY_BROKER_URL", "VOC_EMAIL_ESP"):
        env.pop(name, None)
    return env


def manage(database_url: str, var_dir: Path, *arguments: str) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "manage.py", *arguments],
        cwd=REPO_ROOT,
        env=environment(database_url, var_dir),
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )
    if result.returncode != 0 and arguments[0] == "migrate":
        pytest.fail(f"migrate failed:\n{result.stdout}{result.stderr}")
    return result


def write_export(path: Path) -> Path:
    with path.open("w", newline="") as file:
        writer = csv.writer(file)
        writer.writerow(["source", "external_id", "channel", "occurred_at", "customer_ref", "text"])
        for n in range(ROWS):
            writer.writerow(
                [
                    "genesys",
                    f"call-{n:05d}",
                    "phone",
                    f"2026-11-{1 + n % 28:02d}T{n % 24:02d}:{n % 60:02d}:00Z",
                    f"cust-{n % CUSTOMERS}",
                    f"Call {n}: the customer asked when order {100000 + n} would arrive; "
                    "the rep gave the tracking link.",
                ]
            )
    assert path.stat().st_size > 1_000_000  # the import's forked parsing path
    return path


def start_paused_import(
    database_url: str, var_dir: Path, export: Path, pause_file: Path
) -> subprocess.Popen:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "tests.integration.paused_import", str(export)),
            *("--batch-size", str(BATCH), "--no-progress"),
        ],
        cwd=REPO_ROOT,
        env={
            **environment(database_url, var_dir),
            "VOC_PAUSE_BEFORE_BATCH": str(PAUSE_BEFORE_BATCH),
            "VOC_PAUSE_FILE": str(pause_file),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # its own process group, so a failed test can end it all
    )


def wait_until_paused(process: subprocess.Popen, pause_file: Path) -> None:
    deadline = time.monotonic() + TIMEOUT
    while not pause_file.exists():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the import ended before its pause ({process.returncode}):\n{out}{err}")
        if time.monotonic() > deadline:
            pytest.fail("the import did not reach its pause")
        time.sleep(0.05)


def failure(stderr: str) -> str:
    """The command's one error line (the rest of standard error is the log), checked."""
    [line] = [line for line in stderr.splitlines() if line.startswith("CommandError:")]
    assert FAILED.match(line), line
    return line


def go_on(process: subprocess.Popen, pause_file: Path) -> tuple[int, str, str]:
    Path(f"{pause_file}.go").touch()
    out, err = process.communicate(timeout=TIMEOUT)
    return process.returncode, out, err


def assert_the_file_is_imported_once(cluster: OwnPostgres, database_url: str, var_dir: Path):
    ids = [row[0] for row in cluster.query("SELECT external_id FROM contacts_contact")]
    assert len(ids) == ROWS  # no duplicates…
    assert set(ids) == {f"call-{n:05d}" for n in range(ROWS)}  # …and none missing
    assert cluster.query("SELECT count(*), count(DISTINCT contact_id) FROM contacts_message") == [
        (ROWS, ROWS)
    ]
    assert cluster.query("SELECT count(*) FROM contacts_customer") == [(CUSTOMERS,)]
    check = manage(database_url, var_dir, "rebuild_rollups", "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert "The daily rollups match a rebuild" in check.stdout
    assert "The weekly rollups match a rebuild" in check.stdout


def test_a_restart_mid_import_fails_clearly_and_the_rerun_finishes_the_file_once(
    cluster, database, processes, tmp_path
):
    export = write_export(tmp_path / "contacts.csv")
    pause = tmp_path / "paused"
    process = start_paused_import(database, tmp_path, export, pause)
    processes.append(process)
    wait_until_paused(process, pause)

    cluster.restart()  # drops the import's connection between its second and third batch
    returncode, out, err = go_on(process, pause)

    assert returncode == 1
    assert "Traceback" not in err, err
    assert failure(err).endswith("(nothing is imported twice)")
    assert out.startswith(
        "Failed after reading 3,000 rows: 2,000 created, 0 updated, 0 unchanged, 0 rejected"
    )
    [(status, created, error)] = cluster.query(
        "SELECT status, created, error FROM contacts_importrun"
    )
    assert (status, created) == ("failed", 2 * BATCH)
    assert error.startswith("the database failed during the import (")
    assert error.endswith("run the same command again to finish (nothing is imported twice)")
    # The third batch was rolled back whole: only the two committed batches are there.
    assert cluster.query("SELECT count(*) FROM contacts_contact") == [(2 * BATCH,)]

    rerun = manage(database, tmp_path, "import_contacts", str(export), "--batch-size", str(BATCH))

    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert rerun.stdout.startswith(
        "Read 8,000 rows: 6,000 created, 0 updated, 2,000 unchanged, 0 rejected"
    )
    assert_the_file_is_imported_once(cluster, database, tmp_path)
    assert cluster.query("SELECT status FROM contacts_importrun ORDER BY id") == [
        ("failed",),
        ("finished",),
    ]


def test_a_server_still_down_when_the_import_notices_is_reported_too(
    cluster, database, processes, tmp_path
):
    export = write_export(tmp_path / "contacts.csv")
    pause = tmp_path / "paused"
    process = start_paused_import(database, tmp_path, export, pause)
    processes.append(process)
    wait_until_paused(process, pause)

    cluster.stop()
    try:
        returncode, out, err = go_on(process, pause)
    finally:
        cluster.start()

    assert returncode == 1
    assert "Traceback" not in err, err
    assert out.startswith("Failed after reading 3,000 rows: 2,000 created")
    # The failure could not be written down: the run is left as running, and says which.
    assert failure(err).endswith("; import run 1 could not be marked failed")
    assert cluster.query("SELECT status FROM contacts_importrun") == [("running",)]
    assert cluster.query("SELECT count(*) FROM contacts_contact") == [(2 * BATCH,)]

    rerun = manage(database, tmp_path, "import_contacts", str(export), "--batch-size", str(BATCH))

    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert rerun.stdout.startswith("Read 8,000 rows: 6,000 created, 0 updated, 2,000 unchanged")
    assert_the_file_is_imported_once(cluster, database, tmp_path)
