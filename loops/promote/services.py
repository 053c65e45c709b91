"""Promote a source (a feedback item, a side-by-side note, an outreach entry) to a new issue or
to evidence on an existing one, in one step. Built on the issue services (issue_open,
evidence_add), which record what a person did in the audit trail.

Callers check first that the person may read the source and the issue (loops/promote/
sources.py, loops.selectors.issue_get_visible): the page and the API do, and a demo or a task
passes what it chose.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import transaction

from contacts.models import ContactReason
from loops.models import Issue, IssueEvidence, Severity
from loops.promote.selectors import open_issue_ids_holding
from loops.promote.sources import KIND_LABELS, PromotableSource, kind_of
from loops.selectors import issue_list_visible
from loops.services.issues import evidence_add, issue_open
from voc.core.audit import Actor
from voc.core.errors import Conflict
from voc.people.models import User

Status = Issue.Status


@dataclass(frozen=True)
class Promoted:
    issue: Issue
    evidence: IssueEvidence
    opened: bool  # a new issue was opened for it
    added: bool  # the evidence is new (False: it was evidence on this issue already)


def _why(source: PromotableSource) -> str:
    return f"Promoted from a {KIND_LABELS[kind_of(source)].lower()}."


def _lock(source: PromotableSource) -> None:
    """Take the source's row lock: two promotions of one source (a double click, two people)
    run one after the other, so the second sees what the first did."""
    model = type(source)
    if not model._default_manager.select_for_update().filter(pk=source.pk).exists():
        raise Conflict({"source": "It was removed in the meantime."})


def _already_refusal(source: PromotableSource, issue_ids: set[int], by: Actor) -> Conflict:
    label = KIND_LABELS[kind_of(source)].lower()
    if isinstance(by, User):
        visible = sorted(
            issue_list_visible(viewer=by).filter(id__in=issue_ids).values_list("id", flat=True)
        )
    else:
        visible = sorted(issue_ids)
    if visible:
        named = ", ".join(f"#{issue_id}" for issue_id in visible)
        return Conflict(
            {
                "source": f"This {label} is evidence on open issue {named} already: add it to "
                "another issue, or say more on that one, rather than opening a duplicate."
            }
        )
    return Conflict(
        {
            "source": f"This {label} is evidence on an open issue already (one you cannot see): "
            "ask your manager rather than opening a duplicate."
        }
    )


def promote_to_new_issue(
    *,
    source: PromotableSource,
    title: str,
    description: str = "",
    reasons: Sequence[ContactReason] = (),
    severity: str = Severity.MEDIUM,
    by: Actor,
) -> Promoted:
    """Open an issue with ``source`` as its first evidence. A source that is evidence on an
    open issue already opens no second one (Conflict): promoting twice, or two people at once,
    leaves one issue."""
    with transaction.atomic():
        _lock(source)
        holding = open_issue_ids_holding(source)
        if holding:
            raise _already_refusal(source, holding, by)
        issue = issue_open(
            title=title,
            description=description,
            reasons=reasons,
            severity=severity,
            by=by,
        )
        evidence, added = evidence_add(issue=issue, source=source, by=by, why=_why(source))
        issue.refresh_from_db()  # the evidence count and first and last seen
    return Promoted(issue=issue, evidence=evidence, opened=True, added=added)


def promote_to_issue(*, source: PromotableSource, issue: Issue, by: Actor) -> Promoted:
    """Add ``source`` as evidence on ``issue``, once: promoting it again to the same issue
    changes nothing (``added`` is False) and counts it once. A merged, closed or won't-fix
    issue takes no new evidence (Conflict, naming what to do instead)."""
    with transaction.atomic():
        _lock(source)
        issue = Issue.objects.select_for_update().get(pk=issue.pk)
        if issue.merged_into_id is not None:
            raise Conflict(
                {
                    "issue": f"Issue #{issue.pk} was merged into #{issue.merged_into_id}: "
                    "add the evidence there."
                }
            )
        if issue.status in (Status.CLOSED, Status.WONT_FIX):
            raise Conflict(
                {
                    "issue": f"Issue #{issue.pk} is {Status(issue.status).label.lower()}: "
                    "open a new issue if it happens again."
                }
            )
        evidence, added = evidence_add(issue=issue, source=source, by=by, why=_why(source))
        issue.refresh_from_db()
    return Promoted(issue=issue, evidence=evidence, opened=False, added=added)
