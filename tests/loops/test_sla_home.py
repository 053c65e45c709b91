"""Loops' home widgets, per role and exactly: a manager's SLA breaches in their departments and
fix notices to approve, and the escalations that reached anyone (an executive sponsor above
all). ``deputy`` is a manager of department A who does not head it."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from loops.models import Clock, Escalation, FixNotice, FollowUp, Issue
from tests.factories import CustomerFactory, UserFactory
from tests.loops.world import contact_of, open_issue
from voc.people.roles import Role

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)
HOME = reverse("home")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def deputy(cast):
    return UserFactory(username="deputy", role=Role.MANAGER, department=cast.dept_a)


def issue(cast, title, *, response_due=None, resolution_due=None, responded=False, **kw) -> Issue:
    """An issue whose clocks are set exactly (hours from NOW; None: no clock)."""
    made = open_issue(cast, title=title, **kw)
    Issue.objects.filter(pk=made.pk).update(
        response_due_at=NOW + timedelta(hours=response_due) if response_due is not None else None,
        responded_at=NOW - timedelta(hours=30) if responded else None,
        resolution_due_at=(
            NOW + timedelta(hours=resolution_due) if resolution_due is not None else None
        ),
    )
    made.refresh_from_db()
    return made


def widget(response, key: str):
    """The rendered widget with this key, or None when the page leaves it out."""
    return next((w for w in response.context["widgets"] if w.key == key), None)


def rows(client, user, key: str, attribute: str) -> list[int] | None:
    """The ids a widget lists for ``user``, in order; None when the widget is not shown."""
    client.force_login(user)
    response = client.get(HOME)
    assert response.status_code == 200
    shown = widget(response, key)
    if shown is None:
        return None
    html = str(shown.html)
    ids, marker = [], f'{attribute}="'
    for part in html.split(marker)[1:]:
        ids.append(int(part.split('"', 1)[0]))
    return ids


# --- SLA breaches in my departments ----------------------------------------------------------


@pytest.fixture
def breaches(cast, deputy):
    a = cast.dept_a
    return {
        # Response clock missed two hours ago; the head owns it.
        "a_response": issue(cast, "<b>Charged</b> twice", department=a, owner=cast.manager,
                            response_due=-2),
        # Answered, resolution missed an hour ago; the deputy owns it.
        "a_resolution": issue(cast, "Refund slow", department=a, owner=deputy, responded=True,
                              response_due=-40, resolution_due=-1),
        # Due exactly now: not yet overdue (one second past is).
        "a_at_deadline": issue(cast, "At the deadline", department=a, response_due=0),
        "a_soon": issue(cast, "Due soon", department=a, response_due=2),
        "a_wont_fix": issue(cast, "Won't fix", department=a, response_due=-5),
        "b": issue(cast, "Outage", department=cast.dept_b, by=cast.other_manager,
                   response_due=-3),
        # No department: in the owner's "Issues due", in nobody's department breaches.
        "none": issue(cast, "Everyone's", owner=cast.manager, response_due=-4),
    }  # fmt: skip


@pytest.fixture
def breach_world(breaches):
    Issue.objects.filter(pk=breaches["a_wont_fix"].pk).update(
        status=Issue.Status.WONT_FIX, wont_fix_reason="Cheaper to live with"
    )
    return breaches


def test_each_manager_sees_exactly_the_breaches_of_the_departments_they_own(
    client, cast, deputy, breach_world
):
    a = [breach_world["a_response"].pk, breach_world["a_resolution"].pk]  # longest overdue first
    assert rows(client, cast.manager, "loops.sla_breaches", "data-issue") == a
    # The deputy belongs to department A: its rows are theirs (the board's rule), whoever owns.
    assert rows(client, deputy, "loops.sla_breaches", "data-issue") == a
    assert rows(client, cast.other_manager, "loops.sla_breaches", "data-issue") == [
        breach_world["b"].pk
    ]
    lone = UserFactory(username="lone", role=Role.MANAGER, department=None)
    assert rows(client, lone, "loops.sla_breaches", "data-issue") is None
    for role in ("rep", "executive", "admin"):
        assert rows(client, getattr(cast, role), "loops.sla_breaches", "data-issue") is None


def test_the_breach_widget_counts_says_which_clock_and_escapes_titles(
    client, cast, deputy, breach_world
):
    client.force_login(cast.manager)
    html = str(widget(client.get(HOME), "loops.sla_breaches").html)
    assert '<strong data-testid="breach-count">2</strong>' in html
    assert "&lt;b&gt;Charged&lt;/b&gt; twice" in html and "<b>Charged</b>" not in html
    assert "response overdue since Mon 9 Nov, 10:00" in html
    assert "resolution overdue since Mon 9 Nov, 11:00" in html
    assert "yours" in html and deputy.get_full_name() in html


def test_the_breach_widget_counts_past_the_listed_ten(client, cast, breach_world):
    for n in range(10):
        issue(cast, f"More {n}", department=cast.dept_a, response_due=-(10 + n))
    client.force_login(cast.manager)
    html = str(widget(client.get(HOME), "loops.sla_breaches").html)
    assert '<strong data-testid="breach-count">12</strong>' in html
    assert html.count('data-testid="home-breach"') == 10


def test_the_breach_widget_queries_do_not_grow_with_its_rows(client, cast, breach_world):
    """Prevents an N+1 over the listed issues' owners and departments."""
    client.force_login(cast.manager)
    with CaptureQueriesContext(connection) as two:
        client.get(HOME)
    for n in range(3):
        owner = UserFactory(username=f"owner{n}", role=Role.MANAGER, department=cast.dept_a)
        issue(cast, f"More {n}", department=cast.dept_a, owner=owner, response_due=-(10 + n))
    with CaptureQueriesContext(connection) as five:
        html = str(widget(client.get(HOME), "loops.sla_breaches").html)
    assert '<strong data-testid="breach-count">5</strong>' in html
    assert len(five) == len(two)


# --- Escalated to me -----------------------------------------------------------------------


def escalate(*, notified, level, at_hours, issue=None, follow_up=None, clock=Clock.RESOLUTION):
    return Escalation.objects.create(
        issue=issue,
        follow_up=follow_up,
        clock=clock if issue else Clock.FOLLOW_UP,
        level=level,
        notified=notified,
        due_at=NOW - timedelta(days=3),
        at=NOW - timedelta(hours=at_hours),
    )


@pytest.fixture
def escalations(cast, deputy):
    sponsored = issue(cast, "Refunds <i>fail</i>", department=cast.dept_a, sponsor=cast.executive,
                      responded=True, resolution_due=-72)  # fmt: skip
    fixed = issue(cast, "Fixed since", department=cast.dept_a, sponsor=cast.executive,
                  responded=True, resolution_due=-72)  # fmt: skip
    answered = issue(cast, "Answered since", department=cast.dept_b, sponsor=cast.executive,
                     responded=True, resolution_due=10)  # fmt: skip
    Issue.objects.filter(pk=fixed.pk).update(fixed_at=NOW - timedelta(hours=1))
    customer = CustomerFactory(name="Zoë <b>O'Brien</b>")
    open_call = FollowUp.objects.create(
        trigger=FollowUp.Trigger.COMPLAINT_CONTACT, contact=contact_of(cast.team_a),
        customer=customer, assignee=deputy, team=cast.team_a, department=cast.dept_a,
        due_at=NOW - timedelta(days=3),
    )  # fmt: skip
    done_call = FollowUp.objects.create(
        trigger=FollowUp.Trigger.COMPLAINT_CONTACT, contact=contact_of(cast.team_a),
        assignee=deputy, team=cast.team_a, department=cast.dept_a,
        due_at=NOW - timedelta(days=3), status=FollowUp.Status.DONE,
    )  # fmt: skip
    return {
        # Two steps of one clock reached the executive (owner and manager missing): one row.
        "sponsored_2": escalate(notified=cast.executive, level=2, at_hours=30, issue=sponsored),
        "sponsored_3": escalate(notified=cast.executive, level=3, at_hours=5, issue=sponsored),
        "fixed": escalate(notified=cast.executive, level=3, at_hours=1, issue=fixed),
        # The response clock stopped when it was answered: no longer standing.
        "answered": escalate(
            notified=cast.executive, level=3, at_hours=2, issue=answered, clock=Clock.RESPONSE
        ),
        "to_head": escalate(notified=cast.manager, level=2, at_hours=3, follow_up=open_call),
        "done_call": escalate(notified=cast.manager, level=2, at_hours=4, follow_up=done_call),
        "to_deputy": escalate(notified=deputy, level=1, at_hours=6, follow_up=open_call),
    }


def test_each_person_sees_exactly_the_escalations_that_reached_them_and_still_stand(
    client, cast, deputy, escalations
):
    e = escalations
    key, attribute = "loops.escalations", "data-escalation"
    assert rows(client, cast.executive, key, attribute) == [e["sponsored_3"].pk]
    assert rows(client, cast.manager, key, attribute) == [e["to_head"].pk]
    assert rows(client, deputy, key, attribute) == [e["to_deputy"].pk]
    for role in ("other_manager", "rep", "admin"):
        assert rows(client, getattr(cast, role), key, attribute) is None


def test_the_escalation_widget_links_and_escapes(client, cast, escalations):
    client.force_login(cast.executive)
    html = str(widget(client.get(HOME), "loops.escalations").html)
    sponsored = escalations["sponsored_3"].issue
    assert reverse("loops:issue-detail", args=[sponsored.pk]) in html
    assert f"#{sponsored.pk} Refunds &lt;i&gt;fail&lt;/i&gt;" in html and "<i>fail" not in html
    assert "resolution deadline missed Fri 6 Nov, 12:00" in html and "(level 3)" in html
    client.force_login(cast.manager)
    html = str(widget(client.get(HOME), "loops.escalations").html)
    follow_up = escalations["to_head"].follow_up
    assert reverse("loops:follow-up-detail", args=[follow_up.pk]) in html
    assert "Zoë &lt;b&gt;O&#x27;Brien&lt;/b&gt;" in html


def test_an_escalation_leaves_the_list_when_the_issue_is_fixed(client, cast, escalations):
    Issue.objects.filter(pk=escalations["sponsored_3"].issue_id).update(fixed_at=NOW)
    assert rows(client, cast.executive, "loops.escalations", "data-escalation") is None


# --- Fix notices to approve ------------------------------------------------------------------


def draft(issue: Issue, subject: str, *, hours_ago: int, status=FixNotice.Status.DRAFT):
    return FixNotice.objects.create(
        issue=issue,
        subject=subject,
        body="We fixed it.",
        status=status,
        created_at=NOW - timedelta(hours=hours_ago),
    )


def test_a_draft_waits_for_its_owner_or_department_head_only(client, cast, deputy):
    headed = issue(cast, "Head's", department=cast.dept_a, owner=cast.manager)
    deputys = issue(cast, "Deputy's", department=cast.dept_a, owner=deputy)
    b = issue(cast, "B's", department=cast.dept_b, by=cast.other_manager)
    n_head = draft(headed, "Fixed: <b>charges</b>", hours_ago=5)
    n_deputy = draft(deputys, "Fixed: refunds", hours_ago=3)
    draft(headed, "Already approved", hours_ago=9, status=FixNotice.Status.APPROVED)
    n_b = draft(b, "Fixed: outage", hours_ago=1)
    key, attribute = "loops.notices_to_approve", "data-notice"
    assert rows(client, cast.manager, key, attribute) == [n_head.pk, n_deputy.pk]
    # The deputy belongs to department A without heading it: only their own issue's notice.
    assert rows(client, deputy, key, attribute) == [n_deputy.pk]
    assert rows(client, cast.other_manager, key, attribute) == [n_b.pk]
    for role in ("rep", "executive", "admin"):
        assert rows(client, getattr(cast, role), key, attribute) is None
    client.force_login(cast.manager)
    html = str(widget(client.get(HOME), key).html)
    assert '<strong data-testid="approve-count">2</strong>' in html
    assert "Fixed: &lt;b&gt;charges&lt;/b&gt;" in html
    assert reverse("loops:notice-detail", args=[n_head.pk]) in html


def test_an_ageing_code_red_says_for_how_long_on_both_manager_widgets(client, cast):
    """ "Code red for 90 days" on the home page, as on the board and the issue: a code red or
    high issue a day old or more; younger ones and other severities say nothing."""

    def breached(title, severity, opened_days_ago):
        made = issue(
            cast,
            title,
            department=cast.dept_a,
            owner=cast.manager,
            response_due=-1,
            severity=severity,
        )
        Issue.objects.filter(pk=made.pk).update(created_at=NOW - timedelta(days=opened_days_ago))
        return made

    breached("Ninety days red", "code_red", 90)
    breached("Red since this morning", "code_red", 0)
    breached("High for a day", "high", 1)
    breached("Medium and old", "medium", 200)
    client.force_login(cast.manager)
    response = client.get(HOME)
    for key in ("loops.sla_breaches", "loops.issues_due"):
        html = str(widget(response, key).html)
        items = {
            part.split("</a>")[0].rsplit(">", 1)[1].split(" ", 1)[1]: part.split("</li>")[0]
            for part in html.split("<li")[1:]
        }
        ageing = {
            title: item.split('data-testid="home-ageing">')[1].split("<")[0]
            for title, item in items.items()
            if 'data-testid="home-ageing"' in item
        }
        assert ageing == {
            "Ninety days red": "Code red for 90 days",
            "High for a day": "High for 1 day",
        }, key
        assert set(items) == {
            "Ninety days red",
            "Red since this morning",
            "High for a day",
            "Medium and old",
        }, key
