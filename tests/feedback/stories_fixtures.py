"""The stories tests' world: two customers, contacts in both teams, and the cast plus a
manager who heads no department and one with no department at all."""

from datetime import UTC, datetime

import pytest

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason, Customer
from feedback.stories.services import story_record
from tests.factories import UserFactory
from voc.people.roles import Role

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def ingest(cast, **row) -> Contact:
    row = {"source": "stories", "channel": "phone", "occurred_at": T0.isoformat(), **row}
    result = contacts_ingest(rows=[row])
    assert not result.rejected, result.rejected
    return Contact.objects.get(source="stories", external_id=row["external_id"])


@pytest.fixture
def world(cast):
    """Bob (team A, a billing reason of department A) and Ann (team B, an outage reason of
    department B; one more contact of hers in team A). ``deputy`` is a manager in department
    A who heads no department and leads no team; ``loner`` a manager with no department."""
    cast.deputy = UserFactory(username="deputy", role=Role.MANAGER, department=cast.dept_a)
    cast.loner = UserFactory(username="loner", role=Role.MANAGER)
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a)
    cast.double_charge = ContactReason.objects.create(name="Double charge", parent=billing)
    cast.billing = billing
    ContactReason.objects.create(name="Outage", department=cast.dept_b)
    cast.contact_a = ingest(
        cast, external_id="bob-1", team=cast.team_a.name, reason="Billing",
        customer_ref="BOB", customer_name="Bob Annan",
    )  # fmt: skip
    cast.contact_b = ingest(
        cast, external_id="ann-1", team=cast.team_b.name, reason="Outage",
        customer_ref="ANN", customer_name="Ann Byrne",
    )  # fmt: skip
    cast.ann_a = ingest(
        cast, external_id="ann-2", team=cast.team_a.name, customer_ref="ANN",
    )  # fmt: skip
    cast.ann = Customer.objects.get(external_ref="ANN")
    cast.bob = Customer.objects.get(external_ref="BOB")
    return cast


def tell(contact, by, thumb="down", title="Bad day", text="It went wrong."):
    return story_record(contact=contact, thumb=thumb, title=title, text=text, by=by)
