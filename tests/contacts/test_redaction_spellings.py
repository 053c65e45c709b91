"""Card numbers as a person reads them: every spelling, the original characters redacted,
numbers split over consecutive messages, and the ordinary numbers that must survive.

Plain pytest and hypothesis, no database."""

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from contacts.redaction import (
    CARD_PLACEHOLDER,
    Redactor,
    compile_extra_pattern,
    contains_card_number,
    is_stand_in,
    redact,
    redact_split_cards,
    redact_text,
    stand_in,
)
from tests.contacts.card_spellings import SPELLINGS, digits_of, holds_the_card, number_of

CARD = CARD_PLACEHOLDER


@pytest.mark.parametrize("name", SPELLINGS)
@pytest.mark.parametrize(
    "template",
    [
        "{}",
        "Hi, my card is {}, thanks.",
        "card:{}.",
        "Bonjour ! Ma carte : {} — merci 🙏",
        "{}\nok",
    ],
)
def test_every_spelling_becomes_one_placeholder(name, template):
    spelled = SPELLINGS[name]
    text = template.format(spelled)
    result = redact(text)
    # The original characters the number maps to are replaced, and nothing else.
    assert result.text == template.format(CARD)
    assert result.counts == {"card": 1}
    assert not holds_the_card(result.text, number_of(name))
    assert contains_card_number(text)
    assert redact_text(result.text) == result.text  # idempotent


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("4111-1111-1111-1111-12/25", f"{CARD}-12/25"),
        ("3782/822463/10005.1", f"{CARD}.1"),
        ("4111 1111 1111 1111\n12/25 cvv 123", f"{CARD}\n12/25 cvv [security code redacted]"),
        ("4111111111 111111", CARD),
        # two cards touching in one run are one placeholder; between commas, one each
        ("4111111111111111 5555555555554444", CARD),
        ("4111 1111 1111 1111, 5555 5555 5555 4444", f"{CARD}, {CARD}"),
    ],
)
def test_cards_with_more_after_them(text, expected):
    assert redact_text(text) == expected


def test_the_placeholder_takes_the_invisible_characters_inside_the_number_only():
    text = "x\u200b4\u200b1\u200b1\u200b1 1111 1111 1111\u200by"
    assert redact_text(text) == f"x\u200b{CARD}\u200by"


@pytest.mark.parametrize(
    "text",
    [
        # IBANs (valid MOD 97), spaced and compact, and what follows them
        "IBAN DE89 3704 0044 0532 0130 00, BIC COBADEFFXXX",
        "IBAN: DE89370400440532013000 BIC: COBADEFFXXX",
        "FR14 2004 1010 0505 0001 3M02 606",
        "GB29 NWBK 6016 1331 9268 19",
        # USPS tracking numbers (valid check digit), grouped or not
        "USPS 9400 1000 0000 0000 0000 06",
        "9400100000000000000006",
        "9205  5000  0000  0000  0000  01",
        # dates, times, phone numbers, side by side and on two lines
        "2026-11-23 14:05, 2026-11-24 09:30, 2026-11-25",
        "call 555-123-4567 / 555-987-6543 or +1 415 555 2671",
        "tel: (221) 709-6812 / 07700 833392",
        "+33 6 12 34 56 78\n+33 1 23 45 67 89",
        "01 23 45 67 89 / 06 12 34 56 78",
        "11/23/2026\n12/01/2026\n12/15/2026",
        # order numbers, amounts, invoice tables
        "orders 112-1234567-1234567, 113-7654321-7654321",
        "| 1 | SKU-4431 | 3 | 49.99 | 149.97 |\n| 2 | SKU-9920 | 1 | 1,249.00 | 1,249.00 |",
        "3  1250  2500  7500",
        "INV-44847\t2022-03-10T14:50:00Z\t23\t539.86\t12416.78",
        "04.06.2023   INV-403483   19985.00 USD   open",
        "$1,234,567.89 and €12 345,67",
        # a DHL number: digits glued to letters
        "JJD456460048941319814",
        # "4111111" on one line and "111111111" on the next: two numbers, not a card in groups
        "ref 4111111\nref 111111111",
        # pairs or single digits between tabs (table cells), years in a row
        "4\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t6",
        "2019 2020 2021 2022 2023 2024",
    ],
)
def test_ordinary_numbers_survive(text):
    assert redact(text).text == text
    assert not contains_card_number(text)


# --- properties: spellings generated ---------------------------------------------------------

PROPERTIES = settings(
    max_examples=200,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
DIGIT_FORMS = [
    "0123456789",
    "０１２３４５６７８９",
    "⁰¹²³⁴⁵⁶⁷⁸⁹",
    "⓪①②③④⑤⑥⑦⑧⑨",
    "٠١٢٣٤٥٦٧٨٩",
    "०१२३४५६७८९",
    "𝟎𝟏𝟐𝟑𝟒𝟓𝟔𝟕𝟖𝟗",
]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad"]
SEPARATORS = [
    " ", "-", ".", "  ", " - ", "\u00a0", "\u2002", "\u2003", "\u2009", "\u200a", "\u202f",
    "\u2013", "\u2014", "/", ",", "_", "+", ":", "\u00b7", ", ", " / ", "    ", "\t", "\n",
    "\r\n", " \n", "\n\n", "|", ";",
]  # fmt: skip
PREFIXES = ["4", "51", "55", "2221", "2720", "34", "37", "36", "6011", "65", "62", "35"]


def luhn_complete(body: list[int]) -> list[int]:
    for check in range(10):
        digits = [*body, check]
        total = 0
        for position, digit in enumerate(reversed(digits)):
            if position % 2:
                digit = digit * 2 - 9 if digit > 4 else digit * 2
            total += digit
        if total % 10 == 0:
            return digits
    raise AssertionError


@st.composite
def cards(draw) -> tuple[str, str]:
    """(the number, a spelling of it): a brand's number in its grouping, each digit in any
    digit form, invisible characters anywhere between digits, one separator between groups."""
    prefix = draw(st.sampled_from(PREFIXES))
    length = 15 if prefix in ("34", "37") else draw(st.sampled_from([16, 16, 16, 19, 13]))
    if prefix == "36":
        length = 14
    rest = draw(st.lists(st.integers(0, 9), min_size=length - 1 - len(prefix)))
    rest = rest[: length - 1 - len(prefix)]
    while len(rest) < length - 1 - len(prefix):
        rest.append(0)
    digits = luhn_complete([int(c) for c in prefix] + rest)
    number = "".join(map(str, digits))
    if length == 15:
        sizes = [4, 6, 5]
    elif length == 14:
        sizes = draw(st.sampled_from([[4, 6, 4], [4, 4, 4, 2]]))
    else:
        sizes = [4] * (length // 4) + ([length % 4] if length % 4 else [])
    if draw(st.booleans()):
        sizes = [length]  # unbroken
    separator = draw(st.sampled_from(SEPARATORS))
    out = []
    position = 0
    for g, size in enumerate(sizes):
        if g:
            out.append(separator)
        for k in range(size):
            if k and draw(st.integers(0, 5)) == 0:
                out.append(draw(st.sampled_from(INVISIBLE)))
            form = (
                draw(st.sampled_from(DIGIT_FORMS)) if draw(st.integers(0, 3)) == 0 else "0123456789"
            )
            out.append(form[digits[position]])
            position += 1
    return number, "".join(out)


WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé ,.!?", min_size=1, max_size=30).map(
    lambda s: " " + s.strip(" ,.!?0123456789") + "x "
)


@PROPERTIES
@given(st.lists(st.tuples(WORDS, cards()), min_size=1, max_size=3), WORDS)
def test_generated_spellings_never_survive(parts, tail):
    text = "".join(words + spelled for words, (_, spelled) in parts) + tail
    result = redact(text)
    left = digits_of(result.text)
    for _, (number, _) in parts:
        assert number not in left
    assert result.counts["card"] == len(parts)
    assert redact(result.text).text == result.text


@PROPERTIES
@given(st.lists(st.tuples(WORDS, cards()), min_size=1, max_size=2))
def test_the_text_around_a_card_is_kept(parts):
    text = "".join(words + spelled for words, (_, spelled) in parts) + "."
    assert redact_text(text) == "".join(words + CARD for words, _ in parts) + "."


# --- numbers split over consecutive messages -----------------------------------------------


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        (["my card is 4111 1111", "1111 1111 thanks"], ["my card is {c}", "{c} thanks"]),
        (["my card is 4111", "1111 1111 1111"], ["my card is {c}", "{c}"]),
        (["4111 1111 1111", "1111"], ["{c}", "{c}"]),
        (["card 4111-1111-", "1111-1111"], ["card {c}-", "{c}"]),
        (["4111/1111", "1111/1111 ok"], ["{c}", "{c} ok"]),
        (["Amex 3782", "822463 10005"], ["Amex {c}", "{c}"]),
        (["first 4111 1111", "1111", "1111 last"], ["first {c}", "{c}", "{c} last"]),
        (["４１１１ １１１１", "１１１１ １１１１"], ["{c}", "{c}"]),
        # a message in between without digits ends it
        (["4111 1111", "hello", "1111 1111"], ["4111 1111", "hello", "1111 1111"]),
        # not any two digit runs: the split must fall between a card's groups
        (["4111111", "111111111"], ["4111111", "111111111"]),
        (["order 41111111", "11111111 shipped"], ["order 41111111", "11111111 shipped"]),
        (["call 555 123", "4567 8901 2345"], ["call 555 123", "4567 8901 2345"]),
        (["2026-11-23", "4111 1111 1111"], ["2026-11-23", "4111 1111 1111"]),
        # digits away from the ends of the messages are not joined
        (["4111 1111 thanks", "1111 1111"], ["4111 1111 thanks", "1111 1111"]),
        (["4111 1111", "see 1111 1111"], ["4111 1111", "see 1111 1111"]),
    ],
)
def test_cards_split_over_messages(messages, expected):
    assert redact_split_cards(messages) == [e.format(c=CARD) for e in expected]


def test_split_cards_in_long_messages():
    first = "x" * 10_000 + " 4111 1111"
    second = "1111 1111 " + "y" * 10_000
    assert redact_split_cards([first, second]) == [
        "x" * 10_000 + f" {CARD}",
        f"{CARD} " + "y" * 10_000,
    ]


@PROPERTIES
@given(cards(), st.integers(1, 3), WORDS, WORDS)
def test_generated_splits_at_a_group_boundary_are_caught(card, cut, before, after):
    number, _ = card
    groups = [number[i : i + 4] for i in range(0, len(number), 4)]
    if len(number) == 15:
        groups = [number[:4], number[4:10], number[10:]]
    cut = min(cut, len(groups) - 1)
    first = before + " ".join(groups[:cut])
    second = " ".join(groups[cut:]) + after
    # (a part that is a card of its own by chance is redacted in its own message)
    assume(not contains_card_number(first) and not contains_card_number(second))
    out = Redactor().messages([first, second])
    assert number not in digits_of("".join(out))
    assert out == [before + CARD, CARD + after]


# --- the entry point ---------------------------------------------------------------------------


def test_the_redactor_applies_the_extra_patterns_everywhere():
    redactor = Redactor(
        extra_patterns=(("member ID", compile_extra_pattern(r"MBR-\d{6}")),), key=b"k"
    )
    assert redactor.text("id MBR-123456, card 4111 1111 1111 1111") == (
        f"id [member ID redacted], card {CARD}"
    )
    assert redactor.messages(["MBR-123456 and 4111 1111", "1111 1111"]) == [
        f"[member ID redacted] and {CARD}",
        CARD,
    ]
    assert redactor.identifier("MBR-123456") == stand_in("MBR-123456", key=b"k")


def test_identifiers_are_kept_or_replaced_by_a_keyed_stand_in():
    redactor = Redactor(key=b"key one")
    assert redactor.identifier("call-20261123-0001") == "call-20261123-0001"
    assert redactor.identifier("") == ""
    card_id = "rec-4111111111111111"
    kept = redactor.identifier(card_id)
    assert kept == stand_in(card_id, key=b"key one") and is_stand_in(kept)
    assert redactor.identifier(card_id) == kept  # deterministic
    assert Redactor(key=b"key two").identifier(card_id) != kept  # keyed
    assert redactor.identifier(kept) == kept  # a stand-in given back finds its row
    # ids the redaction rules would all turn into one placeholder stay apart
    ids = ["rec-20261123140000000", "rec-20261123140006000", "rec-4111111111111111"]
    assert len({redactor.identifier(i) for i in ids}) == 3
    with pytest.raises(ValueError, match="key"):
        Redactor().identifier(card_id)


@PROPERTIES
@given(st.lists(st.text(alphabet="0123456789", min_size=20, max_size=20), unique=True))
def test_numeric_ids_never_collide(ids):
    redactor = Redactor(key=b"k")
    stored = [redactor.identifier(i) for i in ids]
    assert len(set(stored)) == len(ids)
    for value, original in zip(stored, ids, strict=True):
        # kept only when nothing in it looks like a card, in any window
        assert value == original or is_stand_in(value)
        if value == original:
            assert not contains_card_number(value)
