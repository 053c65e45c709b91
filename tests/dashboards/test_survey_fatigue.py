"""Survey fatigue: customers asked twice within 30 days (at exactly 30 days they may be asked
again), counted across teams and channels, within the viewer's scope."""

from datetime import UTC, date, datetime, timedelta

import pytest

from contacts.models import Contact
from feedback.models import SurveyInvitation
from tests.factories import CustomerFactory
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
