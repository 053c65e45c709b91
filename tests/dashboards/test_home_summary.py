"""The dashboard's summary on the home page: for those who see the dashboard, this month's
figures in their own scope; not for reps. Cached like the dashboard's panels: served again to
the same scope until the data version moves, never older than a minute."""

import dataclasses
import re
from datetime import timedelta

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.ingest.service import contacts_ingest
from tests.dashboards import world
from tests.factories import UserFactory
from voc.dashboards import home
from voc.people.roles import Role

pytestmark = pytest.mark.django_db


@pytest.fixture
def data(cast, settings):
    settings.VOC_REPORTING_TIME_ZONE = world.TZ
    with time_machine.travel(world.TODAY, tick=False):
        reasons = world.make_reasons(cast)
        world.make_contacts(cast, reasons)
        world.make_feedback(cast, reasons)
        yield reasons


def summary(client, user):
    client.force_login(user)
    response = client.get(reverse("home"))
    widgets = {widget.key: widget for widget in response.context["widgets"]}
    return widgets.get("dashboards.summary")


@pytest.mark.parametrize("role", ["executive", "manager", "other_manager", "admin"])
def test_the_summary_counts_this_months_contacts_in_the_viewers_scope(cast, client, data, role):
    viewer = getattr(cast, role)
    with time_machine.travel(world.TODAY, tick=False):
        widget = summary(client, viewer)
    this_month = world.filters().__class__(
        period="month", start=world.TODAY.date().replace(day=1), end=world.DST_DAY.replace(day=23)
    )
    expected = len(world.contacts_counted(viewer, this_month))
    assert widget is not None
    assert f"<dt>Contacts this month</dt><dd>{expected}" in widget.html
    assert world.XSS not in widget.html


def test_a_rep_has_no_summary(cast, client, data):
    assert summary(client, cast.rep) is None


# --- the panel cache (voc/dashboards/cache.py) ------------------------------------------------


@pytest.fixture
def cached(settings):
    settings.VOC_DASHBOARD_CACHE = True
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def computed(monkeypatch):
    """Who the summary was computed for, each time it was (the real computation)."""
    viewers: list[str] = []

    def counting(viewer, filters):
        viewers.append(viewer.username)
        return home.summary_figures(viewer, filters)

    monkeypatch.setattr(home, "SUMMARY", dataclasses.replace(home.SUMMARY, compute=counting))
    return viewers


def contacts_shown(widget) -> int:
    return int(re.search(r"<dt>Contacts this month</dt><dd>(\d+)", widget.html)[1])


def test_a_cached_summary_is_served_until_new_data_comes_in(
    cast, client, data, cached, computed, django_capture_on_commit_callbacks
):
    with time_machine.travel(world.TODAY, tick=False):
        with CaptureQueriesContext(connection) as miss:
            first = summary(client, cast.executive)
        with CaptureQueriesContext(connection) as hit:
            second = summary(client, cast.executive)
        assert computed == ["executive"]  # the second was served from the cache
        assert second.html == first.html

        def reads_rollups(queries) -> bool:
            return any("contacts_contactrollup" in q["sql"] for q in queries.captured_queries)

        assert reads_rollups(miss) and not reads_rollups(hit)
        with django_capture_on_commit_callbacks(execute=True):
            result = contacts_ingest(
                rows=[
                    {
                        "source": "summary-cache", "external_id": "new-1", "channel": "phone",
                        "occurred_at": "2026-11-20T15:00:00+00:00", "reason": "Outage",
                        "team": cast.team_b.name,
                    }
                ]
            )  # fmt: skip
        assert not result.rejected, result.rejected
        third = summary(client, cast.executive)
    assert computed == ["executive", "executive"]  # the data version moved
    assert contacts_shown(third) == contacts_shown(first) + 1


def test_a_cached_summary_is_never_older_than_a_minute(cast, client, data, cached, computed):
    with time_machine.travel(world.TODAY, tick=False) as clock:
        summary(client, cast.executive)
        clock.shift(timedelta(seconds=60))
        summary(client, cast.executive)
        assert computed == ["executive"]
        clock.shift(timedelta(seconds=1))
        summary(client, cast.executive)
    assert computed == ["executive", "executive"]


def test_viewers_share_a_cached_summary_only_with_the_same_scope(
    cast, client, data, cached, computed, settings
):
    member = UserFactory(username="member", role=Role.MANAGER, department=cast.dept_a)
    with time_machine.travel(world.TODAY, tick=False):
        shown = {
            user.username: contacts_shown(summary(client, user))
            for user in (cast.executive, cast.admin, cast.manager, member, cast.other_manager)
        }
    # The admin sees what the executive sees, the member of department A what its head sees.
    assert computed == ["executive", "manager", "other_manager"]
    assert shown["admin"] == shown["executive"] and shown["member"] == shown["manager"]
    assert len({shown["executive"], shown["manager"], shown["other_manager"]}) == 3
    settings.VOC_DASHBOARD_CACHE = False
    with time_machine.travel(world.TODAY, tick=False):
        summary(client, cast.executive)
    assert computed[-1] == "executive" and len(computed) == 4  # the setting turns it off
