"""Rank open issues by how much a contact's words look like theirs: BM25 scored in the
database over the issues' search documents (loops/flags/index.py), plus a bonus for issues that
explain the contact's reason.

Two queries, whatever the number of issues:

1. how many documents there are and, for each of the contact's terms, in how many documents it
   occurs, counted through the (term, issue) index and capped: a term in more than MAX_SHARE
   of the documents ("account", "call") says little about which issue it is and would make
   the scoring read most postings, so it is left out (one round trip: the cap is worked out
   from the count inside the query);
2. the score: the postings of the kept terms only (the same index), summed per issue with each
   term's idf times its weight in the contact, joined to the candidate issues (open, in the
   viewer's flag scope), the best ``limit`` first.

The same SQL runs on PostgreSQL and on SQLite (the embedded default): the terms come from one
Python tokenizer (loops/flags/text.py), so both rank alike.
"""

import math
from collections.abc import Collection
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from loops.flags.index import open_issue_q
from loops.flags.text import idf, query_terms
from loops.models import Issue, IssueSearchDoc, IssueSearchTerm

QUERY_TERMS = 32  # the contact's most telling terms scored
CANDIDATE_TERMS = 64  # read from the contact before their document frequencies are known
MAX_SHARE = 0.25  # terms in more of the documents than this are left out ...
MIN_CAP = 50  # ... once there are enough documents for a share to mean something
K3 = 1.2  # how fast a word repeated in the contact stops counting more
# The reason's part: an issue that explains the contact's reason has its text score raised by
# REASON_BOOST (relative) and REASON_BONUS (absolute, so it is still suggested when the words
# say nothing). Tuned on the tuning half of bench/flags/ (bench/README.md).
REASON_BOOST = 0.5
PREFETCH = 50  # best open issues scored before the flagger's scope is checked
REASON_BONUS = 1.0


@dataclass(frozen=True)
class Ranked:
    issue_id: int
    score: float
    text_score: float
    shares_reason: bool


@dataclass(frozen=True)
class WeightedTerm:
    term: str
    weight: float  # idf × the term's saturated count in the contact


def document_frequency_cap(documents: int) -> int:
    return max(math.ceil(MAX_SHARE * documents), MIN_CAP)


def _documents_and_frequencies(terms: list[str]) -> tuple[int, dict[str, int]]:
    """How many documents there are, and each term's document frequency counted up to one
    past its cap (document_frequency_cap, worked out in SQL in whole numbers, as Python does
    it), in one query."""
    docs = IssueSearchDoc._meta.db_table
    table = IssueSearchTerm._meta.db_table
    share = Fraction(MAX_SHARE).limit_denominator(1000)
    ceiling = f"((d.n * {share.numerator} + {share.denominator - 1}) / {share.denominator})"
    rows = ", ".join(["(%s)"] * len(terms))
    sql = (
        f"WITH d(n) AS (SELECT COUNT(*) FROM {docs}), "  # noqa: S608 (names, numbers, marks)
        f"cap(c) AS (SELECT CASE WHEN {ceiling} > %s THEN {ceiling} ELSE %s END FROM d), "
        f"q(term) AS (VALUES {rows}) "
        f"SELECT q.term, (SELECT COUNT(*) FROM (SELECT 1 FROM {table} t "
        f"WHERE t.term = q.term LIMIT (SELECT c + 1 FROM cap)) x), (SELECT n FROM d) FROM q"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [MIN_CAP, MIN_CAP, *terms])
        rows_read = cursor.fetchall()
    documents = int(rows_read[0][2]) if rows_read else 0
    return documents, {term: int(n) for term, n, _ in rows_read}


def weighted_terms(text: str) -> list[WeightedTerm]:
    """The contact's terms worth scoring, with their weights (one query)."""
    counts = query_terms(text, limit=CANDIDATE_TERMS)
    if not counts:
        return []
    documents, frequencies = _documents_and_frequencies(list(counts))
    if documents == 0:
        return []
    cap = document_frequency_cap(documents)
    kept = []
    for term, count in counts.items():
        df = frequencies.get(term, 0)
        if df == 0 or df > cap:
            continue
        saturated = count * (K3 + 1) / (count + K3)
        kept.append(WeightedTerm(term, idf(df, documents) * saturated))
    kept.sort(key=lambda t: (-t.weight, t.term))
    return kept[:QUERY_TERMS]


def rank_issues(
    *,
    text: str,
    reason_ids: Collection[int],
    candidates: QuerySet[Issue],
    limit: int,
) -> list[Ranked]:
    """The best ``limit`` of the open ``candidates`` for a contact saying ``text`` about one of
    ``reason_ids``: by text score (raised for issues that explain one of the reasons), then
    by evidence, then newest. An issue with neither a word nor a reason in common is not
    ranked at all.

    The best PREFETCH open issues are scored first without the candidates (a flagger's scope
    is a filter of several subqueries: cheap on a few dozen rows, not on thousands), then
    checked against them: when at least ``limit`` of them are candidates, they are exactly the
    best ``limit`` candidates (any better candidate would be among them). Otherwise the
    candidates are joined into the scoring itself."""
    terms = weighted_terms(text)
    reasons = sorted(set(reason_ids))
    if not terms and not reasons:
        return []
    prefetch = max(PREFETCH, limit)
    best = _scored(terms, reasons, Issue.objects.filter(open_issue_q()), prefetch)
    allowed = set(candidates.filter(id__in=[r.issue_id for r in best]).values_list("id", flat=True))
    kept = [r for r in best if r.issue_id in allowed][:limit]
    if len(kept) == limit or len(best) < prefetch:
        return kept
    # Open issues only, whatever the caller passed: a closed issue takes no flags.
    return _scored(terms, reasons, candidates.filter(open_issue_q()), limit)


def _scored(
    terms: list[WeightedTerm], reasons: list[int], candidates: QuerySet[Issue], limit: int
) -> list[Ranked]:
    candidate_sql, candidate_params = candidates.order_by().values("id").query.sql_with_params()
    issue_table = Issue._meta.db_table
    term_table = IssueSearchTerm._meta.db_table
    through = Issue.reasons.through._meta.db_table
    params: list[Any] = []
    ctes = []
    if terms:
        values = ", ".join(["(%s, CAST(%s AS DOUBLE PRECISION))"] * len(terms))
        ctes.append(
            f"q(term, w) AS (VALUES {values}), "  # noqa: S608 (placeholders)
            f"scored AS (SELECT t.issue_id AS issue_id, SUM(t.weight * q.w) AS s "
            f"FROM {term_table} t JOIN q ON q.term = t.term GROUP BY t.issue_id)"
        )
        for term in terms:
            params += [term.term, term.weight]
    else:
        ctes.append("scored AS (SELECT 0 AS issue_id, 0.0 AS s WHERE 1 = 0)")
    if reasons:
        marks = ", ".join(["%s"] * len(reasons))
        ctes.append(
            f"same AS (SELECT DISTINCT issue_id FROM {through} "  # noqa: S608 (placeholders)
            f"WHERE contactreason_id IN ({marks}))"
        )
        params += reasons
    else:
        ctes.append("same AS (SELECT 0 AS issue_id WHERE 1 = 0)")
    sql = (
        f"WITH {', '.join(ctes)} "  # noqa: S608 (table names, placeholders, the ORM's SQL)
        "SELECT i.id, COALESCE(scored.s, 0.0) AS text_score, "
        "CASE WHEN same.issue_id IS NULL THEN 0 ELSE 1 END AS shared "
        f"FROM {issue_table} i "
        "LEFT JOIN scored ON scored.issue_id = i.id "
        "LEFT JOIN same ON same.issue_id = i.id "
        "WHERE (scored.issue_id IS NOT NULL OR same.issue_id IS NOT NULL) "
        f"AND i.id IN ({candidate_sql}) "
        "ORDER BY COALESCE(scored.s, 0.0) * "
        "(1 + CAST(%s AS DOUBLE PRECISION) * CASE WHEN same.issue_id IS NULL THEN 0 ELSE 1 END) "
        "+ CAST(%s AS DOUBLE PRECISION) * CASE WHEN same.issue_id IS NULL THEN 0 ELSE 1 END DESC, "
        "i.evidence_count DESC, i.id DESC "
        "LIMIT %s"
    )
    params += [*candidate_params, REASON_BOOST, REASON_BONUS, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return [
        Ranked(
            issue_id=issue_id,
            score=float(text_score) * (1 + REASON_BOOST * shared) + REASON_BONUS * shared,
            text_score=float(text_score),
            shares_reason=bool(shared),
        )
        for issue_id, text_score, shared in rows
    ]
