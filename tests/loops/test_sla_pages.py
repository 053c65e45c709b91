"""The SLA policies page and the Django admin (admins only, validated, audited), and the SLA
panel on the issue page (deadlines, state, escalations, ageing)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from loops.models import Escalation, Severity, SlaPolicy
from loops.services.issues import issue_assign, issue_edit
from loops.sla.selectors import sla_policies
from loops.sla.services import escalations_sweep, sla_policy_set
from tests.factories import UserFactory
from tests.loops.world import open_issue
from voc.core.models import AuditEntry
from voc.people.roles import Role

pytestmark = pytest.mark.django_db
URL = "/loops/sla/"


def test_the_url():
    assert reverse("loops:sla-policies") == URL


def test_defaults_show_until_an_admin_sets_a_policy():
    rows = sla_policies()
    assert [row.severity for row in rows] == ["code_red", "high", "medium", "low"]
    assert (rows[0].response_hours, rows[0].resolution_hours, rows[0].is_default) == (4, 72, True)


def test_a_policy_set_is_audited_with_before_and_after(cast):
    sla_policy_set(severity="high", response_hours=8, resolution_hours=48, by=cast.admin, why="Q1")
    policy = SlaPolicy.objects.get(severity="high")
    assert (policy.response_hours, policy.resolution_hours) == (8, 48)
    entry = AuditEntry.objects.get(action="sla.policy_set")
    assert entry.changes == {
        "severity": "high",
        "response_hours": [None, 8],
        "resolution_hours": [None, 48],
    }
    assert entry.why == "Q1" and entry.actor_id == cast.admin.pk
    sla_policy_set(severity="high", response_hours=8, resolution_hours=50, by=cast.admin)
    assert AuditEntry.objects.filter(action="sla.policy_set").latest("id").changes[
        "resolution_hours"
    ] == [48, 50]
    # The same values again: nothing recorded.
    sla_policy_set(severity="high", response_hours=8, resolution_hours=50, by=cast.admin)
    assert AuditEntry.objects.filter(action="sla.policy_set").count() == 2


@pytest.mark.parametrize(
    ("response", "resolution", "field", "message"),
    [
        (0, 10, "response_hours", "At least 1 hour."),
        (1, 0, "resolution_hours", "At least 1 hour."),
        (10, 9, "resolution_hours", "at least 10 hours"),
        ("two", 9, "response_hours", "whole number"),
        (1, 24 * 365 + 1, "resolution_hours", "At most 8760 hours"),
    ],
)
def test_invalid_hours_are_refused_with_a_clear_message(cast, response, resolution, field, message):
    with pytest.raises(ValidationError) as error:
        sla_policy_set(
            severity="low", response_hours=response, resolution_hours=resolution, by=cast.admin
        )
    assert message in " ".join(error.value.message_dict[field])
    assert not SlaPolicy.objects.exists()


def test_the_boundaries_are_accepted(cast):
    """One hour each, and a fix due exactly at the response time."""
    sla_policy_set(severity="low", response_hours=1, resolution_hours=1, by=cast.admin)
    assert SlaPolicy.objects.get().resolution_hours == 1


def test_a_new_policy_sets_the_deadlines_of_issues_opened_or_re_graded_after_it(cast):
    before = open_issue(cast, severity=Severity.HIGH)
    sla_policy_set(severity="high", response_hours=2, resolution_hours=10, by=cast.admin)
    after = open_issue(cast, severity=Severity.HIGH)
    assert after.resolution_due_at - after.created_at == timedelta(hours=10)
    before.refresh_from_db()
    assert before.resolution_due_at - before.created_at == timedelta(hours=7 * 24)
    regraded = issue_edit(issue=open_issue(cast), severity="high", by=cast.manager)
    assert regraded.response_due_at - regraded.created_at == timedelta(hours=2)


def test_the_page_saves_a_policy_for_an_admin(client, cast):
    client.force_login(cast.admin)
    page = client.get(URL).content.decode()
    assert "Code red" in page and "respond within 4 h, fix within 72 h (the default)" in page
    response = client.post(
        URL,
        {
            "severity": "code_red",
            "code_red-response_hours": "2",
            "code_red-resolution_hours": "24",
            "code_red-why": "Board decision",
        },
    )
    assert response.status_code == 302
    policy = SlaPolicy.objects.get()
    assert (policy.severity, policy.response_hours, policy.resolution_hours) == ("code_red", 2, 24)
    assert AuditEntry.objects.get(action="sla.policy_set").why == "Board decision"


def test_the_page_shows_the_message_and_saves_nothing_when_invalid(client, cast):
    client.force_login(cast.admin)
    response = client.post(
        URL,
        {"severity": "high", "high-response_hours": "30", "high-resolution_hours": "20"},
    )
    assert response.status_code == 400
    assert "The fix cannot be due before the response: at least 30 hours" in (
        response.content.decode()
    )
    assert not SlaPolicy.objects.exists()
    response = client.post(
        URL, {"severity": "high", "high-response_hours": "0", "high-resolution_hours": "20"}
    )
    assert response.status_code == 400
    assert not SlaPolicy.objects.exists()


def test_an_unknown_severity_is_not_found(client, cast):
    client.force_login(cast.admin)
    assert client.post(URL, {"severity": "urgent"}).status_code == 404


@pytest.mark.parametrize("role", ["rep", "manager", "executive"])
def test_other_roles_are_refused_and_change_nothing(client, cast, role):
    client.force_login(getattr(cast, role))
    assert client.get(URL).status_code == 403
    response = client.post(
        URL,
        {"severity": "low", "low-response_hours": "1", "low-resolution_hours": "2"},
    )
    assert response.status_code == 403
    assert not SlaPolicy.objects.exists()


def test_the_django_admin_saves_through_the_service(client, cast):
    client.force_login(cast.admin)
    add = reverse("admin:loops_slapolicy_add")
    response = client.post(add, {"severity": "medium", "response_hours": 5, "resolution_hours": 4})
    assert response.status_code == 200  # the form again, with the message
    assert "The fix cannot be due before the response" in response.content.decode()
    response = client.post(add, {"severity": "medium", "response_hours": 5, "resolution_hours": 9})
    assert response.status_code == 302
    assert SlaPolicy.objects.get().resolution_hours == 9
    entry = AuditEntry.objects.get(action="sla.policy_set")
    assert entry.actor_id == cast.admin.pk and entry.why == "Django admin"


# --- the panel -----------------------------------------------------------------------------------


def test_the_panel_shows_deadlines_states_escalations_and_ageing(client, cast):
    lead = UserFactory(
        username="lead",
        first_name="Lee <i>",
        last_name="Ann",
        role=Role.MANAGER,
        department=cast.dept_a,
        reports_to=cast.manager,
    )
    opened = timezone.now() - timedelta(days=90, hours=1)
    issue = open_issue(
        cast, severity=Severity.CODE_RED, department=cast.dept_a, sponsor=cast.executive, at=opened
    )
    issue = issue_assign(issue=issue, owner=lead, by=cast.manager)
    escalations_sweep()
    assert Escalation.objects.count() == 1
    client.force_login(cast.manager)
    page = client.get(reverse("loops:issue-detail", args=[issue.pk])).content.decode()
    assert 'data-panel="loops.sla"' in page
    assert "Code red for 90 days" in page
    assert 'data-state="overdue"' in page  # resolution: 72 h, long gone
    assert 'data-state="missed"' in page  # answered (assigned now) long after 4 h
    assert "1: owner" in page
    assert "Lee &lt;i&gt; Ann" in page and "Lee <i>" not in page


def test_a_new_issue_is_on_time_and_not_shouted(client, cast):
    issue = open_issue(cast, severity=Severity.LOW, department=cast.dept_a)
    client.force_login(cast.manager)
    page = client.get(reverse("loops:issue-detail", args=[issue.pk])).content.decode()
    assert 'data-state="on_time"' in page
    assert "Opened today." in page
    assert "None so far." in page


def test_the_panel_is_not_shown_to_those_who_cannot_see_the_issue(client, cast):
    issue = open_issue(cast, department=cast.dept_a)
    client.force_login(cast.other_manager)
    assert client.get(reverse("loops:issue-detail", args=[issue.pk])).status_code == 404


def test_the_business_settings_page_links_the_sla_policies_for_admins_only(client, cast):
    client.force_login(cast.admin)
    page = client.get(reverse("core:business-settings")).content.decode()
    assert f'Also set here: <a href="{URL}">SLA policies</a>.' in page
    # Not in the bar: it has room for no more entries on a laptop (tests/browser/test_layout).
    nav = client.get(reverse("home")).context["nav_items"]
    assert [item["menu"] for item in nav if item["key"] == "sla"] == ["settings"]
