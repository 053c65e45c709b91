"""The survey report: exact figures per channel and in total, refusals by reason, the period,
each role's scope, and "customers asked more than once in 30 days"."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from contacts.models import BudgetRefusal
from feedback.models import FeedbackItem, SurveyInvitation
from feedback.surveys.selectors import survey_report
from tests.factories import CustomerFactory, UserFactory
from tests.feedback.surveys_common import T0, closed_contact
from voc.people.roles import Role

pytestmark = pytest.mark.django_db
NOW = T0 + timedelta(days=1)


def invite(contact, *, days_ago=2, answered=False, customer=None):
    sent = NOW - timedelta(days=days_ago)
    item = None
    if answered:
        item = FeedbackItem.objects.create(
            kind="nps", score=9, source="survey", received_at=sent, contact=contact
        )
    return SurveyInvitation.objects.create(
        contact=contact,
        customer=customer or contact.customer,
        scale="nps",
        channel=contact.channel,
        sent_at=sent,
        expires_at=sent + timedelta(days=14),
        answered_at=sent + timedelta(hours=1) if answered else None,
        answer=item,
    )


def refuse(contact, reason, days_ago=1):
    BudgetRefusal.objects.create(
        customer=contact.customer, purpose="survey", key=f"contact:{contact.id}", reason=reason,
        at=NOW - timedelta(days=days_ago), actor_name="survey-invitations",
    )  # fmt: skip


@pytest.fixture
def surveys(cast):
    a = lambda channel="phone": closed_contact(channel=channel, team=cast.team_a)  # noqa: E731
    b = lambda channel="chat": closed_contact(channel=channel, team=cast.team_b)  # noqa: E731
    invite(a(), answered=True)
    invite(a(), answered=True)
    invite(a())
    invite(a(), days_ago=40)  # outside the 30 days
    invite(b())
    refuse(a(), "cool_down")
    refuse(a(), "cool_down", days_ago=45)  # outside
    refuse(b(), "opted_out")
    refuse(b("email"), "contact_open")
    # Another purpose's refusal is not a survey's.
    BudgetRefusal.objects.create(
        customer=CustomerFactory(), purpose="outreach", reason="cool_down", at=NOW,
        actor_name="x",
    )  # fmt: skip


def report_for(viewer, days=30):
    return survey_report(viewer=viewer, since=NOW - timedelta(days=days), until=NOW)


def figures(report):
    return {
        c.channel: (c.sent, c.answered, c.response_rate, c.refused, c.refusals)
        for c in report.channels
    }


def test_the_figures_are_exact(cast, surveys):
    report = report_for(cast.executive)
    assert figures(report) == {
        "phone": (3, 2, 66.7, 1, {"cool_down": 1}),
        "email": (0, 0, None, 1, {"contact_open": 1}),
        "chat": (1, 0, 0.0, 1, {"opted_out": 1}),
    }
    assert [c.channel for c in report.channels] == ["phone", "email", "chat"]
    total = report.total
    assert (total.sent, total.answered, total.response_rate, total.refused) == (4, 2, 50.0, 3)
    assert report.reasons == [
        ("opted_out", "Opted out"),
        ("cool_down", "Within the cool-down"),
        ("contact_open", "A contact is still open"),
    ]
    assert total.cells == [1, 1, 1]
    assert (report.customers_invited, report.customers_asked_twice) == (4, 0)
    longer = report_for(cast.executive, days=90)
    assert (longer.total.sent, longer.total.refused) == (5, 4)


def test_each_role_sees_its_scope(cast, surveys):
    assert figures(report_for(cast.admin)) == figures(report_for(cast.executive))
    assert figures(report_for(cast.manager)) == {"phone": (3, 2, 66.7, 1, {"cool_down": 1})}
    assert figures(report_for(cast.other_manager)) == {
        "email": (0, 0, None, 1, {"contact_open": 1}),
        "chat": (1, 0, 0.0, 1, {"opted_out": 1}),
    }
    # A manager who does not head their department still owns its rows (the contacts rule).
    heads_nothing = UserFactory(role=Role.MANAGER, department=cast.dept_a)
    assert figures(report_for(heads_nothing)) == figures(report_for(cast.manager))
    no_department = UserFactory(role=Role.MANAGER)
    assert figures(report_for(no_department)) == {}


def test_customers_asked_twice_are_counted_from_the_invitations(cast):
    customer = CustomerFactory()
    invite(closed_contact(customer), days_ago=15)
    invite(closed_contact(customer), days_ago=5)  # 10 days later: should never happen
    other = CustomerFactory()
    invite(closed_contact(other), days_ago=40)
    invite(closed_contact(other), days_ago=10)  # exactly 30 days later: allowed
    invite(closed_contact(), days_ago=3)
    report = report_for(cast.executive)
    assert (report.customers_invited, report.customers_asked_twice) == (3, 1)
    assert report.asked_twice_share == 33.33


def test_the_report_page(client, cast, surveys):
    client.force_login(cast.executive)
    with time_machine.travel(NOW, tick=False):
        response = client.get(reverse("feedback:surveys:report"))
        html = response.content.decode()
        assert response.status_code == 200
        assert 'data-testid="total-sent">4<' in html
        assert 'data-testid="total-answered">2<' in html
        assert 'data-testid="total-rate">50.0 %<' in html
        assert 'data-testid="total-refused">3<' in html
        assert 'data-testid="asked-twice-share">0.0 %<' in html
        longer = client.get(reverse("feedback:surveys:report"), {"days": "90"}).content.decode()
        assert 'data-testid="total-sent">5<' in longer
        # Anything but the offered periods falls back to 30 days.
        odd = client.get(reverse("feedback:surveys:report"), {"days": "-1"})
        assert 'data-testid="total-sent">4<' in odd.content.decode()
    client.force_login(cast.rep)
    assert client.get(reverse("feedback:surveys:report")).status_code == 403


def test_the_home_widget_links_the_report(client, cast, surveys):
    client.force_login(cast.manager)
    with time_machine.travel(NOW, tick=False):
        html = client.get(reverse("home")).content.decode()
    assert 'data-testid="home-surveys"' in html
    assert reverse("feedback:surveys:report") in html
    client.force_login(cast.rep)
    assert 'data-testid="home-surveys"' not in client.get(reverse("home")).content.decode()
