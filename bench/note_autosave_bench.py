"""Live note autosave: p50/p95/p99 latency of POST /api/v1/sessions/<id>/notes/ on gunicorn,
with 20 writers each saving a note every 2 seconds (the goal: p95 at most 100 ms).

    .venv/bin/python bench/note_autosave_bench.py                      # 20 writers, 60 s
    .venv/bin/python bench/note_autosave_bench.py --writers 40 --seconds 120 --workers 3

Creates a dedicated PostgreSQL database (dropped and recreated: VOC_BENCH_DATABASE_URL,
default postgres://postgres@127.0.0.1:5432/voc_notes_bench), loads the demo's people, adds one
executive per writer, each in a running side-by-side session beside a demo rep, and starts
gunicorn on it (``voc.wsgi``, sync workers as in the Dockerfile, DEBUG off, persistent database
connections as configured). Each writer then does what the live note page does: signs in
through the login form, opens the session's note page, reads the CSRF token from its form, and
posts notes as JSON with the session cookie and ``X-CSRFToken`` header, one every
``--interval`` seconds (a fixed rhythm, writers spread over the first interval; a slow answer
does not push the next note back, as the page's queue would not). Every note has a fresh
client UUID and about 200 characters, a fifth of them with a card number to redact.

Latency is measured in the client, from sending the request to reading the whole answer;
anything but 201 counts as an error. Results go to stdout as Markdown.
"""

import argparse
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import tempfile
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault(
    "VOC_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voc_notes_bench"
)
from common import BENCH_DATABASE_URL, ROOT, WORDS, setup_django

PASSWORD = "bench-notes-password-2026"  # noqa: S105  (a throwaway database)
KINDS = ["observation", "quote", "question", "idea"]
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def prepare(writers: int) -> list[tuple[str, int]]:
    """One executive per writer, each in a running session beside a demo rep."""
    from django.utils import timezone

    from feedback.models import Session
    from voc.people.models import User
    from voc.people.roles import Role

    reps = list(User.objects.filter(role=Role.REP, is_active=True).order_by("id"))
    now = timezone.now()
    pairs = []
    for number in range(writers):
        executive = User(
            username=f"bench-exec-{number:03d}",
            first_name="Bench",
            last_name=f"Executive {number}",
            email=f"bench-exec-{number:03d}@example.com",
            role=Role.EXECUTIVE,
        )
        executive.set_password(PASSWORD)
        executive.save()
        session = Session.objects.create(
            executive=executive,
            rep=reps[number % len(reps)],
            scheduled_by=executive,
            scheduled_start=now - timedelta(minutes=5),
            status=Session.Status.RUNNING,
            started_at=now - timedelta(minutes=5),
            topic="Autosave benchmark",
        )
        pairs.append((executive.username, session.id))
    return pairs


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(port: int, workers: int, threads: int, access_log: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": BENCH_DATABASE_URL,
        "DJANGO_SETTINGS_MODULE": "voc.settings",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
        "CELERY_BROKER_URL": "memory://",
    }
    command = [
        str(ROOT / ".venv" / "bin" / "gunicorn"),
        "voc.wsgi",
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--threads", str(threads),
        "--log-level", "warning",
        # The server's own time per request (%(D)s: microseconds), to tell it from queueing.
        "--access-logfile", str(access_log),
        "--access-logformat", "%(m)s %(U)s %(s)s %(D)s",
    ]  # fmt: skip
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    import requests

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz/", timeout=2).status_code == 200:
                return server
        except requests.RequestException:
            pass
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited with {server.returncode}")
        time.sleep(0.3)
    stop(server)
    raise SystemExit("gunicorn did not answer /healthz/ within 60 s")


def stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)  # gunicorn and its workers: our own group
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def note_text(rng: random.Random) -> str:
    text = " ".join(rng.choices(WORDS, k=35))[:200]
    if rng.random() < 0.2:
        text += " card 4111 1111 1111 1111"
    return text


class Clock:
    """Writers sign in first (a password hash each: seconds of CPU for twenty), then all start
    together: ``begin`` and ``end`` are set once every writer is ready."""

    def __init__(self, writers: int) -> None:
        self.ready = threading.Barrier(writers + 1)
        self.go = threading.Event()
        self.begin = self.end = 0.0


class Writer(threading.Thread):
    def __init__(self, base: str, username: str, session_id: int, *, offset: float,
                 clock: "Clock", interval: float, seed: int) -> None:  # fmt: skip
        super().__init__(daemon=True)
        self.base, self.username, self.session_id = base, username, session_id
        self.offset, self.clock, self.interval = offset, clock, interval
        self.rng = random.Random(seed)
        self.latencies: list[float] = []
        self.errors: dict[str, int] = {}
        self.login_path = "/login/"
        self.failed = ""

    def body(self) -> dict:
        return {
            "client_id": str(uuid.uuid4()),
            "kind": self.rng.choice(KINDS),
            "text": note_text(self.rng),
            "noted_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        }

    def sign_in(self):
        import requests

        http = requests.Session()
        login = f"{self.base}{self.login_path}"
        http.get(login, timeout=120).raise_for_status()
        answer = http.post(
            login,
            data={"username": self.username, "password": PASSWORD,
                  "csrfmiddlewaretoken": http.cookies["csrftoken"]},
            headers={"Referer": login},
            allow_redirects=False,
            timeout=120,
        )  # fmt: skip
        if answer.status_code != 302:
            raise RuntimeError(f"{self.username} could not sign in: {answer.status_code}")
        page = http.get(f"{self.base}/feedback/sessions/{self.session_id}/", timeout=120)
        page.raise_for_status()
        token = CSRF_INPUT.search(page.text)
        if token is None:
            raise RuntimeError("no CSRF token on the note page")
        return http, token.group(1)

    def run(self) -> None:
        import requests

        url = f"{self.base}/api/v1/sessions/{self.session_id}/notes/"
        try:
            http, token = self.sign_in()
            headers = {"X-CSRFToken": token, "Accept": "application/json",
                       "Referer": f"{self.base}/feedback/sessions/{self.session_id}/"}  # fmt: skip
            # One note before the clock starts (not counted): the worker's first API call.
            http.post(url, json=self.body(), headers=headers, timeout=30).raise_for_status()
        except Exception as error:  # reported after the run
            self.failed = f"{self.username}: {error}"
        self.clock.ready.wait()
        self.clock.go.wait()
        if self.failed:
            return
        due = self.clock.begin + self.offset
        while due < self.clock.end:
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            body = self.body()
            started = time.perf_counter()
            try:
                answer = http.post(url, json=body, headers=headers, timeout=30)
                elapsed = time.perf_counter() - started
                if answer.status_code == 201:
                    self.latencies.append(elapsed)
                else:
                    key = str(answer.status_code)
                    self.errors[key] = self.errors.get(key, 0) + 1
            except requests.RequestException as error:
                key = type(error).__name__
                self.errors[key] = self.errors.get(key, 0) + 1
            due += self.interval


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--interval", type=float, default=2.0, help="seconds between notes")
    parser.add_argument("--seconds", type=float, default=60.0, help="how long writers write")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (Dockerfile: 3)")
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    args = parser.parse_args()

    setup_django(fresh=True)
    pairs = prepare(args.writers)
    from django.db import connection

    connection.close()  # the bench's own connection plays no part in the measurement
    port = free_port()
    access_log = Path(tempfile.mkdtemp(prefix="voc-notes-bench-")) / "access.log"
    server = start_gunicorn(port, args.workers, args.threads, access_log)
    base = f"http://127.0.0.1:{port}"
    try:
        from django.urls import reverse

        clock = Clock(len(pairs))
        writers = [
            Writer(base, username, session_id, offset=args.interval * number / len(pairs),
                   clock=clock, interval=args.interval, seed=number)
            for number, (username, session_id) in enumerate(pairs)
        ]  # fmt: skip
        for writer in writers:
            writer.login_path = reverse("login")
            writer.start()
        clock.ready.wait()
        load_before = os.getloadavg()[0]
        clock.begin = time.monotonic() + 0.5
        clock.end = clock.begin + args.seconds
        clock.go.set()
        for writer in writers:
            writer.join()
        load_after = os.getloadavg()
    finally:
        stop(server)

    failed = [writer.failed for writer in writers if writer.failed]
    if failed:
        raise SystemExit("writers could not start: " + "; ".join(failed[:3]))
    latencies = [value * 1000 for writer in writers for value in writer.latencies]
    errors: dict[str, int] = {}
    for writer in writers:
        for key, count in writer.errors.items():
            errors[key] = errors.get(key, 0) + count
    total = len(latencies) + sum(errors.values())
    stored = count_notes()
    print(f"\n{args.writers} writers, a note every {args.interval:g} s each, {args.seconds:g} s; "
          f"gunicorn {args.workers} sync worker(s) x {args.threads} thread(s); "
          f"load average {load_before:.1f} before, {load_after[0]:.1f} at the end "
          f"(1-minute); {os.cpu_count()} CPUs\n")  # fmt: skip
    print("| measured | notes saved (201) | errors | p50 ms | p95 ms | p99 ms | max ms | mean ms |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    if latencies:
        print(
            f"| by the writers (sent to answer read) | {len(latencies)} of {total} "
            f"| {sum(errors.values())} "
            f"| {statistics.median(latencies):.1f} | {percentile(latencies, 0.95):.1f} "
            f"| {percentile(latencies, 0.99):.1f} | {max(latencies):.1f} "
            f"| {statistics.fmean(latencies):.1f} |"
        )
    served = server_times(access_log, skip=len(pairs))
    if served:
        print(
            f"| inside gunicorn (access log) | {len(served)} | | "
            f"{statistics.median(served):.1f} | {percentile(served, 0.95):.1f} "
            f"| {percentile(served, 0.99):.1f} | {max(served):.1f} "
            f"| {statistics.fmean(served):.1f} |"
        )
    if errors:
        print(f"\nerrors: {errors}")
    print(f"\nnotes stored in the database: {stored}")
    p95 = percentile(latencies, 0.95) if latencies else float("inf")
    print(f"goal p95 <= 100 ms: {'met' if p95 <= 100 else 'NOT met'} ({p95:.1f} ms)")


def server_times(access_log: Path, *, skip: int) -> list[float]:
    """Milliseconds gunicorn spent on each note POST of the measured run (the first ``skip``
    are the writers' warm-up notes, all answered before the clock starts)."""
    times = []
    for line in access_log.read_text().splitlines():
        method, path, _status, micros = line.split()
        if method == "POST" and path.startswith("/api/v1/sessions/"):
            times.append(int(micros) / 1000)
    return times[skip:]


def count_notes() -> int:
    from feedback.models import SessionNote

    return SessionNote.objects.filter(session__topic="Autosave benchmark").count()


if __name__ == "__main__":
    main()
