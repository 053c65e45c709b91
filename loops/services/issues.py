"""Writes of issues: open, edit, assign, move through the lifecycle (loops/rules.py) and add
evidence. Every write takes ``by=`` and records what a person did in the one audit trail.

Other parts of loops react to a status change or an assignment without this module importing
them: they connect to the signals in ``loops/signals.py`` (verification when an issue is fixed,
assignment emails), which are sent after the transaction commits.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Case, Count, Exists, F, Max, Min, OuterRef, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest, Least
from django.utils import timezone

from contacts.models import Contact, ContactReason
from contacts.redaction_rules import redactor
from feedback.models import FeedbackItem, ForumTopic, OutreachCall, OutreachExercise, SessionNote
from loops import signals
from loops.access import MANAGE_ISSUES, heads_department
from loops.models import (
    EVIDENCE_FIELDS,
    OPEN_EXCLUDED,
    EvidenceKind,
    Flag,
    Issue,
    IssueEvidence,
    Severity,
    SlaPolicy,
)
from loops.rules import (
    DEFAULT_SLA_HOURS,
    SlaHours,
    TransitionFacts,
    sla_due,
    transition_refusal,
)
from voc.core.audit import Actor, SystemActor, audit_record
from voc.core.capabilities import effective_role, has_capability
from voc.people.models import Department, User
from voc.people.roles import Role

Status = Issue.Status
MAX_TITLE = 200
MAX_DESCRIPTION = 10_000

AUDIT_LABELS = {
    "issue.open": "opened the issue",
    "issue.edit": "edited the issue",
    "issue.assign": "assigned the issue",
    "issue.status": "changed the status",
    "issue.evidence_add": "added evidence",
    "issue.evidence_remove": "removed evidence",
}


class TransitionRefused(ValidationError):
    """An illegal status change; its message says what is allowed instead."""


def sla_hours_for(severity: str) -> SlaHours:
    """The severity's policy as an admin set it, else the default."""
    policy = SlaPolicy.objects.filter(severity=severity).first()
    if policy is None:
        return DEFAULT_SLA_HOURS[severity]
    return SlaHours(response=policy.response_hours, resolution=policy.resolution_hours)


def _clean_text(*, title: str, description: str) -> tuple[str, str]:
    errors: dict[str, str] = {}
    title, description = title.strip(), description.strip()
    if not title:
        errors["title"] = "Give the issue a title: what goes wrong for customers."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"Keep the title to {MAX_TITLE} characters (it has {len(title)})."
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = (
            f"Keep the description to {MAX_DESCRIPTION} characters (it has {len(description)})."
        )
    if errors:
        raise ValidationError(errors)
    redact = redactor()
    return redact.text(title)[:MAX_TITLE], redact.text(description)


def _check_owner(owner: User | None) -> None:
    if owner is None:
        return
    if not owner.is_active or effective_role(owner) != Role.MANAGER:
        raise ValidationError({"owner": "The owner must be an active manager."})


def _check_sponsor(sponsor: User | None) -> None:
    if sponsor is None:
        return
    if not sponsor.is_active or effective_role(sponsor) != Role.EXECUTIVE:
        raise ValidationError({"sponsor": "The sponsor must be an active executive."})


def _department_of(reasons: Sequence[ContactReason]) -> Department | None:
    for reason in reasons:
        if reason.department_id is not None:
            return reason.department
    return None


def issue_open(
    *,
    title: str,
    description: str = "",
    reasons: Sequence[ContactReason] = (),
    department: Department | None = None,
    severity: str = Severity.MEDIUM,
    owner: User | None = None,
    sponsor: User | None = None,
    ticket_url: str = "",
    by: Actor,
    at: datetime | None = None,
) -> Issue:
    """Open a new issue. Its department defaults to the first of its reasons that has one;
    its SLA clocks start now, from the severity's policy."""
    title, description = _clean_text(title=title, description=description)
    if severity not in Severity.values:
        raise ValidationError({"severity": f"“{severity}” is not a severity."})
    _check_owner(owner)
    _check_sponsor(sponsor)
    now = at or timezone.now()
    response_due, resolution_due = sla_due(now, sla_hours_for(severity))
    with transaction.atomic():
        issue = Issue.objects.create(
            title=title,
            description=description,
            department=department or _department_of(reasons),
            severity=severity,
            owner=owner,
            sponsor=sponsor,
            ticket_url=ticket_url,
            created_by=by if isinstance(by, User) else None,
            created_at=now,
            updated_at=now,
            status_changed_at=now,
            response_due_at=response_due,
            resolution_due_at=resolution_due,
        )
        if reasons:
            issue.reasons.set(reasons)
        audit_record(
            by=by,
            action="issue.open",
            target=issue,
            changes={
                "title": [None, issue.title],
                "severity": [None, severity],
                "reasons": [None, [r.pk for r in reasons]],
                "owner": [None, owner.pk if owner else None],
            },
            at=now,
        )
    return issue


EDITABLE = ("title", "description", "severity", "sponsor", "department", "ticket_url")


def issue_edit(
    *,
    issue: Issue,
    by: Actor,
    reasons: Sequence[ContactReason] | None = None,
    why: str = "",
    **fields: object,
) -> Issue:
    """Change what the issue says (``EDITABLE`` fields, and its reasons). A new severity moves
    the open clocks' deadlines to the new policy, counted from when the issue was opened."""
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValueError(f"not editable: {sorted(unknown)}")
    if "title" in fields or "description" in fields:
        title, description = _clean_text(
            title=str(fields.get("title", issue.title)),
            description=str(fields.get("description", issue.description)),
        )
        fields["title"], fields["description"] = title, description
    if "severity" in fields and fields["severity"] not in Severity.values:
        raise ValidationError({"severity": f"“{fields['severity']}” is not a severity."})
    if "sponsor" in fields:
        sponsor = fields["sponsor"]
        _check_sponsor(sponsor if isinstance(sponsor, User) else None)
    with transaction.atomic():
        issue = Issue.objects.select_for_update().get(pk=issue.pk)
        changes: dict[str, list[object]] = {}
        for name, value in fields.items():
            before = getattr(issue, name)
            if before != value:
                changes[name] = [before, value]
                setattr(issue, name, value)
        if "severity" in changes:
            issue.response_due_at, issue.resolution_due_at = sla_due(
                issue.created_at, sla_hours_for(issue.severity)
            )
        if reasons is not None:
            before_ids = sorted(issue.reasons.values_list("id", flat=True))
            after_ids = sorted(r.pk for r in reasons)
            if before_ids != after_ids:
                issue.reasons.set(reasons)
                changes["reasons"] = [before_ids, after_ids]
        if not changes:
            return issue
        issue.updated_at = timezone.now()
        issue.save()
        audit_record(by=by, action="issue.edit", target=issue, changes=changes, why=why)
    return issue


def issue_assign(*, issue: Issue, owner: User, by: Actor, why: str = "") -> Issue:
    """Give the issue an owner (or a new one). A new or triaged issue becomes assigned, which
    stops its response clock."""
    _check_owner(owner)
    with transaction.atomic():
        issue = Issue.objects.select_for_update().get(pk=issue.pk)
        if issue.merged_into_id is not None:
            raise TransitionRefused(
                "This issue was merged into another one; assign that one instead."
            )
        if issue.status in (Status.CLOSED, Status.WONT_FIX):
            raise TransitionRefused(
                f"The issue is {Status(issue.status).label.lower()}: it needs no owner now."
            )
        before_owner, before_status = issue.owner_id, issue.status
        if before_owner == owner.pk:
            return issue
        now = timezone.now()
        issue.owner = owner
        if issue.status in (Status.NEW, Status.TRIAGED):
            issue.status = Status.ASSIGNED
            issue.status_changed_at = now
        if issue.status != Status.NEW and issue.responded_at is None:
            issue.responded_at = now
        issue.updated_at = now
        issue.save()
        changes: dict[str, list[object]] = {"owner": [before_owner, owner.pk]}
        if issue.status != before_status:
            changes["status"] = [before_status, issue.status]
        audit_record(by=by, action="issue.assign", target=issue, changes=changes, why=why)
        transaction.on_commit(
            lambda: signals.issue_assigned.send(
                sender=Issue, issue_id=issue.pk, owner_id=owner.pk, previous_owner_id=before_owner
            )
        )
    return issue


def issue_transition(
    *, issue: Issue, to: str, by: Actor, why: str = "", at: datetime | None = None
) -> Issue:
    """Move the issue to status ``to`` if the rules allow it (TransitionRefused, with the
    reason, if not). Stops or restarts the SLA clocks the move concerns."""
    with transaction.atomic():
        issue = Issue.objects.select_for_update().get(pk=issue.pk)
        actor_id = by.pk if isinstance(by, User) else None
        refusal = transition_refusal(
            TransitionFacts(
                current=issue.status,
                target=to,
                has_owner=issue.owner_id is not None,
                merged=issue.merged_into_id is not None,
                by_owner=actor_id is not None and actor_id == issue.owner_id,
                by_department_head=isinstance(by, User)
                and heads_department(by, issue.department_id),
                why=why,
            )
        )
        if refusal:
            raise TransitionRefused(refusal)
        now = at or timezone.now()
        before = issue.status
        issue.status = to
        issue.status_changed_at = issue.updated_at = now
        if before == Status.NEW and issue.owner_id is not None and issue.responded_at is None:
            issue.responded_at = now
        if to == Status.FIXED:
            issue.fixed_at = now
        elif to == Status.VERIFIED:
            issue.verified_at = now
        elif to == Status.CLOSED:
            issue.closed_at = now
        elif to == Status.WONT_FIX:
            issue.wont_fix_reason = redactor().text(why.strip())
            issue.closed_at = now
        elif to == Status.IN_PROGRESS and before in (Status.FIXED, Status.VERIFIED):
            # Reopened: the fix did not hold; the resolution clock runs again.
            issue.fixed_at = issue.verified_at = None
        issue.save()
        audit_record(
            by=by,
            action="issue.status",
            target=issue,
            changes={"status": [before, to]},
            why=why,
            at=now,
        )
        transaction.on_commit(
            lambda: signals.issue_status_changed.send(
                sender=Issue, issue_id=issue.pk, before=before, after=to, actor_id=actor_id
            )
        )
    return issue


# --- Evidence ---------------------------------------------------------------------------------

EvidenceSource = Contact | FeedbackItem | SessionNote | OutreachCall | OutreachExercise | ForumTopic


@dataclass(frozen=True)
class EvidenceFacts:
    kind: str
    customer_id: int | None
    occurred_at: datetime


def evidence_facts(source: EvidenceSource) -> EvidenceFacts:
    """The kind, the reporting customer and the time of a piece of evidence."""
    if isinstance(source, Contact):
        return EvidenceFacts(EvidenceKind.CONTACT, source.customer_id, source.occurred_at)
    if isinstance(source, FeedbackItem):
        return EvidenceFacts(EvidenceKind.FEEDBACK, source.customer_id, source.received_at)
    if isinstance(source, SessionNote):
        return EvidenceFacts(EvidenceKind.SESSION_NOTE, None, source.noted_at)
    if isinstance(source, OutreachCall):
        when = source.called_at or timezone.now()
        return EvidenceFacts(EvidenceKind.OUTREACH_CALL, source.customer_id, when)
    if isinstance(source, OutreachExercise):
        return EvidenceFacts(EvidenceKind.EXERCISE, None, source.done_at)
    return EvidenceFacts(EvidenceKind.FORUM_TOPIC, None, source.created_at)


def evidence_add(
    *, issue: Issue, source: EvidenceSource, by: Actor, why: str = ""
) -> tuple[IssueEvidence, bool]:
    """Link ``source`` to the issue as evidence, once: (the evidence, whether it is new).
    Keeps the issue's evidence count and first and last seen in step."""
    facts = evidence_facts(source)
    field = EVIDENCE_FIELDS[EvidenceKind(facts.kind)]
    existing = IssueEvidence.objects.filter(issue=issue, **{field: source}).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            evidence = IssueEvidence.objects.create(
                issue=issue,
                kind=facts.kind,
                customer_id=facts.customer_id,
                occurred_at=facts.occurred_at,
                added_by=by if isinstance(by, User) else None,
                **{field: source},
            )
            Issue.objects.filter(pk=issue.pk).update(
                evidence_count=F("evidence_count") + 1,
                first_seen_at=Case(
                    When(first_seen_at__isnull=True, then=facts.occurred_at),
                    default=Least("first_seen_at", facts.occurred_at),
                ),
                last_seen_at=Case(
                    When(last_seen_at__isnull=True, then=facts.occurred_at),
                    default=Greatest("last_seen_at", facts.occurred_at),
                ),
                updated_at=timezone.now(),
            )
            audit_record(
                by=by,
                action="issue.evidence_add",
                target=issue,
                changes={"evidence": [None, f"{facts.kind}:{source.pk}"]},
                why=why,
                customer_id=facts.customer_id,
            )
    except IntegrityError:
        # Added by someone else at the same moment: theirs counts.
        return IssueEvidence.objects.get(issue=issue, **{field: source}), False
    return evidence, True


def evidence_remove(*, evidence: IssueEvidence, by: Actor, why: str = "") -> None:
    """Unlink one piece of evidence (added by mistake) and recount first and last seen."""
    with transaction.atomic():
        issue = Issue.objects.select_for_update().get(pk=evidence.issue_id)
        audit_record(
            by=by,
            action="issue.evidence_remove",
            target=issue,
            changes={"evidence": [f"{evidence.kind}:{evidence.pk}", None]},
            why=why,
            customer_id=evidence.customer_id,
        )
        evidence.delete()
        issue_recount_evidence(issue_ids=[issue.pk])


def issue_recount_evidence(*, issue_ids: Iterable[int]) -> None:
    """Recompute evidence count and first and last seen from the evidence rows (after a
    removal, a merge or an erasure)."""
    rows = IssueEvidence.objects.filter(issue=OuterRef("pk")).order_by().values("issue")
    Issue.objects.filter(pk__in=list(issue_ids)).update(
        evidence_count=Coalesce(Subquery(rows.annotate(n=Count("id")).values("n")[:1]), Value(0)),
        first_seen_at=Subquery(rows.annotate(m=Min("occurred_at")).values("m")[:1]),
        last_seen_at=Subquery(rows.annotate(m=Max("occurred_at")).values("m")[:1]),
    )


# --- Who may run an issue, merge, hand over, bulk actions --------------------------------------

AUDIT_LABELS.update(
    {
        "issue.merge": "merged the issue into another",
        "issue.merged_in": "merged a duplicate into the issue",
    }
)


def may_manage_issue(user: User, issue: Issue) -> bool:
    """Run this issue (assign, change status, edit, merge, remove evidence): its owner, the
    head of its department, or an executive; always with MANAGE_ISSUES."""
    if not has_capability(user, MANAGE_ISSUES):
        return False
    if effective_role(user) == Role.EXECUTIVE:
        return True
    return issue.owner_id == user.pk or heads_department(user, issue.department_id)


def issue_merge(*, duplicate: Issue, survivor: Issue, by: Actor, why: str = "") -> Issue:
    """Merge ``duplicate`` into ``survivor``: its evidence and flags (and with them its
    reporters) move, a source or a rep's flag already on the survivor is not doubled, both
    counts are recomputed, and the duplicate points to the survivor and leaves the open lists.
    Audited on both. Returns the survivor."""
    if duplicate.pk == survivor.pk:
        raise ValidationError({"survivor": "An issue cannot be merged into itself."})
    with transaction.atomic():
        # Lock both in id order: two merges of the same pair cannot deadlock.
        locked = {
            issue.pk: issue
            for issue in Issue.objects.select_for_update()
            .filter(pk__in=[duplicate.pk, survivor.pk])
            .order_by("pk")
        }
        duplicate, survivor = locked[duplicate.pk], locked[survivor.pk]
        if duplicate.merged_into_id is not None:
            raise ValidationError({"duplicate": "This issue was already merged into another."})
        if survivor.merged_into_id is not None:
            raise ValidationError(
                {"survivor": f"Issue #{survivor.pk} was itself merged; merge into its survivor."}
            )
        moved_evidence = dropped_evidence = 0
        for field in EVIDENCE_FIELDS.values():
            already = IssueEvidence.objects.filter(
                issue=survivor, **{f"{field}__isnull": False}
            ).values(field)
            dropped_evidence += IssueEvidence.objects.filter(
                issue=duplicate, **{f"{field}__in": already}
            ).delete()[0]
        moved_evidence = IssueEvidence.objects.filter(issue=duplicate).update(issue=survivor)
        survivor_flags = Flag.objects.filter(
            issue=survivor,
            contact_id=OuterRef("contact_id"),
            flagged_by_id=OuterRef("flagged_by_id"),
        )
        dropped_flags = (
            Flag.objects.filter(issue=duplicate).filter(Exists(survivor_flags)).delete()[0]
        )
        moved_flags = Flag.objects.filter(issue=duplicate).update(issue=survivor)
        now = timezone.now()
        Issue.objects.filter(pk=duplicate.pk).update(merged_into=survivor, updated_at=now)
        Issue.objects.filter(pk=survivor.pk).update(updated_at=now)
        issue_recount_evidence(issue_ids=[duplicate.pk, survivor.pk])
        audit_record(
            by=by,
            action="issue.merge",
            target=duplicate,
            changes={"merged_into": [None, survivor.pk]},
            why=why,
            at=now,
        )
        audit_record(
            by=by,
            action="issue.merged_in",
            target=survivor,
            changes={
                "duplicate": [None, duplicate.pk],
                "evidence_moved": [0, moved_evidence],
                "evidence_already_here": [0, dropped_evidence],
                "flags_moved": [0, moved_flags],
                "flags_already_here": [0, dropped_flags],
            },
            why=why,
            at=now,
        )
    survivor.refresh_from_db()
    return survivor


HANDOVER = SystemActor("people:deactivation")


def issues_hand_over(*, former_owner: User) -> list[Issue]:
    """A deactivated owner's open issues go to their department head (else the issue's
    department head), each assignment audited with why. An issue with no active manager to
    take it keeps its owner, and the sweep's escalation shows it."""
    if former_owner.is_active:
        return []
    issues = list(
        Issue.objects.filter(owner=former_owner, merged_into__isnull=True)
        .exclude(status__in=OPEN_EXCLUDED)
        .select_related("department__head")
        .order_by("id")
    )
    if not issues:
        return []
    own_head = former_owner.department.head if former_owner.department else None
    handed: list[Issue] = []
    for issue in issues:
        candidates = [own_head, issue.department.head if issue.department else None]
        head = next((c for c in candidates if _may_take_over(c, former_owner)), None)
        if head is None:
            continue
        handed.append(
            issue_assign(
                issue=issue,
                owner=head,
                by=HANDOVER,
                why=f"{former_owner.get_username()} was deactivated: handed to the department head.",
            )
        )
    return handed


def _may_take_over(user: User | None, former_owner: User) -> bool:
    return (
        user is not None
        and user.pk != former_owner.pk
        and user.is_active
        and effective_role(user) == Role.MANAGER
    )


class BulkAction:
    ASSIGN = "assign"
    STATUS = "status"
    SEVERITY = "severity"
    CHOICES = [(ASSIGN, "Assign to"), (STATUS, "Change status to"), (SEVERITY, "Set severity")]


@dataclass(frozen=True)
class BulkOutcome:
    applied: list[Issue]
    refused: list[tuple[Issue, str]]  # each row refused, with its reason


def issues_bulk_apply(
    *,
    issues: Sequence[Issue],
    action: str,
    by: User,
    owner: User | None = None,
    status: str = "",
    severity: str = "",
    why: str = "",
) -> BulkOutcome:
    """Apply one action to each issue through the single-issue services: a row the rules
    refuse (or the user may not run) is reported with its reason, the others are applied.
    Each row is its own transaction."""
    applied: list[Issue] = []
    refused: list[tuple[Issue, str]] = []
    for issue in issues:
        if not may_manage_issue(by, issue):
            refused.append((issue, "Only its owner, its department head or an executive may."))
            continue
        try:
            if action == BulkAction.ASSIGN:
                if owner is None:
                    raise ValidationError("Choose whom to assign to.")
                applied.append(issue_assign(issue=issue, owner=owner, by=by, why=why))
            elif action == BulkAction.STATUS:
                applied.append(issue_transition(issue=issue, to=status, by=by, why=why))
            elif action == BulkAction.SEVERITY:
                if issue.merged_into_id is not None:
                    raise ValidationError("This issue was merged into another one.")
                applied.append(issue_edit(issue=issue, by=by, why=why, severity=severity))
            else:
                raise ValidationError(f"“{action}” is not an action.")
        except ValidationError as error:
            refused.append((issue, " ".join(_messages(error))))
    return BulkOutcome(applied, refused)


def _messages(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [message for messages in error.message_dict.values() for message in messages]
    return list(error.messages)
