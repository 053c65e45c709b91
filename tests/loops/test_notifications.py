"""Loops emails to people: assignment (issues and follow-ups), due-date reminders, each kind
switchable per user except escalations, sent once, with a link back and escaped text."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse

from loops.followups.services import follow_up_reassign, follow_ups_open
from loops.models import FollowUp, Issue, NotificationKind, NotificationPreference, Severity
from loops.notifications.services import (
    ASSIGNMENT_PURPOSE,
    DUE_PURPOSE,
    due_reminders_send,
    notification_preference_set,
    notification_preferences,
)
from loops.services.issues import issue_assign, issue_transition
from tests.factories import CustomerFactory, UserFactory
from tests.loops.world import T0, contact_of, open_issue, reason
from voc.core.models import AuditEntry, SendOnce
from voc.core.sendonce import send_once_deliver
from voc.people.roles import Role

pytestmark = pytest.mark.django_db
Kind = NotificationKind
SECOND = timedelta(seconds=1)


def deliver(row: SendOnce):
    mail.outbox.clear()
    assert send_once_deliver(email_id=row.id) == "sent"
    (message,) = mail.outbox
    return message


# --- preferences -----------------------------------------------------------------------------------


def test_every_kind_is_on_until_switched_off(cast):
    assert notification_preferences(user=cast.rep) == dict.fromkeys(Kind.values, True)
    assert notification_preference_set(user=cast.rep, kind=Kind.DUE, enabled=False, by=cast.rep)
    assert notification_preferences(user=cast.rep)[Kind.DUE] is False
    # Setting the same again changes nothing and records nothing more.
    assert not notification_preference_set(user=cast.rep, kind=Kind.DUE, enabled=False, by=cast.rep)
    entry = AuditEntry.objects.get(action="notification.preference")
    assert entry.changes == {"due": [True, False]} and entry.actor_id == cast.rep.pk


def test_escalations_to_oneself_cannot_be_switched_off(cast):
    with pytest.raises(ValidationError, match="cannot be switched off"):
        notification_preference_set(
            user=cast.manager, kind=Kind.ESCALATION, enabled=False, by=cast.manager
        )
    assert not NotificationPreference.objects.exists()
    # Even a stored "off" (written behind the service's back) reads as on.
    NotificationPreference.objects.create(user=cast.manager, kind=Kind.ESCALATION, enabled=False)
    assert notification_preferences(user=cast.manager)[Kind.ESCALATION] is True


def test_nobody_changes_another_persons_choice(cast):
    with pytest.raises(ValidationError):
        notification_preference_set(user=cast.rep, kind=Kind.DUE, enabled=False, by=cast.manager)


# --- assignment ------------------------------------------------------------------------------------


def test_an_assigned_owner_is_emailed_once_with_a_link_and_escaped_title(
    cast, settings, django_capture_on_commit_callbacks
):
    settings.VOC_BASE_URL = "https://voc.example"
    owner = UserFactory(username="owner", role=Role.MANAGER, department=cast.dept_a)
    issue = open_issue(cast, title="Refund <img src=x onerror=alert(1)> lost")
    with django_capture_on_commit_callbacks(execute=True):
        issue_assign(issue=issue, owner=owner, by=cast.manager)
    row = SendOnce.objects.get(purpose=ASSIGNMENT_PURPOSE)
    assert row.to == [owner.email]
    assert row.key.startswith(f"issue:{issue.pk}:assign:")
    message = deliver(row)
    html = message.alternatives[0][0]
    assert f"https://voc.example/loops/issues/{issue.pk}/" in message.body
    assert f"https://voc.example/loops/issues/{issue.pk}/" in html
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Refund <img src=x onerror=alert(1)> lost" in message.body
    assert message.subject.startswith(f"Assigned to you: #{issue.pk} Refund")
    assert "https://voc.example/loops/notifications/" in message.body


def test_taking_an_issue_oneself_sends_nothing(cast, django_capture_on_commit_callbacks):
    issue = open_issue(cast)
    with django_capture_on_commit_callbacks(execute=True):
        issue_assign(issue=issue, owner=cast.manager, by=cast.manager)
    assert not SendOnce.objects.filter(purpose=ASSIGNMENT_PURPOSE).exists()


def test_a_reassignment_back_is_a_new_email_and_a_replayed_signal_is_not(
    cast, django_capture_on_commit_callbacks
):
    from loops.notifications.services import issue_assignment_notify

    first = UserFactory(username="first", role=Role.MANAGER)
    second = UserFactory(username="second", role=Role.MANAGER)
    issue = open_issue(cast)
    for owner in (first, second, first):
        with django_capture_on_commit_callbacks(execute=True):
            issue = issue_assign(issue=issue, owner=owner, by=cast.manager)
    rows = SendOnce.objects.filter(purpose=ASSIGNMENT_PURPOSE).order_by("id")
    assert [row.to for row in rows] == [[first.email], [second.email], [first.email]]
    # The signal delivered again asks for the same email: nothing more.
    assert issue_assignment_notify(issue_id=issue.pk, owner_id=first.pk) == 0
    assert rows.count() == 3


def test_switched_off_assignment_emails_are_not_sent(cast, django_capture_on_commit_callbacks):
    owner = UserFactory(username="owner", role=Role.MANAGER)
    notification_preference_set(user=owner, kind=Kind.ASSIGNMENT, enabled=False, by=owner)
    with django_capture_on_commit_callbacks(execute=True):
        issue_assign(issue=open_issue(cast), owner=owner, by=cast.manager)
    assert not SendOnce.objects.exists()


def test_new_and_reassigned_follow_ups_email_their_assignee_once(
    cast, django_capture_on_commit_callbacks
):
    complaint = reason("Complaint", department=cast.dept_a, complaint=True)
    customer = CustomerFactory(name="Ann <script>x</script>")
    contact = contact_of(cast.team_a, reason=complaint, customer=customer)
    with django_capture_on_commit_callbacks(execute=True):
        follow_ups_open()
    item = FollowUp.objects.get(contact=contact)
    assert item.assignee == cast.manager
    row = SendOnce.objects.get(purpose=ASSIGNMENT_PURPOSE)
    assert row.key == f"follow_up:{item.pk}:assignee:{cast.manager.pk}"
    assert row.customer_id == customer.pk  # erasure finds it
    html = deliver(row).alternatives[0][0]
    assert "<script>x" not in html and "Ann &lt;script&gt;x&lt;/script&gt;" in html
    assert f"/loops/follow-ups/{item.pk}/" in html

    deputy = UserFactory(username="deputy", role=Role.MANAGER)
    with django_capture_on_commit_callbacks(execute=True):
        follow_up_reassign(follow_up=item, assignee=deputy, by=cast.manager)
    assert SendOnce.objects.filter(purpose=ASSIGNMENT_PURPOSE).count() == 2
    assert SendOnce.objects.latest("id").to == [deputy.email]


# --- due-date reminders ----------------------------------------------------------------------------


def owned_code_red(cast, owner=None):
    issue = open_issue(cast, severity=Severity.CODE_RED, at=T0)
    return issue_assign(issue=issue, owner=owner or cast.manager, by=cast.manager)


def test_an_issue_due_within_a_day_is_reminded_once_per_deadline(cast, settings):
    settings.VOC_BASE_URL = "https://voc.example"
    issue = owned_code_red(cast)
    due = issue.resolution_due_at
    assert due_reminders_send(now=due - timedelta(hours=24) - SECOND) == 0
    assert due_reminders_send(now=due - timedelta(hours=24)) == 1
    assert due_reminders_send(now=due - timedelta(hours=2)) == 0  # once per deadline
    row = SendOnce.objects.get(purpose=DUE_PURPOSE)
    assert row.key == f"issue:{issue.pk}:resolution:{due.isoformat()}"
    message = deliver(row)
    assert f"https://voc.example/loops/issues/{issue.pk}/" in message.body
    assert "due within a day" in message.body
    # A new deadline (the severity changed) is reminded again.
    Issue.objects.filter(pk=issue.pk).update(resolution_due_at=due + timedelta(hours=5))
    assert due_reminders_send(now=due) == 1


def test_no_reminder_at_or_after_the_deadline_nor_once_fixed(cast):
    issue = owned_code_red(cast)
    due = issue.resolution_due_at
    assert due_reminders_send(now=due) == 0
    fixed = owned_code_red(cast)
    for status in ("in_progress", "fixed"):
        issue_transition(issue=fixed, to=status, by=cast.manager)
    assert due_reminders_send(now=due - timedelta(hours=1)) == 1  # the first issue only
    assert SendOnce.objects.get(purpose=DUE_PURPOSE).key.startswith(f"issue:{issue.pk}:")


def test_switched_off_due_reminders_are_not_sent(cast):
    notification_preference_set(user=cast.manager, kind=Kind.DUE, enabled=False, by=cast.manager)
    issue = owned_code_red(cast)
    assert due_reminders_send(now=issue.resolution_due_at - timedelta(hours=1)) == 0


def test_a_follow_up_due_within_a_day_reminds_its_assignee(cast):
    contact = contact_of(cast.team_a)
    item = FollowUp.objects.create(
        trigger=FollowUp.Trigger.COMPLAINT_CONTACT,
        contact=contact,
        customer=contact.customer,
        assignee=cast.manager,
        due_at=T0,
    )
    assert due_reminders_send(now=T0 - timedelta(hours=23)) == 1
    row = SendOnce.objects.get(purpose=DUE_PURPOSE)
    assert row.key == f"follow_up:{item.pk}:due:{T0.isoformat()}"
    assert f"/loops/follow-ups/{item.pk}/" in deliver(row).body


# --- the page --------------------------------------------------------------------------------------


def test_the_page_switches_kinds_and_shows_escalations_locked_on(client, cast):
    client.force_login(cast.rep)
    url = reverse("loops:notifications")
    page = client.get(url).content.decode()
    assert "Escalations to you cannot be switched off" in page
    assert 'name="escalation"' in page and "disabled" in page
    # Unticking everything (and posting escalation=off) leaves escalations on.
    response = client.post(url, {"assignment": "on"})
    assert response.status_code == 302
    assert notification_preferences(user=cast.rep) == {
        "assignment": True,
        "escalation": True,
        "due": False,
    }
    assert not NotificationPreference.objects.filter(kind=Kind.ESCALATION).exists()
