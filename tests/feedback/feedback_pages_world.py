"""A small world for the feedback pages' tests: two teams' contacts and their customers, and
one feedback item of each kind of scope (team A, team B, department A only, nobody's)."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason, Customer
from feedback.items.services import feedback_item_record
from feedback.models import FeedbackItem
from tests.factories import UserFactory
from voc.people.roles import Role

NOW = datetime(2026, 11, 16, 12, 0, tzinfo=UTC)
SCRIPT = "<script>alert('gift')</script> I was charged twice"


@dataclass
class World:
    billing: ContactReason
    outage: ContactReason
    contact_a: Contact
    contact_b: Contact
    customer_a: Customer
    customer_b: Customer
    nps_a: FeedbackItem
    complaint_a: FeedbackItem
    compliment_b: FeedbackItem
    review_none: FeedbackItem
    csat_dept: FeedbackItem

    def items(self) -> dict[str, FeedbackItem]:
        return {
            name: getattr(self, name)
            for name in ("nps_a", "complaint_a", "compliment_b", "review_none", "csat_dept")
        }


# who -> the items they see
SEES = {
    "rep": {"nps_a", "complaint_a"},
    "teammate": {"nps_a", "complaint_a"},
    "manager": {"nps_a", "complaint_a", "csat_dept"},
    "deputy": {"nps_a", "complaint_a", "csat_dept"},  # in department A, heads nothing
    "lone_manager": set(),  # a manager of no department and no team
    "outsider": {"compliment_b"},
    "other_manager": {"compliment_b"},
    "executive": {"nps_a", "complaint_a", "compliment_b", "review_none", "csat_dept"},
    "admin": {"nps_a", "complaint_a", "compliment_b", "review_none", "csat_dept"},
}


def viewer(cast, who: str):
    if who == "deputy":
        return UserFactory(username="deputy", role=Role.MANAGER, department=cast.dept_a)
    if who == "lone_manager":
        return UserFactory(username="lone", role=Role.MANAGER)
    return getattr(cast, who)


def ingest_contact(*, external_id: str, team, reason: str, ref: str, email: str, when: datetime,
                   outcome: str = "resolved") -> Contact:  # fmt: skip
    result = contacts_ingest(
        rows=[
            {"source": "pages", "external_id": external_id, "channel": "phone",
             "team": team.name, "reason": reason, "customer_ref": ref,
             "customer_name": f"Customer {ref}", "customer_email": email,
             "occurred_at": when.isoformat(), "outcome": outcome}
        ]
    )  # fmt: skip
    assert not result.rejected, result.rejected
    return Contact.objects.select_related("customer", "reason").get(
        source="pages", external_id=external_id
    )


def make_world(cast) -> World:
    billing = ContactReason.objects.create(name="Double charge", department=cast.dept_a)
    outage = ContactReason.objects.create(name="Outage", department=cast.dept_b)
    contact_a = ingest_contact(
        external_id="a-1", team=cast.team_a, reason="Double charge", ref="CUST-A",
        email="ann@customer.example", when=NOW - timedelta(days=40),
    )  # fmt: skip
    contact_b = ingest_contact(
        external_id="b-1", team=cast.team_b, reason="Outage", ref="CUST-B",
        email="bob@customer.example", when=NOW - timedelta(days=40),
    )  # fmt: skip
    record = feedback_item_record
    nps_a = record(
        kind="nps", score=3, source="survey", verbatim="Too slow to fix my bill",
        contact=contact_a, received_at=NOW - timedelta(days=5), by=cast.admin,
    ).item  # fmt: skip
    complaint_a = record(
        kind="complaint", source="voc", verbatim=SCRIPT, contact=contact_a,
        received_at=NOW - timedelta(days=2), by=cast.rep,
    ).item  # fmt: skip
    compliment_b = record(
        kind="compliment", source="voc", verbatim="Great engineer", contact=contact_b,
        received_at=NOW - timedelta(days=3), by=cast.outsider,
    ).item  # fmt: skip
    review_none = record(
        kind="review", source="reviews", verbatim="Three stars, meh", customer=contact_a.customer,
        channel="social", received_at=NOW - timedelta(days=20), by=cast.admin,
    ).item  # fmt: skip
    csat_dept = record(
        kind="csat", score=5, source="survey", verbatim="Lovely refund service", reason=billing,
        received_at=NOW - timedelta(days=60), by=cast.admin,
    ).item  # fmt: skip
    return World(
        billing=billing,
        outage=outage,
        contact_a=contact_a,
        contact_b=contact_b,
        customer_a=contact_a.customer,
        customer_b=contact_b.customer,
        nps_a=nps_a,
        complaint_a=complaint_a,
        compliment_b=compliment_b,
        review_none=review_none,
        csat_dept=csat_dept,
    )
