"""Shared set-up of the notice tests: a fixed issue of department A (owned by its head,
``cast.manager``) with reporters and contacts on its reason."""

from dataclasses import dataclass
from itertools import count

from anymail.signals import AnymailTrackingEvent

from contacts.models import Customer
from loops.models import FixNotice, Issue, NoticeRecipient
from loops.notices.services import (
    SEND_ONCE_PURPOSE,
    notice_approve,
    notice_draft,
    notice_plan,
    notice_send_chunk,
)
from loops.services.issues import evidence_add, issue_open, issue_transition
from tests.factories import CustomerFactory
from tests.loops.world import T0, contact_of, reason
from voc.core.models import SendOnce
from voc.core.sendonce import ESP_METADATA_KEY, send_once_deliver


@dataclass
class World:
    issue: Issue
    reporters: list[Customer]
    reason: object


def fix(issue: Issue, by) -> Issue:
    for status in ("assigned", "in_progress", "fixed"):
        issue = issue_transition(issue=issue, to=status, by=by)
    return issue


_worlds = count(1)


def fixed_issue(cast, *, reporters: int = 3, customers=None) -> World:
    n = next(_worlds)
    billing = reason("Double charge" if n == 1 else f"Double charge {n}", department=cast.dept_a)
    issue = issue_open(
        title="Double charge on renewal", reasons=[billing], owner=cast.manager, by=cast.manager
    )
    people = customers if customers is not None else [CustomerFactory() for _ in range(reporters)]
    for customer in people:
        evidence_add(
            issue=issue,
            source=contact_of(cast.team_a, customer=customer, reason=billing, at=T0),
            by=cast.manager,
        )
    issue.refresh_from_db()
    return World(fix(issue, cast.manager), list(people), billing)


def send_all(notice: FixNotice) -> None:
    """What the workers do, in this process: plan, every chunk, every email."""
    notice_plan(notice_id=notice.pk)
    ids = list(NoticeRecipient.objects.filter(notice=notice).values_list("id", flat=True))
    if ids:
        notice_send_chunk(notice_id=notice.pk, first_id=min(ids), last_id=max(ids))
    deliver_pending()


def deliver_pending() -> None:
    for email_id in SendOnce.objects.filter(
        purpose=SEND_ONCE_PURPOSE, status=SendOnce.Status.PENDING
    ).values_list("id", flat=True):
        send_once_deliver(email_id=email_id)


def approved(cast, world: World, **kwargs) -> FixNotice:
    notice = notice_draft(issue=world.issue, by=cast.manager, **kwargs)
    return notice_approve(notice=notice, by=cast.manager)


def tracking_event(email: SendOnce, event_type: str, **kwargs) -> AnymailTrackingEvent:
    return AnymailTrackingEvent(
        event_type=event_type,
        message_id=email.esp_message_id or "esp-1",
        metadata={ESP_METADATA_KEY: f"{email.purpose}:{email.key}"},
        **kwargs,
    )
