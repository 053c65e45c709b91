"""Ranking open issues for a contact: the words decide between issues of one reason, the
reason helps, closed and merged issues are never suggested, the queries stay few."""

import pytest

from loops.flags.index import issues_index
from loops.flags.ranking import (
    MIN_CAP,
    REASON_BONUS,
    document_frequency_cap,
    rank_issues,
    weighted_terms,
)
from loops.flags.selectors import flag_suggestions
from loops.models import Issue
from loops.services.issues import issue_transition
from tests.loops.flags_world import make_world
from tests.loops.world import contact_of, open_issue

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast):
    return make_world(cast)


def ranked_ids(text, reason_ids=(), candidates=None):
    candidates = candidates if candidates is not None else Issue.objects.all()
    return [
        r.issue_id
        for r in rank_issues(text=text, reason_ids=reason_ids, candidates=candidates, limit=5)
    ]


def test_the_words_pick_the_issue_among_three_of_the_same_reason(world):
    text = "They charged my card twice when the renewal came up."
    assert ranked_ids(text, [world.billing.pk])[0] == world.double.pk
    text = "I sent the router back but no refund yet."
    assert ranked_ids(text, [world.billing.pk])[0] == world.refund.pk
    text = "Our VAT number is missing on the invoice."
    assert ranked_ids(text, [world.billing.pk])[0] == world.invoice.pk


def test_text_beats_the_reason(world):
    # Filed under Billing, but the words are the wifi issue's (department B's outage reason).
    ranked = rank_issues(
        text="My router keeps dropping the wifi every night.",
        reason_ids=[world.billing.pk],
        candidates=Issue.objects.all(),
        limit=5,
    )
    assert ranked[0].issue_id == world.wifi.pk
    assert not ranked[0].shares_reason
    assert {r.issue_id for r in ranked[1:]} == {world.double.pk, world.refund.pk, world.invoice.pk}


def test_without_words_the_reason_alone_ranks_by_evidence_then_newest(world):
    ranked = rank_issues(
        text="", reason_ids=[world.billing.pk], candidates=Issue.objects.all(), limit=5
    )
    # Two pieces of evidence each: the newest issue first.
    assert [r.issue_id for r in ranked] == [world.invoice.pk, world.refund.pk, world.double.pk]
    assert all(r.score == REASON_BONUS and r.text_score == 0 for r in ranked)


def test_nothing_in_common_ranks_nothing(world):
    assert ranked_ids("zebra xylophone", []) == []
    assert ranked_ids("", []) == []


def test_closed_wont_fix_and_merged_issues_are_not_suggested(cast, world):
    issue_transition(issue=world.double, to="wont_fix", by=cast.manager, why="By design")
    Issue.objects.filter(pk=world.refund.pk).update(merged_into=world.invoice)
    issues_index(issue_ids=[world.double.pk, world.refund.pk])
    ids = ranked_ids("charged twice renewal refund router invoice VAT", [world.billing.pk])
    assert world.double.pk not in ids and world.refund.pk not in ids
    assert world.invoice.pk in ids


def test_a_closed_issue_loses_its_search_document(cast, world):
    issue_transition(issue=world.double, to="wont_fix", by=cast.manager, why="By design")
    issues_index(issue_ids=[world.double.pk])
    assert not hasattr(Issue.objects.get(pk=world.double.pk), "search_doc") or not (
        Issue.objects.filter(pk=world.double.pk, search_doc__isnull=False).exists()
    )


def test_common_terms_are_left_out_only_once_there_are_enough_documents():
    assert document_frequency_cap(10) == MIN_CAP
    assert document_frequency_cap(4 * MIN_CAP) == MIN_CAP
    assert document_frequency_cap(4 * MIN_CAP + 4) == MIN_CAP + 1
    assert document_frequency_cap(5000) == 1250


def test_terms_in_no_document_are_not_scored(world):
    terms = {t.term for t in weighted_terms("zebra refund")}
    assert terms == {"refund"}


def test_suggestions_take_a_constant_number_of_queries(cast, world, django_assert_num_queries):
    contact = contact_of(cast.team_a, reason=world.billing, notes="charged twice on renewal")
    # The reason family, the messages, the count with the frequencies, the score, the scope
    # check, the issues with their figures, their reasons.
    with django_assert_num_queries(7):
        suggestions = flag_suggestions(viewer=cast.rep, contact=contact)
    assert suggestions[0].issue == world.double


@pytest.mark.parametrize("prefetch", [1, 2, 50])
def test_the_scope_check_after_scoring_gives_the_same_answer_as_scoring_within_it(
    world, monkeypatch, prefetch
):
    """Scoring the best issues first and checking the scope afterwards, or scoring within the
    scope when too few of them are in it: the same suggestions either way."""
    import loops.flags.ranking as ranking

    monkeypatch.setattr(ranking, "PREFETCH", prefetch)
    text = "charged twice renewal refund router wifi evening invoice VAT"
    within = Issue.objects.exclude(pk=world.double.pk)  # the best match is out of scope
    ranked = rank_issues(text=text, reason_ids=[world.billing.pk], candidates=within, limit=2)
    expected = ranking._scored(ranking.weighted_terms(text), [world.billing.pk], within, 2)
    assert ranked == expected
    assert world.double.pk not in [r.issue_id for r in ranked] and len(ranked) == 2


@pytest.mark.parametrize(("documents", "min_cap"), [(9, 1), (12, 1), (13, 2), (5, 4), (20, 5)])
def test_the_count_and_the_capped_frequencies_come_in_one_query_as_python_caps_them(
    cast, monkeypatch, django_assert_num_queries, documents, min_cap
):
    """The cap is worked out inside the query; it must be document_frequency_cap's, at the
    boundaries of the rounding and of MIN_CAP: each term counted up to one past it."""
    from django.utils import timezone

    import loops.flags.ranking as ranking
    from loops.models import IssueSearchDoc, IssueSearchTerm

    monkeypatch.setattr(ranking, "MIN_CAP", min_cap)
    issues = [open_issue(cast, title=f"Issue {n}") for n in range(documents)]
    IssueSearchDoc.objects.all().delete()
    IssueSearchTerm.objects.all().delete()
    IssueSearchDoc.objects.bulk_create(
        IssueSearchDoc(issue=issue, length=1.0, source_updated_at=timezone.now())
        for issue in issues
    )
    # "every" is in every document, "half" in half of them, "one" in one.
    IssueSearchTerm.objects.bulk_create(
        [IssueSearchTerm(issue=issue, term="every", weight=1.0) for issue in issues]
        + [IssueSearchTerm(issue=issue, term="half", weight=1.0) for issue in issues[::2]]
        + [IssueSearchTerm(issue=issues[0], term="one", weight=1.0)]
    )
    cap = ranking.document_frequency_cap(documents)
    with django_assert_num_queries(1):
        count, frequencies = ranking._documents_and_frequencies(["every", "half", "one", "none"])
    assert count == documents
    assert frequencies == {
        "every": min(documents, cap + 1),
        "half": min(len(issues[::2]), cap + 1),
        "one": 1,
        "none": 0,
    }
