"""Shared set-up of the loops tests: reasons owned by the cast's departments, contacts with
customers, and issues opened through the services."""

from datetime import UTC, datetime
from itertools import count

from contacts.models import Contact, ContactReason
from loops.models import Issue
from loops.services.issues import issue_assign, issue_open
from tests.factories import CustomerFactory

_numbers = count(1)
T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def reason(name: str, *, department=None, parent=None, **flags) -> ContactReason:
    return ContactReason.objects.create(name=name, department=department, parent=parent, **flags)


def contact_of(
    team, *, customer=None, reason: ContactReason | None = None, at=T0, notes="", subject=""
) -> Contact:
    return Contact.objects.create(
        source="test",
        external_id=f"loop-{next(_numbers)}",
        channel="phone",
        occurred_at=at,
        team=team,
        reason=reason,
        subject=subject,
        notes=notes,
        customer=customer if customer is not None else CustomerFactory(),
    )


def open_issue(cast, *, title="Double charge on renewal", reasons=(), by=None, **kw) -> Issue:
    return issue_open(title=title, reasons=list(reasons), by=by or cast.manager, **kw)


def assigned_issue(cast, *, owner=None, **kw) -> Issue:
    issue = open_issue(cast, **kw)
    return issue_assign(issue=issue, owner=owner or cast.manager, by=cast.manager)
