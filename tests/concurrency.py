"""Helpers for tests that race two database connections (PostgreSQL): run a function in a
thread on its own connection, and wait for a condition such as "someone waits for a lock"."""

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import connection


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def in_thread(function: Callable[[], Any]) -> tuple[threading.Thread, dict[str, Any]]:
    """Start ``function`` in a thread (its own connection, closed after); the dict gets its
    "value" or the "error" it raised, for the test to report."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = function()
        except Exception as error:  # reported by the test
            outcome["error"] = error
        finally:
            connection.close()

    worker = threading.Thread(target=run)
    worker.start()
    return worker, outcome
