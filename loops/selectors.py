"""Reads of issues, within the viewer's row scope (loops.access.issue_scope_q)."""

import binascii
import json
from base64 import urlsafe_b64decode, urlsafe_b64encode
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import (
    Case,
    Count,
    DateField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from contacts.models import Contact, ContactReason, CustomerEvent
from loops.access import issue_scope_q
from loops.models import OPEN_EXCLUDED, Clock, Escalation, Issue, IssueEvidence, Severity
from loops.rules import age_days, sla_state
from voc.core.audit import audit_history
from voc.core.business import business_setting
from voc.core.models import AuditEntry
from voc.people.models import User


def issue_list_visible(*, viewer: User) -> QuerySet[Issue]:
    """The issues ``viewer`` may see, merged duplicates included (they point to survivors)."""
    scope = issue_scope_q(viewer)
    if scope is None:
        return Issue.objects.none()
    # The scope reads flags through a subquery (no join), so each issue comes once.
    return Issue.objects.filter(scope) if scope else Issue.objects.all()


def issue_get_visible(*, viewer: User, issue_id: int) -> Issue:
    """The issue, or Issue.DoesNotExist when it is missing or out of scope (a 404 either way)."""
    return (
        issue_list_visible(viewer=viewer)
        .select_related("owner", "sponsor", "department", "merged_into")
        .get(id=issue_id)
    )


def issue_evidence_latest(*, issue: Issue, limit: int) -> list[IssueEvidence]:
    """The issue's newest evidence, with what each row shows (one query)."""
    return list(
        issue.evidence.select_related(
            "contact__reason", "feedback_item", "session_note", "customer", "added_by"
        ).order_by("-occurred_at", "-id")[:limit]
    )


# --- The issue page's facts: deadline, age, evidence over time, cost, lost customers ----------

AGEING_SEVERITIES = frozenset({Severity.CODE_RED, Severity.HIGH})
LIKE_THIS_DAYS = 28
EVIDENCE_WEEKS = 8
LOST_LOOKBACK_DAYS = 90
DUE_SOON_HOURS = 24


@dataclass(frozen=True)
class Deadline:
    clock: str  # "response" or "resolution"
    due_at: datetime
    state: str  # "on_time", "due_soon" or "overdue"


def issue_next_deadline(issue: Issue, *, now: datetime) -> Deadline | None:
    """The clock that runs now (response until the issue leaves "new" with an owner, then
    resolution until it is fixed) and how it stands; None for a closed, merged or fixed issue
    or one without clocks."""
    if not issue.is_open:
        return None
    if issue.response_due_at is not None and issue.responded_at is None:
        clock, due_at = "response", issue.response_due_at
    elif issue.resolution_due_at is not None and issue.fixed_at is None:
        clock, due_at = "resolution", issue.resolution_due_at
    else:
        return None
    state = sla_state(now=now, due_at=due_at, stopped_at=None, warn_hours=DUE_SOON_HOURS)
    return Deadline(clock, due_at, SLA_STATE_NAMES[state])


SLA_STATE_NAMES = {"on_track": "on_time", "due_soon": "due_soon", "breached": "overdue"}
SLA_STATES = {"on_time": "On time", "due_soon": "Due soon", "overdue": "Overdue"}


def issue_sla_state_q(state: str, *, now: datetime) -> Q:
    """Issue rows whose running clock (as ``issue_next_deadline`` reads it) is in ``state``:
    the board filters in SQL what the page shows per row."""
    running = Q(merged_into__isnull=True) & ~Q(status__in=OPEN_EXCLUDED)
    response = Q(response_due_at__isnull=False, responded_at__isnull=True)
    resolution = ~response & Q(
        resolution_due_at__isnull=False, fixed_at__isnull=True
    )  # the resolution clock runs once the response one stopped
    soon = now + timedelta(hours=DUE_SOON_HOURS)
    if state == "overdue":
        return running & (
            (response & Q(response_due_at__lt=now)) | (resolution & Q(resolution_due_at__lt=now))
        )
    if state == "due_soon":
        return running & (
            (response & Q(response_due_at__gte=now, response_due_at__lte=soon))
            | (resolution & Q(resolution_due_at__gte=now, resolution_due_at__lte=soon))
        )
    if state == "on_time":
        return running & (
            (response & Q(response_due_at__gt=soon)) | (resolution & Q(resolution_due_at__gt=soon))
        )
    raise ValueError(f"not an SLA state: {state}")


def issue_ageing(issue: Issue, *, now: datetime) -> str:
    """ "Code red for 90 days" for an open, not yet fixed code red or high issue at least a day
    old (as loops.sla.rules.ageing_text says it), else ""."""
    if not issue.is_open or issue.fixed_at is not None or issue.severity not in AGEING_SEVERITIES:
        return ""  # fixed (awaiting verification) is no longer ageing
    days = age_days(opened_at=issue.created_at, now=now)
    if days < 1:
        return ""  # "Code red for 0 days" says nothing: its age shows plainly
    label = Severity(issue.severity).label
    return f"{label} for {days} day{'s' if days != 1 else ''}"


@dataclass(frozen=True)
class EvidenceSeries:
    days: list[tuple[date, int]]  # the last 28 days, oldest first, zeros included
    weeks: list[tuple[date, int]]  # Mondays of the last 8 weeks, oldest first
    first_seen_at: datetime | None
    last_seen_at: datetime | None


def issue_evidence_series(
    issue: Issue, *, now: datetime, days: int = LIKE_THIS_DAYS, weeks: int = EVIDENCE_WEEKS
) -> EvidenceSeries:
    """Evidence per day (the last ``days`` days) and per week (the last ``weeks`` weeks, weeks
    starting on Monday), in the current time zone; two queries."""
    today = timezone.localdate(now)
    first_day = today - timedelta(days=days - 1)
    first_monday = today - timedelta(days=today.weekday()) - timedelta(weeks=weeks - 1)
    start = timezone.make_aware(datetime.combine(min(first_day, first_monday), time.min))
    rows = issue.evidence.filter(occurred_at__gte=start, occurred_at__lte=now).order_by()
    per_day = dict(
        rows.annotate(day=TruncDate("occurred_at"))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    day_list = [(first_day + timedelta(days=i), per_day.get(first_day + timedelta(days=i), 0))
                for i in range(days)]  # fmt: skip
    week_counts: dict[date, int] = {}
    for day, n in per_day.items():
        monday = day - timedelta(days=day.weekday())
        week_counts[monday] = week_counts.get(monday, 0) + n
    week_list = [
        (first_monday + timedelta(weeks=i), week_counts.get(first_monday + timedelta(weeks=i), 0))
        for i in range(weeks)
    ]
    return EvidenceSeries(day_list, week_list, issue.first_seen_at, issue.last_seen_at)


def _issue_contacts_q(issue: Issue, reason_ids: list[int], *, since: datetime | None) -> Q:
    """Contacts that are the issue's: its evidence contacts, and the contacts on its reasons
    since ``since``. One Q over Contact, so each contact counts once."""
    evidence = IssueEvidence.objects.filter(issue=issue, contact__isnull=False).values("contact_id")
    q = Q(id__in=evidence)
    if reason_ids and since is not None:
        q |= Q(reason_id__in=reason_ids, occurred_at__gte=since)
    return q


@dataclass(frozen=True)
class LikeThis:
    contacts: int
    days: int

    @property
    def per_day(self) -> Decimal:
        return (Decimal(self.contacts) / Decimal(self.days)).quantize(Decimal("0.1"))


def _reason_ids(issue: Issue, reason_ids: list[int] | None) -> list[int]:
    if reason_ids is not None:
        return reason_ids
    return list(issue.reasons.values_list("id", flat=True))


def issue_like_this_per_day(
    issue: Issue, *, now: datetime, days: int = LIKE_THIS_DAYS, reason_ids: list[int] | None = None
) -> LikeThis:
    """ "How many a day are like this?": the contacts on the issue's reasons and its evidence
    contacts over the last ``days`` days (each once), per day. One query."""
    since = now - timedelta(days=days)
    reason_ids = _reason_ids(issue, reason_ids)
    contacts = Contact.objects.filter(
        _issue_contacts_q(issue, reason_ids, since=since), occurred_at__gte=since,
        occurred_at__lt=now,
    ).count()  # fmt: skip
    return LikeThis(contacts, days)


@dataclass(frozen=True)
class SharedReason:
    reason: ContactReason
    issues: list[Issue]  # the other open issues that explain it too


@dataclass(frozen=True)
class IssueCost:
    """What an issue costs: its contacts (evidence contacts, plus contacts on its reasons since
    first seen, each once) × their handle minutes × the cost per minute; and the customers'
    own time on those contacts (wait + handle)."""

    since: datetime
    weeks: int
    contacts: int
    without_handle_time: int
    handle_seconds: int
    wait_seconds: int
    cost_per_minute: Decimal
    currency: str
    shared_reasons: list[SharedReason]

    @property
    def cost(self) -> Decimal:
        return (Decimal(self.handle_seconds) / 60 * self.cost_per_minute).quantize(Decimal("0.01"))

    @property
    def cost_per_week(self) -> Decimal:
        return (self.cost / self.weeks).quantize(Decimal("0.01"))

    @property
    def customer_minutes(self) -> Decimal:
        seconds = self.handle_seconds + self.wait_seconds
        return (Decimal(seconds) / 60).quantize(Decimal("0.1"))

    @property
    def customer_minutes_per_week(self) -> Decimal:
        return (self.customer_minutes / self.weeks).quantize(Decimal("0.1"))


def issue_cost(issue: Issue, *, now: datetime, reason_ids: list[int] | None = None) -> IssueCost:
    """The issue's cost since it was first seen (else opened), and per week over the weeks
    since then (a started week counts as one). A reason that another open issue also explains
    is listed as shared: its contacts count on both. Three queries and the settings read."""
    since = issue.first_seen_at or issue.created_at
    reason_ids = _reason_ids(issue, reason_ids)
    totals = Contact.objects.filter(_issue_contacts_q(issue, reason_ids, since=since)).aggregate(
        n=Count("id"),
        missing=Count("id", filter=Q(handle_seconds__isnull=True)),
        handle=Coalesce(Sum("handle_seconds"), 0),
        wait=Coalesce(Sum("wait_seconds"), 0),
    )
    elapsed_days = max(0, (now - since).days)
    weeks = max(1, -(-elapsed_days // 7))
    return IssueCost(
        since=since,
        weeks=weeks,
        contacts=totals["n"],
        without_handle_time=totals["missing"],
        handle_seconds=int(totals["handle"]),
        wait_seconds=int(totals["wait"]),
        cost_per_minute=Decimal(business_setting("cost_per_minute")),
        currency=str(business_setting("currency")),
        shared_reasons=issue_shared_reasons(issue, reason_ids=reason_ids),
    )


def issue_shared_reasons(issue: Issue, *, reason_ids: list[int]) -> list[SharedReason]:
    """The issue's reasons that other open issues explain too, with those issues (one query)."""
    if not reason_ids:
        return []
    others = (
        Issue.reasons.through.objects.filter(contactreason_id__in=reason_ids)
        .exclude(issue_id=issue.pk)
        .filter(issue__merged_into__isnull=True)
        .exclude(issue__status__in=OPEN_EXCLUDED)
        .select_related("issue", "contactreason")
        .order_by("contactreason__name", "issue_id")
    )
    shared: dict[int, SharedReason] = {}
    for row in others:
        entry = shared.setdefault(row.contactreason_id, SharedReason(row.contactreason, []))
        entry.issues.append(row.issue)
    return list(shared.values())


@dataclass(frozen=True)
class LostCustomers:
    customers: int
    events: Sequence[CustomerEvent]  # the newest, for the page


def issue_lost_customers(
    issue: Issue, *, limit: int = 10, reason_ids: list[int] | None = None
) -> LostCustomers:
    """Customers lost behind the issue: a "lost" lifecycle event, since the issue was first
    seen (else opened), whose reason is one of the issue's reasons, or whose customer had a
    contact on those reasons or evidence on the issue in the 90 days before the event.
    Each customer counts once. Two queries."""
    since = (issue.first_seen_at or issue.created_at).date()
    reason_ids = _reason_ids(issue, reason_ids)
    window_start = ExpressionWrapper(
        F("occurred_on") - timedelta(days=LOST_LOOKBACK_DAYS), output_field=DateField()
    )
    events = CustomerEvent.objects.filter(
        kind=CustomerEvent.Kind.LOST, occurred_on__gte=since
    ).annotate(window_start=window_start)
    recent_contact = Contact.objects.filter(
        customer_id=OuterRef("customer_id"),
        reason_id__in=reason_ids,
        occurred_at__date__gte=OuterRef("window_start"),
        occurred_at__date__lte=OuterRef("occurred_on"),
    )
    recent_evidence = IssueEvidence.objects.filter(
        issue=issue,
        customer_id=OuterRef("customer_id"),
        occurred_at__date__gte=OuterRef("window_start"),
        occurred_at__date__lte=OuterRef("occurred_on"),
    )
    matching = events.filter(
        Q(reason_id__in=reason_ids) | Exists(recent_contact) | Exists(recent_evidence)
    )
    count = matching.values("customer_id").distinct().count()
    shown = list(
        matching.select_related("customer", "reason").order_by("-occurred_on", "-id")[:limit]
    )
    return LostCustomers(count, shown)


PEOPLE_FIELDS = frozenset({"owner", "sponsor"})


ESCALATION_ACTOR = "SLA escalation"


@dataclass(frozen=True)
class EscalationItem:
    """An escalation of the issue on its timeline, shaped like an audit entry (``at``,
    ``actor``, ``actor_name``, ``action``, ``label``, ``changes_shown``, ``why``) so the page
    renders both alike: who was told, at which level, which deadline was missed, when."""

    at: datetime
    level: int
    clock: str
    due_at: datetime
    notified_name: str  # "" when that user was deleted since
    actor: None = None
    actor_name: str = ESCALATION_ACTOR
    action: str = "sla.escalation"
    why: str = ""

    @property
    def label(self) -> str:
        to = self.notified_name or "a user since deleted"
        deadline = Clock(self.clock).label.lower()
        due = timezone.localtime(self.due_at).strftime("%-d %b %Y, %H:%M")
        return f"escalated to {to} (level {self.level}): the {deadline} deadline of {due} passed"

    @property
    def changes_shown(self) -> list[dict[str, Any]]:
        return []


def issue_escalations(issue: Issue, *, limit: int = 100) -> list[EscalationItem]:
    """The issue's escalations, newest first, with the names of who was told (one query)."""
    rows = (
        Escalation.objects.filter(issue=issue)
        .select_related("notified")
        .order_by("-at", "-id")[:limit]
    )
    return [
        EscalationItem(
            at=row.at,
            level=row.level,
            clock=row.clock,
            due_at=row.due_at,
            notified_name=(
                (row.notified.get_full_name() or row.notified.get_username())
                if row.notified
                else ""
            ),
        )
        for row in rows
    ]


def issue_timeline(issue: Issue, *, limit: int = 100) -> list[AuditEntry | EscalationItem]:
    """Who did what to the issue, when and why: its audit trail and its escalations (who was
    told, at which level, when), newest first. Each audit entry's ``changes_shown`` names the
    people an owner or sponsor change points to (one query); escalations cost one more."""
    entries = audit_history(target=issue, limit=limit)
    user_ids = {
        value
        for entry in entries
        for item in entry.change_items
        if item["field"] in PEOPLE_FIELDS
        for value in (item["before"], item["after"])
        if isinstance(value, int)
    }
    names = {
        user.pk: user.get_full_name() or user.get_username()
        for user in User.objects.filter(pk__in=user_ids)
    } if user_ids else {}  # fmt: skip
    for entry in entries:
        shown = []
        for item in entry.change_items:
            if item["field"] in PEOPLE_FIELDS:
                item = item | {
                    "before": names.get(item["before"], item["before"]),
                    "after": names.get(item["after"], item["after"]),
                }
            shown.append(item)
        entry.changes_shown = shown  # type: ignore[attr-defined]
    merged: list[AuditEntry | EscalationItem] = [*entries, *issue_escalations(issue, limit=limit)]
    # Stable: at the same moment an audit entry stays before the escalation it led to.
    merged.sort(key=lambda item: item.at, reverse=True)
    return merged[:limit]


# --- The board --------------------------------------------------------------------------------

SEVERITY_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3, Severity.CODE_RED: 4}
BOARD_SORTS = {
    # name: (label, the annotation the rows are ordered by, descending?)
    "age": "Oldest first",
    "last_seen": "Last seen",
    "evidence": "Most evidence",
    "severity": "Most severe",
}


@dataclass(frozen=True)
class BoardFilters:
    status: str = "open"  # "open", "any" or a status
    severity: str = ""
    department_id: int | None = None
    owner_id: int | None = None
    sla: str = ""
    reason_id: int | None = None
    text: str = ""
    sponsored_by_me: bool = False
    sort: str = "age"


def issue_board_queryset(*, viewer: User, filters: BoardFilters, now: datetime) -> QuerySet[Issue]:
    """The board's rows for ``viewer`` (issue_scope_q: managers their departments', executives
    all), merged duplicates left out, filtered and ordered for keyset paging."""
    issues = issue_list_visible(viewer=viewer).filter(merged_into__isnull=True)
    if filters.status == "open":
        issues = issues.exclude(status__in=OPEN_EXCLUDED)
    elif filters.status != "any":
        issues = issues.filter(status=filters.status)
    if filters.severity:
        issues = issues.filter(severity=filters.severity)
    if filters.department_id:
        issues = issues.filter(department_id=filters.department_id)
    if filters.owner_id:
        issues = issues.filter(owner_id=filters.owner_id)
    if filters.sla:
        issues = issues.filter(issue_sla_state_q(filters.sla, now=now))
    if filters.reason_id:
        issues = issues.filter(
            id__in=Issue.reasons.through.objects.filter(contactreason_id=filters.reason_id).values(
                "issue_id"
            )
        )
    if filters.text:
        issues = issues.filter(
            Q(title__icontains=filters.text) | Q(description__icontains=filters.text)
        )
    if filters.sponsored_by_me:
        issues = issues.filter(sponsor=viewer)
    key, descending = _sort_key(filters.sort)
    issues = issues.annotate(sort_key=key).select_related("owner", "department", "sponsor")
    order = ("-sort_key", "-id") if descending else ("sort_key", "id")
    return issues.order_by(*order)


_NEVER = datetime(1970, 1, 1, tzinfo=UTC)


def _sort_key(sort: str) -> tuple[Any, bool]:
    if sort == "last_seen":
        return Coalesce("last_seen_at", Value(_NEVER)), True
    if sort == "evidence":
        return F("evidence_count"), True
    if sort == "severity":
        return Case(
            *(When(severity=name, then=Value(rank)) for name, rank in SEVERITY_RANK.items()),
            default=Value(0),
            output_field=IntegerField(),
        ), True
    return F("created_at"), False  # age: the oldest first


def encode_cursor(sort: str, issue: Issue) -> str:
    """Where the next page starts: the last row's sort value and id."""
    value = issue.sort_key  # type: ignore[attr-defined]
    raw = value.isoformat() if isinstance(value, datetime) else value
    return urlsafe_b64encode(json.dumps([sort, raw, issue.pk]).encode()).decode().rstrip("=")


def decode_cursor(sort: str, cursor: str) -> tuple[Any, int] | None:
    """The (sort value, id) of a cursor made for the same sort, or None (start again)."""
    try:
        data = json.loads(urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        cursor_sort, raw, issue_id = data
        if cursor_sort != sort or not isinstance(issue_id, int) or isinstance(issue_id, bool):
            return None
        if sort in ("age", "last_seen"):
            value: Any = datetime.fromisoformat(raw)
            if timezone.is_naive(value):
                return None
        elif isinstance(raw, int) and not isinstance(raw, bool):
            value = raw
        else:
            return None
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError):
        return None
    return value, issue_id


def issue_board_page(
    *, viewer: User, filters: BoardFilters, now: datetime, after: str = "", size: int = 50
) -> tuple[list[Issue], str]:
    """One page of the board and the cursor of the next ("" on the last page). Keyset paging:
    the next page starts after the last row's (sort value, id), however deep, in one query."""
    issues = issue_board_queryset(viewer=viewer, filters=filters, now=now)
    position = decode_cursor(filters.sort, after) if after else None
    if position is not None:
        value, issue_id = position
        _, descending = _sort_key(filters.sort)
        if descending:
            issues = issues.filter(Q(sort_key__lt=value) | Q(sort_key=value, id__lt=issue_id))
        else:
            issues = issues.filter(Q(sort_key__gt=value) | Q(sort_key=value, id__gt=issue_id))
    rows = list(issues[: size + 1])
    following = encode_cursor(filters.sort, rows[size - 1]) if len(rows) > size else ""
    return rows[:size], following


def issues_due_for(*, viewer: User, now: datetime, hours: int = 48, limit: int = 10) -> list[Issue]:
    """The viewer's own open issues whose running clock is overdue or due within ``hours``,
    soonest first (the "Issues due" home widget)."""
    soon = now + timedelta(hours=hours)
    response = Q(response_due_at__isnull=False, responded_at__isnull=True)
    resolution = ~response & Q(resolution_due_at__isnull=False, fixed_at__isnull=True)
    return list(
        Issue.objects.filter(owner=viewer, merged_into__isnull=True)
        .exclude(status__in=OPEN_EXCLUDED)
        .filter(
            (response & Q(response_due_at__lte=soon))
            | (resolution & Q(resolution_due_at__lte=soon))
        )
        .annotate(
            next_due=Case(When(response, then=F("response_due_at")), default=F("resolution_due_at"))
        )
        .order_by("next_due", "id")[:limit]
    )
