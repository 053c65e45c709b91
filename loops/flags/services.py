"""Rep flags: "me too" on a known issue, or propose a new one, from a contact, in one step.
Built on the issue services (issue_open, evidence_add): the contact becomes evidence once per
issue however many people flag it, and every write is in the audit trail with who did it.

Callers check first that the person may see the contact (contacts' row scope) and that the
issue is one they may be shown for it (loops.flags.selectors.flag_candidates): the page and
the API do, and the demo passes what it chose.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from contacts.models import Contact
from contacts.redaction_rules import redactor
from loops.flags.index import issue_index_after_commit, open_issue_q
from loops.models import Flag, Issue, IssueEvidence, IssueSearchDoc, IssueSearchTerm, Severity
from loops.services.issues import evidence_add, issue_open
from voc.core.audit import audit_record
from voc.core.errors import Conflict
from voc.people.models import User

Status = Issue.Status
MAX_NOTE = 1_000

AUDIT_LABELS = {
    "flag.me_too": "flagged a contact: me too",
    "flag.propose": "proposed the issue from a flagged contact",
}


@dataclass(frozen=True)
class Flagged:
    flag: Flag
    issue: Issue
    created: bool  # a new flag (False: this person had flagged this contact onto it already)
    evidence_added: bool  # the contact became evidence (False: it counted already)


def _clean_note(note: str) -> str:
    note = note.strip()
    if len(note) > MAX_NOTE:
        raise Conflict({"note": f"Keep the note to {MAX_NOTE} characters (it has {len(note)})."})
    return redactor().text(note) if note else ""


def _lock_contact(contact: Contact) -> None:
    """Two flags of one contact by one person (a double click) run one after the other."""
    if not Contact.objects.select_for_update().filter(pk=contact.pk).exists():
        raise Conflict({"contact": "The contact was removed in the meantime."})


def flag_me_too(*, contact: Contact, issue: Issue, by: User, note: str = "") -> Flagged:
    """``by`` says ``contact`` is ``issue`` too: a flag (once per person), and the contact as
    evidence (once per issue). A merged, closed or won't-fix issue takes no flag (Conflict,
    naming what to do instead); a fixed or verified one does (it may have come back)."""
    note = _clean_note(note)
    with transaction.atomic():
        _lock_contact(contact)
        issue = Issue.objects.select_for_update().get(pk=issue.pk)
        if issue.merged_into_id is not None:
            raise Conflict(
                {
                    "issue": f"Issue #{issue.pk} was merged into #{issue.merged_into_id}: "
                    "flag that one."
                }
            )
        if issue.status in (Status.CLOSED, Status.WONT_FIX):
            raise Conflict(
                {
                    "issue": f"Issue #{issue.pk} is {Status(issue.status).label.lower()}: "
                    "propose a new issue if it happens again."
                }
            )
        flag = Flag.objects.filter(issue=issue, contact=contact, flagged_by=by).first()
        created = flag is None
        if flag is None:
            try:
                with transaction.atomic():
                    flag = Flag.objects.create(
                        issue=issue, contact=contact, flagged_by=by, note=note
                    )
            except IntegrityError:  # the same person, at the same moment, elsewhere
                flag = Flag.objects.get(issue=issue, contact=contact, flagged_by=by)
                created = False
        _, added = evidence_add(issue=issue, source=contact, by=by, why="Flagged: me too.")
        if created:
            audit_record(
                by=by,
                action="flag.me_too",
                target=issue,
                changes={"flag": [None, flag.pk], "contact": [None, contact.pk]},
                why=note,
                customer_id=contact.customer_id,
            )
        issue.refresh_from_db()
    return Flagged(flag=flag, issue=issue, created=created, evidence_added=added)


def flag_propose(
    *,
    contact: Contact,
    title: str,
    description: str = "",
    note: str = "",
    by: User,
) -> Flagged:
    """Open a new issue (status new, the contact's reason, its department the reason's) with
    ``contact`` as its evidence and ``by``'s flag on it. Proposing again from the same contact
    while the first proposal is open opens no second issue (Conflict naming it)."""
    note = _clean_note(note)
    with transaction.atomic():
        _lock_contact(contact)
        earlier = (
            Flag.objects.filter(contact=contact, flagged_by=by, proposed=True)
            .filter(issue__in=Issue.objects.filter(open_issue_q()))
            .order_by("id")
            .first()
        )
        if earlier is not None:
            raise Conflict(
                {
                    "contact": f"You proposed issue #{earlier.issue_id} from this contact "
                    "already: add to it rather than opening a duplicate."
                }
            )
        reasons = [contact.reason] if contact.reason is not None else []
        issue = issue_open(
            title=title,
            description=description,
            reasons=reasons,
            severity=Severity.MEDIUM,
            by=by,
        )
        flag = Flag.objects.create(
            issue=issue, contact=contact, flagged_by=by, note=note, proposed=True
        )
        _, added = evidence_add(
            issue=issue, source=contact, by=by, why="Flagged: proposed a new issue."
        )
        audit_record(
            by=by,
            action="flag.propose",
            target=issue,
            changes={"flag": [None, flag.pk], "contact": [None, contact.pk]},
            why=note,
            customer_id=contact.customer_id,
        )
        issue.refresh_from_db()
    return Flagged(flag=flag, issue=issue, created=True, evidence_added=added)


def flags_erase(*, customer_ids: list[int], erasure: object = None) -> dict[str, int]:
    """Erasure: the notes of flags on the customer's contacts go (a rep may have written what
    the customer said); the flags stay, without words. The search documents of the issues
    their contacts are evidence on are dropped now, inside the erasure, and rebuilt from the
    anonymised contacts once it commits (and by the reindex job if that fails)."""
    contact_ids = Contact.objects.filter(customer_id__in=customer_ids).values("id")
    cleared = Flag.objects.filter(contact_id__in=contact_ids).exclude(note="").update(note="")
    issue_ids = sorted(
        set(
            IssueEvidence.objects.filter(contact_id__in=contact_ids).values_list(
                "issue_id", flat=True
            )
        )
        | set(
            IssueEvidence.objects.filter(customer_id__in=customer_ids).values_list(
                "issue_id", flat=True
            )
        )
    )
    IssueSearchTerm.objects.filter(issue_id__in=issue_ids).delete()
    dropped, _ = IssueSearchDoc.objects.filter(issue_id__in=issue_ids).delete()
    for issue_id in issue_ids:
        issue_index_after_commit(issue_id)
    return {"flag_notes": cleared, "search_documents": dropped}
