"""Reads of post-contact surveys: the report (invitations, answers, response rate, refusals by
reason, per channel) and "customers asked more than once in 30 days", which the contact budget
keeps at 0 (computed from the invitations themselves, so a bug anywhere would show).

The viewer's row scope is the contacts one (voc.people.access): a manager sees the surveys of
the contacts of the teams they lead or of their departments' reasons; executives and admins all.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db.models import BigIntegerField, Count, Exists, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import Cast, Substr

from contacts.models import BudgetPurpose, BudgetRefusal, Channel, Contact
from feedback.models import SurveyInvitation
from voc.people.access import scope_for
from voc.people.models import User

ASKED_TWICE_WINDOW = timedelta(days=30)
KEY_PREFIX = "contact:"


def _contact_scope(viewer: User, prefix: str = "") -> Q:
    return scope_for(viewer).q(
        team_field=f"{prefix}team_id", department_field=f"{prefix}reason__department_id"
    )


def invitation_list_visible(*, viewer: User) -> QuerySet[SurveyInvitation]:
    return SurveyInvitation.objects.filter(_contact_scope(viewer, "contact__"))


def survey_refusals_visible(*, viewer: User) -> QuerySet[BudgetRefusal]:
    """The budget's survey refusals for a contact (key ``contact:<id>``), with the contact's
    id and channel, within the viewer's scope."""
    contacts = Contact.objects.filter(id=OuterRef("contact_id"))
    return (
        BudgetRefusal.objects.filter(purpose=BudgetPurpose.SURVEY, key__regex=r"^contact:[0-9]+$")
        .annotate(contact_id=Cast(Substr("key", len(KEY_PREFIX) + 1), BigIntegerField()))
        .annotate(channel=Subquery(contacts.values("channel")[:1]))
        .filter(Exists(contacts.filter(_contact_scope(viewer))))
    )


@dataclass
class ChannelFigures:
    channel: str
    label: str
    sent: int = 0
    answered: int = 0
    refused: int = 0
    refusals: dict[str, int] = field(default_factory=dict)
    # refusals in the order of the report's reasons (for the table's columns)
    cells: list[int] = field(default_factory=list)

    @property
    def response_rate(self) -> float | None:
        """Answered / sent, as a percentage; None with nothing sent."""
        return round(100 * self.answered / self.sent, 1) if self.sent else None


@dataclass
class SurveyReport:
    since: datetime
    until: datetime
    total: ChannelFigures
    channels: list[ChannelFigures]
    reasons: list[tuple[str, str]]  # (code, label) of the refusal reasons that occurred
    customers_invited: int
    customers_asked_twice: int

    @property
    def asked_twice_share(self) -> float:
        if not self.customers_invited:
            return 0.0
        return round(100 * self.customers_asked_twice / self.customers_invited, 2)


def survey_report(*, viewer: User, since: datetime, until: datetime) -> SurveyReport:
    """The figures for invitations sent and refusals recorded in [since, until). Four queries."""
    invitations = invitation_list_visible(viewer=viewer).filter(
        sent_at__gte=since, sent_at__lt=until
    )
    labels = dict(Channel.choices)
    figures: dict[str, ChannelFigures] = {}

    def of(channel: str) -> ChannelFigures:
        if channel not in figures:
            figures[channel] = ChannelFigures(channel, labels.get(channel, channel or "—"))
        return figures[channel]

    for row in (
        invitations.order_by()
        .values("channel")
        .annotate(sent=Count("id"), answered=Count("id", filter=Q(answered_at__isnull=False)))
    ):
        of(row["channel"]).sent = row["sent"]
        of(row["channel"]).answered = row["answered"]
    refusals = survey_refusals_visible(viewer=viewer).filter(at__gte=since, at__lt=until)
    by_channel = refusals.order_by().values("channel", "reason")  # type: ignore[misc]  # annotated
    for row in by_channel.annotate(n=Count("id")):
        channel = of(row["channel"] or "")
        channel.refusals[row["reason"]] = row["n"]
        channel.refused += row["n"]
    total = ChannelFigures("", "All channels")
    for channel in figures.values():
        total.sent += channel.sent
        total.answered += channel.answered
        total.refused += channel.refused
        for reason, n in channel.refusals.items():
            total.refusals[reason] = total.refusals.get(reason, 0) + n
    reasons = [
        (code, str(label)) for code, label in BudgetRefusal.Reason.choices if code in total.refusals
    ]
    for figure in [total, *figures.values()]:
        figure.cells = [figure.refusals.get(code, 0) for code, _ in reasons]
    # Customers invited in the period, and those of them with another invitation less than
    # 30 days before one of theirs in the period (at exactly 30 days the budget allows it).
    earlier = SurveyInvitation.objects.filter(
        customer_id=OuterRef("customer_id"),
        sent_at__gt=OuterRef("sent_at") - ASKED_TWICE_WINDOW,
        sent_at__lte=OuterRef("sent_at"),
    ).exclude(id=OuterRef("id"))
    counts = invitations.order_by().aggregate(
        customers=Count("customer_id", distinct=True),
        twice=Count("customer_id", distinct=True, filter=Q(Exists(earlier))),
    )
    order = {value: index for index, value in enumerate(Channel.values)}
    return SurveyReport(
        since=since,
        until=until,
        total=total,
        channels=sorted(figures.values(), key=lambda c: order.get(c.channel, len(order))),
        reasons=reasons,
        customers_invited=counts["customers"],
        customers_asked_twice=counts["twice"],
    )


@dataclass(frozen=True)
class SurveyFatigue:
    """Customers invited to a survey in a period, and those of them asked twice: another
    invitation less than 30 days before one of theirs in the period (any channel, any team).
    The contact budget keeps ``asked_twice`` at 0."""

    invited: int
    asked_twice: int


def survey_fatigue(
    *,
    viewer: User,
    since: datetime,
    until: datetime,
    channels: frozenset[str] = frozenset(),
    team_ids: frozenset[int] = frozenset(),
    segments: frozenset[str] = frozenset(),
) -> SurveyFatigue:
    """Survey fatigue over the invitations sent in [since, until) that the viewer may see,
    narrowed to the invitations' channels and their contacts' teams and customer segments
    (one query). The earlier invitation is looked for among all the customer's invitations:
    a customer asked by two teams was still asked twice."""
    invitations = invitation_list_visible(viewer=viewer).filter(
        sent_at__gte=since, sent_at__lt=until
    )
    if channels:
        invitations = invitations.filter(channel__in=channels)
    if team_ids:
        invitations = invitations.filter(contact__team_id__in=team_ids)
    if segments:
        invitations = invitations.filter(contact__customer_segment__in=segments)
    earlier = SurveyInvitation.objects.filter(
        customer_id=OuterRef("customer_id"),
        sent_at__gt=OuterRef("sent_at") - ASKED_TWICE_WINDOW,
        sent_at__lte=OuterRef("sent_at"),
    ).exclude(id=OuterRef("id"))
    counts = invitations.order_by().aggregate(
        customers=Count("customer_id", distinct=True),
        twice=Count("customer_id", distinct=True, filter=Q(Exists(earlier))),
    )
    return SurveyFatigue(invited=counts["customers"], asked_twice=counts["twice"])
