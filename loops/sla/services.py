"""SLA policies and the escalation sweep (design: docs/loops-sla.md).

``sla_policy_set`` is how an admin changes a severity's response and resolution hours (the SLA
page and the Django admin both call it; audited). The hours apply to issues opened from then
on and to issues whose severity changes (``loops.services.issues``); an issue's deadlines are
stored on it, so a policy change never moves a deadline someone was already held to.

``escalations_sweep`` (a periodic job, every minute) escalates every overdue issue and
follow-up one step up its chain (``loops/sla/rules.py``), in ONE transaction and a fixed number
of queries whatever the number of rows:

1. read the overdue targets with the people of their chains (one query per kind of target:
   issues' response clock, issues' resolution clock, follow-ups), leaving out those escalated
   less than a step ago (no step can be due for them yet), and the escalations they already
   have (one query each);
2. decide each target's next step in Python (pure rules);
3. claim the steps with ``INSERT … ON CONFLICT DO NOTHING RETURNING`` on the unique
   constraints (issue, clock, level) and (follow-up, level): the rows it returns are the
   escalations THIS sweep made. A second worker, a task delivered twice or beat running twice
   either blocks on the unique index until the first commits and then inserts nothing, or
   finds the rows already there; so a level is never escalated twice;
4. ask the send-once helper for one email per person told, listing the escalations this
   sweep made for them (purpose ``loops.escalation``): every escalation is in exactly one
   email, asked for in the transaction that inserted it; and write one audit entry for the
   run. The Escalation rows themselves are the
   record of each step: who was told, when, which deadline was missed.

Everything commits together or not at all: a worker that dies mid-sweep leaves nothing, and
the next sweep does it all again.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from loops.models import OPEN_EXCLUDED, Clock, Escalation, FollowUp, Issue, Severity, SlaPolicy
from loops.sla.rules import ChainPeople, chain_of, next_step
from voc.core.audit import Actor, SystemActor, audit_record
from voc.core.business import business_setting
from voc.core.sendonce import OnceEmail, send_once_many
from voc.people.models import User

ESCALATIONS = SystemActor("sla-escalation")
ESCALATION_PURPOSE = "loops.escalation"
ESCALATION_TEMPLATE = "loops-escalation"
MAX_HOURS = 24 * 365

AUDIT_LABELS = {
    "sla.policy_set": "changed an SLA policy",
    "sla.escalate": "escalated overdue issues and follow-ups",
}


# --- Policies -----------------------------------------------------------------------------------


def sla_policy_check(*, response_hours: Any, resolution_hours: Any) -> tuple[int, int]:
    """The two hours as whole numbers, or ValidationError with a message per field."""
    errors: dict[str, str] = {}
    values: dict[str, int] = {}
    for name, raw in (("response_hours", response_hours), ("resolution_hours", resolution_hours)):
        try:
            value = int(raw)
        except (TypeError, ValueError):
            errors[name] = "Enter a whole number of hours."
            continue
        if isinstance(raw, float) and raw != value:
            errors[name] = "Enter a whole number of hours."
        elif value < 1:
            errors[name] = "At least 1 hour."
        elif value > MAX_HOURS:
            errors[name] = f"At most {MAX_HOURS} hours (a year)."
        else:
            values[name] = value
    if not errors and values["resolution_hours"] < values["response_hours"]:
        errors["resolution_hours"] = (
            f"The fix cannot be due before the response: at least "
            f"{values['response_hours']} hours (the response time)."
        )
    if errors:
        raise ValidationError(errors)
    return values["response_hours"], values["resolution_hours"]


def sla_policy_set(
    *, severity: str, response_hours: Any, resolution_hours: Any, by: Actor, why: str = ""
) -> SlaPolicy:
    """Set a severity's hours (validated: both at least 1, the fix no sooner than the response),
    audited with the before and after values."""
    if severity not in Severity.values:
        raise ValidationError({"severity": f"“{severity}” is not a severity."})
    response, resolution = sla_policy_check(
        response_hours=response_hours, resolution_hours=resolution_hours
    )
    with transaction.atomic():
        policy = SlaPolicy.objects.select_for_update().filter(severity=severity).first()
        before = (policy.response_hours, policy.resolution_hours) if policy else (None, None)
        if policy is None:
            policy = SlaPolicy(severity=severity)
        if before == (response, resolution):
            return policy
        policy.response_hours, policy.resolution_hours = response, resolution
        policy.save()
        audit_record(
            by=by,
            action="sla.policy_set",
            target=policy,
            changes={
                "severity": severity,
                "response_hours": [before[0], response],
                "resolution_hours": [before[1], resolution],
            },
            why=why,
        )
    return policy


# --- The sweep ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """One overdue clock of one issue or follow-up, with the people of its chain."""

    issue_id: int | None
    follow_up_id: int | None
    clock: str
    due_at: datetime
    people: ChainPeople

    @property
    def key(self) -> tuple[str, int, str]:
        if self.issue_id is not None:
            return ("issue", self.issue_id, self.clock)
        assert self.follow_up_id is not None
        return ("follow_up", self.follow_up_id, self.clock)


@dataclass(frozen=True)
class Claim:
    issue_id: int | None
    follow_up_id: int | None
    clock: str
    level: int
    notified_id: int
    due_at: datetime


@dataclass(frozen=True)
class SweepResult:
    escalated: int
    emails: int


class _Done:
    """What was escalated already for one target and clock."""

    def __init__(self) -> None:
        self.levels: set[int] = set()
        self.notified: set[int] = set()
        self.last_at: datetime | None = None

    def add(self, level: int, notified_id: int | None, at: datetime) -> None:
        self.levels.add(level)
        if notified_id is not None:
            self.notified.add(notified_id)
        if self.last_at is None or at > self.last_at:
            self.last_at = at


NOTHING_DONE = _Done()


def _active(user_id: int | None, is_active: bool | None) -> int | None:
    return user_id if user_id is not None and is_active else None


def open_issues() -> Any:
    return Issue.objects.filter(merged_into__isnull=True).exclude(status__in=OPEN_EXCLUDED)


def _escalated_since(since: datetime, **target: Any) -> Exists:
    """An escalation of the target (an outer issue's clock, or an outer follow-up) made after
    ``since``: while one is, no further step can be due (the rules wait a whole step after
    the last escalation), so the sweep need not read that target at all. In the steady
    state, a sweep a minute, this leaves out nearly every overdue row."""
    return Exists(Escalation.objects.filter(at__gt=since, **target))


def _issue_targets(
    now: datetime, step: timedelta
) -> tuple[list[Target], dict[tuple[str, int, str], Any]]:
    """The issues' overdue clocks that may have a step due (one query per clock) and their
    escalations (one query)."""
    people_fields = (
        "owner_id",
        "owner__is_active",
        "owner__reports_to_id",
        "owner__reports_to__is_active",
        "department__head_id",
        "department__head__is_active",
        "department__head__reports_to_id",
        "department__head__reports_to__is_active",
        "sponsor_id",
        "sponsor__is_active",
    )
    since = now - step
    waiting = {
        clock: Q(**{f"{due}__lt": now, f"{stop}__isnull": True})
        & ~_escalated_since(since, issue=OuterRef("pk"), clock=clock)
        for clock, due, stop in (
            (Clock.RESPONSE, "response_due_at", "responded_at"),
            (Clock.RESOLUTION, "resolution_due_at", "fixed_at"),
        )
    }
    overdue = {clock: open_issues().filter(condition) for clock, condition in waiting.items()}
    due_field = {Clock.RESPONSE: "response_due_at", Clock.RESOLUTION: "resolution_due_at"}
    targets: list[Target] = []
    for clock, issues in overdue.items():
        for row in issues.order_by().values_list("id", due_field[clock], *people_fields):
            (
                issue_id,
                due_at,
                owner,
                owner_active,
                owner_manager,
                owner_manager_active,
                head,
                head_active,
                head_manager,
                head_manager_active,
                sponsor,
                sponsor_active,
            ) = row
            if owner is not None:
                first, manager = (
                    _active(owner, owner_active),
                    _active(owner_manager, owner_manager_active),
                )
            else:
                # Nobody owns it yet: the department's head is the one who should assign it.
                first, manager = (
                    _active(head, head_active),
                    _active(head_manager, head_manager_active),
                )
            targets.append(
                Target(
                    issue_id=issue_id,
                    follow_up_id=None,
                    clock=clock,
                    due_at=due_at,
                    people=ChainPeople(first, manager, _active(sponsor, sponsor_active)),
                )
            )
    # Both clocks' issues in one read of their escalations.
    candidates = open_issues().filter(waiting[Clock.RESPONSE] | waiting[Clock.RESOLUTION])
    done: dict[tuple[str, int, str], Any] = defaultdict(_Done)
    rows = Escalation.objects.filter(issue__in=candidates.values("id")).values_list(
        "issue_id", "clock", "level", "notified_id", "at"
    )
    for issue_id, clock_name, level, notified_id, at in rows.order_by():
        done[("issue", issue_id, clock_name)].add(level, notified_id, at)
    return targets, done


def _follow_up_targets(
    now: datetime, step: timedelta
) -> tuple[list[Target], dict[tuple[str, int, str], Any]]:
    """Open follow-ups past their due time that may have a step due (one query) and their
    escalations (one query)."""
    overdue = FollowUp.objects.filter(status=FollowUp.Status.OPEN, due_at__lt=now).exclude(
        _escalated_since(now - step, follow_up=OuterRef("pk"))
    )
    targets = [
        Target(
            issue_id=None,
            follow_up_id=follow_up_id,
            clock=Clock.FOLLOW_UP,
            due_at=due_at,
            people=ChainPeople(
                _active(assignee, assignee_active),
                _active(manager, manager_active),
                _active(head, head_active),
            ),
        )
        for (
            follow_up_id,
            due_at,
            assignee,
            assignee_active,
            manager,
            manager_active,
            head,
            head_active,
        ) in overdue.order_by().values_list(
            "id",
            "due_at",
            "assignee_id",
            "assignee__is_active",
            "assignee__reports_to_id",
            "assignee__reports_to__is_active",
            "department__head_id",
            "department__head__is_active",
        )
    ]
    done: dict[tuple[str, int, str], Any] = defaultdict(_Done)
    rows = Escalation.objects.filter(follow_up__in=overdue.values("id")).values_list(
        "follow_up_id", "level", "notified_id", "at"
    )
    for follow_up_id, level, notified_id, at in rows.order_by():
        done[("follow_up", follow_up_id, Clock.FOLLOW_UP)].add(level, notified_id, at)
    return targets, done


def escalation_step() -> timedelta:
    return timedelta(hours=int(business_setting("sla_escalation_step_hours")))


def plan_claims(
    targets: Iterable[Target],
    done: dict[tuple[str, int, str], Any],
    *,
    now: datetime,
    step: timedelta,
) -> list[Claim]:
    """Each target's next step, if one is due (pure: the rules over what was read)."""
    claims = []
    for target in targets:
        done_so_far = done.get(target.key, NOTHING_DONE)
        found = next_step(
            chain_of(target.people),
            due_at=target.due_at,
            now=now,
            step=step,
            done_levels=done_so_far.levels,
            notified=done_so_far.notified,
            last_at=done_so_far.last_at,
        )
        if found is not None:
            level, user_id = found
            claims.append(
                Claim(
                    issue_id=target.issue_id,
                    follow_up_id=target.follow_up_id,
                    clock=target.clock,
                    level=level,
                    notified_id=user_id,
                    due_at=target.due_at,
                )
            )
    return claims


INSERT_COLUMNS = "issue_id, follow_up_id, clock, level, notified_id, due_at, at"
RETURNING = "RETURNING id, issue_id, follow_up_id, clock, level, notified_id"
SQLITE_CHUNK = 500  # rows per statement: SQLite caps a statement's parameters


class Made(NamedTuple):
    """An escalation a claim inserted (a plain tuple: a sweep may make tens of thousands)."""

    id: int
    issue_id: int | None
    follow_up_id: int | None
    clock: str
    level: int
    notified_id: int


def _array_element(value: int | str | datetime | None) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        raise TypeError("no booleans in an escalation column")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in an escalation column")
        return f'"{value.isoformat()}"'
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def array_literal(values: Iterable[int | str | datetime | None]) -> str:
    """A PostgreSQL array literal (``{1,NULL,"x"}``) of whole numbers, strings, aware
    datetimes and NULLs, sent as one text parameter and cast by the query."""
    return "{" + ",".join(_array_element(value) for value in values) + "}"


def escalations_claim(claims: Sequence[Claim], *, now: datetime) -> list[Made]:
    """Insert the claims, skipping any (target, clock, level) that exists already or that a
    concurrent sweep is inserting (ON CONFLICT DO NOTHING on the unique constraints); the
    rows this call inserted. One statement on PostgreSQL, whatever the number of claims."""
    if not claims:
        return []
    # One order for every sweep: two sweeps inserting the same rows wait for each other on
    # the unique index in the same order, never each for the other (a deadlock).
    claims = sorted(claims, key=lambda c: (c.issue_id or 0, c.follow_up_id or 0, c.clock, c.level))
    table = Escalation._meta.db_table
    returned: list[tuple[Any, ...]] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Each column travels as ONE text parameter holding an array literal, parsed once
            # by the server: a Python list becomes ARRAY['…'::timestamptz, …] with an
            # expression per element, which costs seconds to adapt, send and plan at 65,000
            # rows. The sweep's moment is one scalar, not a column of copies.
            cursor.execute(
                # Table and column names are constants of this module; values are parameters.
                f"INSERT INTO {table} ({INSERT_COLUMNS}) "  # noqa: S608
                "SELECT *, %s::timestamptz FROM unnest(%s::bigint[], %s::bigint[], "
                "%s::varchar[], %s::smallint[], %s::bigint[], %s::timestamptz[]) "
                f"ON CONFLICT DO NOTHING {RETURNING}",
                [
                    now,
                    array_literal(c.issue_id for c in claims),
                    array_literal(c.follow_up_id for c in claims),
                    array_literal(c.clock for c in claims),
                    array_literal(c.level for c in claims),
                    array_literal(c.notified_id for c in claims),
                    array_literal(c.due_at for c in claims),
                ],
            )
            returned = list(cursor.fetchall())
        else:
            for start in range(0, len(claims), SQLITE_CHUNK):
                chunk = claims[start : start + SQLITE_CHUNK]
                values = ", ".join(["(%s, %s, %s, %s, %s, %s, %s)"] * len(chunk))
                params: list[Any] = []
                for c in chunk:
                    params += [c.issue_id, c.follow_up_id, c.clock, c.level, c.notified_id]
                    params += [c.due_at, now]
                cursor.execute(
                    f"INSERT INTO {table} ({INSERT_COLUMNS}) VALUES {values} "  # noqa: S608
                    f"ON CONFLICT DO NOTHING {RETURNING}",
                    params,
                )
                returned += list(cursor.fetchall())
    return [Made(*row) for row in sorted(returned)]


def _ask_emails(escalations: Sequence[Made]) -> int:
    """One send-once email per person told, listing what this sweep escalated to them (a
    manager with forty overdue call backs gets one email, not forty). Every escalation is in
    exactly one email: it is inserted once, and its email is asked for in the same
    transaction, keyed by the person and the lowest escalation id in it (unique for ever).
    Escalations to oneself cannot be switched off, so no preference is read. One query for
    the addresses, two for the send-once rows."""
    addresses = dict(
        User.objects.filter(id__in={e.notified_id for e in escalations})
        .exclude(email="")
        .values_list("id", "email")
    )
    by_person: dict[int, list[int]] = defaultdict(list)
    for escalation in escalations:
        if escalation.notified_id in addresses:
            by_person[escalation.notified_id].append(escalation.id)
    emails = [
        OnceEmail(
            key=f"escalations:{user_id}:{min(ids)}",
            to=[addresses[user_id]],
            context={"user_id": user_id, "escalation_ids": sorted(ids)},
        )
        for user_id, ids in sorted(by_person.items())
    ]
    return len(
        send_once_many(
            purpose=ESCALATION_PURPOSE, template=ESCALATION_TEMPLATE, emails=emails, by=ESCALATIONS
        )
    )


def escalations_sweep(*, now: datetime | None = None, by: Actor = ESCALATIONS) -> SweepResult:
    """Escalate every overdue issue and follow-up one step (see the module's docstring)."""
    now = now or timezone.now()
    step = escalation_step()
    with transaction.atomic():
        issue_targets, issue_done = _issue_targets(now, step)
        follow_up_targets, follow_up_done = _follow_up_targets(now, step)
        claims = plan_claims(
            [*issue_targets, *follow_up_targets],
            {**issue_done, **follow_up_done},
            now=now,
            step=step,
        )
        made = escalations_claim(claims, now=now)
        if not made:
            return SweepResult(0, 0)
        emails = _ask_emails(made)
        issues = sorted({e.issue_id for e in made if e.issue_id is not None})
        follow_ups = sorted({e.follow_up_id for e in made if e.follow_up_id is not None})
        audit_record(
            by=by,
            action="sla.escalate",
            changes={
                "escalations": len(made),
                "emails": emails,
                "issues": issues[:200],
                "follow_ups": follow_ups[:200],
                "more": max(0, len(issues) - 200) + max(0, len(follow_ups) - 200),
            },
            at=now,
        )
    return SweepResult(len(made), emails)
