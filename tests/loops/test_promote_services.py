"""Promoting each kind of source to a new issue and to an existing one; evidence counted once;
the refusals (a duplicate issue, a merged, closed or won't-fix target); what is suggested."""

import pytest
import time_machine

from loops.models import EvidenceKind, Issue, IssueEvidence
from loops.promote.services import promote_to_issue, promote_to_new_issue
from loops.promote.sources import KINDS, describe, kind_of, source_get_visible
from loops.services.issues import issue_transition
from tests.loops.promote_world import NOW, SCRIPT, make_world
from tests.loops.world import assigned_issue, open_issue
from voc.core.errors import Conflict
from voc.core.models import AuditEntry

pytestmark = pytest.mark.django_db

KIND_NAMES = ["feedback", "session_note", "outreach_call", "exercise", "forum_topic"]
EVIDENCE_COLUMN = {
    "feedback": "feedback_item",
    "session_note": "session_note",
    "outreach_call": "outreach_call",
    "exercise": "exercise",
    "forum_topic": "forum_topic",
}


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def world(cast):
    return make_world(cast)


def test_the_kinds_are_the_evidence_kinds_but_contacts():
    assert set(KINDS) == set(KIND_NAMES) == set(EvidenceKind.values) - {"contact"}


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_each_kind_opens_a_new_issue_with_the_source_as_evidence(cast, world, kind):
    source = world.sources()[kind]
    promoted = promote_to_new_issue(
        source=source, title="  Checkout error hidden from reps ", reasons=[world.billing],
        severity="high", by=cast.executive,
    )  # fmt: skip
    issue = Issue.objects.get()
    assert promoted.issue == issue and promoted.opened and promoted.added
    assert (issue.title, issue.severity, issue.status) == (
        "Checkout error hidden from reps",
        "high",
        "new",
    )
    assert issue.department == cast.dept_a  # the first reason's
    assert issue.created_by == cast.executive
    assert issue.evidence_count == 1
    evidence = IssueEvidence.objects.get()
    assert evidence.kind == kind and getattr(evidence, EVIDENCE_COLUMN[kind]) == source
    assert issue.first_seen_at == issue.last_seen_at == evidence.occurred_at
    added = AuditEntry.objects.get(action="issue.evidence_add")
    assert added.why == f"Promoted from a {EvidenceKind(kind).label.lower()}."


@pytest.mark.parametrize("kind", KIND_NAMES)
def test_each_kind_joins_an_existing_issue_once(cast, world, kind):
    source = world.sources()[kind]
    issue = assigned_issue(cast, reasons=[world.billing])
    first = promote_to_issue(source=source, issue=issue, by=cast.manager)
    assert (first.opened, first.added, first.issue.evidence_count) == (False, True, 1)
    again = promote_to_issue(source=source, issue=issue, by=cast.executive)
    assert (again.added, again.issue.evidence_count) == (False, 1)
    assert again.evidence == first.evidence
    issue.refresh_from_db()
    assert issue.evidence_count == 1
    assert IssueEvidence.objects.filter(issue=issue).count() == 1
    assert AuditEntry.objects.filter(action="issue.evidence_add").count() == 1


def test_the_customer_behind_a_feedback_item_or_a_call_is_the_reporter(cast, world):
    issue = open_issue(cast)
    assert promote_to_issue(
        source=world.item_a, issue=issue, by=cast.manager
    ).evidence.customer == (world.contact_a.customer)
    assert promote_to_issue(
        source=world.call, issue=issue, by=cast.executive
    ).evidence.customer == (world.call.customer)
    assert (
        promote_to_issue(source=world.note, issue=issue, by=cast.executive).evidence.customer
        is None
    )


def test_a_second_new_issue_from_the_same_source_is_refused(cast, world):
    first = promote_to_new_issue(source=world.note, title="Checkout error", by=cast.executive)
    with pytest.raises(Conflict) as refused:
        promote_to_new_issue(source=world.note, title="Checkout error again", by=cast.executive)
    assert f"open issue #{first.issue.pk} already" in refused.value.message_dict["source"][0]
    assert Issue.objects.count() == 1
    assert Issue.objects.get().evidence_count == 1


def test_the_refusal_names_no_issue_the_person_cannot_see(cast, world):
    promote_to_new_issue(source=world.topic, title="Hidden error", by=cast.executive)
    with pytest.raises(Conflict) as refused:
        # The rep neither opened nor flagged it: outside their issue scope.
        promote_to_new_issue(source=world.topic, title="Hidden error", by=cast.rep)
    message = refused.value.message_dict["source"][0]
    assert "one you cannot see" in message and "#" not in message


def test_a_source_of_a_closed_issue_may_open_a_new_one(cast, world):
    old = promote_to_new_issue(
        source=world.item_a, title="Old", reasons=[world.billing], by=cast.manager
    ).issue
    issue_transition(issue=old, to="wont_fix", by=cast.manager, why="Not ours")
    new = promote_to_new_issue(source=world.item_a, title="Back again", by=cast.manager)
    assert new.issue != old and new.issue.evidence_count == 1


def test_merged_closed_and_wont_fix_issues_take_no_evidence(cast, world):
    survivor = open_issue(cast, title="Survivor")
    merged = open_issue(cast, title="Duplicate")
    Issue.objects.filter(pk=merged.pk).update(merged_into=survivor)
    with pytest.raises(Conflict) as refused:
        promote_to_issue(source=world.note, issue=merged, by=cast.executive)
    assert f"merged into #{survivor.pk}" in refused.value.message_dict["issue"][0]
    for status in ("closed", "wont_fix"):
        done = open_issue(cast, title=status)
        Issue.objects.filter(pk=done.pk).update(status=status, wont_fix_reason="Not ours")
        with pytest.raises(Conflict) as refused:
            promote_to_issue(source=world.note, issue=done, by=cast.executive)
        assert "open a new issue" in refused.value.message_dict["issue"][0]
    assert not IssueEvidence.objects.exists()


def test_fixed_issues_still_take_evidence(cast, world):
    issue = assigned_issue(cast)
    issue_transition(issue=issue, to="in_progress", by=cast.manager)
    issue_transition(issue=issue, to="fixed", by=cast.manager)
    assert promote_to_issue(source=world.item_a, issue=issue, by=cast.manager).added


def test_a_blank_title_is_refused_and_nothing_is_kept(cast, world):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        promote_to_new_issue(source=world.note, title="   ", by=cast.executive)
    assert "title" in refused.value.message_dict
    assert not Issue.objects.exists() and not IssueEvidence.objects.exists()


# --- what the page shows and suggests ----------------------------------------------------------


def test_a_feedback_item_suggests_its_topic_and_first_words(world):
    view = describe(world.item_a)
    assert view.kind == "feedback" and view.label == "Feedback item"
    assert view.reasons == (world.billing,)
    assert view.text == SCRIPT
    # 81 characters: cut at the last word that fits, within 80 with the ellipsis.
    assert (
        view.title
        == "<script>alert('promote')</script> Checkout shows an error code the rep cannot…"
    )
    assert view.url == f"/feedback/items/{world.item_a.pk}/"


def test_a_feedback_item_without_topic_takes_its_contacts_reason(cast, world):
    world.item_a.reason = None
    world.item_a.verbatim = ""
    world.item_a.save()
    view = describe(
        source_get_visible(viewer=cast.admin, kind="feedback", source_id=world.item_a.pk)
    )
    assert view.reasons == (world.billing,)
    assert view.title == "Complaint about Double charge"


def test_a_note_suggests_the_reasons_of_its_contacts_once_each(cast, world):
    from tests.loops.world import contact_of

    world.note.contacts.add(
        contact_of(cast.team_a, reason=world.billing), contact_of(cast.team_b, reason=world.outage)
    )
    view = describe(world.note)
    assert view.reasons == (world.billing, world.outage)
    assert view.url == f"/feedback/sessions/{world.session.pk}/"


def test_outreach_entries_say_what_was_heard(world):
    call = describe(world.call)
    assert call.title == "Left because refunds took six weeks."
    assert (
        call.text
        == "Left because refunds took six weeks.\n\nFollow-up: Ask billing about refund times"
    )
    exercise = describe(world.exercise)
    assert exercise.title == "File a claim: The claim form times out after 10 minutes."
    assert exercise.url == "/feedback/outreach/exercise/?month=2026-11"
    topic = describe(world.topic)
    assert topic.title == "Reps cannot see the checkout error"
    assert topic.text == "Reps cannot see the checkout error\n\nCustomers read the code out"
    assert (call.reasons, exercise.reasons, topic.reasons) == ((), (), ())


def test_a_call_without_notes_is_titled_by_why_the_customer_left(world):
    world.call.notes = ""
    assert describe(world.call).title == "Outreach call: Moved to a rival"


def test_kind_of_names_the_url_kind(world):
    assert {kind: kind_of(source) for kind, source in world.sources().items()} == {
        kind: kind for kind in KIND_NAMES
    }
