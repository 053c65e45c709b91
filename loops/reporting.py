"""The loops figures the dashboards read (``issue_figures``, ``loop_figures``) and the rows
behind them (``issues_behind``, ``follow_ups_behind``), each taking ``viewer=``: open issues
by age and SLA state, escalations, fix verdicts, fix notices sent, and the follow-ups'
closed-loop rate. Every read is within the viewer's row scope (issues:
``loops.access.issue_scope_q`` through ``issue_list_visible``; follow-ups:
``follow_up_list_visible``), read once per call, and each figure and the list behind it are
built from the same conditions, so they always agree. The helpers taking ``issues=`` or
``follow_ups=`` expect a queryset already scoped that way.

Periods are [since, until) instants (the dashboard turns its reporting days into them).
"Open" figures are a snapshot at ``now``, whatever the period.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import median

from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When

from loops.followups.selectors import follow_up_list_visible
from loops.models import (
    OPEN_EXCLUDED,
    Escalation,
    FollowUp,
    Issue,
    NoticeRecipient,
    Severity,
    Verdict,
    Verification,
)
from loops.selectors import issue_list_visible, issue_sla_state_q
from loops.verification.services import WINDOW_DAYS
from voc.core.models import SendOnce
from voc.people.models import User


@dataclass(frozen=True)
class AgeBand:
    key: str
    label: str
    from_days: int  # whole days open, as the board counts them (loops.rules.age_days)
    to_days: int | None  # exclusive; None: no upper limit


AGE_BANDS = (
    AgeBand("week", "Under 7 days", 0, 7),
    AgeBand("month", "7 to 29 days", 7, 30),
    AgeBand("quarter", "30 to 89 days", 30, 90),
    AgeBand("old", "90 days or more", 90, None),
)
AGE_BAND_KEYS = {band.key: band for band in AGE_BANDS}
# The running clock's state (loops.selectors.issue_sla_state_q, as the board filters it), and
# "none" for an open issue with no clock running (fixed and awaiting verification, no policy).
SLA_STATES = (
    ("on_time", "Within SLA"),
    ("due_soon", "Due soon"),
    ("overdue", "Breached"),
    ("none", "No clock running"),
)
VERDICTS = (Verdict.WORKED, Verdict.NOT_SHOWN, Verdict.TOO_EARLY)
OLDEST_CODE_REDS = 5


def open_issue_q() -> Q:
    return Q(merged_into__isnull=True) & ~Q(status__in=OPEN_EXCLUDED)


def age_band_q(key: str, *, now: datetime) -> Q:
    """Open for at least ``from_days`` whole days and fewer than ``to_days``: opened exactly
    30 days ago is 30 days old."""
    band = AGE_BAND_KEYS[key]
    condition = Q(created_at__lte=now - timedelta(days=band.from_days))
    if band.to_days is not None:
        condition &= Q(created_at__gt=now - timedelta(days=band.to_days))
    return condition


def sla_q(state: str, *, now: datetime) -> Q:
    """Open issues whose running clock is in ``state`` (exactly at the deadline is due soon,
    a second past it breached), or with no clock running ("none")."""
    if state != "none":
        return issue_sla_state_q(state, now=now)
    response = Q(response_due_at__isnull=False, responded_at__isnull=True)
    resolution = Q(resolution_due_at__isnull=False, fixed_at__isnull=True)
    return open_issue_q() & ~response & ~resolution


def ageing_code_red_q() -> Q:
    """Open, not yet fixed code reds: what "code red for 90 days" shouts about."""
    return open_issue_q() & Q(severity=Severity.CODE_RED, fixed_at__isnull=True)


@dataclass(frozen=True)
class OpenIssues:
    cells: dict[tuple[str, str], int]  # (age band, SLA state) -> issues
    code_reds: int

    def band_total(self, band: str) -> int:
        return sum(n for (b, _state), n in self.cells.items() if b == band)

    def state_total(self, state: str) -> int:
        return sum(n for (_band, s), n in self.cells.items() if s == state)

    @property
    def total(self) -> int:
        return sum(self.cells.values())


def open_issue_counts(*, issues: QuerySet[Issue], now: datetime) -> OpenIssues:
    """Open issues per age band and SLA state, and the ageing code reds: one query, grouped by
    two CASE expressions (one pass over the open issues, not a filtered count per cell)."""
    band = Case(
        *(When(age_band_q(b.key, now=now), then=Value(b.key)) for b in AGE_BANDS),
        output_field=CharField(),
    )
    state = Case(
        *(When(sla_q(s, now=now), then=Value(s)) for s in ("overdue", "due_soon", "on_time")),
        default=Value("none"),  # open with no clock running: the states partition the open
        output_field=CharField(),
    )
    code_red = Case(When(ageing_code_red_q(), then=Value(1)), default=Value(0))
    rows = (
        issues.filter(open_issue_q())
        .annotate(band=band, state=state, code_red=code_red)
        .values("band", "state", "code_red")
        .annotate(n=Count("id"))
        .order_by()
    )
    cells = {(b.key, s): 0 for b in AGE_BANDS for s, _label in SLA_STATES}
    code_reds = 0
    for row in rows:
        cells[row["band"], row["state"]] += row["n"]
        code_reds += row["n"] if row["code_red"] else 0
    return OpenIssues(cells=cells, code_reds=code_reds)


def oldest_code_reds(*, issues: QuerySet[Issue], limit: int = OLDEST_CODE_REDS) -> list[Issue]:
    """The oldest ageing code reds, with their owner and department (one query)."""
    return list(
        issues.filter(ageing_code_red_q())
        .select_related("owner", "department")
        .order_by("created_at", "id")[:limit]
    )


def _in(field: str, since: datetime, until: datetime) -> Q:
    return Q(**{f"{field}__gte": since, f"{field}__lt": until})


@dataclass(frozen=True)
class Escalations:
    escalations: int
    issues: int


def escalations_in(*, issues: QuerySet[Issue], since: datetime, until: datetime) -> Escalations:
    """Issue escalations made in the period, and the issues they were about (one query)."""
    row = Escalation.objects.filter(
        _in("at", since, until), issue__in=issues.values("id")
    ).aggregate(escalations=Count("id"), issues=Count("issue_id", distinct=True))
    return Escalations(row["escalations"], row["issues"])


def final_verdicts() -> QuerySet[Verification]:
    """The at-fix verdicts that are final (six weeks after the fix): each fix judged once."""
    return Verification.objects.filter(
        checkpoint=Verification.Checkpoint.AT_FIX, window_days__gte=WINDOW_DAYS
    )


def verdicts_in(*, issues: QuerySet[Issue], since: datetime, until: datetime) -> dict[str, int]:
    """Per verdict, the issues whose fix was judged (became final) in the period. A final
    verdict is never recomputed, so its ``computed_at`` is when it was reached. One query."""
    row = (
        final_verdicts()
        .filter(_in("computed_at", since, until), issue__in=issues.values("id"))
        .aggregate(
            **{
                verdict: Count("issue_id", distinct=True, filter=Q(verdict=verdict))
                for verdict in VERDICTS
            }
        )
    )
    return {verdict: row[verdict] for verdict in VERDICTS}


def notices_sent_q(since: datetime, until: datetime) -> Q:
    """Recipients whose email the send-once helper handed to the email service in the period
    (whatever the service said afterwards: delivered, bounced...)."""
    return Q(send_once__status=SendOnce.Status.SENT) & _in("send_once__sent_at", since, until)


@dataclass(frozen=True)
class NoticesSent:
    emails: int
    issues: int


def notices_sent_in(*, issues: QuerySet[Issue], since: datetime, until: datetime) -> NoticesSent:
    """Fix notices emailed to customers in the period, and the issues they told of (one query)."""
    row = NoticeRecipient.objects.filter(
        notices_sent_q(since, until), notice__issue__in=issues.values("id")
    ).aggregate(emails=Count("id"), issues=Count("notice__issue_id", distinct=True))
    return NoticesSent(row["emails"], row["issues"])


@dataclass(frozen=True)
class IssueFigures:
    open: OpenIssues
    oldest_code_reds: list[Issue]
    escalations: Escalations
    verdicts: dict[str, int]


def issue_figures(*, viewer: User, now: datetime, since: datetime, until: datetime) -> IssueFigures:
    """The open-issues panel's figures within the viewer's issue scope (read once): open
    issues now, the oldest ageing code reds, and the period's escalations and verdicts.
    Four queries, whatever the number of issues."""
    issues = issue_list_visible(viewer=viewer)
    return IssueFigures(
        open=open_issue_counts(issues=issues, now=now),
        oldest_code_reds=oldest_code_reds(issues=issues),
        escalations=escalations_in(issues=issues, since=since, until=until),
        verdicts=verdicts_in(issues=issues, since=since, until=until),
    )


# --- the issues behind a figure ---------------------------------------------------------------

ISSUE_SETS = ("open", "code_red", "escalated", *VERDICTS, "noticed")


def issues_behind(
    *,
    viewer: User,
    show: str,
    now: datetime,
    since: datetime,
    until: datetime,
    age: str = "",
    sla: str = "",
) -> QuerySet[Issue]:
    """The issues a figure counts, newest first: ``open`` (optionally one age band and SLA
    state), ``code_red`` (ageing), ``escalated`` in the period, a verdict reached in the
    period, or ``noticed`` (a fix notice emailed in the period)."""
    issues = issue_list_visible(viewer=viewer)
    if show == "open":
        issues = issues.filter(open_issue_q())
        if age:
            issues = issues.filter(age_band_q(age, now=now))
        if sla:
            issues = issues.filter(sla_q(sla, now=now))
    elif show == "code_red":
        issues = issues.filter(ageing_code_red_q())
    elif show == "escalated":
        escalated = Escalation.objects.filter(_in("at", since, until), issue__isnull=False)
        issues = issues.filter(id__in=escalated.values("issue_id"))
    elif show in VERDICTS:
        judged = final_verdicts().filter(_in("computed_at", since, until), verdict=show)
        issues = issues.filter(id__in=judged.values("issue_id"))
    elif show == "noticed":
        sent = NoticeRecipient.objects.filter(notices_sent_q(since, until))
        issues = issues.filter(id__in=sent.values("notice__issue_id"))
    else:
        raise ValueError(f"not a set of issues: {show}")
    return issues.select_related("owner", "department").order_by("-created_at", "-id")


# --- follow-ups: closing the loop with the customer -------------------------------------------


@dataclass(frozen=True)
class ClosedLoopFigures:
    """Follow-ups opened in the period (those the contact budget did not allow left out:
    nobody could call), those closed with a call by the period's end, and the median hours
    from opening to the call of those."""

    opened: int
    closed: int
    median_hours: float | None

    @property
    def rate(self) -> float | None:
        return None if not self.opened else round(100 * self.closed / self.opened, 1)


def follow_ups_scoped(
    *, viewer: User, team_ids: frozenset[int] = frozenset()
) -> QuerySet[FollowUp]:
    follow_ups = follow_up_list_visible(viewer=viewer)
    return follow_ups.filter(team_id__in=team_ids) if team_ids else follow_ups


def follow_ups_behind(
    *,
    viewer: User,
    show: str,
    since: datetime,
    until: datetime,
    team_ids: frozenset[int] = frozenset(),
) -> QuerySet[FollowUp]:
    """The follow-ups a closed-loop figure counts, within the viewer's scope, newest first."""
    return _follow_ups_behind(
        follow_ups=follow_ups_scoped(viewer=viewer, team_ids=team_ids),
        show=show, since=since, until=until,
    ).order_by("-created_at", "-id")  # fmt: skip


def _follow_ups_behind(
    *, follow_ups: QuerySet[FollowUp], show: str, since: datetime, until: datetime
) -> QuerySet[FollowUp]:
    """``opened``: opened in the period and callable; ``closed``: those of them called back
    (done) before the period ended."""
    opened = follow_ups.filter(_in("created_at", since, until)).exclude(
        outcome=FollowUp.Outcome.NOT_ALLOWED
    )
    if show == "opened":
        return opened
    if show == "closed":
        return opened.filter(status=FollowUp.Status.DONE, closed_at__lt=until)
    raise ValueError(f"not a set of follow-ups: {show}")


FOLLOW_UP_SETS = ("opened", "closed")


def closed_loop_figures(
    *, follow_ups: QuerySet[FollowUp], since: datetime, until: datetime
) -> ClosedLoopFigures:
    """Two queries: the follow-ups opened, and the durations of those closed."""
    opened = _follow_ups_behind(follow_ups=follow_ups, show="opened", since=since, until=until)
    closed = _follow_ups_behind(follow_ups=follow_ups, show="closed", since=since, until=until)
    durations = [
        duration.total_seconds() / 3600
        for duration in closed.annotate(took=F("closed_at") - F("created_at"))
        .order_by()
        .values_list("took", flat=True)
    ]
    return ClosedLoopFigures(
        opened=opened.count(),
        closed=len(durations),
        median_hours=round(median(durations), 1) if durations else None,
    )


@dataclass(frozen=True)
class LoopFigures:
    follow_ups: ClosedLoopFigures
    notices: NoticesSent


def loop_figures(
    *, viewer: User, since: datetime, until: datetime, team_ids: frozenset[int] = frozenset()
) -> LoopFigures:
    """The closing-the-loop panel's figures within the viewer's scope: the follow-ups opened
    in the period (of ``team_ids`` when given) and how they were closed, and the fix notices
    emailed in the period (an issue has no team: all of the viewer's). Three queries."""
    follow_ups = follow_ups_scoped(viewer=viewer, team_ids=team_ids)
    return LoopFigures(
        follow_ups=closed_loop_figures(follow_ups=follow_ups, since=since, until=until),
        notices=notices_sent_in(issues=issue_list_visible(viewer=viewer), since=since, until=until),
    )
