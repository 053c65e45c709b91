"""Writes of the outreach programs: make the monthly call lists, log calls and "be a customer"
exercises, hold frontline forums and follow their topics up, share a month's summary, and what
erasing a customer does to calls.

Every write takes ``by=`` and records an audit entry in its transaction. Refusals raise
``PermissionDenied`` (not yours), ``ValidationError`` (bad input) or ``Conflict`` (not now),
each with a message a person can act on. Customer text (notes, follow-ups, topics) goes through
the one redaction entry point before it is stored.

**A customer is never on two executives' lists in a month.** Each call row carries its month
and the database holds one row per (customer, month) (``feedback_outreach_customer_once_a_month``).
A list is made by inserting the customer's row first, in a savepoint: when another list being
made at the same moment holds the customer, the insert waits for that transaction and fails
when it commits, and the customer is skipped ("taken"). Only then is the contact budget asked
(``budget_claim``, purpose outreach): a refusal (opted out, called within the outreach
cool-down, erased, merged) removes the row and is recorded by the budget with its reason under
the list's key. A list is made once per executive, program and month (a unique constraint too):
asking again, from the page or the monthly job, returns the list made first.
"""

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from contacts.budget.services import budget_claim
from contacts.models import BudgetPurpose, Customer
from contacts.redaction_rules import redactor
from feedback.models import (
    Forum,
    ForumTopic,
    OutreachCall,
    OutreachExercise,
    OutreachList,
    OutreachProgram,
)
from feedback.outreach import selectors
from feedback.outreach.rules import month_start
from voc.core.audit import Actor, SystemActor, actor_fields, audit_record
from voc.core.capabilities import effective_role
from voc.core.errors import Conflict
from voc.core.models import SendOnce
from voc.core.sendonce import send_once
from voc.people.models import User
from voc.people.roles import Role

OUTREACH_JOB = SystemActor("feedback:outreach-lists")
SUMMARY_PURPOSE = "feedback.outreach_summary"
SUMMARY_TEMPLATE = "outreach-summary"
MAX_NOTES = 4000
MAX_FOLLOW_UP = 500
MAX_MINUTES = 8 * 60
# How many candidates one list asks the budget about at most (opted-out customers, say).
MAX_TRIES = 200
ERASED_NOTE = "[erased]"

AUDIT_LABELS = {
    "outreach.list": "made the outreach call list",
    "outreach.top_up": "topped up the outreach call list",
    "outreach.call": "logged the outreach call",
    "outreach.exercise": "logged the be-a-customer exercise",
    "outreach.forum": "held the frontline forum",
    "outreach.topic": "added a topic to the frontline forum",
    "outreach.topic_done": "marked the forum follow-up done",
    "outreach.share": "shared the outreach summary",
}


def _require_executive(user: User, doing: str) -> None:
    if effective_role(user) != Role.EXECUTIVE:
        raise PermissionDenied(f"Only executives {doing}.")


def _text(value: str, *, limit: int, field: str) -> str:
    value = (value or "").strip()
    if len(value) > limit:
        raise ValidationError({field: f"Keep it to {limit} characters."})
    return redactor().text(value) if value else ""


def _minutes(value: int, *, field: str) -> int:
    if not 1 <= value <= MAX_MINUTES:
        raise ValidationError({field: f"Give between 1 and {MAX_MINUTES} minutes."})
    return value


def _when(value: datetime, *, field: str) -> datetime:
    if timezone.is_naive(value):
        raise ValidationError({field: "Give the time with its time zone."})
    if value > timezone.now() + timedelta(minutes=10):
        raise ValidationError({field: "Give a time that has passed: log it once it is done."})
    return value


# --- call lists ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    customer_id: int
    lost_on: date | None = None
    lost_reason: str = ""
    customer_since: date | None = None
    promoter_score: int | None = None


def _candidates(program: str, *, today: date, month: date, refused_key: str) -> list[Candidate]:
    if program == OutreachProgram.LOST:
        lost = selectors.lost_candidates(
            today=today, month=month, limit=MAX_TRIES, refused_key=refused_key
        )
        return [
            Candidate(row["id"], lost_on=row["lost_on"], lost_reason=row["lost_reason"][:500])
            for row in lost
        ]
    loyal = selectors.loyal_candidates(
        today=today, month=month, limit=MAX_TRIES, refused_key=refused_key
    )
    return [
        Candidate(
            row["id"], customer_since=row["customer_since"], promoter_score=row["promoter_score"]
        )
        for row in loyal
    ]


def outreach_list_generate(
    *, executive: User, program: str, today: date | None = None, by: Actor
) -> tuple[OutreachList, bool]:
    """Make ``executive``'s call list for ``program`` (lost or loyal) and the month holding
    ``today`` (reporting time), or return the one made before. Returns (list, created)."""
    if program not in selectors.CALL_PROGRAMS:
        raise ValidationError({"program": "Only the lost and loyal programs have call lists."})
    if not executive.is_active or executive.role != Role.EXECUTIVE:
        raise ValidationError({"executive": "Call lists are for active executives."})
    if isinstance(by, User) and by.pk != executive.pk:
        raise PermissionDenied("Executives make their own call lists.")
    today = today or selectors.outreach_today()
    month = month_start(today)
    existing = OutreachList.objects.filter(
        executive=executive, program=program, month=month
    ).first()
    if existing is not None:
        return existing, False
    size = selectors.list_size(program)
    with transaction.atomic():
        try:
            with transaction.atomic():
                outreach_list = OutreachList.objects.create(
                    executive=executive,
                    program=program,
                    month=month,
                    size=size,
                    generated_by=actor_fields(by)["actor_name"],
                )
        except IntegrityError:  # made at the same moment by another request or the job
            return OutreachList.objects.get(
                executive=executive, program=program, month=month
            ), False
        calls = _fill(outreach_list, today=today, by=by)
        outreach_list.save(update_fields=["refused", "taken"])
        audit_record(
            by=by,
            action="outreach.list",
            target=outreach_list,
            changes={
                "program": [None, program],
                "month": [None, month.isoformat()],
                "calls": [None, calls],
                "refused": [None, outreach_list.refused],
                "taken": [None, outreach_list.taken],
            },
        )
    return outreach_list, True


def _fill(outreach_list: OutreachList, *, today: date, by: Actor) -> int:
    """Add customers to the list until it holds its size: each passes the contact budget (a
    "no" is recorded with its reason and counted in ``refused``; nobody refused for this list
    is asked again) and is on no other list this month (else counted in ``taken``). Returns
    how many it added; the caller saves the counts."""
    held = outreach_list.calls.count()
    position = (outreach_list.calls.aggregate(last=Max("position"))["last"] or -1) + 1
    added = 0
    candidates = _candidates(
        outreach_list.program,
        today=today,
        month=outreach_list.month,
        refused_key=outreach_list.budget_key,
    )
    for candidate in candidates:
        if held + added >= outreach_list.size:
            break
        call = _take(outreach_list, candidate, position=position)
        if call is None:
            outreach_list.taken += 1
            continue
        answer = budget_claim(
            customer=Customer(pk=candidate.customer_id),
            purpose=BudgetPurpose.OUTREACH,
            key=outreach_list.budget_key,
            by=by,
        )
        if not answer.allowed:  # the budget recorded the refusal and its reason
            call.delete()
            outreach_list.refused += 1
            continue
        added += 1
        position += 1
    return added


def outreach_list_top_up(
    *, outreach_list: OutreachList, today: date | None = None, by: Actor
) -> int:
    """Fill a list of this month that is short (too few customers when it was made: more have
    been lost, or become loyal, since). Returns how many customers it added; one top-up at a
    time per list (a row lock), and nothing at all for a full list or another month's."""
    today = today or selectors.outreach_today()
    if outreach_list.month != month_start(today):
        return 0
    with transaction.atomic():
        outreach_list = OutreachList.objects.select_for_update().get(pk=outreach_list.pk)
        if outreach_list.calls.count() >= outreach_list.size:
            return 0
        before = (outreach_list.refused, outreach_list.taken)
        added = _fill(outreach_list, today=today, by=by)
        if not added and before == (outreach_list.refused, outreach_list.taken):
            return 0
        outreach_list.save(update_fields=["refused", "taken"])
        audit_record(
            by=by,
            action="outreach.top_up",
            target=outreach_list,
            changes={
                "calls": [None, added],
                "refused": [before[0], outreach_list.refused],
                "taken": [before[1], outreach_list.taken],
            },
        )
    return added


def _take(
    outreach_list: OutreachList, candidate: Candidate, *, position: int
) -> OutreachCall | None:
    """The customer's row on this list, or None when another list holds them this month (the
    unique constraint; a list being made at the same moment is waited for)."""
    try:
        with transaction.atomic():
            return OutreachCall.objects.create(
                outreach_list=outreach_list,
                month=outreach_list.month,
                customer_id=candidate.customer_id,
                lost_on=candidate.lost_on,
                lost_reason=redactor().text(candidate.lost_reason) if candidate.lost_reason else "",
                customer_since=candidate.customer_since,
                promoter_score=candidate.promoter_score,
                position=position,
            )
    except IntegrityError:
        return None


def outreach_lists_generate_all(*, today: date | None = None) -> int:
    """The hourly job: every active executive's lost and loyal lists for this month, made once,
    and a list still short of its size topped up from the customers lost (or become loyal)
    since. Returns how many lists it made plus how many customers it added to short ones."""
    today = today or selectors.outreach_today()
    done = 0
    executives = User.objects.filter(role=Role.EXECUTIVE, is_active=True).order_by("id")
    for executive in executives:
        for program in selectors.CALL_PROGRAMS:
            outreach_list, created = outreach_list_generate(
                executive=executive, program=program, today=today, by=OUTREACH_JOB
            )
            if created:
                done += 1
            else:
                done += outreach_list_top_up(
                    outreach_list=outreach_list, today=today, by=OUTREACH_JOB
                )
    return done


def outreach_call_log(
    *,
    call: OutreachCall,
    called_at: datetime,
    duration_minutes: int,
    outcome: str,
    notes: str = "",
    follow_up: str = "",
    by: User,
) -> OutreachCall:
    """The executive whose list it is logs the call: when, its real length in minutes (what
    the 5% tracker counts), the outcome and notes. Logging again corrects the entry."""
    if call.outreach_list.executive_id != by.pk:
        raise PermissionDenied("Only the executive whose list it is logs this call.")
    if outcome not in OutreachCall.Outcome.values:
        raise ValidationError({"outcome": "Choose what came of the call."})
    if call.customer_id is None:
        raise Conflict("This customer was erased: there is no one to call.")
    _when(called_at, field="called_at")
    _minutes(duration_minutes, field="duration_minutes")
    notes = _text(notes, limit=MAX_NOTES, field="notes")
    follow_up = _text(follow_up, limit=MAX_FOLLOW_UP, field="follow_up")
    with transaction.atomic():
        call = OutreachCall.objects.select_for_update().get(pk=call.pk)
        before = [call.outcome or None, call.duration_minutes]
        call.called_at = called_at
        call.duration_minutes = duration_minutes
        call.outcome = outcome
        call.notes = notes
        call.follow_up = follow_up
        call.logged_by = by
        call.save(
            update_fields=[
                "called_at",
                "duration_minutes",
                "outcome",
                "notes",
                "follow_up",
                "logged_by",
            ]
        )
        audit_record(
            by=by,
            action="outreach.call",
            target=call,
            changes={
                "outcome": [before[0], outcome],
                "duration_minutes": [before[1], duration_minutes],
            },
            customer_id=call.customer_id,
        )
    return call


# --- be a customer ---------------------------------------------------------------------------


def outreach_exercise_log(
    *,
    task: str,
    done_at: datetime,
    minutes_spent: int,
    outcome: str,
    notes: str = "",
    description: str = "",
    follow_up: str = "",
    by: User,
) -> OutreachExercise:
    """An executive did what customers must do: what, when, how long (counted as listening)
    and what was hard."""
    _require_executive(by, "log be-a-customer exercises")
    if task not in OutreachExercise.Task.values:
        raise ValidationError({"task": "Choose what you did as a customer."})
    if outcome not in OutreachExercise.Outcome.values:
        raise ValidationError({"outcome": "Choose how it went."})
    _when(done_at, field="done_at")
    _minutes(minutes_spent, field="minutes_spent")
    with transaction.atomic():
        exercise = OutreachExercise.objects.create(
            executive=by,
            task=task,
            description=_text(description, limit=200, field="description"),
            done_at=done_at,
            minutes_spent=minutes_spent,
            outcome=outcome,
            notes=_text(notes, limit=MAX_NOTES, field="notes"),
            follow_up=_text(follow_up, limit=MAX_FOLLOW_UP, field="follow_up"),
        )
        audit_record(
            by=by,
            action="outreach.exercise",
            target=exercise,
            changes={"task": [None, task], "minutes_spent": [None, minutes_spent]},
        )
    return exercise


# --- frontline forums ------------------------------------------------------------------------


def forum_create(*, title: str, held_at: datetime, by: User) -> Forum:
    _require_executive(by, "hold frontline forums")
    title = _text(title, limit=200, field="title")
    if not title:
        raise ValidationError({"title": "Give the forum a title."})
    if timezone.is_naive(held_at):
        raise ValidationError({"held_at": "Give the time with its time zone."})
    with transaction.atomic():
        forum = Forum.objects.create(title=title, held_at=held_at, created_by=by)
        audit_record(by=by, action="outreach.forum", target=forum, changes={"title": [None, title]})
    return forum


def forum_topic_add(
    *,
    forum: Forum,
    title: str,
    outcome: str,
    raised_by: User | None = None,
    notes: str = "",
    owner: User | None = None,
    due_on: date | None = None,
    by: User,
) -> ForumTopic:
    """A topic raised at the forum and, when someone follows it up, its owner and due date."""
    _require_executive(by, "record forum topics")
    title = _text(title, limit=200, field="title")
    if not title:
        raise ValidationError({"title": "Say what the topic is."})
    if outcome not in ForumTopic.Outcome.values:
        raise ValidationError({"outcome": "Choose what we will do about it."})
    if due_on is not None and owner is None:
        raise ValidationError({"owner": "A due date needs an owner to follow it up."})
    if owner is not None and not owner.is_active:
        raise ValidationError({"owner": "Choose an active user to follow it up."})
    with transaction.atomic():
        topic = ForumTopic.objects.create(
            forum=forum,
            title=title,
            raised_by=raised_by,
            notes=_text(notes, limit=MAX_NOTES, field="notes"),
            outcome=outcome,
            owner=owner,
            due_on=due_on,
        )
        audit_record(
            by=by,
            action="outreach.topic",
            target=forum,
            changes={
                "topic": [None, topic.pk],
                "owner": [None, owner.pk if owner else None],
                "due_on": [None, due_on],
            },
        )
    return topic


def forum_topic_done(*, topic: ForumTopic, by: User) -> ForumTopic:
    """The owner (or an executive) says the follow-up is done."""
    if topic.owner_id != by.pk and effective_role(by) != Role.EXECUTIVE:
        raise PermissionDenied("Only the topic's owner or an executive marks it done.")
    with transaction.atomic():
        topic = ForumTopic.objects.select_for_update().get(pk=topic.pk)
        if topic.done_at is not None:
            raise Conflict("This follow-up is done already.")
        topic.done_at = timezone.now()
        topic.save(update_fields=["done_at"])
        audit_record(
            by=by,
            action="outreach.topic_done",
            target=topic.forum,
            changes={"topic": [topic.pk, topic.pk], "done": [False, True]},
        )
    return topic


# --- sharing a summary -----------------------------------------------------------------------


def summary_version(summary: selectors.Summary) -> str:
    """A short fingerprint of what the summary says: sharing it again sends the new version to
    those who had an older one, and nothing to those who have this one."""
    text = json.dumps(summary.as_context(), sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def summary_key(*, program: str, month: date, sender: User, recipient: User, version: str) -> str:
    return f"{_summary_prefix(program, month, sender)}{recipient.pk}:v:{version}"


def _summary_prefix(program: str, month: date, sender: User) -> str:
    return f"{program}:{month:%Y-%m}:from:{sender.pk}:to:"


def outreach_summary_share(
    *, program: str, month: date, recipients: Iterable[User], by: User
) -> int:
    """Email the month's summary, as ``by`` reads it, to each of ``recipients`` (VoC users),
    once per sender, recipient, program, month and version of the summary. Returns how many
    emails it asked for: a recipient who has this version already gets nothing; one who had an
    earlier version (entries were logged or changed since) gets the new one."""
    if effective_role(by) not in {Role.EXECUTIVE, Role.ADMIN}:
        raise PermissionDenied("Only executives and admins share outreach summaries.")
    people = [user for user in recipients if user.is_active and user.email]
    if not people:
        raise ValidationError({"recipients": "Choose at least one person with an email address."})
    summary = selectors.outreach_summary(viewer=by, program=program, month=month)
    version = summary_version(summary)
    context = summary.as_context() | {
        "sender": by.get_full_name() or by.get_username(),
        "site_url": settings.VOC_BASE_URL,
        "program_key": program,
        "month_key": f"{month:%Y-%m}",
        # For erasure: the calls whose notes the email holds.
        "call_ids": _summary_call_ids(by, program, month),
    }
    asked = 0
    with transaction.atomic():
        for person in people:
            _, created = send_once(
                purpose=SUMMARY_PURPOSE,
                key=summary_key(
                    program=program, month=month, sender=by, recipient=person, version=version
                ),
                to=[person.email],
                template=SUMMARY_TEMPLATE,
                context=context,
                by=by,
            )
            asked += created
        audit_record(
            by=by,
            action="outreach.share",
            changes={
                "program": [None, program],
                "month": [None, f"{month:%Y-%m}"],
                "recipients": [None, sorted(person.pk for person in people)],
                "version": [None, version],
            },
        )
    return asked


def _summary_call_ids(viewer: User, program: str, month: date) -> list[int]:
    if program not in selectors.CALL_PROGRAMS:
        return []
    return list(
        selectors.program_calls(viewer=viewer, program=program, month=month)
        .filter(called_at__isnull=False)
        .values_list("id", flat=True)
    )


def summary_shared_with(
    *, program: str, month: date, sender: User, version: str
) -> list[tuple[str, bool]]:
    """The addresses ``sender`` shared this summary with, each with whether they have this
    ``version`` (else an earlier one), sorted by address."""
    rows = SendOnce.objects.filter(
        purpose=SUMMARY_PURPOSE, key__startswith=_summary_prefix(program, month, sender)
    ).values_list("to", "key")
    current: dict[str, bool] = {}
    for to, key in rows:
        for address in to:
            current[address] = current.get(address, False) or key.endswith(f":v:{version}")
    return sorted(current.items())


# --- erasure ---------------------------------------------------------------------------------


def outreach_calls_erase(*, customer_ids: Iterable[int], erasure: object = None) -> dict[str, int]:
    """The erasure handler (contacts.registry): calls to an erased customer keep that a call
    was made, when, how long and its outcome (the tracker's hours stay), and lose the customer
    link, the notes, the follow-up and why they were on the list. Summary emails that quoted
    those notes lose their text too."""
    ids = list(customer_ids)
    calls = OutreachCall.objects.filter(customer_id__in=ids)
    call_ids = list(calls.values_list("id", flat=True))
    if not call_ids:
        return {}
    erased = OutreachCall.objects.filter(id__in=call_ids).update(
        customer=None,
        notes=ERASED_NOTE,
        follow_up="",
        lost_reason="",
        lost_on=None,
        customer_since=None,
        promoter_score=None,
    )
    emails = 0
    for call_id in call_ids:
        emails += SendOnce.objects.filter(
            purpose=SUMMARY_PURPOSE, context__call_ids__contains=[call_id]
        ).update(context={})
    counts = {"outreach calls": erased}
    if emails:
        counts["outreach summary emails"] = emails
    return counts
