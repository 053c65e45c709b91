"""bin/run starts web, worker and beat on the embedded defaults and stops them cleanly.

Each test starts the real script in a process group of its own (as a shell starts a job), on
a spare port, with SQLite, the filesystem broker and the outbox in a temporary folder
(VOC_VAR_DIR), and no PostgreSQL or Redis in its environment. It waits until the web port
answers and the worker is ready, sends the signal, and checks that everything stopped:
bin/run exited, nothing it started is left (every process carrying the temporary folder in
its environment is gone, whatever its process group), the worker shut down warm, nothing
was force-killed and nothing logged an error.

A first start migrates a new SQLite database and loads the demo data: about a minute.
"""

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
STARTUP_SECONDS = 600  # migrations and demo data on a loaded 2-core machine
STOP_SECONDS = 30  # "a few seconds"; far more means a hang, and the test says so
# Only these pass from the test's environment: no DATABASE_URL, REDIS_URL or the test
# settings' DJANGO_SETTINGS_MODULE, so bin/run runs on its embedded defaults.
PASSED_VARIABLES = ("PATH", "HOME", "USER", "LANG", "LC_ALL", "TMPDIR", "PYTHON")


def _spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _processes_with(marker: str) -> dict[int, str]:
    """Live processes whose environment holds ``marker``, with their command lines."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            if marker.encode() not in (entry / "environ").read_bytes():
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:  # gone meanwhile, or not ours to read
            continue
        if state != "Z":  # a zombie has stopped; only its parent's wait is missing
            found[int(entry.name)] = command.strip()
    return found


class Run:
    def __init__(self, tmp_path: Path) -> None:
        self.var = tmp_path / "var"
        self.port = _spare_port()
        self.log_path = tmp_path / "run.log"
        env = {name: value for name, value in os.environ.items() if name in PASSED_VARIABLES}
        env.update(VOC_VAR_DIR=str(self.var), PORT=str(self.port), PYTHONUNBUFFERED="1")
        self.marker = f"VOC_VAR_DIR={self.var}"
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                ["bin/run"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, like a job in a shell
            )

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def wait_until_ready(self) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            output = self.output()
            assert self.process.poll() is None, f"bin/run exited early:\n{output}"
            started = re.search(r"Starting development server at http://127.0.0.1:(\d+)/", output)
            assert not started or started[1] == str(self.port), f"not on PORT:\n{output}"
            if self._web_answers() and " ready." in output:
                return
            time.sleep(1)
        pytest.fail(f"web on port {self.port} or the worker never became ready:\n{self.output()}")

    def _web_answers(self) -> bool:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=5)
        except urllib.error.HTTPError:
            return True  # any HTTP answer: the server is up
        except OSError:
            return False
        return True

    def stop_everything(self) -> None:
        """After a test, whatever happened: nothing of this run may outlive it."""
        for pid in _processes_with(self.marker):
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def run(tmp_path):
    started = Run(tmp_path)
    yield started
    started.stop_everything()


def _assert_stopped_cleanly(run: Run, *, exit_code: int) -> None:
    try:
        code = run.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        pytest.fail(f"bin/run still running {STOP_SECONDS} s after the signal:\n{run.output()}")
    output = run.output()
    left = _processes_with(run.marker)
    assert left == {}, f"left running: {left}\n{output}"
    assert "SIGKILL" not in output, output  # a force-kill (honcho's, after 5 s, did that)
    assert "Warm shutdown" in output, output
    errors = [line for line in output.splitlines() if "ERROR" in line or "Traceback" in line]
    assert errors == [], output
    assert code == exit_code, output


def test_ctrl_c_stops_web_worker_and_beat_warm(run):
    run.wait_until_ready()
    # Ctrl-C in a terminal sends SIGINT to every process of the foreground job's group.
    os.killpg(run.process.pid, signal.SIGINT)
    _assert_stopped_cleanly(run, exit_code=128 + signal.SIGINT)


def test_sigterm_to_bin_run_leaves_nothing_behind(run):
    run.wait_until_ready()  # on PORT, a spare port, not 8000
    assert f"VoC is starting at http://127.0.0.1:{run.port}" in run.output()
    assert len(_processes_with(run.marker)) >= 3  # bin/run's process tree: web, worker, beat
    os.kill(run.process.pid, signal.SIGTERM)  # to bin/run alone, as `kill PID` or a supervisor
    _assert_stopped_cleanly(run, exit_code=128 + signal.SIGTERM)
