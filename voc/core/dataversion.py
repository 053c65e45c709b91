"""The reporting data's version: a token that changes each time rollups (or other rows a
dashboard figure is computed from, such as survey invitations) are written, so a cache of
figures computed from them (voc/dashboards/cache.py) knows new data came in.

Writers call :func:`data_version_bump` inside the transaction that writes the rows; the new
token is stored after commit, so a reader never caches figures of uncommitted data under the
new version (one that read the old version while the write committed stores its figures under
the old one, which nobody asks for any more). The token lives in the default cache; when the
cache is down, bumping does nothing and reading gives None (a cache that is down serves nothing
either), and the write goes on: reporting never breaks ingest.
"""

import logging
import uuid

from django.core.cache import cache
from django.db import transaction

KEY = "voc:data-version"
logger = logging.getLogger(__name__)


def _store_new_version() -> None:
    try:
        cache.set(KEY, uuid.uuid4().hex, timeout=None)
    except Exception:  # a cache that is down must not fail a committed write
        logger.warning("could not bump the data version", exc_info=True)


def data_version_bump() -> None:
    """New reporting data: change the version once this transaction commits (at once outside
    one)."""
    transaction.on_commit(_store_new_version)


def data_version() -> str | None:
    """The current version, or None when none is stored or the cache is down."""
    try:
        value = cache.get(KEY)
    except Exception:
        logger.warning("could not read the data version", exc_info=True)
        return None
    return value if isinstance(value, str) else None
