"""Reads of fix notices: who a notice would reach, what a notice did, and who may send one."""

from dataclasses import dataclass, field

from django.db.models import Case, CharField, Count, F, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from contacts.budget.selectors import budget_allowed
from contacts.models import BudgetPurpose, Contact, Customer
from contacts.registry import TimelineEntry
from loops.access import MANAGE_ISSUES, SEND_NOTICES, heads_department
from loops.models import FixNotice, Flag, Issue, IssueEvidence, NoticeRecipient
from loops.selectors import issue_list_visible
from voc.core.capabilities import has_capability
from voc.core.models import SendOnce
from voc.people.models import Department, User

Status = NoticeRecipient.Status
SkipReason = NoticeRecipient.SkipReason
# The statuses an issue may tell its customers about.
NOTICE_STATUSES = (Issue.Status.FIXED, Issue.Status.VERIFIED)


def may_send_notices(user: User, issue: Issue) -> bool:
    """A manager with the capability who owns the issue or heads its department."""
    if not user.is_authenticated or not has_capability(user, SEND_NOTICES):
        return False
    if not has_capability(user, MANAGE_ISSUES):
        return False
    return issue.owner_id == user.pk or heads_department(user, issue.department_id)


def notice_list_visible(*, viewer: User) -> QuerySet[FixNotice]:
    """The notices of the issues ``viewer`` may see."""
    return FixNotice.objects.filter(issue__in=issue_list_visible(viewer=viewer).values("id"))


def notice_get_visible(*, viewer: User, notice_id: int) -> FixNotice:
    """The notice, or FixNotice.DoesNotExist when missing or out of scope (a 404 either way)."""
    return (
        notice_list_visible(viewer=viewer)
        .select_related("issue", "issue__department", "created_by", "approved_by")
        .get(id=notice_id)
    )


def _survivor(prefix: str = "customer") -> Coalesce:
    """A merged-away customer's record points to the one that lives on: notify that one."""
    return Coalesce(f"{prefix}__merged_into_id", f"{prefix}_id")


def reporter_ids(issue: Issue) -> set[int]:
    """The customers who reported the issue: its evidence's customers (contacts, feedback,
    outreach) and the customers of the contacts reps flagged on it."""
    evidence = (
        IssueEvidence.objects.filter(issue=issue, customer__isnull=False)
        .annotate(who=_survivor())
        .values_list("who", flat=True)
        .order_by()
    )
    flags = (
        Flag.objects.filter(issue=issue, contact__customer__isnull=False)
        .annotate(who=_survivor("contact__customer"))
        .values_list("who", flat=True)
        .order_by()
    )
    return set(evidence) | set(flags)


def reason_contact_ids(issue: Issue) -> set[int]:
    """Everyone with a contact on the issue's reasons (or their sub-reasons) since the issue
    was first seen (since it was opened, without evidence)."""
    reasons = list(issue.reasons.values_list("id", flat=True))
    if not reasons:
        return set()
    since = issue.first_seen_at or issue.created_at
    return set(
        Contact.objects.filter(
            Q(reason_id__in=reasons) | Q(reason__parent_id__in=reasons),
            occurred_at__gte=since,
            customer__isnull=False,
        )
        .annotate(who=_survivor())
        .values_list("who", flat=True)
        .distinct()
    )


@dataclass(frozen=True)
class Audience:
    """Who a notice for the issue would reach, and who would be left out (and why), now."""

    reporters: list[int]
    others: list[int]  # with a contact on its reasons since first seen, not reporters
    left_out: dict[str, int] = field(default_factory=dict)  # reason -> customers (all of them)
    left_out_reporters: dict[str, int] = field(default_factory=dict)

    def ids(self, *, include_reason_contacts: bool) -> list[int]:
        return self.reporters + (self.others if include_reason_contacts else [])

    @property
    def reachable_reporters(self) -> int:
        return len(self.reporters) - sum(self.left_out_reporters.values())

    @property
    def reachable_others(self) -> int:
        others_left_out = sum(self.left_out.values()) - sum(self.left_out_reporters.values())
        return len(self.others) - others_left_out


def notice_audience(issue: Issue) -> Audience:
    """The audience, with the reasons those left out would be left out, in a fixed few
    queries whatever its size (the budget's answer is read, not claimed: sending claims)."""
    reporters = sorted(reporter_ids(issue))
    others = sorted(reason_contact_ids(issue) - set(reporters))
    everyone = reporters + others
    reasons = skip_reasons(issue=issue, customer_ids=everyone)
    reporter_set = set(reporters)
    left_out: dict[str, int] = {}
    left_out_reporters: dict[str, int] = {}
    for customer_id, (reason, _detail) in reasons.items():
        left_out[reason] = left_out.get(reason, 0) + 1
        if customer_id in reporter_set:
            left_out_reporters[reason] = left_out_reporters.get(reason, 0) + 1
    return Audience(reporters, others, left_out, left_out_reporters)


@dataclass(frozen=True)
class Addressee:
    customer_id: int
    name: str
    email: str


def addressees(customer_ids: list[int]) -> dict[int, Addressee]:
    """Name and address of each customer that can be written to (one query)."""
    rows = Customer.objects.filter(id__in=customer_ids).values_list("id", "name", "email")
    return {row[0]: Addressee(row[0], row[1], row[2]) for row in rows}


# The budget's refusal codes, as a notice records them.
BUDGET_REASONS = {
    "erased": SkipReason.ERASED,
    "unknown": SkipReason.ERASED,  # the record is gone
    "merged": SkipReason.MERGED,
    "opted_out": SkipReason.OPTED_OUT,
    "already_sent": SkipReason.ALREADY_TOLD,
}


def skip_reasons(*, issue: Issue, customer_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Who would be left out now, with (reason, detail): erased or merged away, no address,
    or refused by the budget (opted out, already told about this issue). Two queries."""
    if not customer_ids:
        return {}
    rows = Customer.objects.filter(id__in=customer_ids).values_list(
        "id", "email", "erased_at", "merged_into_id"
    )
    reasons: dict[int, tuple[str, str]] = {}
    ask: list[int] = []
    found = set()
    for customer_id, email, erased_at, merged_into_id in rows:
        found.add(customer_id)
        if erased_at is not None:
            reasons[customer_id] = (SkipReason.ERASED, "")
        elif merged_into_id is not None:
            reasons[customer_id] = (SkipReason.MERGED, f"merged into customer {merged_into_id}")
        elif not email:
            reasons[customer_id] = (SkipReason.NO_ADDRESS, "")
        else:
            ask.append(customer_id)
    for customer_id in set(customer_ids) - found:
        reasons[customer_id] = (SkipReason.ERASED, "the customer record is gone")
    answers = budget_allowed(
        customer_ids=ask,
        purpose=BudgetPurpose.FIX_NOTICE,
        now=timezone.now(),
        key=budget_key(issue.pk),
    )
    for customer_id, answer in answers.items():
        if not answer.allowed:
            reason = BUDGET_REASONS.get(answer.reason, SkipReason.BUDGET)
            reasons[customer_id] = (reason, answer.explanation)
    return reasons


def budget_key(issue_id: int) -> str:
    """The budget's key of a fix notice: one per customer and issue."""
    return f"issue:{issue_id}"


def send_key(issue_id: int, customer_id: int) -> str:
    """The send-once key: one email per issue and customer, whichever notice asks."""
    return f"issue:{issue_id}:customer:{customer_id}"


def effective_status() -> Case:
    """A recipient's status with the send-once row's news folded in: "pending" until the
    email went out, then sent, failed or uncertain, unless the ESP has said more since."""
    return Case(
        When(
            status=Status.PENDING,
            then=Case(
                When(send_once__status=SendOnce.Status.SENT, then=Value(Status.SENT)),
                When(send_once__status=SendOnce.Status.FAILED, then=Value(Status.FAILED)),
                When(send_once__status=SendOnce.Status.UNKNOWN, then=Value(Status.UNCERTAIN)),
                default=Value(Status.PENDING),
                output_field=CharField(),
            ),
        ),
        default=F("status"),
        output_field=CharField(),
    )


@dataclass(frozen=True)
class NoticeCounts:
    total: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_reason: dict[str, int] = field(default_factory=dict)

    def __getitem__(self, status: str) -> int:
        return self.by_status.get(status, 0)

    @property
    def sent(self) -> int:
        """Handed to the email service (whatever it said afterwards)."""
        return sum(
            self[s] for s in (Status.SENT, Status.DELIVERED, Status.BOUNCED, Status.COMPLAINED)
        )

    @property
    def left_out(self) -> int:
        return self[Status.SKIPPED]

    @property
    def waiting(self) -> int:
        return self[Status.PENDING]


def notice_counts(notice_ids: list[int]) -> dict[int, NoticeCounts]:
    """Per notice: recipients by (effective) status and those left out by reason; one query."""
    rows = (
        NoticeRecipient.objects.filter(notice_id__in=notice_ids)
        .annotate(shown=effective_status())
        .values("notice_id", "shown", "skip_reason")
        .annotate(n=Count("id"))
        .order_by()
    )
    by_status: dict[int, dict[str, int]] = {i: {} for i in notice_ids}
    by_reason: dict[int, dict[str, int]] = {i: {} for i in notice_ids}
    for row in rows:
        statuses = by_status[row["notice_id"]]
        statuses[row["shown"]] = statuses.get(row["shown"], 0) + row["n"]
        if row["skip_reason"]:
            reasons = by_reason[row["notice_id"]]
            reasons[row["skip_reason"]] = reasons.get(row["skip_reason"], 0) + row["n"]
    return {
        i: NoticeCounts(sum(by_status[i].values()), by_status[i], by_reason[i]) for i in notice_ids
    }


def notice_recipients(notice: FixNotice, *, status: str = "") -> QuerySet[NoticeRecipient]:
    """The notice's recipients with their effective status (``shown``), in order."""
    recipients = (
        NoticeRecipient.objects.filter(notice=notice)
        .annotate(shown=effective_status())
        .select_related("customer", "send_once")
        .order_by("id")
    )
    if status:
        recipients = recipients.filter(shown=status)
    return recipients


def notices_of_issue(issue: Issue) -> list[FixNotice]:
    return list(FixNotice.objects.filter(issue=issue).select_related("approved_by"))


def notice_timeline(*, customer: Customer, viewer: User, limit: int) -> list[TimelineEntry]:
    """The customer timeline's fix notices: "told the fix landed" with the issue for those the
    viewer may see, the bare fact (greyed) for the others. Left-out recipients are not shown:
    nothing reached the customer."""
    recipients = list(
        NoticeRecipient.objects.filter(customer=customer)
        .exclude(status__in=[Status.SKIPPED, Status.PENDING])
        .select_related("notice__issue")
        .order_by("-updated_at", "-id")[:limit]
    )
    visible = set(
        issue_list_visible(viewer=viewer)
        .filter(id__in=[r.notice.issue_id for r in recipients])
        .values_list("id", flat=True)
    )
    entries = []
    for recipient in recipients:
        notice = recipient.notice
        shown = notice.issue_id in visible
        entries.append(
            TimelineEntry(
                when=notice.approved_at or recipient.updated_at,
                kind="fix notice",
                title=f"Told the fix landed: {notice.issue.title}"
                if shown
                else "Told a fix landed",
                summary=recipient.get_status_display() if shown else "",
                url=reverse("loops:notice-detail", args=[notice.pk]) if shown else "",
                restricted=not shown,
            )
        )
    return entries


def notices_to_approve(*, viewer: User, limit: int = 10) -> tuple[list[FixNotice], int]:
    """Draft notices ``viewer`` may approve (``may_send_notices``: the issue's owner, or the
    head of its department; a manager who only belongs to the department approves only their
    own issues' notices), the oldest first, and how many. Two queries at most."""
    if not has_capability(viewer, SEND_NOTICES) or not has_capability(viewer, MANAGE_ISSUES):
        return [], 0
    headed = Department.objects.filter(head=viewer).values("id")
    drafts = notice_list_visible(viewer=viewer).filter(
        Q(issue__owner=viewer) | Q(issue__department_id__in=headed),
        status=FixNotice.Status.DRAFT,
    )
    listed = list(drafts.select_related("issue", "created_by").order_by("created_at", "id")[:limit])
    return listed, len(listed) if len(listed) < limit else drafts.count()
