"""A small world for customer math whose customers move more than once in the period: lost
twice, lost and won back, gained twice, gained and lost, lost for a reason later merged into
another. Shared by the customer-math selectors' tests, the issues behind the losses
(tests/loops/test_losses.py) and the customers drill-down (tests/dashboards).

The period is October 2026 (31 days; the previous period is the 31 days before it). Who
sees which customer comes from the customer's contact (contacts.selectors):

| customer | contact (team, reason) | events in October (reason) | outside it |
|---|---|---|---|
| c1 | team A, Billing | lost 3rd (Double charge), won back 10th, lost 20th (Billing) | |
| c2 | team A, Billing | lost 5th and 25th (Double charge) | |
| c3 | team B, Outage | gained 2nd, lost 15th (Outage) | |
| c4 | team B, Billing | lost 7th (Outage), won back 28th | |
| c5 | team A, Billing | gained 1st and 31st | |
| c6 | team B, Outage | | lost 30 Sep, lost 1 Nov |
| c7 | team B, Outage | lost 31st (no reason from the list) | |
| c8 | team A, Billing | lost 12th (Refunds, merged into Double charge) | |

Billing belongs to department A, Outage to department B; Double charge and Wrong amount are
Billing's children.
"""

from datetime import date
from types import SimpleNamespace

from contacts.models import Contact, ContactReason, CustomerEvent
from contacts.services.reasons import reason_merge
from loops.models import Issue
from tests.factories import CustomerFactory, UserFactory
from voc.core.audit import SystemActor
from voc.dashboards.filters import CUSTOM, DashboardFilters
from voc.people.roles import Role

START, END = date(2026, 10, 1), date(2026, 10, 31)
PREVIOUS_START, PREVIOUS_END = date(2026, 8, 31), date(2026, 9, 30)


def filters(**more) -> DashboardFilters:
    return DashboardFilters(period=CUSTOM, start=START, end=END, **more)


def day(n: int) -> date:
    return date(2026, 10, n)


def build(cast) -> SimpleNamespace:
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a)
    double = ContactReason.objects.create(name="Double charge", parent=billing)
    wrong = ContactReason.objects.create(name="Wrong amount", parent=billing)
    outage = ContactReason.objects.create(name="Outage", department=cast.dept_b)
    refunds = ContactReason.objects.create(name="Refunds", department=cast.dept_a)

    def customer(name, team, reason, segment="consumer"):
        c = CustomerFactory(name=name, segment=segment)
        Contact.objects.create(
            source="t", external_id=name, channel="phone", customer=c, team=team, reason=reason,
            customer_segment=segment, occurred_at="2026-09-01T12:00:00Z",
        )  # fmt: skip
        return c

    c = {
        "c1": customer("c1", cast.team_a, billing),
        "c2": customer("c2", cast.team_a, billing),
        "c3": customer("c3", cast.team_b, outage, segment="enterprise"),
        "c4": customer("c4", cast.team_b, billing),
        "c5": customer("c5", cast.team_a, billing),
        "c6": customer("c6", cast.team_b, outage),
        "c7": customer("c7", cast.team_b, outage),
        "c8": customer("c8", cast.team_a, billing),
    }

    def event(name, kind, on, reason=None):
        return CustomerEvent.objects.create(
            customer=c[name], kind=kind, occurred_on=on, reason=reason
        )

    event("c1", "lost", day(3), double)
    event("c1", "won_back", day(10))
    event("c1", "lost", day(20), billing)
    event("c2", "lost", day(5), double)
    event("c2", "lost", day(25), double)
    event("c3", "gained", day(2))
    event("c3", "lost", day(15), outage)
    event("c4", "lost", day(7), outage)
    event("c4", "won_back", day(28))
    event("c5", "gained", day(1))
    event("c5", "gained", day(31))
    event("c6", "lost", date(2026, 9, 30), outage)
    event("c6", "lost", date(2026, 11, 1), outage)
    event("c7", "lost", day(31))
    event("c8", "lost", day(12), refunds)

    # Open issues; I5 is on a child that nobody was lost for, and a closed one never shows.
    member = UserFactory(username="member", role=Role.MANAGER, department=cast.dept_a)

    def issue(title, department, *reasons, **more):
        found = Issue.objects.create(title=title, department=department, **more)
        found.reasons.add(*reasons)
        return found

    issues = {
        "I1": issue("On Billing", cast.dept_a, billing),
        "I2": issue("On Double charge", cast.dept_a, double, created_by=cast.rep),
        "I3": issue("On Outage", cast.dept_b, outage, owner=cast.manager),
        "I4": issue("On Refunds", cast.dept_a, refunds),
        "I5": issue("On Wrong amount", cast.dept_a, wrong),
        "I7": issue("On Double charge and Outage", cast.dept_b, double, outage),
        "closed": issue("Closed, on Billing", cast.dept_a, billing, status="closed"),
    }
    # Refunds was a duplicate of Double charge: its losses (c8's) move there, I4 keeps it.
    reason_merge(source=refunds, target=double, by=SystemActor("test"))
    return SimpleNamespace(
        customers=c,
        issues=issues,
        member=member,
        reasons={"billing": billing, "double": double, "wrong": wrong, "outage": outage,
                 "refunds": refunds},
    )  # fmt: skip


def viewers(cast, world) -> dict[str, object]:
    return {
        "rep": cast.rep,
        "head": cast.manager,  # heads department A, leads team A, owns I3
        "member": world.member,  # in department A without heading it
        "other_head": cast.other_manager,  # heads department B
        "executive": cast.executive,
        "admin": cast.admin,
    }


# Distinct customers per role, from the table above. A department's member sees what its
# head sees (managers own their department's rows either way).
COUNTED = {
    # role: gained, lost, won back (this period); lost in the previous one
    "rep": ({"c5"}, {"c1", "c2", "c8"}, {"c1"}, set()),
    "head": ({"c5"}, {"c1", "c2", "c4", "c8"}, {"c1", "c4"}, set()),
    "member": ({"c5"}, {"c1", "c2", "c4", "c8"}, {"c1", "c4"}, set()),
    "other_head": ({"c3"}, {"c3", "c4", "c7"}, {"c4"}, {"c6"}),
    "executive": ({"c3", "c5"}, {"c1", "c2", "c3", "c4", "c7", "c8"}, {"c1", "c4"}, {"c6"}),
    "admin": ({"c3", "c5"}, {"c1", "c2", "c3", "c4", "c7", "c8"}, {"c1", "c4"}, {"c6"}),
}
