"""Reads of make it right, with the viewer's row scope (voc.people.access), like
contacts.selectors: a rep sees the gestures on contacts they may see, a manager also those of
the teams they lead or whose department they head, executives and admins all of them."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from contacts.gestures.rules import AllowanceLeft, Decider, may_decide
from contacts.models import Contact, ContactReason, CustomerEvent, Gesture
from contacts.repeats import repeat_window
from contacts.rollups import reporting_tz
from voc.core.business import allowance_for
from voc.core.capabilities import effective_role
from voc.people.access import scope_for
from voc.people.models import Team, User

# A customer counts as lost after a gesture when a "lost" event falls on the gesture's day or
# within this many days after it (the 90th day counts, the 91st does not).
LOST_WITHIN_DAYS = 90
GIVEN = (Gesture.State.GRANTED, Gesture.State.APPROVED)
ZERO = Decimal("0.00")


def gesture_list_visible(*, viewer: User) -> QuerySet[Gesture]:
    scope = scope_for(viewer)
    if scope.everything:
        return Gesture.objects.all()
    on_visible_contacts = scope.q(
        team_field="contact__team_id", department_field="contact__reason__department_id"
    )
    of_visible_teams = Q(team_id__in=scope.team_ids)
    return Gesture.objects.filter(on_visible_contacts | of_visible_teams)


def gesture_get_visible(*, viewer: User, gesture_id: int) -> Gesture | None:
    return (
        gesture_list_visible(viewer=viewer)
        .select_related("contact", "team__department", "given_by", "decided_by")
        .filter(id=gesture_id)
        .first()
    )


def gestures_of_contact(*, contact: Contact) -> list[Gesture]:
    """The gestures on a contact the viewer may see (whoever sees a contact sees them)."""
    return list(
        Gesture.objects.filter(contact=contact)
        .select_related("given_by", "decided_by", "team__department")
        .order_by("-given_at", "-id")
    )


def month_start(now: datetime | None = None) -> datetime:
    """Midnight on the 1st of this month, in the reporting time zone."""
    local = timezone.localtime(now or timezone.now(), reporting_tz())
    return datetime.combine(local.date().replace(day=1), time.min, tzinfo=local.tzinfo)


def month_spent(*, user: User, now: datetime | None = None) -> Decimal:
    """What ``user`` granted on their own allowance since the 1st of this month. Gestures a
    manager approved were given on the approver's word, so they do not count; waiting and
    declined ones were not given."""
    total = Gesture.objects.filter(
        given_by=user, state=Gesture.State.GRANTED, given_at__gte=month_start(now)
    ).aggregate(total=Sum("value"))["total"]
    return total or ZERO


def allowance_left(*, user: User, now: datetime | None = None) -> AllowanceLeft:
    allowance = allowance_for(user)
    return AllowanceLeft(
        per_gesture=allowance.per_gesture,
        per_month=allowance.per_month,
        spent=month_spent(user=user, now=now),
        currency=allowance.currency,
    )


def decider_for(gesture: Gesture, viewer: User) -> Decider:
    team = gesture.team
    department = team.department if team is not None else None
    return Decider(
        user_id=viewer.pk,
        role=effective_role(viewer),
        leads_the_team=team is not None and team.lead_id == viewer.pk,
        heads_the_department=department is not None and department.head_id == viewer.pk,
    )


def gesture_may_decide(*, gesture: Gesture, viewer: User) -> bool:
    """May ``viewer`` approve or decline this gesture (whatever its state)? See
    contacts.gestures.rules.may_decide."""
    return may_decide(decider_for(gesture, viewer), given_by_id=gesture.given_by_id)


def gestures_awaiting(*, viewer: User) -> QuerySet[Gesture]:
    """The waiting gestures ``viewer`` may decide, the oldest first: for a manager, those of
    the teams they lead and of the departments they head; for executives and admins, all;
    never their own."""
    role = effective_role(viewer)
    waiting = Gesture.objects.filter(state=Gesture.State.PENDING).exclude(given_by=viewer)
    if role == "manager":
        waiting = waiting.filter(Q(team__lead=viewer) | Q(team__department__head=viewer))
    elif role not in ("executive", "admin"):
        return Gesture.objects.none()
    return waiting.order_by("given_at", "id")


# --- the report: spend against what happened next ---------------------------------------------


@dataclass(frozen=True)
class ReportRow:
    label: str
    currency: str
    gestures: int
    value: Decimal
    contacts: int
    followed: int  # contacts the customer came back about within the repeat window
    customers: int
    lost: int  # customers lost within LOST_WITHIN_DAYS of a gesture

    @property
    def followed_share(self) -> float | None:
        return self.followed / self.contacts if self.contacts else None

    @property
    def lost_share(self) -> float | None:
        return self.lost / self.customers if self.customers else None


@dataclass(frozen=True)
class GestureReport:
    since: date
    until: date
    repeat_days: int
    lost_days: int
    total: list[ReportRow]
    by_reason: list[ReportRow]
    by_team: list[ReportRow]


def _given_between(
    viewer: User,
    since: date,
    until: date,
    *,
    channels: Collection[str] = (),
    team_ids: Collection[int] = (),
    segments: Collection[str] = (),
) -> QuerySet[Gesture]:
    zone = reporting_tz()
    start = datetime.combine(since, time.min, tzinfo=zone)
    end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone)
    followed = Contact.objects.filter(repeat_of_id=OuterRef("contact_id"))
    lost = CustomerEvent.objects.filter(
        customer_id=OuterRef("contact__customer_id"),
        kind=CustomerEvent.Kind.LOST,
        occurred_on__gte=OuterRef("given_on"),
        occurred_on__lte=OuterRef("lost_until"),
    )
    given = gesture_list_visible(viewer=viewer)
    # The dashboard's filters: the contact's channel and segment, the team that gave it.
    if channels:
        given = given.filter(contact__channel__in=channels)
    if team_ids:
        given = given.filter(team_id__in=team_ids)
    if segments:
        given = given.filter(contact__customer_segment__in=segments)
    return (
        given.filter(state__in=GIVEN, given_at__gte=start, given_at__lt=end)
        .annotate(given_on=TruncDate("given_at", tzinfo=zone))
        .annotate(lost_until=TruncDate("given_at", tzinfo=zone) + timedelta(days=LOST_WITHIN_DAYS))
        .annotate(followed=Exists(followed), lost=Exists(lost))
    )


_FIGURES = {
    "gestures": Count("id"),
    "total_value": Coalesce(Sum("value"), Value(ZERO), output_field=DecimalField()),
    "contacts": Count("contact_id", distinct=True),
    "followed_contacts": Count("contact_id", distinct=True, filter=Q(followed=True)),
    "customers": Count("contact__customer_id", distinct=True),
    "lost_customers": Count("contact__customer_id", distinct=True, filter=Q(lost=True)),
}


def gestures_given(
    *,
    viewer: User,
    since: date,
    until: date,
    channels: Collection[str] = (),
    team_ids: Collection[int] = (),
    segments: Collection[str] = (),
) -> QuerySet[Gesture]:
    """The gestures gesture_report adds up, newest first, each with ``followed`` (the customer
    came back about its contact) and ``lost`` (its customer was lost within LOST_WITHIN_DAYS):
    the rows behind the report's figures."""
    given = _given_between(
        viewer, since, until, channels=channels, team_ids=team_ids, segments=segments
    )
    return given.select_related("contact__customer", "contact__reason__parent", "team").order_by(
        "-given_at", "-id"
    )


def _figures(given: QuerySet[Gesture], key: str | None) -> list[dict]:
    """One aggregate query: the figures per ``key`` (and currency: a gesture keeps the
    currency it was given in, so sums never mix two)."""
    fields = [key, "currency"] if key else ["currency"]
    return list(given.order_by().values(*fields).annotate(**_FIGURES))


def _report_rows(rows: list[dict], key: str | None, labels: dict[int | None, str]) -> list:
    return sorted(
        (
            ReportRow(
                label=labels.get(row[key], "—") if key else "All gestures",
                currency=row["currency"],
                gestures=row["gestures"],
                value=row["total_value"],
                contacts=row["contacts"],
                followed=row["followed_contacts"],
                customers=row["customers"],
                lost=row["lost_customers"],
            )
            for row in rows
        ),
        key=lambda row: (-row.value, row.label, row.currency),
    )


def gesture_report(
    *,
    viewer: User,
    since: date,
    until: date,
    channels: Collection[str] = (),
    team_ids: Collection[int] = (),
    segments: Collection[str] = (),
) -> GestureReport:
    """Gestures given (granted or approved) between ``since`` and ``until`` (reporting days,
    both included) in the viewer's scope: how many, their value, the share of their contacts
    the customer came back about (the contact has a repeat: the customer's next contact came
    within the repeat window) and the share of their customers lost within LOST_WITHIN_DAYS
    after a gesture. ``channels``, ``team_ids`` and ``segments`` narrow it to the contacts'
    channels and segments and the giving teams (all when empty). Set-based: five queries
    whatever the number of gestures."""
    given = _given_between(
        viewer, since, until, channels=channels, team_ids=team_ids, segments=segments
    )
    reason_rows = _figures(given, "contact__reason_id")
    team_rows = _figures(given, "team_id")
    reasons: dict[int | None, str] = {
        reason.pk: reason.path
        for reason in ContactReason.objects.filter(
            id__in={row["contact__reason_id"] for row in reason_rows} - {None}
        ).select_related("parent")
    }
    reasons[None] = "No reason yet"
    teams: dict[int | None, str] = {
        team.pk: team.name
        for team in Team.objects.filter(id__in={row["team_id"] for row in team_rows} - {None})
    }
    teams[None] = "No team"
    return GestureReport(
        since=since,
        until=until,
        repeat_days=repeat_window().days,
        lost_days=LOST_WITHIN_DAYS,
        total=_report_rows(_figures(given, None), None, {}),
        by_reason=_report_rows(reason_rows, "contact__reason_id", reasons),
        by_team=_report_rows(team_rows, "team_id", teams),
    )
