"""The dashboard tests' world: reasons owned by the cast's departments, contacts ingested through
the real write path (so the rollups are the ones production keeps), feedback answers, and the
direct counts every panel figure is checked against.

The reporting time zone is America/New_York, whose clocks went back on Sunday 1 November 2026
(a 25-hour day); the period is the four whole weeks 26 October – 22 November 2026, compared
with the four weeks before.
"""

import random
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason
from contacts.selectors import contact_list_visible
from feedback.items.selectors import feedback_list_visible
from feedback.items.services import feedback_item_record
from feedback.models import FeedbackItem
from tests.factories import CustomerFactory, UserFactory
from voc.core.audit import INGEST
from voc.dashboards.filters import CUSTOM, DashboardFilters
from voc.people.roles import Role

TZ = "America/New_York"
START, END = date(2026, 10, 26), date(2026, 11, 22)
PREVIOUS_START, PREVIOUS_END = date(2026, 9, 28), date(2026, 10, 25)
TODAY = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
DST_DAY = date(2026, 11, 1)
CHANNELS = ("phone", "email", "chat")
SEGMENTS = ("consumer", "small_business", "enterprise", "")
XSS = "<script>alert('reason')</script>"


def filters(**more) -> DashboardFilters:
    return DashboardFilters(period=CUSTOM, start=START, end=END, **more)


def query(**more) -> dict[str, str]:
    return filters(**more).params()


def make_reasons(cast) -> dict[str, ContactReason]:
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a, complaint=True)
    return {
        "billing": billing,
        "double": ContactReason.objects.create(
            name="Double charge", parent=billing, department=cast.dept_a
        ),
        "password": ContactReason.objects.create(
            name="Password reset", department=cast.dept_b, avoidable=True
        ),
        "where": ContactReason.objects.create(
            name="Where is my order", department=cast.dept_a, avoidable=True
        ),
        "outage": ContactReason.objects.create(name="Outage", department=cast.dept_b),
        # Renamed to a script once its contacts are in (ingest reads "/" and ">" as the
        # separator of "Parent › Reason"): every page must escape it.
        "xss": ContactReason.objects.create(name="Refunds", department=cast.dept_b),
    }


def make_contacts(cast, reasons, *, n: int = 160, seed: int = 11, prefix: str = "w") -> None:
    """``n`` random contacts over the two periods, and the edge cases: contacts around the
    daylight-saving change in New York, days given without a time, at the periods' edges."""
    rng = random.Random(seed)
    teams = [cast.team_a.name, cast.team_b.name, ""]
    names = [*reasons, ""]
    rows = []
    first = datetime(2026, 9, 28, 4, 0, tzinfo=UTC)  # Monday 00:00 in New York (EDT)
    span = (datetime(2026, 11, 23, 5, 0, tzinfo=UTC) - first).total_seconds()
    for number in range(n):
        at = first + timedelta(seconds=rng.randrange(int(span)))
        reason = rng.choice(names)
        segment = rng.choice(SEGMENTS)
        row = {
            "source": "dash", "external_id": f"{prefix}-{number}", "channel": rng.choice(CHANNELS),
            "occurred_at": at.isoformat(), "team": rng.choice(teams),
            "reason": reasons[reason].name if reason else "",
            "road": rng.choice([None, 1, 2, 3, 4, 4]),
            "first_contact_resolution": rng.choice([None, True, False]),
            "handle_seconds": rng.choice([None, 60, 125, 600]),
            "wait_seconds": rng.choice([None, 0, 45, 300]),
            "subject": f"Contact {number}",
            "text": f"I called about {reason or 'something'} <script>alert('{number}')</script>",
        }  # fmt: skip
        if reason == "double":  # a sub-reason: its parent is a separate row of the rollups
            row["reason"] = "Billing › Double charge"
        if segment:  # customers come back: repeats
            row |= {
                "customer_ref": f"{prefix}-cust-{rng.randrange(25)}",
                "customer_segment": segment,
            }
        rows.append({k: v for k, v in row.items() if v is not None})
    edges = [
        # 23:30 EDT on Saturday 31 October: the previous day (and the previous week's Saturday)
        ("2026-11-01T03:30:00Z", "outage"),
        # 00:30 EDT and 01:30 EDT (the first 01:30) on Sunday 1 November
        ("2026-11-01T04:30:00Z", "outage"),
        ("2026-11-01T05:30:00Z", "outage"),
        # 01:30 EST (the second 01:30, after the clocks went back), still 1 November
        ("2026-11-01T06:30:00Z", "outage"),
        # 23:30 EST on 1 November: 04:30 UTC on 2 November, still the 1st in New York
        ("2026-11-02T04:30:00Z", "outage"),
        # days without a time: the day itself, whatever the time zone
        ("2026-11-01", "password"),
        ("2026-10-26", "password"),
        ("2026-11-22", "password"),
        ("2026-11-23", "password"),  # the day after the period
        ("2026-10-25", "password"),  # the previous period's last day
        # the period's first and last instants in New York, and one just outside each
        ("2026-10-26T04:00:00Z", "where"),
        ("2026-10-26T03:59:59Z", "where"),
        ("2026-11-23T04:59:59Z", "where"),
        ("2026-11-23T05:00:00Z", "where"),
    ]
    for number, (at, reason) in enumerate(edges):
        rows.append(
            {
                "source": "dash",
                "external_id": f"{prefix}-edge-{number}",
                "channel": "phone",
                "occurred_at": at,
                "team": cast.team_b.name,
                "reason": reasons[reason].name,
                "road": 4,
                "handle_seconds": 90,
                "wait_seconds": 30,
            }
        )
    result = contacts_ingest(rows=rows)
    assert not result.rejected, result.rejected
    if "xss" in reasons:
        ContactReason.objects.filter(id=reasons["xss"].id).update(name=XSS)


def make_feedback(cast, reasons, *, n: int = 90, seed: int = 5) -> None:
    rng = random.Random(seed)
    kinds = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
    customers = {segment: CustomerFactory(segment=segment) for segment in SEGMENTS if segment}
    first = datetime(2026, 9, 28, 4, 0, tzinfo=UTC)
    for number in range(n):
        kind = rng.choice([*kinds, "complaint"])
        low, high = kinds.get(kind, (None, None))
        segment = rng.choice(SEGMENTS)
        reason = rng.choice([*reasons.values(), None])
        feedback_item_record(
            kind=kind,
            score=rng.randint(low, high) if low is not None else None,
            source="dash",
            by=INGEST,
            verbatim=f"Answer {number} <script>alert('fb')</script>",
            customer=customers.get(segment),
            reason=reason,
            channel=rng.choice(CHANNELS),
            team=rng.choice([cast.team_a, cast.team_b, None]),
            received_at=first + timedelta(hours=rng.randrange(56 * 24)),
        )
    # On the daylight-saving day, at 01:30 EST (06:30 UTC): 1 November in New York.
    feedback_item_record(
        kind="nps", score=10, source="dash", by=INGEST, team=cast.team_a, channel="phone",
        received_at=datetime(2026, 11, 1, 6, 30, tzinfo=UTC),
    )  # fmt: skip


def manager_heading_nothing(cast):
    """A manager in no department, who heads no department and leads no team."""
    return UserFactory(username="bystander", role=Role.MANAGER, department=None)


def team_lead_of(team):
    """A manager who leads ``team`` and heads no department."""
    lead = UserFactory(username="lead", role=Role.MANAGER, department=None)
    team.lead = lead
    team.save(update_fields=["lead"])
    return lead


# --- direct counts, the reference every panel is checked against --------------------------------


def reporting_day(contact: Contact) -> date:
    if contact.occurred_date_only:
        return contact.occurred_at.astimezone(UTC).date()
    return contact.occurred_at.astimezone(ZoneInfo(TZ)).date()


def contacts_counted(viewer, f: DashboardFilters, *, start=None, end=None) -> list[Contact]:
    """The contacts a panel counts, found by reading every contact the viewer may see."""
    start, end = start or f.start, end or f.end
    rows = []
    for contact in contact_list_visible(viewer=viewer).select_related("reason"):
        if not start <= reporting_day(contact) <= end:
            continue
        if f.channel and contact.channel != f.channel:
            continue
        if f.team_id and contact.team_id != f.team_id:
            continue
        if f.segment and contact.customer_segment != ("" if f.segment == "none" else f.segment):
            continue
        rows.append(contact)
    return rows


def by_reason(contacts: list[Contact]) -> Counter:
    return Counter(contact.reason_id or 0 for contact in contacts)


def items_counted(viewer, f: DashboardFilters, *, start=None, end=None) -> list[FeedbackItem]:
    start, end = start or f.start, end or f.end
    rows = []
    for item in feedback_list_visible(viewer=viewer):
        if not start <= item.received_at.astimezone(ZoneInfo(TZ)).date() <= end:
            continue
        if f.channel and item.channel != f.channel:
            continue
        if f.team_id and item.team_id != f.team_id:
            continue
        if f.segment and item.customer_segment != ("" if f.segment == "none" else f.segment):
            continue
        rows.append(item)
    return rows
