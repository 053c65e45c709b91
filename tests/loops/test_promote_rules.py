"""The issue title suggested from what someone wrote (loops/promote/rules.py)."""

import pytest

from loops.promote.rules import TITLE_LENGTH, title_from_text


def test_the_limit_is_eighty_characters():
    assert TITLE_LENGTH == 80


@pytest.mark.parametrize(
    ("text", "title"),
    [
        ("", ""),
        ("  \n \n", ""),
        ("Refund took six weeks", "Refund took six weeks"),
        ("\n\n  Refund   took\tsix weeks  \nSecond line", "Refund took six weeks"),
        ("Refund late. The customer called twice.", "Refund late."),
        ("Why so slow? Nobody knows", "Why so slow?"),
        ("v2.0 broke the app", "v2.0 broke the app"),  # a dot inside a word ends nothing
    ],
)
def test_the_first_sentence_of_the_first_line(text, title):
    assert title_from_text(text) == title


def test_exactly_at_the_limit_nothing_is_cut():
    text = "a" * 10 + (" " + "b" * 9) * 7  # 80 characters
    assert len(text) == 80
    assert title_from_text(text) == text


def test_one_past_the_limit_cuts_at_a_word_with_an_ellipsis():
    text = "a" * 10 + (" " + "b" * 9) * 7 + "c"  # 81: the last word no longer fits
    assert title_from_text(text) == "a" * 10 + (" " + "b" * 9) * 6 + "…"


def test_a_cut_that_falls_on_a_space_keeps_the_whole_word_before_it():
    text = "a" * 79 + " more"
    assert title_from_text(text) == "a" * 79 + "…"
    assert len(title_from_text(text)) == 80


def test_one_long_word_is_cut_inside_it():
    assert title_from_text("x" * 200) == "x" * 79 + "…"


def test_trailing_punctuation_before_the_cut_is_dropped():
    text = "a" * 70 + ", bbbbbbbbbbbbbbbbbbbb"
    assert title_from_text(text) == "a" * 70 + "…"


def test_a_smaller_limit():
    assert title_from_text("one two three", limit=8) == "one two…"
    assert title_from_text("one two", limit=7) == "one two"
