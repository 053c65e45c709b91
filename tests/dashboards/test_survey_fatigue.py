"""Survey fatigue: customers asked twice within 30 days (at exactly 30 days they may be asked
again), counted across teams and channels, within the viewer's scope; a cached figure gives
way as soon as the invitation job has invited someone."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.cache import cache
from django.urls import reverse

from contacts.models import Contact
from feedback.models import SurveyInvitation
from tests.factories import CustomerFactory
from tests.feedback.surveys_common import T0, closed_contact, run_job, setting
from voc.dashboards.filters import CUSTOM, DashboardFilters
from voc.dashboards.panels import survey_fatigue_panel

pytestmark = pytest.mark.django_db

PERIOD = DashboardFilters(period=CUSTOM, start=date(2026, 11, 1), end=date(2026, 11, 30))
T = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
_numbers = iter(range(1, 10_000))


def invite(customer, team, at, *, channel="phone", segment="consumer"):
    contact = Contact.objects.create(
        source="fatigue", external_id=str(next(_numbers)), channel=channel, occurred_at=at,
        team=team, customer=customer, customer_segment=segment,
    )  # fmt: skip
    return SurveyInvitation.objects.create(
        contact=contact, customer=customer, scale="nps", channel=channel, sent_at=at,
        expires_at=at + timedelta(days=7),
    )  # fmt: skip


@pytest.fixture
def invitations(cast):
    twice, exactly_30, across_teams, once = (CustomerFactory() for _ in range(4))
    invite(twice, cast.team_a, T - timedelta(days=30) + timedelta(seconds=1))
    invite(twice, cast.team_a, T)
    invite(exactly_30, cast.team_a, T - timedelta(days=30))
    invite(exactly_30, cast.team_a, T)
    invite(across_teams, cast.team_b, T - timedelta(days=3), channel="email")
    invite(across_teams, cast.team_a, T)
    invite(once, cast.team_b, T, segment="enterprise")


def fatigue(viewer, **filters):
    result = survey_fatigue_panel(viewer, DashboardFilters(**{**PERIOD.__dict__, **filters}))
    return result["fatigue"].invited, result["fatigue"].asked_twice


def test_asked_twice_counts_less_than_30_days_apart_across_teams(cast, invitations):
    assert fatigue(cast.executive) == (4, 2)


def test_filters_narrow_the_invitations_in_the_period_not_the_earlier_ones(cast, invitations):
    assert fatigue(cast.executive, team_id=cast.team_a.id) == (3, 2)
    assert fatigue(cast.executive, channel="email") == (1, 0)  # the email one was the first
    assert fatigue(cast.executive, segment="enterprise") == (1, 0)


def test_each_viewer_counts_the_invitations_of_their_scope(cast, invitations):
    assert fatigue(cast.manager) == (3, 2)  # team A's
    assert fatigue(cast.other_manager) == (2, 0)  # team B's: the across-teams first, "once"
    assert fatigue(cast.outsider) == (2, 0)


@pytest.fixture
def cached(settings):
    settings.VOC_DASHBOARD_CACHE = True
    cache.clear()
    yield
    cache.clear()


def test_the_cached_figure_gives_way_to_new_invitations_at_once(
    cast, client, invitations, cached, django_capture_on_commit_callbacks
):
    client.force_login(cast.executive)
    url = reverse("dashboards:panel", args=["survey-fatigue"])

    def shown():
        response = client.get(url, PERIOD.params(), headers={"HX-Request": "true"})
        fatigue = response.context["fatigue"]
        return fatigue.invited, fatigue.asked_twice

    assert shown() == (4, 2)
    setting("survey_share_percent", 100)
    contact = closed_contact(
        CustomerFactory(), closed_at=T0 - timedelta(hours=1), team=cast.team_a
    )  # a new customer, invited on 10 November
    with django_capture_on_commit_callbacks(execute=True):
        assert run_job().invited == 1
    assert SurveyInvitation.objects.filter(contact=contact).exists()
    assert shown() == (5, 2)  # well within the cache's 60 s
