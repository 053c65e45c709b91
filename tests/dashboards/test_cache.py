"""The dashboard's panel cache (voc/dashboards/cache.py): a hit gives the same figures with
fewer queries, new data invalidates, an entry older than a minute is never served, and two
viewers with different scopes never share an entry."""

import contextlib
import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.ingest.service import contacts_ingest
from tests.dashboards import world
from tests.factories import UserFactory
from voc.core import dataversion
from voc.dashboards.cache import SCOPE_ONLY, panel_cache_key
from voc.dashboards.panels import PANELS
from voc.people.roles import Role

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def cached(settings):
    settings.VOC_DASHBOARD_CACHE = True
    cache.clear()
    yield
    with contextlib.suppress(Exception):  # the test that points the cache at a stopped Redis
        cache.clear()


@pytest.fixture
def data(cast, settings, cached):
    settings.VOC_REPORTING_TIME_ZONE = world.TZ
    with time_machine.travel(world.TODAY, tick=False) as clock:
        reasons = world.make_reasons(cast)
        world.make_contacts(cast, reasons)
        world.make_feedback(cast, reasons)
        yield clock


@pytest.fixture
def computed(monkeypatch):
    """How many times each panel was computed (the real computation, counted)."""
    calls: dict[str, int] = {}
    for key, panel in PANELS.items():

        def counting(viewer, filters, *, _panel=panel):
            calls[_panel.key] = calls.get(_panel.key, 0) + 1
            return _panel.compute(viewer, filters)

        monkeypatch.setitem(PANELS, key, dataclasses.replace(panel, compute=counting))
    return calls


def fragment(client, key: str, **params):
    url = reverse("dashboards:panel", args=[key])
    return client.get(url, world.query() | params, headers=HTMX)


def total(client, **params) -> int:
    return fragment(client, "top-drivers", **params).context["total"]


@pytest.mark.parametrize("key", list(PANELS))
def test_a_hit_gives_the_same_figures_with_fewer_queries(cast, client, data, key):
    client.force_login(cast.executive)
    with CaptureQueriesContext(connection) as miss:
        first = fragment(client, key)
    with CaptureQueriesContext(connection) as hit:
        second = fragment(client, key)
    assert second.status_code == first.status_code == 200
    assert second.content == first.content
    assert len(hit) < len(miss)


def test_it_is_off_in_the_test_settings_and_for_a_request(cast, client, data, computed, settings):
    client.force_login(cast.executive)
    fragment(client, "top-drivers", cache="off")
    fragment(client, "top-drivers", cache="off")
    assert computed == {"top-drivers": 2}
    fragment(client, "top-drivers")
    fragment(client, "top-drivers")  # the entry the first stored ("off" stored none)
    assert computed == {"top-drivers": 3}
    settings.VOC_DASHBOARD_CACHE = False
    fragment(client, "top-drivers")
    assert computed == {"top-drivers": 4}


def test_new_data_invalidates(cast, client, data, django_capture_on_commit_callbacks):
    client.force_login(cast.executive)
    before = total(client)
    assert total(client) == before  # served from the cache
    with django_capture_on_commit_callbacks(execute=True):
        result = contacts_ingest(
            rows=[
                {
                    "source": "cache-test",
                    "external_id": "new-1",
                    "channel": "phone",
                    "occurred_at": "2026-11-20T15:00:00+00:00",
                    "reason": "Outage",
                    "team": cast.team_b.name,
                }
            ]
        )
    assert not result.rejected, result.rejected
    after = total(client)
    assert after == before + 1
    assert after == len(world.contacts_counted(cast.executive, world.filters()))


def test_the_version_changes_when_the_rollups_commit_not_before_nor_on_a_rollback(
    cached, django_capture_on_commit_callbacks
):
    version = dataversion.data_version()
    with (
        django_capture_on_commit_callbacks(execute=True) as rolled_back,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        dataversion.data_version_bump()
        raise RuntimeError("rolled back")
    assert rolled_back == [] and dataversion.data_version() == version
    with django_capture_on_commit_callbacks(execute=False) as pending:
        dataversion.data_version_bump()
        assert dataversion.data_version() == version  # not before the commit
    pending[0]()
    assert dataversion.data_version() not in (None, version)


def test_an_entry_61_seconds_old_is_not_served(cast, client, data, computed):
    client.force_login(cast.executive)
    fragment(client, "top-drivers")
    data.shift(timedelta(seconds=60))
    fragment(client, "top-drivers")
    assert computed == {"top-drivers": 1}  # 60 s old: still served
    data.shift(timedelta(seconds=1))
    fragment(client, "top-drivers")
    assert computed == {"top-drivers": 2}  # 61 s old: computed again
    fragment(client, "top-drivers")
    assert computed == {"top-drivers": 2}  # and the fresh entry is served


def test_two_viewers_with_different_scopes_never_share_an_entry(cast, client, data, computed):
    figures = {}
    for user in (cast.manager, cast.other_manager, cast.executive):
        client.force_login(user)
        figures[user.username] = total(client)
        assert figures[user.username] == len(world.contacts_counted(user, world.filters()))
    assert computed == {"top-drivers": 3}
    assert len(set(figures.values())) == 3
    # Each viewer again: each is served their own entry.
    for user in (cast.manager, cast.other_manager, cast.executive):
        client.force_login(user)
        assert total(client) == figures[user.username]
    assert computed == {"top-drivers": 3}
    # Another executive sees everything too: the same entry.
    client.force_login(UserFactory(username="cfo", role=Role.EXECUTIVE))
    assert total(client) == figures["executive"]
    assert computed == {"top-drivers": 3}
    # A filter is part of the key.
    client.force_login(cast.executive)
    assert total(client, channel="email") == len(
        world.contacts_counted(cast.executive, world.filters(channel="email"))
    )
    assert computed == {"top-drivers": 4}


def test_a_manager_of_the_department_who_does_not_head_it_shares_only_an_identical_scope(
    cast, client, data, computed
):
    # The head leads team A and heads department A; a member of department A sees the same
    # rows (department A's and its teams'), so the scope-only panels share their entry.
    member = UserFactory(username="member", role=Role.MANAGER, department=cast.dept_a)
    client.force_login(cast.manager)
    head_total = total(client)
    client.force_login(member)
    assert total(client) == head_total == len(world.contacts_counted(member, world.filters()))
    assert computed == {"top-drivers": 1}
    # A lead of team B only (no department) has another scope: computed for them.
    lead = world.team_lead_of(cast.team_b)
    client.force_login(lead)
    assert total(client) == len(world.contacts_counted(lead, world.filters()))
    assert computed == {"top-drivers": 2}


def test_a_panel_that_is_not_scope_only_is_keyed_on_the_viewer(cast):
    member = UserFactory(username="member", role=Role.MANAGER, department=cast.dept_a)
    scoped = PANELS["top-drivers"]
    personal = dataclasses.replace(scoped, key="open-issues")
    assert scoped.key in SCOPE_ONLY and personal.key not in SCOPE_ONLY
    filters = world.filters()
    assert panel_cache_key(scoped, cast.manager, filters, "v") == panel_cache_key(
        scoped, member, filters, "v"
    )
    assert panel_cache_key(personal, cast.manager, filters, "v") != panel_cache_key(
        personal, member, filters, "v"
    )
    assert panel_cache_key(scoped, cast.manager, filters, "v") != panel_cache_key(
        scoped, cast.manager, filters, "w"
    )


def test_a_cache_that_is_down_is_passed_over(cast, client, data, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    client.force_login(cast.executive)
    response = fragment(client, "top-drivers")
    assert response.status_code == 200
    assert response.context["total"] == len(world.contacts_counted(cast.executive, world.filters()))


def test_figures_computed_at_a_time_are_stored_with_that_time(cast, client, data):
    client.force_login(cast.executive)
    fragment(client, "top-drivers")
    key = panel_cache_key(
        PANELS["top-drivers"], cast.executive, world.filters(), dataversion.data_version() or "none"
    )
    computed_at, _context = cache.get(key)
    assert datetime.fromtimestamp(computed_at, tz=UTC) == world.TODAY
