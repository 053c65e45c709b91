"""Sources to promote, one of each kind, with who may read them (tests/loops/test_promote_*).

- ``item_a``: a complaint about a contact of team A on department A's reason: the team-A rep,
  the head of department A, executives and admins read it.
- ``item_b``: a complaint on a contact of team B about department B's reason: not the team-A
  rep nor the head of department A.
- ``note``: a side-by-side note of the executive beside the rep, linked to the team-A contact.
- ``note_other``: a note of a session of the executive beside the teammate (the rep is no
  participant).
- ``call``, ``exercise``: the executive's (the CEO: reports to nobody); ``topic``: a forum topic.
"""

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from contacts.models import Contact, ContactReason
from feedback.models import (
    FeedbackItem,
    Forum,
    ForumTopic,
    OutreachCall,
    OutreachExercise,
    OutreachList,
    Session,
    SessionNote,
)
from tests.factories import CustomerFactory
from tests.loops.world import contact_of, reason

NOW = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
SCRIPT = "<script>alert('promote')</script> Checkout shows an error code the rep cannot see"


@dataclass
class World:
    billing: ContactReason
    outage: ContactReason
    contact_a: Contact
    contact_b: Contact
    item_a: FeedbackItem
    item_b: FeedbackItem
    session: Session
    note: SessionNote
    note_other: SessionNote
    call: OutreachCall
    exercise: OutreachExercise
    topic: ForumTopic

    def sources(self) -> dict[str, object]:
        """One visible-to-the-executive source of each kind, by URL kind."""
        return {
            "feedback": self.item_a,
            "session_note": self.note,
            "outreach_call": self.call,
            "exercise": self.exercise,
            "forum_topic": self.topic,
        }


def _session(cast, rep, *, start: datetime) -> Session:
    return Session.objects.create(
        executive=cast.executive,
        rep=rep,
        scheduled_by=cast.executive,
        scheduled_start=start,
        status=Session.Status.ENDED,
        started_at=start,
        ended_at=start + timedelta(hours=1),
        duration_seconds=3600,
    )


def _note(session: Session, text: str, *, at: datetime, contacts=()) -> SessionNote:
    note = SessionNote.objects.create(
        session=session,
        author=session.executive,
        kind=SessionNote.Kind.OBSERVATION,
        text=text,
        client_id=uuid.uuid4(),
        noted_at=at,
        received_at=at,
    )
    note.contacts.set(contacts)
    return note


def make_world(cast) -> World:
    billing = reason("Double charge", department=cast.dept_a)
    outage = reason("Outage", department=cast.dept_b)
    contact_a = contact_of(cast.team_a, reason=billing, at=NOW - timedelta(days=3))
    contact_b = contact_of(cast.team_b, reason=outage, at=NOW - timedelta(days=3))
    item_a = FeedbackItem.objects.create(
        kind=FeedbackItem.Kind.COMPLAINT, source="voc", verbatim=SCRIPT, contact=contact_a,
        customer=contact_a.customer, reason=billing, team=cast.team_a,
        received_at=NOW - timedelta(days=2),
    )  # fmt: skip
    item_b = FeedbackItem.objects.create(
        kind=FeedbackItem.Kind.COMPLAINT, source="voc", verbatim="Down again", contact=contact_b,
        customer=contact_b.customer, reason=outage, team=cast.team_b,
        received_at=NOW - timedelta(days=2),
    )  # fmt: skip
    session = _session(cast, cast.rep, start=NOW - timedelta(days=1))
    note = _note(session, SCRIPT, at=NOW - timedelta(days=1, minutes=-10), contacts=[contact_a])
    other = _session(cast, cast.teammate, start=NOW - timedelta(days=4))
    note_other = _note(other, "The rep opened four screens", at=NOW - timedelta(days=4))
    outreach_list = OutreachList.objects.create(
        executive=cast.executive, program="lost", month=date(2026, 11, 1), size=5,
        generated_by="test",
    )  # fmt: skip
    call = OutreachCall.objects.create(
        outreach_list=outreach_list, month=date(2026, 11, 1), customer=CustomerFactory(),
        lost_reason="Moved to a rival", called_at=NOW - timedelta(days=5), duration_minutes=12,
        outcome=OutreachCall.Outcome.REACHED, notes="Left because refunds took six weeks.",
        follow_up="Ask billing about refund times", logged_by=cast.executive,
    )  # fmt: skip
    exercise = OutreachExercise.objects.create(
        executive=cast.executive, task=OutreachExercise.Task.FILE_CLAIM,
        description="Claim online", done_at=NOW - timedelta(days=6), minutes_spent=40,
        outcome=OutreachExercise.Outcome.GAVE_UP, notes="The claim form times out after 10 minutes.",
    )  # fmt: skip
    forum = Forum.objects.create(title="November forum", held_at=NOW - timedelta(days=7))
    topic = ForumTopic.objects.create(
        forum=forum, title="Reps cannot see the checkout error", raised_by=cast.rep,
        notes="Customers read the code out", outcome=ForumTopic.Outcome.LOOK_INTO,
    )  # fmt: skip
    return World(
        billing=billing,
        outage=outage,
        contact_a=contact_a,
        contact_b=contact_b,
        item_a=item_a,
        item_b=item_b,
        session=session,
        note=note,
        note_other=note_other,
        call=call,
        exercise=exercise,
        topic=topic,
    )
