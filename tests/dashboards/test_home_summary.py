"""The dashboard's summary on the home page: for those who see the dashboard, this month's
figures in their own scope; not for reps."""

import pytest
import time_machine
from django.urls import reverse

from tests.dashboards import world

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
