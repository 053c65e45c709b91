"""Rate limits that keep counting when the shared cache (Redis) is down.

DRF's throttles count in the cache; with Redis unreachable every request they guard would
answer 500. Rather than fail open, the count moves to a cache local to the process for as
long as Redis is away: a client is still limited (per web process, so at most the rate times
the number of processes), and a warning says the limits are local.
"""

import logging
import time
from typing import Any, cast

from django.core.cache import cache as default_cache
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.locmem import LocMemCache
from rest_framework import throttling

logger = logging.getLogger(__name__)

_local = LocMemCache("voc-throttle-fallback", {"MAX_ENTRIES": 10_000})
_WARN_EVERY = 60.0  # seconds between two warnings of one process
_last_warning = 0.0


def _warn(error: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= _WARN_EVERY:
        _last_warning = now
        logger.warning(
            "rate limits are counted per process: the cache is unreachable (%s: %s)",
            type(error).__name__,
            error,
        )


class _FallbackCache:
    """The two cache calls DRF's throttles make, on the shared cache or else the local one."""

    def __init__(self, shared: BaseCache) -> None:
        self.shared = shared

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self.shared.get(key, default)
        except Exception as error:  # redis.ConnectionError, a timeout, ...
            _warn(error)
            return _local.get(key, default)

    def set(self, key: str, value: Any, timeout: float | None = None) -> None:
        try:
            self.shared.set(key, value, timeout)
        except Exception as error:
            _warn(error)
            _local.set(key, value, timeout)


class CacheFallbackMixin:
    """Mix into a DRF ``SimpleRateThrottle`` subclass (before it)."""

    cache: BaseCache

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # DRF's throttles call only get() and set(), which is all the fallback offers.
        self.cache = cast(BaseCache, _FallbackCache(self.cache))


class ScopedRateThrottle(CacheFallbackMixin, throttling.ScopedRateThrottle):
    """DRF's ScopedRateThrottle (``throttle_scope`` on the view) that survives a cache outage."""


# The cache count_hit() counts in; a module attribute so tests can give it a private one.
counter_cache = default_cache


def count_hit(key: str, *, window: int) -> int:
    """Count one hit of ``key`` in the current fixed window of ``window`` seconds and return
    the hits so far in it (this one included). Counts per process while the cache is down."""
    bucket = f"hits:{key}:{int(time.time() // window)}"
    try:
        counter_cache.add(bucket, 0, timeout=window)
        return counter_cache.incr(bucket)
    except ValueError:  # expired between add and incr: this hit starts the window again
        counter_cache.set(bucket, 1, timeout=window)
        return 1
    except Exception as error:  # redis.ConnectionError, a timeout, ...
        _warn(error)
        _local.add(bucket, 0, timeout=window)
        return _local.incr(bucket)
