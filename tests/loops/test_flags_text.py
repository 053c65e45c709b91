"""The pure text rules of the flag suggestions: terms and BM25 weights."""

import math

import pytest

from loops.flags.text import (
    FIELD_WEIGHTS,
    K1,
    MAX_TERM,
    document_terms,
    idf,
    query_terms,
    stem,
    term_weight,
    terms,
)


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["charged", "charges", "charging", "charge"], "charg"),
        (["refund", "refunds", "refunded"], "refund"),
        (["bill", "billing", "billed"], "bill"),
        (["cancel", "cancelled"], "cancel"),
        (["ticket", "tickets"], "ticket"),
        (["address", "addresses"], "address"),
    ],
)
def test_forms_of_a_word_meet_as_one_term(words, expected):
    assert {stem(word) for word in words} == {expected}


def test_short_words_codes_and_words_ending_in_ss_are_kept():
    assert [stem(w) for w in ("app", "pin", "4023", "status", "business", "x1")] == [
        "app", "pin", "4023", "status", "business", "x1"
    ]  # fmt: skip


def test_terms_drop_stop_words_short_numbers_and_punctuation():
    text = "Hi, I can't log in since Monday; error 4023 and 12 retries!"
    assert terms(text) == ["log", "sinc", "monday", "error", "4023", "retry"]


def test_terms_are_cut_to_the_column_width():
    assert terms("a" * 100) == ["a" * MAX_TERM]


def test_document_terms_weigh_the_fields():
    doc = document_terms({"title": ["Refund"], "description": ["refund"], "evidence": ["refund"]})
    assert doc.frequencies == {"refund": sum(FIELD_WEIGHTS.values())}
    assert doc.length == sum(FIELD_WEIGHTS.values())


def test_term_weight_saturates_and_prefers_short_documents():
    assert term_weight(0, 10, 10) == 0
    assert term_weight(1, 10, 10) == pytest.approx(1.0)  # at the average length: (K1+1)/(1+K1)
    assert term_weight(1000, 10, 10) < K1 + 1
    assert term_weight(2, 5, 10) > term_weight(2, 10, 10) > term_weight(2, 40, 10)


def test_idf_falls_with_the_document_frequency_and_stays_positive():
    assert idf(1, 100) > idf(10, 100) > idf(100, 100) > 0
    assert idf(1, 100) == pytest.approx(math.log(1 + 99.5 / 1.5))


def test_query_terms_keep_the_most_frequent_then_longest():
    # "router" → "rout" three times; then the longest of the others ("modem" over "drop").
    assert query_terms("router router router wifi dropped modem", limit=2) == {
        "rout": 3,
        "modem": 1,
    }
