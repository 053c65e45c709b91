"""The demo's promotions (loops/promote/demo.py): the checkout notes and complaints make one
issue, the missed call-backs another; nothing without them."""

import random

import pytest

from feedback.models import FeedbackItem
from loops.models import Issue, IssueEvidence
from loops.promote.demo import seed_promotions
from tests.loops.promote_world import NOW, _note, _session
from voc.core.demo import DemoContext

pytestmark = pytest.mark.django_db


def ctx(lines: list[str]) -> DemoContext:
    return DemoContext(rng=random.Random(1), customers=0, stdout=lines.append)


def complaint(text: str, days: int) -> FeedbackItem:
    from datetime import timedelta

    return FeedbackItem.objects.create(
        kind=FeedbackItem.Kind.COMPLAINT, source="demo", verbatim=text,
        received_at=NOW - timedelta(days=days),
    )  # fmt: skip


def test_notes_and_complaints_become_two_issues(cast):
    from datetime import timedelta

    session = _session(cast, cast.rep, start=NOW - timedelta(days=3))
    checkout = (
        "Customer read out the error code from the website checkout; rep had no way to see it."
    )
    notes = [_note(session, checkout, at=NOW - timedelta(days=3, minutes=-n)) for n in range(4)]
    _note(session, "Something else entirely", at=NOW - timedelta(days=3))
    failed = [complaint("Your checkout failed three times and then…", days) for days in (5, 4)]
    missed = [complaint("Nobody called me back although I was promised", d) for d in (9, 8, 7, 6)]
    complaint("Lovely service", 2)
    lines: list[str] = []
    seed_promotions(ctx(lines))
    first, second = Issue.objects.order_by("id")
    assert (first.severity, first.evidence_count, first.created_by) == ("high", 5, cast.executive)
    assert first.title.startswith("Customer read out the error code")
    assert set(IssueEvidence.objects.filter(issue=first).values_list("session_note", flat=True)) - {
        None
    } == {note.pk for note in notes[:3]}  # three notes at most
    assert {e.feedback_item_id for e in first.evidence.exclude(feedback_item=None)} == {
        item.pk for item in failed
    }
    assert (second.severity, second.evidence_count) == ("medium", 3)
    assert {e.feedback_item_id for e in second.evidence.all()} == {item.pk for item in missed[:3]}
    assert lines == ["  loops: 2 issues promoted from feedback, 8 evidence"]


def test_nothing_to_promote_makes_nothing(cast):
    lines: list[str] = []
    seed_promotions(ctx(lines))
    assert not Issue.objects.exists() and lines == []


def test_no_executive_makes_nothing(db):
    complaint("Nobody called me back", 3)
    seed_promotions(ctx([]))
    assert not Issue.objects.exists()
