"""The rep's "Callbacks I promised" home widget (contacts.callbacks): their own callback
promises not yet kept, due within the follow-up callback time, exactly, per role."""

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.callbacks import callbacks_promised
from contacts.models import Contact
from tests.factories import CustomerFactory, UserFactory
from voc.people.roles import Role

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)
HOME = reverse("home")
_numbers = count(1)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def contact(*, rep, team, customer, hours_ago, outcome="callback", channel="phone", set_ago=None):
    return Contact.objects.create(
        source="test",
        external_id=f"cb-{next(_numbers)}",
        channel=channel,
        occurred_at=NOW - timedelta(hours=hours_ago),
        outcome_set_at=NOW - timedelta(hours=set_ago) if set_ago is not None else None,
        rep=rep,
        team=team,
        customer=customer,
        outcome=outcome,
        subject=f"Subject {next(_numbers)}",
    )


@pytest.fixture
def promises(cast):
    rep, team = cast.rep, cast.team_a
    ada = CustomerFactory(name="<b>Ada</b>")
    kept = CustomerFactory(name="Kept")
    early = CustomerFactory(name="Early")
    hung_up = CustomerFactory(name="Hung up")
    world = {
        # Promised 50 hours ago: overdue (48 hours by default).
        "overdue": contact(rep=rep, team=team, customer=ada, hours_ago=50),
        # An email answered with a promise an hour ago (outcome set then): due in 47 hours.
        "fresh": contact(
            rep=rep,
            team=team,
            customer=CustomerFactory(name="Fresh"),
            hours_ago=30,
            channel="email",
            set_ago=1,
        ),
        "kept": contact(rep=rep, team=team, customer=kept, hours_ago=20),
        "early": contact(rep=rep, team=team, customer=early, hours_ago=10),
        "hung_up": contact(rep=rep, team=team, customer=hung_up, hours_ago=5),
        "no_customer": contact(rep=rep, team=team, customer=None, hours_ago=4),
        "resolved": contact(
            rep=rep, team=team, customer=CustomerFactory(), hours_ago=3, outcome="resolved"
        ),
        "teammate": contact(rep=cast.teammate, team=team, customer=CustomerFactory(), hours_ago=2),
    }
    # Someone called the customer after the promise (another rep, inbound or out): kept.
    contact(rep=cast.teammate, team=team, customer=kept, hours_ago=19, outcome="resolved")
    # A call before the promise does not keep it; a call the customer hung up on does not.
    contact(rep=cast.teammate, team=team, customer=early, hours_ago=11, outcome="resolved")
    contact(rep=None, team=team, customer=hung_up, hours_ago=4, outcome="abandoned")
    return world


def listed(client, user) -> list[int] | None:
    client.force_login(user)
    response = client.get(HOME)
    assert response.status_code == 200
    shown = next((w for w in response.context["widgets"] if w.key == "contacts.callbacks"), None)
    if shown is None:
        return None
    return [int(p.split('"', 1)[0]) for p in str(shown.html).split('data-contact="')[1:]]


def test_a_rep_sees_exactly_their_own_promises_not_yet_kept_oldest_first(client, cast, promises):
    p = promises
    assert listed(client, cast.rep) == [
        p["overdue"].pk, p["early"].pk, p["hung_up"].pk, p["fresh"].pk
    ]  # fmt: skip
    assert listed(client, cast.teammate) == [p["teammate"].pk]
    for role in ("outsider", "manager", "other_manager", "executive", "admin"):
        assert listed(client, getattr(cast, role)) is None


def test_the_list_agrees_with_a_direct_count(cast, promises):
    assert callbacks_promised(viewer=cast.rep).count() == 4


def test_a_rep_moved_to_another_team_no_longer_sees_the_old_teams_promises(client, cast, promises):
    cast.rep.team = cast.team_b
    cast.rep.save()
    assert listed(client, cast.rep) is None


def test_a_manager_sees_the_promises_they_made_themselves(client, cast):
    theirs = contact(rep=cast.manager, team=cast.team_a, customer=CustomerFactory(), hours_ago=1)
    assert listed(client, cast.manager) == [theirs.pk]
    lone = UserFactory(username="lone", role=Role.MANAGER, department=None)
    contact(rep=lone, team=cast.team_b, customer=CustomerFactory(), hours_ago=1)
    assert listed(client, lone) is None  # no longer in their scope: not their worklist


def test_the_widget_says_due_or_overdue_and_escapes_the_customer(client, cast, promises):
    client.force_login(cast.rep)
    response = client.get(HOME)
    html = str(next(w for w in response.context["widgets"] if w.key == "contacts.callbacks").html)
    assert '<strong data-testid="callback-count">4</strong>' in html
    assert "overdue since Mon 9 Nov, 10:00" in html  # promised 50 h ago, due 48 h after
    assert "due Wed 11 Nov, 11:00" in html  # promised an hour ago
    assert "&lt;b&gt;Ada&lt;/b&gt;" in html and "<b>Ada</b>" not in html


def test_the_home_page_queries_do_not_grow_with_the_promises(client, cast, promises):
    """Prevents an N+1 over the listed contacts' customers and reasons."""
    client.force_login(cast.rep)
    with CaptureQueriesContext(connection) as four:
        client.get(HOME)
    for hours in (6, 7):
        contact(rep=cast.rep, team=cast.team_a, customer=CustomerFactory(), hours_ago=hours)
    with CaptureQueriesContext(connection) as six:
        client.get(HOME)
    assert len(six) == len(four)
