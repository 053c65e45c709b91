"""Email ping-pong against the database: the set-based selector agrees with the rule, each
role's worklist holds exactly the threads its scope allows, the contact page says "call the
customer" with the number to the people who log calls, and both go once a call is logged or the
contact is resolved. Customer text is escaped; the queries do not grow with the rows."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import Contact, ContactReason, Customer, Message
from contacts.pingpong import (
    ThreadFacts,
    last_call_at,
    needs_call,
    threads_needing_call,
)
from contacts.selectors import email_threads_needing_call
from tests.factories import CustomerFactory, UserFactory
from voc.people.roles import Role

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
IN, OUT = Message.Direction.INCOMING, Message.Direction.OUTGOING


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


_ids = iter(range(1, 10_000))


def thread(
    *,
    team,
    reason=None,
    customer=None,
    directions=(IN, OUT, IN, OUT, IN),
    start=NOW - 3 * HOUR,
    channel="email",
    outcome="",
    dated=True,
    subject="",
) -> Contact:
    """An email contact (by default) whose messages come ten minutes apart after ``start``;
    its customer has a phone unless one is given."""
    n = next(_ids)
    contact = Contact.objects.create(
        source="test",
        external_id=f"t-{n}",
        channel=channel,
        occurred_at=start,
        team=team,
        reason=reason,
        customer=customer if customer is not None else CustomerFactory(phone=f"+1555000{n:04d}"),
        outcome=outcome,
        subject=subject or f"Thread {n}",
        # As the write paths keep it (messages made directly here, not appended).
        customer_messages=sum(direction == IN for direction in directions),
    )
    for position, direction in enumerate(directions, start=1):
        Message.objects.create(
            contact=contact,
            external_id=f"m-{position}",
            position=position,
            direction=direction,
            sent_at=start + position * timedelta(minutes=10) if dated else None,
            text=f"message {position}",
        )
    return contact


def third_at(contact: Contact) -> datetime:
    return contact.messages.filter(direction=IN).order_by("position")[2].sent_at


def call(customer, *, at, outcome="", direction="outbound", channel="phone") -> Contact:
    return Contact.objects.create(
        source="test",
        external_id=f"call-{next(_ids)}",
        channel=channel,
        direction=direction,
        occurred_at=at,
        customer=customer,
        outcome=outcome,
    )


def rule_says(contact: Contact) -> bool:
    contact = Contact.objects.select_related("customer").get(id=contact.id)
    facts = ThreadFacts.for_contact(
        contact,
        messages=list(contact.messages.all()),
        last_call_at=last_call_at(customer_id=contact.customer_id),
    )
    return needs_call(facts) is not None


def test_the_selector_agrees_with_the_rule_at_every_boundary(cast):
    team = cast.team_a
    expected = {
        "two customer messages among five": (thread(team=team, directions=(IN, OUT, OUT, IN, OUT)), False),
        "three customer messages": (thread(team=team), True),
        "three, undated": (thread(team=team, dated=False), True),
        "resolved": (thread(team=team, outcome="resolved"), False),
        "escalated": (thread(team=team, outcome="escalated"), True),
        "a chat": (thread(team=team, channel="chat"), False),
    }  # fmt: skip
    no_customer = thread(team=team)
    Contact.objects.filter(id=no_customer.id).update(customer=None)
    expected["no customer"] = (no_customer, False)
    erased = thread(team=team)
    Customer.objects.filter(id=erased.customer_id).update(erased_at=NOW)
    expected["erased customer"] = (erased, False)

    for name, when, outcome, direction, channel, listed in [
        ("called at the third", 0, "", "outbound", "phone", False),
        ("the customer rang after", HOUR, "resolved", "inbound", "phone", False),
        ("called a minute before", -60, "", "outbound", "phone", False),
        ("called a minute and a second before", -61, "", "outbound", "phone", True),
        ("an abandoned call after", HOUR, "abandoned", "inbound", "phone", True),
        ("a chat after", HOUR, "", "inbound", "chat", True),
    ]:
        contact = thread(team=team)
        at = third_at(contact) + (when if isinstance(when, timedelta) else timedelta(seconds=when))
        call(contact.customer, at=at, outcome=outcome, direction=direction, channel=channel)
        expected[name] = (contact, listed)

    undated_called = thread(team=team, dated=False)  # the third "came" with the contact
    call(undated_called.customer, at=undated_called.occurred_at)
    expected["undated, called at the contact's time"] = (undated_called, False)

    selected = set(threads_needing_call(Contact.objects.all()).values_list("id", flat=True))
    for name, (contact, listed) in expected.items():
        assert (contact.id in selected) is listed, name
        assert rule_says(contact) is listed, name


def test_the_selector_counts_customer_messages_and_dates_the_third(cast):
    contact = thread(team=cast.team_a, directions=(IN, OUT, IN, OUT, OUT, IN, IN))
    row = threads_needing_call(Contact.objects.all()).get()
    assert row.id == contact.id
    assert row.customer_messages == 4
    assert row.third_customer_message_at == contact.occurred_at + 6 * timedelta(minutes=10)


# --- each role's worklist ----------------------------------------------------------------


@pytest.fixture
def worklist(cast):
    """Threads that need a call in team A (billing), in team B (outage, owned by B's
    department) and in team B about billing (owned by A's department), plus threads that do
    not need one in team A."""
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a)
    outage = ContactReason.objects.create(name="Outage", department=cast.dept_b)
    threads = {
        "A1": thread(team=cast.team_a, reason=billing, start=NOW - 9 * HOUR),
        "A2": thread(team=cast.team_a, reason=billing, start=NOW - 8 * HOUR),
        "B1": thread(team=cast.team_b, reason=outage, start=NOW - 7 * HOUR),
        "B2": thread(team=cast.team_b, reason=billing, start=NOW - 6 * HOUR),
    }
    thread(team=cast.team_a, reason=billing, directions=(IN, OUT, IN))
    thread(team=cast.team_a, reason=billing, outcome="resolved")
    called = thread(team=cast.team_a, reason=billing)
    call(called.customer, at=NOW)
    return threads


@pytest.mark.parametrize(
    "role, expected",
    [
        ("rep", ["A1", "A2"]),
        ("teammate", ["A1", "A2"]),
        ("manager", ["A1", "A2", "B2"]),  # team A, and B's thread about A's department's reason
        ("outsider", ["B1", "B2"]),
        ("other_manager", ["B1", "B2"]),
        ("executive", ["A1", "A2", "B1", "B2"]),
        ("admin", ["A1", "A2", "B1", "B2"]),
        ("inactive", []),
    ],
)
def test_each_role_sees_the_threads_of_its_scope_longest_waiting_first(
    cast, worklist, role, expected
):
    ids = [row.id for row in email_threads_needing_call(viewer=getattr(cast, role))]
    assert ids == [worklist[key].id for key in expected]


def test_members_who_head_nothing_see_only_their_own_scope(cast, worklist):
    # A manager of department B who heads it not and leads no team: B's department and teams.
    member = UserFactory(role=Role.MANAGER, department=cast.dept_b)
    assert [r.id for r in email_threads_needing_call(viewer=member)] == [
        worklist["B1"].id,
        worklist["B2"].id,
    ]
    # A rep of department A without a team: no rows at all.
    loner = UserFactory(role=Role.REP, department=cast.dept_a)
    assert list(email_threads_needing_call(viewer=loner)) == []


def test_the_worklist_carries_the_customer_phone(cast, worklist):
    rows = {row.id: row for row in email_threads_needing_call(viewer=cast.rep)}
    a1 = worklist["A1"]
    assert rows[a1.id].customer_phone == a1.customer.phone != ""


def test_the_selector_reads_one_query_whatever_it_holds(cast, worklist, django_assert_num_queries):
    """Prevents an N+1 over the threads' messages, calls, customers and teams."""
    for _ in range(5):
        thread(team=cast.team_a)
    with django_assert_num_queries(1):
        rows = list(email_threads_needing_call(viewer=cast.rep).select_related("customer", "team"))
        assert len(rows) == 7
        assert all(row.customer.name and row.team.name and row.customer_phone for row in rows)


# --- the home page widget ------------------------------------------------------------------


def widget_keys(response) -> list[str]:
    return [w.key for w in response.context["widgets"]]


@pytest.mark.parametrize(
    "role, count",
    [("rep", 2), ("manager", 3), ("outsider", 2), ("other_manager", 2), ("admin", 4)],
)
def test_the_worklist_widget_is_on_the_home_page_of_those_who_call(
    client, cast, worklist, role, count
):
    client.force_login(getattr(cast, role))
    response = client.get(reverse("home"))
    assert "contacts.calls" in widget_keys(response)
    page = response.content.decode()
    assert f'<strong data-testid="call-count">{count}</strong>' in page
    assert page.count('data-testid="call-phone"') == count


def test_executives_do_not_get_the_worklist(client, cast, worklist):
    client.force_login(cast.executive)
    assert "contacts.calls" not in widget_keys(client.get(reverse("home")))


def test_the_widget_is_left_out_when_nobody_needs_a_call(client, cast, worklist):
    client.force_login(cast.outsider)
    for key in ("B1", "B2"):
        call(worklist[key].customer, at=NOW)
    assert "contacts.calls" not in widget_keys(client.get(reverse("home")))


def test_the_widget_lists_ten_and_counts_them_all(client, cast, worklist):
    for _ in range(10):
        thread(team=cast.team_a)
    client.force_login(cast.rep)
    page = client.get(reverse("home")).content.decode()
    assert '<strong data-testid="call-count">12</strong>' in page
    assert page.count('data-testid="call-phone"') == 10


def test_the_widget_escapes_customer_text(client, cast):
    ada = CustomerFactory(name="<b>Ada</b>", phone="+15550001111")
    thread(team=cast.team_a, customer=ada, subject="<script>alert(1)</script>")
    client.force_login(cast.rep)
    page = client.get(reverse("home")).content.decode()
    assert "&lt;b&gt;Ada&lt;/b&gt;" in page and "<b>Ada</b>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert 'href="tel:+15550001111"' in page


def test_the_home_page_queries_do_not_grow_with_the_listed_threads(client, cast, worklist):
    """Prevents an N+1 over the listed threads' customers, teams, messages and calls."""
    client.force_login(cast.manager)
    with CaptureQueriesContext(connection) as three:
        client.get(reverse("home"))
    for _ in range(4):
        thread(team=cast.team_a)
    with CaptureQueriesContext(connection) as seven:
        page = client.get(reverse("home")).content.decode()
    assert '<strong data-testid="call-count">7</strong>' in page
    assert len(seven) == len(three)


# --- the contact page ----------------------------------------------------------------------


def detail(client, contact: Contact) -> str:
    response = client.get(reverse("contacts:contact-detail", args=[contact.id]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_contact_page_tells_the_rep_to_call_with_the_number(client, cast):
    ada = CustomerFactory(name="<i>Ada</i>", phone="+15550002222")
    contact = thread(team=cast.team_a, customer=ada)
    client.force_login(cast.rep)
    page = detail(client, contact)
    assert 'data-testid="call-nudge"' in page
    assert '<a href="tel:+15550002222" data-testid="call-nudge-phone">+15550002222</a>' in page
    assert "&lt;i&gt;Ada&lt;/i&gt; has written 3 times in this thread" in page
    assert "<i>Ada</i>" not in page
    log_call = f"?customer={ada.id}&amp;channel=phone&amp;direction=outbound"
    assert log_call in page


def test_the_contact_page_says_when_no_number_is_on_file(client, cast):
    contact = thread(team=cast.team_a, customer=CustomerFactory(phone=""))
    client.force_login(cast.rep)
    page = detail(client, contact)
    assert 'data-testid="call-nudge-no-phone"' in page
    assert 'data-testid="call-nudge-phone"' not in page


def test_two_customer_messages_or_an_executive_get_no_nudge(client, cast):
    two = thread(team=cast.team_a, directions=(IN, OUT, IN, OUT))
    three = thread(team=cast.team_a)
    client.force_login(cast.rep)
    assert 'data-testid="call-nudge"' not in detail(client, two)
    client.force_login(cast.executive)  # they listen; they do not log calls
    assert 'data-testid="call-nudge"' not in detail(client, three)
    client.force_login(cast.outsider)  # outside the scope: the page itself is a 404
    response = client.get(reverse("contacts:contact-detail", args=[three.id]))
    assert response.status_code == 404


def test_logging_a_call_ends_the_nudge_on_the_page_and_the_worklist(client, cast):
    contact = thread(team=cast.team_a)
    client.force_login(cast.rep)
    assert 'data-testid="call-nudge"' in detail(client, contact)
    response = client.post(
        reverse("contacts:contact-log"),
        {
            "customer": contact.customer_id,
            "channel": "phone",
            "direction": "outbound",
            "occurred_at": "2026-11-09T12:00",
            "subject": "Called about the replacement",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert 'data-testid="call-nudge"' not in detail(client, contact)
    assert "contacts.calls" not in widget_keys(client.get(reverse("home")))


def test_resolving_the_contact_ends_the_nudge(client, cast):
    contact = thread(team=cast.team_a)
    client.force_login(cast.rep)
    response = client.post(
        reverse("contacts:contact-edit", args=[contact.id]),
        {"outcome": "resolved", "tags": "", "notes": "", "first_contact_resolution": ""},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Contact.objects.get(id=contact.id).outcome == "resolved"
    assert 'data-testid="call-nudge"' not in detail(client, contact)


def test_the_nudge_costs_the_page_one_query_and_one_more_to_show_the_number(client, cast):
    """The calls lookup, and the customer as the viewer may see them when nudging."""
    quiet = thread(team=cast.team_a, channel="chat")
    nudging = thread(team=cast.team_a)
    client.force_login(cast.rep)
    with CaptureQueriesContext(connection) as chat:
        detail(client, quiet)
    with CaptureQueriesContext(connection) as email:
        assert 'data-testid="call-nudge"' in detail(client, nudging)
    assert len(email) == len(chat) + 2
