"""Me too and propose: a flag per person, the contact as evidence once per issue, the
refusals, the audit trail; the issue's search document follows its evidence; erasure."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from loops.flags.index import issues_reindex_stale, stale_issue_ids
from loops.flags.ranking import rank_issues
from loops.flags.services import MAX_NOTE, flag_me_too, flag_propose, flags_erase
from loops.models import EvidenceKind, Flag, Issue, IssueEvidence, IssueSearchDoc, Severity
from loops.services.issues import issue_transition
from tests.loops.flags_world import make_world
from tests.loops.world import contact_of, open_issue, reason
from voc.core.errors import Conflict
from voc.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast):
    return make_world(cast)


@pytest.fixture
def contact(cast, world):
    return contact_of(cast.team_a, reason=world.billing, notes="Charged twice at renewal.")


def test_me_too_flags_and_adds_the_contact_as_evidence(cast, world, contact):
    before = world.double.evidence_count
    flagged = flag_me_too(contact=contact, issue=world.double, by=cast.rep, note="Third today")
    assert flagged.created and flagged.evidence_added
    assert flagged.issue.evidence_count == before + 1
    flag = Flag.objects.get()
    assert (flag.issue, flag.contact, flag.flagged_by, flag.proposed, flag.note) == (
        world.double, contact, cast.rep, False, "Third today"
    )  # fmt: skip
    evidence = IssueEvidence.objects.get(issue=world.double, contact=contact)
    assert evidence.kind == EvidenceKind.CONTACT and evidence.customer_id == contact.customer_id
    entry = AuditEntry.objects.get(action="flag.me_too")
    assert (entry.actor, entry.target_id, entry.customer_id, entry.why) == (
        cast.rep, world.double.pk, contact.customer_id, "Third today"
    )  # fmt: skip
    assert entry.changes == {"flag": [None, flag.pk], "contact": [None, contact.pk]}


def test_the_contact_counts_once_per_issue_however_many_flags(cast, world, contact):
    before = world.double.evidence_count
    first = flag_me_too(contact=contact, issue=world.double, by=cast.rep)
    again = flag_me_too(contact=contact, issue=world.double, by=cast.rep)
    teammate = flag_me_too(contact=contact, issue=world.double, by=cast.teammate)
    manager = flag_me_too(contact=contact, issue=world.double, by=cast.manager)
    assert (first.created, again.created, teammate.created, manager.created) == (
        True, False, True, True
    )  # fmt: skip
    assert (first.evidence_added, again.evidence_added, teammate.evidence_added) == (
        True, False, False
    )  # fmt: skip
    assert Flag.objects.filter(issue=world.double, contact=contact).count() == 3
    assert IssueEvidence.objects.filter(issue=world.double, contact=contact).count() == 1
    assert Issue.objects.get(pk=world.double.pk).evidence_count == before + 1
    assert AuditEntry.objects.filter(action="flag.me_too").count() == 3
    assert AuditEntry.objects.filter(action="issue.evidence_add", target_id=world.double.pk,
                                     customer_id=contact.customer_id).count() == 1  # fmt: skip


def test_one_contact_may_be_evidence_on_two_issues(cast, world, contact):
    flag_me_too(contact=contact, issue=world.double, by=cast.rep)
    flag_me_too(contact=contact, issue=world.refund, by=cast.rep)
    assert IssueEvidence.objects.filter(contact=contact).count() == 2


@pytest.mark.parametrize(
    ("status", "words"), [("closed", "is closed"), ("wont_fix", "is won't fix")]
)
def test_a_closed_or_wont_fix_issue_takes_no_flag(cast, world, contact, status, words):
    Issue.objects.filter(pk=world.double.pk).update(status=status, wont_fix_reason="No")
    with pytest.raises(Conflict, match=words):
        flag_me_too(contact=contact, issue=world.double, by=cast.rep)
    assert not Flag.objects.exists()


def test_a_merged_issue_names_its_survivor(cast, world, contact):
    Issue.objects.filter(pk=world.refund.pk).update(merged_into=world.double)
    with pytest.raises(Conflict, match=f"merged into #{world.double.pk}"):
        flag_me_too(contact=contact, issue=world.refund, by=cast.rep)


def test_a_fixed_issue_still_takes_a_flag(cast, world, contact):
    Issue.objects.filter(pk=world.double.pk).update(status="fixed")
    assert flag_me_too(contact=contact, issue=world.double, by=cast.rep).created


def test_the_note_is_redacted_and_bounded(cast, world, contact):
    flagged = flag_me_too(
        contact=contact, issue=world.double, by=cast.rep, note="Card 4111 1111 1111 1111"
    )
    assert "4111 1111 1111 1111" not in flagged.flag.note
    with pytest.raises(Conflict, match=f"{MAX_NOTE} characters"):
        flag_me_too(contact=contact, issue=world.refund, by=cast.rep, note="x" * (MAX_NOTE + 1))
    assert flag_me_too(
        contact=contact, issue=world.refund, by=cast.rep, note="x" * MAX_NOTE
    ).created


def test_propose_opens_a_new_issue_with_the_contact_as_evidence(cast, world, contact):
    flagged = flag_propose(
        contact=contact, title="Renewal charged twice", note="Seen it all week", by=cast.rep
    )
    issue = flagged.issue
    assert (issue.status, issue.severity, issue.department, issue.created_by) == (
        Issue.Status.NEW, Severity.MEDIUM, cast.dept_a, cast.rep
    )  # fmt: skip
    assert list(issue.reasons.all()) == [world.billing]
    assert issue.evidence_count == 1 and flagged.evidence_added
    assert flagged.flag.proposed and flagged.flag.flagged_by == cast.rep
    assert list(AuditEntry.objects.filter(target_id=issue.pk).order_by("id").values_list(
        "action", flat=True)) == ["issue.open", "issue.evidence_add", "flag.propose"]  # fmt: skip


def test_propose_without_a_reason_has_no_department(cast):
    contact = contact_of(cast.team_a, notes="Something odd")
    issue = flag_propose(contact=contact, title="Odd", by=cast.rep).issue
    assert issue.department is None and not issue.reasons.exists()


def test_proposing_twice_from_one_contact_opens_one_issue(cast, world, contact):
    first = flag_propose(contact=contact, title="Renewal charged twice", by=cast.rep).issue
    with pytest.raises(Conflict, match=f"#{first.pk}"):
        flag_propose(contact=contact, title="Again", by=cast.rep)
    assert Issue.objects.filter(title="Again").count() == 0
    # Once that proposal is turned down, the contact may propose again (it came back).
    issue_transition(issue=first, to="wont_fix", by=cast.manager, why="By design")
    assert flag_propose(contact=contact, title="Again", by=cast.rep).issue.title == "Again"


def test_propose_refuses_a_blank_title(cast, contact):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        flag_propose(contact=contact, title="   ", by=cast.rep)
    assert not Issue.objects.filter(created_by=cast.rep).exists()


def test_new_evidence_reaches_the_search_document_after_commit(
    cast, world, django_capture_on_commit_callbacks
):
    issue = open_issue(cast, title="Modem beeps", reasons=[world.billing])
    contact = contact_of(cast.team_a, reason=world.billing, notes="the modem squeaks loudly")
    with django_capture_on_commit_callbacks(execute=True):
        flag_me_too(contact=contact, issue=issue, by=cast.rep)
    doc = IssueSearchDoc.objects.get(issue=issue)
    assert doc.evidence_items == 1
    ranked = rank_issues(text="squeaks", reason_ids=[], candidates=Issue.objects.all(), limit=3)
    assert [r.issue_id for r in ranked] == [issue.pk]


def test_closing_an_issue_drops_its_search_document_after_commit(
    cast, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        issue_transition(issue=world.double, to="wont_fix", by=cast.manager, why="By design")
    assert not IssueSearchDoc.objects.filter(issue=world.double).exists()


def test_the_reindex_job_catches_what_changed_without_the_document(cast, world):
    Issue.objects.filter(pk=world.double.pk).update(title="Router hums", updated_at=world.wifi.updated_at.replace(year=2030))  # fmt: skip
    Issue.objects.filter(pk=world.refund.pk).update(status="closed")
    fresh = open_issue(cast, title="Fresh one")  # no document yet (no commit in this test)
    assert set(stale_issue_ids()) == {world.double.pk, world.refund.pk, fresh.pk}
    assert issues_reindex_stale() == 3
    assert stale_issue_ids() == []
    assert not IssueSearchDoc.objects.filter(issue=world.refund).exists()
    ranked = rank_issues(text="hums", reason_ids=[], candidates=Issue.objects.all(), limit=3)
    assert [r.issue_id for r in ranked] == [world.double.pk]


def test_reindexing_one_issue_takes_a_constant_number_of_queries(cast, world):
    from loops.flags.index import issues_index

    with CaptureQueriesContext(connection) as one:
        issues_index(issue_ids=[world.double.pk])
    with CaptureQueriesContext(connection) as four:
        issues_index(issue_ids=[world.double.pk, world.refund.pk, world.invoice.pk, world.wifi.pk])
    assert len(four) == len(one)


def test_erasure_clears_flag_notes_and_rebuilds_the_documents(
    cast, world, contact, django_capture_on_commit_callbacks
):
    flag_me_too(contact=contact, issue=world.double, by=cast.rep, note="Mrs Smith again")
    counts = flags_erase(customer_ids=[contact.customer_id])
    assert counts == {"flag_notes": 1, "search_documents": 1}
    assert Flag.objects.get().note == ""
    assert not IssueSearchDoc.objects.filter(issue=world.double).exists()
    assert world.double.pk in stale_issue_ids()


def test_the_erasure_handler_is_registered():
    from contacts.registry import erasure_handlers

    assert erasure_handlers()["loops.flags"] is flags_erase


def test_a_new_reason_of_the_contacts_department_is_used(cast):
    billing = reason("Billing B", department=cast.dept_b)
    contact = contact_of(cast.team_a, reason=billing, notes="x")
    assert flag_propose(contact=contact, title="T", by=cast.rep).issue.department == cast.dept_b


def test_the_reindex_job_is_registered():
    from voc.core.jobs import registered_jobs

    assert "loops.flags_reindex" in registered_jobs()
