"""The search documents of open issues (IssueSearchDoc, IssueSearchTerm): what the flag
suggestions score a contact's words against.

An open issue's document is its title, description and the text of its newest evidence (a
contact's subject, notes and messages; a feedback item's verbatim; a side-by-side note's text;
an outreach entry's or forum topic's notes), each field weighted (loops/flags/text.py). It is
rebuilt after the transaction that changed the issue or its evidence commits
(loops/flags/receivers.py), and a periodic job (``loops.flags_reindex``) rebuilds whatever is
stale or missing (a merge, an erasure, a change made with a bulk update) and drops the
documents of issues that closed.
"""

import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence

from django.db import transaction
from django.db.models import Avg, F, Q
from django.utils import timezone

from contacts.models import Message
from loops.flags.text import DocumentTerms, document_terms, term_weight
from loops.models import OPEN_EXCLUDED, Issue, IssueEvidence, IssueSearchDoc, IssueSearchTerm

logger = logging.getLogger(__name__)

EVIDENCE_ITEMS = 50  # the newest evidence of an issue read into its document
EVIDENCE_CHARS = 4_000  # of each piece of evidence
DESCRIPTION_CHARS = 10_000
CHUNK = 200  # issues rebuilt together (a few queries per chunk)
DEFAULT_AVERAGE_LENGTH = 200.0  # BM25's average document length before there is any


def open_issue_q(prefix: str = "") -> Q:
    """Issues still worked on: not closed, not won't fix, not merged into another."""
    return Q(**{f"{prefix}merged_into__isnull": True}) & ~Q(
        **{f"{prefix}status__in": list(OPEN_EXCLUDED)}
    )


def _cut(text: str, limit: int = EVIDENCE_CHARS) -> str:
    return text[:limit]


def _evidence_texts(issue_ids: Sequence[int]) -> dict[int, list[str]]:
    """The newest EVIDENCE_ITEMS pieces of evidence of each issue, as texts (three queries)."""
    chosen: dict[int, list[IssueEvidence]] = defaultdict(list)
    rows = (
        IssueEvidence.objects.filter(issue_id__in=issue_ids)
        .select_related("contact", "feedback_item", "session_note", "outreach_call", "forum_topic")
        .order_by("issue_id", "-occurred_at", "-id")
    )
    for evidence in rows.iterator(chunk_size=2000):
        if len(chosen[evidence.issue_id]) < EVIDENCE_ITEMS:
            chosen[evidence.issue_id].append(evidence)
    contact_ids = [e.contact_id for items in chosen.values() for e in items if e.contact_id]
    messages: dict[int, list[str]] = defaultdict(list)
    for contact_id, text in (
        Message.objects.filter(contact_id__in=contact_ids)
        .order_by("contact_id", "position")
        .values_list("contact_id", "text")
        .iterator(chunk_size=5000)
    ):
        messages[contact_id].append(text)
    texts: dict[int, list[str]] = defaultdict(list)
    for issue_id, items in chosen.items():
        for evidence in items:
            parts: list[str] = []
            if evidence.contact is not None:
                parts = [evidence.contact.subject, evidence.contact.notes]
                parts += messages.get(evidence.contact.pk, [])
            elif evidence.feedback_item is not None:
                parts = [evidence.feedback_item.verbatim]
            elif evidence.session_note is not None:
                parts = [evidence.session_note.text]
            elif evidence.outreach_call is not None:
                parts = [evidence.outreach_call.notes]
            elif evidence.forum_topic is not None:
                parts = [evidence.forum_topic.title, evidence.forum_topic.notes]
            text = "\n".join(part for part in parts if part)
            if text:
                texts[issue_id].append(_cut(text))
    return texts


def _average_length(fresh: Iterable[DocumentTerms]) -> float:
    stored = IssueSearchDoc.objects.aggregate(avg=Avg("length"))["avg"]
    if stored:
        return float(stored)
    lengths = [doc.length for doc in fresh]
    return sum(lengths) / len(lengths) if lengths else DEFAULT_AVERAGE_LENGTH


def issues_index(*, issue_ids: Iterable[int]) -> int:
    """Rebuild the search documents of these issues (open ones; a closed or merged one loses
    its document). Returns how many documents were written."""
    ids = sorted(set(issue_ids))
    written = 0
    for start in range(0, len(ids), CHUNK):
        written += _index_chunk(ids[start : start + CHUNK])
    return written


def _index_chunk(ids: list[int]) -> int:
    issues = {
        issue.pk: issue
        for issue in Issue.objects.filter(open_issue_q(), id__in=ids).only(
            "id", "title", "description", "updated_at"
        )
    }
    evidence = _evidence_texts(list(issues))
    docs = {
        issue_id: document_terms(
            {
                "title": [issue.title],
                "description": [_cut(issue.description, DESCRIPTION_CHARS)],
                "evidence": evidence.get(issue_id, []),
            }
        )
        for issue_id, issue in issues.items()
    }
    average = _average_length(docs.values())
    now = timezone.now()
    with transaction.atomic():
        # Lock the issues' rows: two rebuilds of one issue run one after the other.
        list(Issue.objects.select_for_update().filter(id__in=ids).values_list("id", flat=True))
        IssueSearchTerm.objects.filter(issue_id__in=ids).delete()
        IssueSearchDoc.objects.filter(issue_id__in=ids).exclude(issue_id__in=list(issues)).delete()
        IssueSearchTerm.objects.bulk_create(
            [
                IssueSearchTerm(
                    issue_id=issue_id,
                    term=term,
                    weight=term_weight(frequency, doc.length, average),
                )
                for issue_id, doc in docs.items()
                for term, frequency in doc.frequencies.items()
            ],
            batch_size=5000,
        )
        IssueSearchDoc.objects.bulk_create(
            [
                IssueSearchDoc(
                    issue_id=issue_id,
                    length=doc.length,
                    evidence_items=len(evidence.get(issue_id, [])),
                    source_updated_at=issues[issue_id].updated_at,
                    indexed_at=now,
                )
                for issue_id, doc in docs.items()
            ],
            update_conflicts=True,
            unique_fields=["issue"],
            update_fields=["length", "evidence_items", "source_updated_at", "indexed_at"],
        )
    return len(docs)


def issue_index_after_commit(issue_id: int) -> None:
    """Rebuild one issue's document once the current transaction commits (now, outside one).
    A failure is logged, not raised: the evidence is saved, and the periodic job catches up."""

    def rebuild() -> None:
        try:
            issues_index(issue_ids=[issue_id])
        except Exception:  # the reindex job heals it; the person's write succeeded
            logger.exception("could not index issue %s for flag suggestions", issue_id)

    transaction.on_commit(rebuild)


def stale_issue_ids(*, limit: int | None = None) -> list[int]:
    """Open issues without a current document, and issues with a document that are no longer
    open."""
    missing_or_stale = Issue.objects.filter(open_issue_q()).filter(
        Q(search_doc__isnull=True) | Q(search_doc__source_updated_at__lt=F("updated_at"))
    )
    closed = IssueSearchDoc.objects.exclude(issue__in=Issue.objects.filter(open_issue_q()))
    ids = list(missing_or_stale.order_by("id").values_list("id", flat=True)[:limit])
    ids += list(closed.values_list("issue_id", flat=True)[:limit])
    return ids


def issues_reindex_stale() -> int:
    """The periodic job: rebuild stale or missing documents, drop closed issues'. Returns the
    number of issues looked at."""
    ids = stale_issue_ids()
    issues_index(issue_ids=ids)
    return len(ids)
