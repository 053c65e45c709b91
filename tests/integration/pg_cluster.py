"""A PostgreSQL cluster of a test's own: ``initdb`` in a temporary directory, ``pg_ctl`` on a
spare port, so a fault test can restart or stop the server without touching the shared one.

``initdb`` refuses to run as root (as CI does), so there the cluster belongs to the
``postgres`` user and every server command runs through ``runuser -u postgres --``.
"""

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import psycopg2

from tests.services import pg_bin_dir

TIMEOUT = 30


def spare_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class OwnPostgres:
    def __init__(self) -> None:
        bin_dir = pg_bin_dir()
        assert bin_dir is not None, "no PostgreSQL binaries (the pg_cluster marker skips)"
        self.bin_dir = Path(bin_dir)
        self.port = spare_port()
        # Not under pytest's tmp_path: its parents are private to root, and the server runs as
        # postgres when the tests run as root.
        self.dir = Path(tempfile.mkdtemp(prefix="voc-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self._as: list[str] = []
        if os.geteuid() == 0:
            owner = pwd.getpwnam("postgres")
            os.chown(self.dir, owner.pw_uid, owner.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        result = subprocess.run(
            [*self._as, *command],
            capture_output=True,
            text=True,
            timeout=TIMEOUT,
            check=False,
            cwd=self.dir,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}"
                f"{result.stderr}\n{self.log_text()}"
            )

    def log_text(self) -> str:
        try:
            return f"----- PostgreSQL log ({self.log}) -----\n{self.log.read_text()}"
        except OSError:
            return "(no PostgreSQL log)"

    def init(self) -> None:
        self._run(
            str(self.bin_dir / "initdb"),
            *("-D", str(self.data), "-U", "postgres", "--auth=trust"),
            *("--encoding=UTF8", "--locale=C", "--no-sync"),
        )

    def _pg_ctl(self, action: str, *options: str) -> None:
        self._run(
            str(self.bin_dir / "pg_ctl"),
            *("-D", str(self.data), "-l", str(self.log), "-w", "-t", str(TIMEOUT)),
            *options,
            action,
        )

    def start(self) -> None:
        # The directory holds the Unix socket too: /var/run/postgresql may not be writable.
        server_options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c full_page_writes=off"
        )
        self._pg_ctl("start", "-o", server_options)

    def restart(self) -> None:
        """A fast restart: every open connection is dropped, in the middle of whatever it did."""
        self._pg_ctl("restart", "-m", "fast")

    def stop(self) -> None:
        self._pg_ctl("stop", "-m", "fast")

    def query(self, sql: str, database: str = "voc", *, params: tuple = ()) -> list[tuple]:
        connection = psycopg2.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=database, connect_timeout=5
        )
        try:
            connection.autocommit = True  # CREATE DATABASE runs outside a transaction
            with connection.cursor() as cursor:
                cursor.execute(sql, params)
                return cursor.fetchall() if cursor.description else []
        finally:
            connection.close()

    def destroy(self) -> None:
        """Stop the server however it is, and remove the directory."""
        if (self.data / "postmaster.pid").exists():
            with contextlib.suppress(Exception):
                self._pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(self.dir, ignore_errors=True)
