"""Settings for the test suite: VoC's own settings on PostgreSQL and Redis where they are
reachable, SQLite and in-memory stand-ins where not (those skips are reported)."""

import dj_database_url

from tests.services import (
    TEST_DATABASE_URL,
    TEST_REDIS_BROKER_URL,
    TEST_REDIS_CACHE_URL,
    postgres_problem,
    redis_problem,
)
from voc.settings import *  # noqa: F403
from voc.settings import BASE_DIR

if postgres_problem() is None:
    DATABASES = {"default": dj_database_url.parse(TEST_DATABASE_URL)}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(BASE_DIR / "var" / "test.sqlite3"),
            "TEST": {"NAME": str(BASE_DIR / "var" / "test-db.sqlite3")},
        }
    }

# A second alias for the dashboards' read replica (voc.core.db_routers): the same test
# database under another connection (TEST MIRROR), read-only on PostgreSQL as a standby is.
# Reads go there only inside replica_reads() and outside a transaction, so tests in a
# transaction (pytest-django's db) never touch it; tests/dashboards/test_replica_reads.py does.
DATABASES["replica"] = DATABASES["default"] | {"TEST": {"MIRROR": "default"}}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["replica"]["OPTIONS"] = {"options": "-c default_transaction_read_only=on"}

if redis_problem() is None:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": TEST_REDIS_CACHE_URL,
            "KEY_PREFIX": "voc-test",
        }
    }
    CELERY_BROKER_URL = TEST_REDIS_BROKER_URL
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests only
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
OUTBOX_ENABLED = True
DEBUG = False
LOGGING = {"version": 1, "disable_existing_loggers": False}
# Tests count queries and compare figures with direct counts: the panel cache is off except in
# its own tests (tests/dashboards/test_cache.py).
VOC_DASHBOARD_CACHE = False
