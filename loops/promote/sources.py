"""What can be promoted, and who may: each kind of source is read through feedback's own scoped
selectors, so a source is promotable exactly when its page in feedback would open.

- a feedback item: the feedback row scope (feedback.items.selectors);
- a side-by-side note: the session's two participants, executives and admins, never a manager
  (feedback.selectors: a session is not a performance review of the rep);
- an outreach call or a be-a-customer exercise: its executive, the CEO and admins;
- a forum topic: reps, executives and admins (feedback.outreach.selectors).

Admins read them all but have no PROMOTE capability (they do not run issues).
"""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Model, QuerySet
from django.urls import reverse

from contacts.models import ContactReason
from feedback import selectors as session_selectors
from feedback.items.selectors import feedback_list_visible
from feedback.models import FeedbackItem, ForumTopic, OutreachCall, OutreachExercise, SessionNote
from feedback.outreach import selectors as outreach_selectors
from loops.models import EVIDENCE_FIELDS, EvidenceKind
from loops.promote.rules import title_from_text
from loops.services.issues import evidence_facts
from voc.people.models import User

PromotableSource = FeedbackItem | SessionNote | OutreachCall | OutreachExercise | ForumTopic

# The kinds in URLs and the API (the evidence kinds, less contacts: contacts are flagged).
KINDS: dict[str, type[Model]] = {
    EvidenceKind.FEEDBACK.value: FeedbackItem,
    EvidenceKind.SESSION_NOTE.value: SessionNote,
    EvidenceKind.OUTREACH_CALL.value: OutreachCall,
    EvidenceKind.EXERCISE.value: OutreachExercise,
    EvidenceKind.FORUM_TOPIC.value: ForumTopic,
}
KIND_LABELS = {kind: EvidenceKind(kind).label for kind in KINDS}


def kind_of(source: PromotableSource) -> str:
    """The URL kind of a source ("session_note")."""
    return evidence_facts(source).kind


def evidence_field(kind: str) -> str:
    """The IssueEvidence column that holds a source of this kind."""
    return EVIDENCE_FIELDS[EvidenceKind(kind)]


def sources_visible(*, viewer: User, kind: str) -> QuerySet[Model]:
    """The sources of ``kind`` the viewer may read (none for an unknown kind)."""
    if kind == EvidenceKind.FEEDBACK:
        return feedback_list_visible(viewer=viewer).select_related(
            "reason__parent", "contact__reason__parent"
        )
    if kind == EvidenceKind.SESSION_NOTE:
        sessions = session_selectors.session_list_visible(viewer=viewer)
        return SessionNote.objects.filter(session__in=sessions).select_related(
            "session__executive", "session__rep"
        )
    if kind == EvidenceKind.OUTREACH_CALL:
        return outreach_selectors.outreach_calls_visible(viewer=viewer).select_related(
            "outreach_list__executive", "customer"
        )
    if kind == EvidenceKind.EXERCISE:
        return outreach_selectors.outreach_exercises_visible(viewer=viewer).select_related(
            "executive"
        )
    if kind == EvidenceKind.FORUM_TOPIC:
        return outreach_selectors.forum_topics_visible(viewer=viewer).select_related("forum")
    return FeedbackItem.objects.none()


def source_get_visible(*, viewer: User, kind: str, source_id: int) -> PromotableSource | None:
    """The source, or None when the kind is unknown, the source is missing or the viewer may
    not read it (a 404 either way)."""
    if kind not in KINDS:
        return None
    source: PromotableSource | None = (
        sources_visible(viewer=viewer, kind=kind).filter(id=source_id).first()  # type: ignore[assignment]
    )
    return source


@dataclass(frozen=True)
class SourceView:
    """A source as the promote page shows it and pre-fills the new issue from it."""

    kind: str
    label: str  # "Side-by-side note"
    source: PromotableSource
    text: str  # what was said or noted (escaped wherever it is shown)
    title: str  # the suggested issue title
    reasons: tuple[ContactReason, ...]  # the suggested reasons
    when: datetime
    url: str  # its page in feedback
    context: str  # where it comes from, in a few words


def _joined(*parts: str) -> str:
    return "\n\n".join(part.strip() for part in parts if part and part.strip())


def describe(source: PromotableSource) -> SourceView:
    """What the promote page says about ``source`` and suggests for a new issue."""
    kind = kind_of(source)
    when = evidence_facts(source).occurred_at
    reasons: list[ContactReason] = []
    if isinstance(source, FeedbackItem):
        text = source.verbatim
        # Its topic; else the reason of the contact it answers.
        topic = source.reason or (source.contact.reason if source.contact else None)
        reasons = [topic] if topic is not None else []
        fallback = source.get_kind_display()
        if topic is not None:
            fallback = f"{fallback} about {topic.path}"
        title = title_from_text(text) or fallback
        url = reverse("feedback:item-detail", args=[source.pk])
        context = f"{source.get_kind_display()}, {source.source}"
    elif isinstance(source, SessionNote):
        text = source.text
        seen: dict[int, ContactReason] = {}
        for contact in source.contacts.select_related("reason__parent").order_by("id"):
            if contact.reason is not None:
                seen.setdefault(contact.reason.pk, contact.reason)
        reasons = list(seen.values())
        title = title_from_text(text) or source.get_kind_display()
        url = reverse("feedback:session-detail", args=[source.session_id])
        session = source.session
        context = f"{source.get_kind_display()}, {session.executive} beside {session.rep}"
    elif isinstance(source, OutreachCall):
        follow_up = f"Follow-up: {source.follow_up}" if source.follow_up else ""
        text = _joined(source.notes, follow_up)
        title = title_from_text(source.notes) or title_from_text(
            f"Outreach call: {source.lost_reason}" if source.lost_reason else "Outreach call"
        )
        url = reverse("feedback:outreach-call", args=[source.pk])
        context = f"Outreach call by {source.outreach_list.executive}"
    elif isinstance(source, OutreachExercise):
        follow_up = f"Follow-up: {source.follow_up}" if source.follow_up else ""
        text = _joined(source.description, source.notes, follow_up)
        what = source.notes or source.description
        title = title_from_text(f"{source.get_task_display()}: {what}" if what else "") or (
            f"{source.get_task_display()}: {source.get_outcome_display().lower()}"
        )
        url = reverse("feedback:outreach-program", args=["exercise"])
        url += f"?month={source.done_at:%Y-%m}"
        context = f"Be-a-customer exercise by {source.executive}"
    else:
        text = _joined(source.title, source.notes)
        title = title_from_text(source.title) or "Forum topic"
        url = reverse("feedback:forum-detail", args=[source.forum_id])
        context = f"Forum topic, {source.forum.title}"
    return SourceView(
        kind=kind,
        label=KIND_LABELS[kind],
        source=source,
        text=text,
        title=title,
        reasons=tuple(reasons),
        when=when,
        url=url,
        context=context,
    )
