"""Dashboard reads on a read replica.

When ``DATABASE_REPLICA_URL`` is set, settings add a ``replica`` database alias (a PostgreSQL
hot standby, or any read-only copy of the primary) and this router. Code that only reads and
can bear a few seconds of replication lag runs inside ``replica_reads()`` (the dashboard views
through ``@read_from_replica``): its reads go to the replica, so the dashboards' aggregate
queries stop competing with ingestion for the primary. Everything else, and every write,
stays on ``default``:

- writes always go to ``default``, inside ``replica_reads()`` too;
- a read inside a transaction on ``default`` stays there (it may need to see its own writes);
- without a ``replica`` alias the router changes nothing.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.http import HttpRequest, StreamingHttpResponse

REPLICA = "replica"

_replica_reads: ContextVar[bool] = ContextVar("replica_reads", default=False)

View = TypeVar("View", bound=Callable[..., Any])


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def read_alias() -> str:
    """Where a read made now goes: ``replica`` inside ``replica_reads()`` when one is
    configured and no transaction is open on the primary, else ``default``."""
    if (
        _replica_reads.get()
        and replica_configured()
        and not connections[DEFAULT_DB_ALIAS].in_atomic_block
    ):
        return REPLICA
    return DEFAULT_DB_ALIAS


@contextmanager
def replica_reads() -> Iterator[None]:
    token = _replica_reads.set(True)
    try:
        yield
    finally:
        _replica_reads.reset(token)


def _streamed_from_replica(chunks: Any) -> Iterator[Any]:
    """A streaming response's content, produced inside ``replica_reads()``: an export's rows
    are read while the server sends them, after the view has returned."""
    iterator = iter(chunks)
    while True:
        with replica_reads():
            try:
                chunk = next(iterator)
            except StopIteration:
                return
        yield chunk


def read_from_replica(view: View) -> View:
    """Runs a read-only view (and the streaming of its response) inside ``replica_reads()``.
    Put it under the access check, so the signed-in user and the session are read from the
    primary."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        with replica_reads():
            response = view(request, *args, **kwargs)
        if isinstance(response, StreamingHttpResponse):  # FileResponse too
            response.streaming_content = _streamed_from_replica(response.streaming_content)
        return response

    return wrapper  # type: ignore[return-value]


class ReplicaRouter:
    """Reads to the replica inside ``replica_reads()``; writes and migrations to ``default``."""

    def db_for_read(self, model: Any, **hints: Any) -> str | None:
        # None elsewhere: Django's own choice (the database an instance came from, else
        # default).
        return REPLICA if read_alias() == REPLICA else None

    def db_for_write(self, model: Any, **hints: Any) -> str:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1: Any, obj2: Any, **hints: Any) -> bool:
        return True  # the same data on both aliases

    def allow_migrate(self, db: str, app_label: str, **hints: Any) -> bool:
        return db == DEFAULT_DB_ALIAS
