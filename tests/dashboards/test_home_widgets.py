"""The home page lays out the widgets apps register (voc.core.home) for the viewer's role, and
contacts' repeat-contacts widget counts exactly the repeats each role may see."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import Contact, ContactReason
from tests.factories import CustomerFactory
from voc.core import home
from voc.core.capabilities import Capability
from voc.core.home import Fragment, HomeWidget, home_widgets, register_home_widget

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def widgets(monkeypatch):
    """A registry of the real widgets that a test may add to without leaking."""
    monkeypatch.setattr(home, "_widgets", dict(home._widgets))


def contact(n: int, *, team, reason, at: datetime, repeat_of=None, customer=None) -> Contact:
    return Contact.objects.create(
        source="test",
        external_id=f"c-{n}",
        channel="phone",
        occurred_at=at,
        team=team,
        reason=reason,
        repeat_of=repeat_of,
        customer=customer,
        subject=f"Contact {n}",
    )


@pytest.fixture
def repeats(cast, clock):
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a)
    outage = ContactReason.objects.create(name="Outage", department=cast.dept_b)
    ada = CustomerFactory(name="<b>Ada</b>")
    a1 = contact(1, team=cast.team_a, reason=billing, at=NOW - timedelta(days=9), customer=ada)
    # In team A: one repeat at exactly the window's start, one just before it (not counted).
    contact(
        2, team=cast.team_a, reason=billing, at=NOW - timedelta(days=7), repeat_of=a1, customer=ada
    )
    contact(
        3, team=cast.team_a, reason=billing, at=NOW - timedelta(days=7, seconds=1), repeat_of=a1
    )
    b1 = contact(4, team=cast.team_b, reason=outage, at=NOW - timedelta(days=2))
    contact(5, team=cast.team_b, reason=outage, at=NOW - timedelta(days=1), repeat_of=b1)
    contact(6, team=cast.team_b, reason=outage, at=NOW - timedelta(hours=1), repeat_of=b1)


def widget_keys(response) -> list[str]:
    return [w.key for w in response.context["widgets"]]


@pytest.mark.parametrize(
    "role, listed",
    [
        ("rep", ["Contact 2"]),
        ("teammate", ["Contact 2"]),
        ("manager", ["Contact 2"]),
        ("outsider", ["Contact 6", "Contact 5"]),
        ("other_manager", ["Contact 6", "Contact 5"]),
        ("executive", ["Contact 6", "Contact 5", "Contact 2"]),
        ("admin", ["Contact 6", "Contact 5", "Contact 2"]),
    ],
)
def test_the_repeat_widget_counts_the_repeats_each_role_may_see(
    client, cast, repeats, role, listed
):
    client.force_login(getattr(cast, role))
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "contacts.repeats" in widget_keys(response)
    page = response.content.decode()
    assert f'<strong data-testid="repeat-count">{len(listed)}</strong>' in page
    subjects = [f"Contact {n}" for n in range(1, 7)]
    assert sorted((page.index(s), s) for s in subjects if s in page) == sorted(
        (page.index(s), s) for s in listed
    )


def test_the_count_goes_past_the_listed_five(client, cast, repeats):
    first = Contact.objects.get(external_id="c-4")
    for n in range(7, 12):
        contact(n, team=cast.team_b, reason=first.reason, at=NOW, repeat_of=first)
    client.force_login(cast.outsider)
    page = client.get(reverse("home")).content.decode()
    assert '<strong data-testid="repeat-count">7</strong>' in page
    assert page.count("Contact ") == 5


def test_the_repeat_widget_lists_the_latest_and_escapes_customer_text(client, cast, repeats):
    client.force_login(cast.rep)
    page = client.get(reverse("home")).content.decode()
    assert "&lt;b&gt;Ada&lt;/b&gt;" in page
    assert "<b>Ada</b>" not in page
    assert "Contact 2" in page and "Contact 3" not in page


def test_a_widget_shows_only_to_roles_with_its_capability(client, cast, widgets):
    register_home_widget(
        HomeWidget(
            key="test.ops",
            title="Ops only",
            capability=Capability.VIEW_JOB_RUNS,
            content=lambda viewer: Fragment("core/_page_actions.html", {}),
        )
    )
    for role, shown in [("rep", False), ("manager", False), ("executive", False), ("admin", True)]:
        client.force_login(getattr(cast, role))
        assert ("test.ops" in widget_keys(client.get(reverse("home")))) is shown, role


def test_a_widget_with_nothing_to_show_is_left_out_and_order_is_kept(client, cast, widgets):
    register_home_widget(
        HomeWidget("test.empty", "Empty", Capability.VIEW_HOME, lambda viewer: None, order=1)
    )
    register_home_widget(
        HomeWidget(
            "test.first",
            "First",
            Capability.VIEW_HOME,
            lambda v: Fragment("core/_page_actions.html"),
            order=0,
        )
    )
    assert [w.key for w in home_widgets()][:2] == ["test.first", "test.empty"]
    client.force_login(cast.rep)
    # The feedback widget is always shown: it is how people reach the feedback pages.
    assert widget_keys(client.get(reverse("home"))) == [
        "test.first",
        "feedback.latest_items",
        "contacts.repeats",
    ]


def test_the_home_page_still_refuses_the_signed_out(client):
    assert client.get(reverse("home")).status_code == 302


def test_the_home_page_queries_do_not_grow_with_the_listed_repeats(client, cast, repeats):
    """Prevents an N+1 over the listed contacts' customers and reasons."""
    client.force_login(cast.outsider)
    with CaptureQueriesContext(connection) as two:
        client.get(reverse("home"))
    first = Contact.objects.get(external_id="c-4")
    for n in range(7, 9):  # four listed: still under the five that need a count
        contact(
            n,
            team=cast.team_b,
            reason=first.reason,
            at=NOW,
            repeat_of=first,
            customer=CustomerFactory(),
        )
    with CaptureQueriesContext(connection) as four:
        page = client.get(reverse("home")).content.decode()
    assert '<strong data-testid="repeat-count">4</strong>' in page
    assert len(four) == len(two)
