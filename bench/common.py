"""Shared set-up for the benchmarks: a dedicated PostgreSQL database, Django, and
deterministic contact rows of realistic size (~300 characters of message each)."""

import contextlib
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BENCH_DATABASE_URL = os.environ.get(
    "VOC_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voc_bench"
)

WORDS = (
    "bill charged twice again router internet down slow evening speed app login password "
    "order checkout error refund card payment technician appointment missed cancel contract "
    "price plan upgrade family data roaming outage street coverage signal please help today "
    "thanks waiting hours nobody called back third time this month really frustrated"
).split()


def setup_django(fresh: bool = True) -> None:
    """Point Django at the benchmark database, recreate it if asked, migrate."""
    import psycopg2

    os.environ["DATABASE_URL"] = BENCH_DATABASE_URL
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voc.settings")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    name = BENCH_DATABASE_URL.rsplit("/", 1)[1]
    if fresh:
        admin = psycopg2.connect(BENCH_DATABASE_URL.rsplit("/", 1)[0] + "/postgres")
        admin.autocommit = True
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            cursor.execute(f'CREATE DATABASE "{name}"')
        admin.close()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    if fresh:
        call_command("seed_demo", customers=0, contacts=0, verbosity=0)


def make_rows(
    count: int,
    *,
    seed: int = 1,
    start: datetime | None = None,
    days: int = 365,
    customers: int | None = None,
    prefix: str = "bench",
) -> list[dict]:
    """Contact rows in VoC's field names, spread over ``days`` days before ``start``."""
    from contacts.demo import REASONS
    from voc.people.models import User

    rng = random.Random(seed)
    start = start or datetime.now(UTC)
    reps = list(User.objects.filter(role="rep").values_list("username", flat=True))
    reasons = [[spec[1], spec[2]] for spec in REASONS]
    channels = ["phone", "email", "chat", "social", "web_form"]
    customers = customers or max(1, count // 3)
    rows = []
    for number in range(count):
        words = rng.choices(WORDS, k=55)
        text = " ".join(words)[:300]
        rows.append(
            {
                "source": "bench",
                "external_id": f"{prefix}-{number:08d}",
                "channel": channels[number % 5],
                "occurred_at": (
                    start - timedelta(seconds=rng.randint(0, days * 86400))
                ).isoformat(),
                "customer_ref": f"BC-{rng.randint(1, customers):08d}",
                "rep": reps[number % len(reps)],
                "reason": reasons[number % len(reasons)],
                "handle_seconds": rng.randint(30, 1800),
                "text": text,
            }
        )
    return rows


def _backend_pid() -> int | None:
    """The PostgreSQL server process behind Django's connection, when it runs on this host."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    return pid if Path(f"/proc/{pid}/stat").exists() else None


def _process_cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def group_cpu(pgid: int) -> float:
    """CPU seconds (user + system) of the live processes of a process group: a worker and its
    pool processes."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # pgrp
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def database_cpu(name: str) -> float:
    """CPU seconds of the live PostgreSQL server processes connected to database ``name`` on
    this host (read before the clients disconnect)."""
    total = 0.0
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            words = cmdline.read_bytes().decode(errors="replace").split()
            if words[:1] != ["postgres:"] or name not in words:
                continue
            total += _process_cpu(int(cmdline.parent.name))
        except (OSError, IndexError):
            continue
    return total


def _own_cpu() -> float:
    """This process and its children that have ended (the import's parsing processes)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


class Timer:
    """Wall time, and CPU time spent meanwhile by this process (with its finished children)
    and by the PostgreSQL server process of its connection. On a shared machine the wall time
    varies with the other load; the CPU time much less. The CPU time of the last measurement
    read is kept in ``Timer.last_cpu`` as (python, postgresql) seconds."""

    last_cpu: tuple[float, float] = (0.0, 0.0)

    def __init__(self) -> None:
        self._pid = _backend_pid()
        self._cpu = _own_cpu()
        self._pg_cpu = _process_cpu(self._pid)
        self.started = time.perf_counter()

    @property
    def seconds(self) -> float:
        seconds = time.perf_counter() - self.started
        Timer.last_cpu = (_own_cpu() - self._cpu, _process_cpu(self._pid) - self._pg_cpu)
        return seconds


@contextlib.contextmanager
def function_clock(patches):
    """{label: [seconds, calls]} spent in functions while the block runs. ``patches`` are
    (owner, attribute name, label) triples: each attribute (a module's function, a class's
    method, an object's bound method) is wrapped with a timer, and put back at the end.
    Several may share a label."""
    spent: dict[str, list] = {label: [0.0, 0] for _, _, label in patches}

    def timed(function, label):
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[label][0] += time.perf_counter() - started
                spent[label][1] += 1

        return wrapper

    originals = []
    for owner, name, label in patches:
        original = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        originals.append((owner, name, original))
        setattr(owner, name, timed(original, label))
    try:
        yield spent
    finally:
        for owner, name, original in reversed(originals):
            setattr(owner, name, original)
