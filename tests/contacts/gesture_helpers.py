"""Shared set-up of the make-it-right tests: contacts with customers, and allowances."""

from datetime import UTC, datetime
from itertools import count

from contacts.models import Contact, ContactReason
from tests.factories import CustomerFactory, UserFactory
from voc.core.business import business_setting_set
from voc.people.roles import Role

_numbers = count(1)
T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def contact_of(team, *, customer=None, reason: ContactReason | None = None, at=T0) -> Contact:
    return Contact.objects.create(
        source="test",
        external_id=f"g-{next(_numbers)}",
        channel="phone",
        occurred_at=at,
        team=team,
        reason=reason,
        customer=customer if customer is not None else CustomerFactory(),
    )


def set_allowance(cast, *, per_gesture: str, per_month: str, role: str = Role.REP) -> None:
    business_setting_set(
        key="make_it_right_per_gesture", value=per_gesture, role=role, by=cast.admin
    )
    business_setting_set(key="make_it_right_per_month", value=per_month, role=role, by=cast.admin)


def lead_only_manager(cast):
    """A manager who heads no department but leads team A (the cast's manager keeps heading
    department A)."""
    lead = UserFactory(username="lead_only", role=Role.MANAGER)
    cast.team_a.lead = lead
    cast.team_a.save()
    return lead
