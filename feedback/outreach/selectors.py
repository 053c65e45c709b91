"""Reads of the outreach programs, with the viewer's scope applied.

- Call lists, calls and exercises: an executive reads their own; the CEO (the executive who
  reports to no one) and admins read every executive's. Nobody else reads them: not managers
  (whether or not they head a department), not reps.
- Forums and their topics: reps, executives and admins.
"""

from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db.models import Count, Exists, Prefetch, Q, QuerySet, Subquery
from django.db.models.expressions import OuterRef
from django.utils import timezone

from contacts.budget.selectors import budget_refusal_reasons
from contacts.models import BudgetPurpose, BudgetRefusal, Customer, CustomerEvent
from feedback.models import (
    FeedbackItem,
    Forum,
    ForumTopic,
    OutreachCall,
    OutreachExercise,
    OutreachList,
    OutreachProgram,
)
from feedback.outreach.rules import (
    lost_window_start,
    loyal_since_cutoff,
    month_start,
    next_month,
)
from feedback.selectors import tracker_sees_everyone
from voc.core.business import business_setting
from voc.core.capabilities import effective_role
from voc.people.models import User
from voc.people.roles import Role

Viewer = User | AnonymousUser
CALL_PROGRAMS = (OutreachProgram.LOST, OutreachProgram.LOYAL)
LOYAL_YEARS = 2
PROMOTER_SCORE = 9  # NPS 9 and 10
PROMOTER_WITHIN = timedelta(days=365)


def _zone() -> ZoneInfo:
    return ZoneInfo(settings.VOC_REPORTING_TIME_ZONE)


def outreach_today() -> date:
    return timezone.localtime(timezone.now(), _zone()).date()


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month as instants in the reporting time zone: [start, end)."""
    zone = _zone()
    return (
        datetime.combine(month, time(), tzinfo=zone),
        datetime.combine(next_month(month), time(), tzinfo=zone),
    )


def list_size(program: str) -> int:
    key = {
        OutreachProgram.LOST: "lost_customer_calls_per_month",
        OutreachProgram.LOYAL: "loyal_customer_calls_per_month",
    }[OutreachProgram(program)]
    return int(business_setting(key))


# --- scope -----------------------------------------------------------------------------------


def reads_every_executive(viewer: Viewer) -> bool:
    """The CEO and admins read every executive's lists, calls and exercises."""
    return tracker_sees_everyone(viewer)


def _executive_scope(viewer: Viewer, field_name: str) -> Q | None:
    """None: nothing; Q(): everything; else the viewer's own rows."""
    role = effective_role(viewer)
    if role not in {Role.EXECUTIVE, Role.ADMIN}:
        return None
    if reads_every_executive(viewer):
        return Q()
    return Q(**{field_name: viewer.pk})


def outreach_lists_visible(*, viewer: Viewer) -> QuerySet[OutreachList]:
    scope = _executive_scope(viewer, "executive")
    lists = OutreachList.objects.all()
    return lists.none() if scope is None else lists.filter(scope)


def outreach_calls_visible(*, viewer: Viewer) -> QuerySet[OutreachCall]:
    scope = _executive_scope(viewer, "outreach_list__executive")
    calls = OutreachCall.objects.all()
    return calls.none() if scope is None else calls.filter(scope)


def outreach_exercises_visible(*, viewer: Viewer) -> QuerySet[OutreachExercise]:
    scope = _executive_scope(viewer, "executive")
    exercises = OutreachExercise.objects.all()
    return exercises.none() if scope is None else exercises.filter(scope)


def forums_visible(*, viewer: Viewer) -> QuerySet[Forum]:
    if effective_role(viewer) not in {Role.REP, Role.EXECUTIVE, Role.ADMIN}:
        return Forum.objects.none()
    return Forum.objects.all()


def forum_topics_visible(*, viewer: Viewer) -> QuerySet[ForumTopic]:
    return ForumTopic.objects.filter(forum__in=forums_visible(viewer=viewer))


def outreach_call_get_visible(*, viewer: Viewer, call_id: int) -> OutreachCall | None:
    return (
        outreach_calls_visible(viewer=viewer)
        .select_related("outreach_list__executive", "customer")
        .filter(id=call_id)
        .first()
    )


def forum_get_visible(*, viewer: Viewer, forum_id: int) -> Forum | None:
    return forums_visible(viewer=viewer).filter(id=forum_id).first()


def forum_topic_get_visible(*, viewer: Viewer, topic_id: int) -> ForumTopic | None:
    return forum_topics_visible(viewer=viewer).select_related("forum").filter(id=topic_id).first()


# --- the hub ---------------------------------------------------------------------------------


def my_call_lists(*, viewer: Viewer, month: date) -> list[OutreachList]:
    """The viewer's own lists for ``month`` (lost first), each with its calls and customers
    and ``refusal_reasons``: why the contact budget kept customers off it."""
    if effective_role(viewer) != Role.EXECUTIVE:
        return []
    calls = OutreachCall.objects.select_related("customer").order_by("position", "id")
    lists = list(
        OutreachList.objects.filter(executive=viewer.pk, month=month)
        .prefetch_related(Prefetch("calls", queryset=calls))
        .order_by("program")
    )
    # Why the contact budget kept customers off each list (one query for all of them).
    reasons = budget_refusal_reasons(
        purpose=BudgetPurpose.OUTREACH, keys=[item.budget_key for item in lists if item.refused]
    )
    for item in lists:
        item.refusal_reasons = reasons.get(item.budget_key, [])
    return lists


@dataclass(frozen=True)
class CallProgress:
    done: int
    total: int
    lists: int


def call_progress(*, viewer: Viewer, month: date) -> CallProgress:
    """ "Your calls this month: 2 of 5 done", over both call lists."""
    if effective_role(viewer) != Role.EXECUTIVE:
        return CallProgress(0, 0, 0)
    calls = OutreachCall.objects.filter(
        outreach_list__executive=viewer.pk, outreach_list__month=month
    )
    return CallProgress(
        done=calls.filter(called_at__isnull=False).count(),
        total=calls.count(),
        lists=OutreachList.objects.filter(executive=viewer.pk, month=month).count(),
    )


@dataclass(frozen=True)
class ExecutiveProgress:
    executive: User
    done: int
    total: int


def executive_overview(*, viewer: Viewer, month: date) -> list[ExecutiveProgress]:
    """For the CEO and admins: every active executive's calls done this month, of their lists'
    total, in one query."""
    if not reads_every_executive(viewer):
        return []
    this_month = Q(outreach_lists__month=month)
    executives = (
        User.objects.filter(role=Role.EXECUTIVE, is_active=True)
        .annotate(
            calls_total=Count("outreach_lists__calls", filter=this_month),
            calls_done=Count(
                "outreach_lists__calls",
                filter=this_month & Q(outreach_lists__calls__called_at__isnull=False),
            ),
        )
        .order_by("last_name", "first_name", "username")
    )
    return [
        ExecutiveProgress(executive, executive.calls_done, executive.calls_total)
        for executive in executives
    ]


def program_calls(*, viewer: Viewer, program: str, month: date) -> QuerySet[OutreachCall]:
    """The calls of a program and month the viewer may read, by executive."""
    return (
        outreach_calls_visible(viewer=viewer)
        .filter(outreach_list__program=program, month=month)
        .select_related("outreach_list__executive", "customer")
        .order_by(
            "outreach_list__executive__last_name",
            "outreach_list__executive__first_name",
            "outreach_list__executive_id",
            "position",
            "id",
        )
    )


def program_exercises(*, viewer: Viewer, month: date) -> QuerySet[OutreachExercise]:
    start, end = month_bounds(month)
    return (
        outreach_exercises_visible(viewer=viewer)
        .filter(done_at__gte=start, done_at__lt=end)
        .select_related("executive")
        .order_by("done_at", "id")
    )


def month_forums(*, viewer: Viewer, month: date) -> QuerySet[Forum]:
    start, end = month_bounds(month)
    topics = ForumTopic.objects.select_related("raised_by", "owner").order_by("id")
    return (
        forums_visible(viewer=viewer)
        .filter(held_at__gte=start, held_at__lt=end)
        .prefetch_related(Prefetch("topics", queryset=topics))
        .order_by("held_at", "id")
    )


# --- candidates ------------------------------------------------------------------------------


def _callable_customers() -> QuerySet[Customer]:
    """Customers that may be on a list at all: not erased, not merged away, with a phone or an
    email to reach them by. The contact budget (opt-outs, cool-down) is asked per candidate."""
    return Customer.objects.filter(erased_at__isnull=True, merged_into__isnull=True).exclude(
        phone="", email=""
    )


def _latest_event() -> QuerySet[CustomerEvent]:
    return CustomerEvent.objects.filter(customer=OuterRef("pk")).order_by("-occurred_on", "-id")


def _refused_under(key: str) -> QuerySet[BudgetRefusal]:
    """The customers the contact budget already refused for this call list's key: a top-up
    does not ask for them again."""
    if not key:
        return BudgetRefusal.objects.none()
    return BudgetRefusal.objects.filter(purpose=BudgetPurpose.OUTREACH, key=key)


def lost_candidates(
    *, today: date, month: date, limit: int, refused_key: str = ""
) -> list[dict[str, Any]]:
    """Customers whose latest lifecycle event is "lost", on a day within the window (the
    business setting, 90 days: lost exactly that many days ago counts), not on any list this
    month; the most recently lost first: ``{"id", "lost_on", "lost_reason"}`` each.

    Read from the recent "lost" events (the ``customer_event_kind_day`` index), not by looking
    at every customer."""
    window = int(business_setting("lost_customer_window_days"))
    recent = CustomerEvent.objects.filter(
        kind=CustomerEvent.Kind.LOST,
        occurred_on__gte=lost_window_start(today, window),
        occurred_on__lte=today,
    )
    latest = _latest_event()
    rows = (
        _callable_customers()
        .filter(id__in=recent.values("customer_id"))
        .annotate(
            last_kind=Subquery(latest.values("kind")[:1]),
            last_on=Subquery(latest.values("occurred_on")[:1]),
            reason_text=Subquery(latest.values("reason_text")[:1]),
            reason_name=Subquery(latest.values("reason__name")[:1]),
        )
        .filter(
            last_kind=CustomerEvent.Kind.LOST,
            last_on__gte=lost_window_start(today, window),
            last_on__lte=today,
        )
        .exclude(outreach_calls__month=month)
        .exclude(id__in=_refused_under(refused_key).values("customer_id"))
        .order_by("-last_on", "id")
        .values_list("id", "last_on", "reason_name", "reason_text")[:limit]
    )
    return [
        {
            "id": customer_id,
            "lost_on": lost_on,
            "lost_reason": ": ".join(part for part in (name, text) if part),
        }
        for customer_id, lost_on, name, text in rows
    ]


def loyal_candidates(
    *, today: date, month: date, limit: int, now: datetime | None = None, refused_key: str = ""
) -> list[dict[str, Any]]:
    """Customers for two years or more (their first "gained" event on or before the same day
    two years ago), the longest-standing first, then promoters (an NPS answer of 9 or 10 in
    the last year) who are not, the highest score first; never one lost now (their latest
    event is "lost") nor one on any list this month: ``{"id", "customer_since",
    "promoter_score"}`` each.

    The long-standing are read in the order of the ``customer_event_kind_day`` index and the
    promoters from the last year's NPS answers, so neither looks at every customer."""
    now = now or timezone.now()
    cutoff = loyal_since_cutoff(today, LOYAL_YEARS)
    Gained = CustomerEvent.Kind.GAINED
    promoters = FeedbackItem.objects.filter(
        kind=FeedbackItem.Kind.NPS,
        score__gte=PROMOTER_SCORE,
        received_at__gte=now - PROMOTER_WITHIN,
        received_at__lte=now,
    )

    def score_of(customer_ref: str) -> Subquery:
        best = promoters.filter(customer=OuterRef(customer_ref)).order_by("-score", "-received_at")
        return Subquery(best.values("score")[:1])

    def latest_kind(customer_ref: str) -> Subquery:
        latest = CustomerEvent.objects.filter(customer=OuterRef(customer_ref)).order_by(
            "-occurred_on", "-id"
        )
        return Subquery(latest.values("kind")[:1])

    earlier_gained = CustomerEvent.objects.filter(
        customer=OuterRef("customer_id"), kind=Gained
    ).filter(
        Q(occurred_on__lt=OuterRef("occurred_on"))
        | Q(occurred_on=OuterRef("occurred_on"), id__lt=OuterRef("id"))
    )
    long_standing = list(
        CustomerEvent.objects.filter(
            kind=Gained,
            occurred_on__lte=cutoff,
            customer__erased_at__isnull=True,
            customer__merged_into__isnull=True,
        )
        .exclude(customer__phone="", customer__email="")
        .exclude(Exists(earlier_gained))  # the customer's first "gained" event only
        .annotate(last_kind=latest_kind("customer_id"), promoter_score=score_of("customer_id"))
        .exclude(last_kind=CustomerEvent.Kind.LOST)  # never NULL: this event is one
        .exclude(customer__outreach_calls__month=month)
        .exclude(customer_id__in=_refused_under(refused_key).values("customer_id"))
        .order_by("occurred_on", "id")
        .values_list("customer_id", "occurred_on", "promoter_score")[:limit]
    )
    first_gained = CustomerEvent.objects.filter(customer=OuterRef("pk"), kind=Gained).order_by(
        "occurred_on", "id"
    )
    promoted_only = list(
        _callable_customers()
        .filter(id__in=promoters.values("customer_id"))
        .annotate(
            since=Subquery(first_gained.values("occurred_on")[:1]),
            last_kind=latest_kind("pk"),
            promoter_score=score_of("pk"),
        )
        .filter(Q(since__isnull=True) | Q(since__gt=cutoff))
        # Written out: NOT (NULL = 'lost') is NULL in SQL, which would drop customers with no
        # lifecycle event at all (promoters whose start VoC never heard of).
        .filter(Q(last_kind__isnull=True) | ~Q(last_kind=CustomerEvent.Kind.LOST))
        .exclude(outreach_calls__month=month)
        .exclude(id__in=_refused_under(refused_key).values("customer_id"))
        .order_by("-promoter_score", "id")
        .values_list("id", "since", "promoter_score")[: max(0, limit - len(long_standing))]
    )
    return [
        {"id": customer_id, "customer_since": since, "promoter_score": score}
        for customer_id, since, score in long_standing + promoted_only
    ]


# --- the monthly summary ---------------------------------------------------------------------


@dataclass(frozen=True)
class Heard:
    who: str  # the executive (calls, exercises) or the topic's raiser
    what: str  # the call's customer context, the exercise's task, the topic
    notes: str


@dataclass(frozen=True)
class FollowUp:
    what: str
    owner: str
    due_on: date | None = None
    done: bool = False


@dataclass
class Summary:
    program: str
    month: date
    entries: int = 0
    minutes: int = 0
    # outcome label -> what was heard under it, in the order first met
    heard: "OrderedDict[str, list[Heard]]" = field(default_factory=OrderedDict)
    will_do: list[FollowUp] = field(default_factory=list)

    @property
    def program_label(self) -> str:
        return OutreachProgram(self.program).label

    def as_context(self) -> dict[str, object]:
        """JSON-safe, for the email's send-once row."""
        return {
            "program": self.program_label,
            "month": f"{self.month:%B %Y}",
            "entries": self.entries,
            "minutes": self.minutes,
            "heard": [
                {"outcome": outcome, "items": [vars(item) for item in items]}
                for outcome, items in self.heard.items()
            ],
            "will_do": [
                {
                    "what": item.what,
                    "owner": item.owner,
                    "due_on": item.due_on.isoformat() if item.due_on else "",
                    "done": item.done,
                }
                for item in self.will_do
            ],
        }


def _name(user: User | None) -> str:
    if user is None:
        return "(nobody)"
    return user.get_full_name() or user.get_username()


def _call_context(call: OutreachCall) -> str:
    if call.customer_id is None:
        return "Erased customer"
    assert call.customer is not None
    return str(call.customer)


def outreach_summary(*, viewer: Viewer, program: str, month: date) -> Summary:
    """What was heard in a program and month (notes grouped by outcome, in the order of the
    outcome's choices) and what we will do (follow-ups and their owners), over the entries the
    viewer may read."""
    program = OutreachProgram(program)
    summary = Summary(program=program, month=month)
    groups: dict[str, list[Heard]] = {}
    if program in CALL_PROGRAMS:
        calls = (
            program_calls(viewer=viewer, program=program, month=month)
            .filter(called_at__isnull=False)
            .order_by("called_at", "id")
        )
        for call in calls:
            executive = call.outreach_list.executive
            summary.entries += 1
            summary.minutes += call.duration_minutes or 0
            groups.setdefault(call.outcome, []).append(
                Heard(_name(executive), _call_context(call), call.notes)
            )
            if call.follow_up:
                summary.will_do.append(FollowUp(call.follow_up, _name(executive)))
        labels = OutreachCall.Outcome
    elif program == OutreachProgram.EXERCISE:
        for exercise in program_exercises(viewer=viewer, month=month):
            summary.entries += 1
            summary.minutes += exercise.minutes_spent
            what = exercise.get_task_display()
            if exercise.description:
                what = f"{what}: {exercise.description}"
            groups.setdefault(exercise.outcome, []).append(
                Heard(_name(exercise.executive), what, exercise.notes)
            )
            if exercise.follow_up:
                summary.will_do.append(FollowUp(exercise.follow_up, _name(exercise.executive)))
        labels = OutreachExercise.Outcome  # type: ignore[assignment]
    else:
        for forum in month_forums(viewer=viewer, month=month):
            for topic in forum.topics.all():
                summary.entries += 1
                groups.setdefault(topic.outcome, []).append(
                    Heard(_name(topic.raised_by), topic.title, topic.notes)
                )
                if topic.owner_id is not None:
                    summary.will_do.append(
                        FollowUp(
                            topic.title,
                            _name(topic.owner),
                            due_on=topic.due_on,
                            done=topic.done_at is not None,
                        )
                    )
        labels = ForumTopic.Outcome  # type: ignore[assignment]
    for value, label in labels.choices:
        if value in groups:
            summary.heard[label] = groups[value]
    return summary


def share_recipients() -> QuerySet[User]:
    """Who a summary may be shared with: VoC's active users with an email address."""
    return (
        User.objects.filter(is_active=True)
        .exclude(email="")
        .order_by("last_name", "first_name", "username")
    )


def months_with_entries(*, viewer: Viewer, program: str, limit: int = 12) -> list[date]:
    """The months to offer on a program page: this month and the ones with entries."""
    program = OutreachProgram(program)
    months = {month_start(outreach_today())}
    if program in CALL_PROGRAMS:
        months |= set(
            outreach_lists_visible(viewer=viewer)
            .filter(program=program)
            .values_list("month", flat=True)
            .distinct()[:limit]
        )
    elif program == OutreachProgram.EXERCISE:
        for done_at in outreach_exercises_visible(viewer=viewer).values_list("done_at", flat=True)[
            :200
        ]:
            months.add(month_start(timezone.localtime(done_at, _zone()).date()))
    else:
        for held_at in forums_visible(viewer=viewer).values_list("held_at", flat=True)[:200]:
            months.add(month_start(timezone.localtime(held_at, _zone()).date()))
    return sorted(months, reverse=True)[:limit]
