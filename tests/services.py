"""Which real services this test run can reach. Probed once, before Django starts, so the
settings can choose PostgreSQL or SQLite and the conftest can skip (and report) what needs a
missing service. With VOC_REQUIRE_SERVICES=1 any such skip fails the run."""

import glob
import os
import pwd
import re
import shutil
import socket
from functools import cache
from urllib.parse import urlparse

TEST_DATABASE_URL = os.environ.get(
    "VOC_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voc"
)
# Cache tests use one Redis database, the real-worker tests another (they flush it).
TEST_REDIS_CACHE_URL = os.environ.get("VOC_TEST_REDIS_URL", "redis://127.0.0.1:6379/14")
TEST_REDIS_BROKER_URL = os.environ.get("VOC_TEST_BROKER_URL", "redis://127.0.0.1:6379/15")
CHROMIUM = os.environ.get("VOC_CHROMIUM", "/usr/bin/chromium")


@cache
def postgres_problem() -> str | None:
    import psycopg2

    url = urlparse(TEST_DATABASE_URL)
    try:
        psycopg2.connect(
            host=url.hostname,
            port=url.port or 5432,
            user=url.username or "postgres",
            password=url.password or "",
            dbname="postgres",
            connect_timeout=3,
        ).close()
    except Exception as exc:
        return f"PostgreSQL at {url.hostname}:{url.port or 5432} unreachable ({type(exc).__name__})"
    return None


@cache
def redis_problem() -> str | None:
    url = urlparse(TEST_REDIS_BROKER_URL)
    try:
        with socket.create_connection((url.hostname, url.port or 6379), timeout=3) as sock:
            sock.sendall(b"PING\r\n")
            if not sock.recv(16).startswith(b"+PONG"):
                return "Redis did not answer PING"
    except OSError as exc:
        return f"Redis at {url.hostname}:{url.port or 6379} unreachable ({type(exc).__name__})"
    return None


@cache
def browser_problem() -> str | None:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    return None


def pg_bin_dir() -> str | None:
    """The newest PostgreSQL server binaries (Debian's /usr/lib/postgresql/N/bin, else PATH)."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(re.sub(r"\D", "", path.split("/")[4]) or 0),
    )
    if found:
        return os.path.dirname(found[-1])
    initdb = shutil.which("initdb")
    return os.path.dirname(initdb) if initdb else None


@cache
def pg_cluster_problem() -> str | None:
    """What stops a test from running a PostgreSQL cluster of its own, if anything."""
    bin_dir = pg_bin_dir()
    if bin_dir is None or not os.path.exists(os.path.join(bin_dir, "pg_ctl")):
        return "no initdb/pg_ctl (apt-get install postgresql)"
    if os.geteuid() == 0:  # initdb refuses root: the cluster runs as the postgres user
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return "running as root without a postgres user for initdb"
        if shutil.which("runuser") is None:
            return "running as root without runuser"
    return None


def require_services() -> bool:
    return os.environ.get("VOC_REQUIRE_SERVICES", "") in {"1", "true", "yes"}
