import pytest

from tests import services

# marker -> the probes that must pass for tests carrying it
MARKER_NEEDS = {
    "postgres": [services.postgres_problem],
    "redis": [services.redis_problem],
    "worker": [services.postgres_problem, services.redis_problem],
    "browser": [services.browser_problem],
    "pg_cluster": [services.pg_cluster_problem],
}

_service_skips: dict[str, int] = {}


def pytest_collection_modifyitems(config, items):
    for item in items:
        for marker, probes in MARKER_NEEDS.items():
            if item.get_closest_marker(marker) is None:
                continue
            problems = [problem for probe in probes if (problem := probe())]
            if problems:
                reason = "; ".join(problems)
                _service_skips[reason] = _service_skips.get(reason, 0) + 1
                item.add_marker(pytest.mark.skip(reason=f"needs {marker}: {reason}"))
                break


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    database = "SQLite (PostgreSQL unreachable)" if services.postgres_problem() else "PostgreSQL"
    terminalreporter.write_sep("-", "VoC test services")
    terminalreporter.write_line(f"database: {database}")
    if not _service_skips:
        terminalreporter.write_line("skipped for missing services: none")
        return
    for reason, count in _service_skips.items():
        terminalreporter.write_line(f"skipped {count} test(s): {reason}")
    if services.require_services():
        terminalreporter.write_line(
            "VOC_REQUIRE_SERVICES=1: tests were skipped for missing services, so the run fails."
        )


def pytest_sessionfinish(session, exitstatus):
    if _service_skips and services.require_services() and session.exitstatus == 0:
        session.exitstatus = 1


@pytest.fixture
def cast(db):
    """One user per role and scope, like healthchecks' alice/bob/charlie."""
    from tests.factories import make_cast

    return make_cast()


@pytest.fixture(autouse=True)
def throttle_cache(monkeypatch):
    """A private, empty cache for DRF's throttles in each test.

    The shared test cache (Redis) outlives the run, and ids start again in every fresh test
    database: a rate limit counted in one test, run or parallel run would leak into the next.
    The throttles still count and refuse exactly as configured.
    """
    from django.core.cache.backends.locmem import LocMemCache
    from rest_framework.throttling import SimpleRateThrottle

    from voc.core import throttling

    cache = LocMemCache("throttles", {})
    monkeypatch.setattr(SimpleRateThrottle, "cache", cache)
    monkeypatch.setattr(throttling, "counter_cache", cache)  # password-reset limits
    yield cache
    cache.clear()


@pytest.fixture(autouse=True)
def business_settings_fresh():
    """Each test reads business settings from its own database: a thread's cached values
    (voc.core.business) would otherwise outlive the rollback of the test that loaded them."""
    from voc.core.business import business_settings_forget_cached

    business_settings_forget_cached()
    yield
    business_settings_forget_cached()
