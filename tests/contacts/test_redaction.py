"""contacts.redaction: cards, security codes, SSNs and admin patterns removed before storage.

Plain pytest, no database. The property tests judge the module with an independent brute-force
checker (below), never with the module's own detector. The spellings of card numbers a person
reads as one (Unicode digits, invisible characters, any separator, two lines, two messages)
are in test_redaction_spellings.py."""

import re
import time
import unicodedata

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from contacts.redaction import (
    Redaction,
    compile_extra_pattern,
    contains_card_number,
    has_luhn_run,
    redact,
    redact_text,
)

CARD = "[card number redacted]"
CODE = "[security code redacted]"
SSN = "[SSN redacted]"

# --- the independent checker ---------------------------------------------------------------
# Written from the spec, character by character: a digit run is digits joined by nothing or by
# up to three separators ("any spacing or dash pattern"); every window of 13-19 digits is
# checked with the textbook Luhn algorithm. That is the wide net identifiers are held to
# (has_luhn_run); the card rule itself takes the windows written like a card (whole groups of
# card shape, from a PCI brand's first digits), so the checker's windows are a superset of
# what it redacts, and texts the checker finds nothing in must come back unchanged.

SEPARATORS = set(
    " \u00a0\u2007\u2009\u202f\u3000-\u2010\u2011\u2012\u2013\u2014\u2212\uff0d.\uff0e"
)
RUN_SEPARATORS = SEPARATORS | {"\t"}
MAX_SEPARATORS = 3


def digit_runs(text: str) -> list[list[int]]:
    runs: list[list[int]] = []
    current: list[int] = []
    i = 0
    while i < len(text):
        value = unicodedata.decimal(text[i], None)
        if value is not None:
            current.append(value)
        elif current and text[i] in RUN_SEPARATORS:
            # Up to MAX_SEPARATORS separators between two digits: the run goes on.
            gap = i
            while gap < len(text) and text[gap] in RUN_SEPARATORS:
                gap += 1
            if (
                gap - i <= MAX_SEPARATORS
                and gap < len(text)
                and unicodedata.decimal(text[gap], None) is not None
            ):
                i = gap
                continue
            runs.append(current)
            current = []
        elif current:
            runs.append(current)
            current = []
        i += 1
    if current:
        runs.append(current)
    return runs


def luhn_valid(digits: list[int]) -> bool:
    total = 0
    for position, digit in enumerate(reversed(digits)):
        if position % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def valid_windows(digits: list[int]) -> list[tuple[int, int]]:
    return [
        (start, start + length)
        for length in range(13, 20)
        for start in range(len(digits) - length + 1)
        if luhn_valid(digits[start : start + length])
    ]


def card_windows_in(text: str) -> list[tuple[int, int]]:
    return [window for run in digit_runs(text) for window in valid_windows(run)]


def with_check_digit(body: list[int]) -> list[int]:
    return [*body, next(d for d in range(10) if luhn_valid([*body, d]))]


def test_the_checker_itself():
    assert luhn_valid([int(c) for c in "4111111111111111"])
    assert not luhn_valid([int(c) for c in "4111111111111112"])
    assert luhn_valid([int(c) for c in "79927398713"])  # the textbook example
    assert digit_runs("a 12 3-4.5  6x7") == [[1, 2, 3, 4, 5, 6], [7]]
    assert digit_runs("1 - 2\t3    4") == [[1, 2, 3], [4]]  # four separators end a run
    assert card_windows_in("4111 1111 1111 1111") == [(0, 16)]
    assert card_windows_in("4111  1111 - 1111\t1111") == [(0, 16)]
    assert card_windows_in("4111    1111 1111 1111") == []


# --- rule 1: card numbers ------------------------------------------------------------------

TEST_CARDS = {
    "visa": "4111111111111111",
    "visa 2": "4012888888881881",
    "visa 13": "4222222222222",
    "mastercard": "5555555555554444",
    "mastercard 2": "5105105105105100",
    "mastercard 2-series": "2223003122003222",
    "amex": "378282246310005",
    "amex 2": "371449635398431",
    "discover": "6011111111111117",
    "discover 2": "6011000990139424",
    "diners 14": "30569309025904",
    "jcb": "3530111333300000",
}


def spacings(number: str) -> dict[str, str]:
    fours = [number[i : i + 4] for i in range(0, len(number), 4)]
    twos = [number[i : i + 2] for i in range(0, len(number), 2)]
    return {
        "plain": number,
        "spaces": " ".join(fours),
        "dashes": "-".join(fours),
        "dots": ".".join(fours),
        "pairs": " ".join(twos),
        "single digits": " ".join(number),
        "mixed": "".join(group + "- ."[i % 3] for i, group in enumerate(fours))[:-1],
        "no-break spaces": "\u00a0".join(fours),
        "en dashes": "\u2013".join(fours),
    }


@pytest.mark.parametrize("brand", TEST_CARDS)
@pytest.mark.parametrize(
    "style",
    [
        "plain",
        "spaces",
        "dashes",
        "dots",
        "pairs",
        "single digits",
        "mixed",
        "no-break spaces",
        "en dashes",
    ],
)
def test_test_card_numbers_in_every_spacing(brand, style):
    card = spacings(TEST_CARDS[brand])[style]
    text = f"Hi, my card is {card}, thanks."
    result = redact(text)
    assert result.text == f"Hi, my card is {CARD}, thanks."
    assert result.counts == {"card": 1}
    assert result.changed
    assert contains_card_number(text)
    assert not contains_card_number(result.text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3782 822463 10005", CARD),  # Amex's own 4-6-5 grouping
        ("card:4111111111111111.", f"card:{CARD}."),
        ("ABC4111111111111111XYZ", f"ABC{CARD}XYZ"),
        # a card typed next to its expiry and CVV, in one unbroken run: the run goes with it
        ("41111111111111111225123", CARD),
        ("card:41111111111111111225123", f"card:{CARD}"),
        # written in groups, the card is its groups; what follows is not card-shaped
        ("4111 1111 1111 1111 1225 123", f"{CARD} 1225 123"),
        ("4111111111111111 12/25 123", f"{CARD} 12/25 123"),
        ("4111-1111-1111-1111-12/25", f"{CARD}-12/25"),
        # the card sits in the middle of a run of its own shape: both ends survive
        ("6951 4111 1111 1111 1111 5252", f"6951 {CARD} 5252"),
        # whole numbers next to the card are not part of it
        ("ref 99 4111111111111111 55", f"ref 99 {CARD} 55"),
        ("73 4111111111111111 9", f"73 {CARD} 9"),
        # two cards in two runs, and two cards in one run (touching windows: one placeholder)
        ("4111111111111111 and 5555555555554444", f"{CARD} and {CARD}"),
        ("4111111111111111 5555555555554444", CARD),
        # here the only valid windows are the two cards, touching: still one placeholder
        ("4430609760100479 5575736902185530", CARD),
        # a card glued to the letters of an id is not one ("JJD" + 18 digits: a DHL number),
        # unless it is a whole 13-16 digit group
        ("JJD456460048941319814", "JJD456460048941319814"),
        # the card leaves "123" behind, which the second pass finds next to "cvv"
        ("5105105105105100 123 cvv", f"{CARD} {CODE} cvv"),
    ],
)
def test_card_examples(text, expected):
    assert redact_text(text) == expected
    assert card_windows_in(text)
    assert not contains_card_number(expected)


@pytest.mark.parametrize(
    "text",
    [
        "+1 (555) 123-4567",
        "555-123-4567",
        "+1 415 555 2671",
        "+44 20 7946 0958",
        "0044 20 7946 0958",  # 14 digits, no valid window (computed)
        "order 12345678",
        "order 12345678901",
        "ORD-2024-000123",
        "2024-01-15 10.30",
        "15.01.2024",
        "tracking 1Z999AA10123456784",
        "799273987138",  # Luhn-valid, but only 12 digits
        "4111111111111",  # 13 digits, not Luhn-valid
        "4111 1111 1111 1113",  # one digit off (...1112 would hold a valid 13-digit window)
        # 20+ digit runs, Luhn-valid as a whole, with no valid 13-19 window (computed)
        "78222422837823322617",
        "286010818899981089478",
        "3208 1950 0380 8387 2832 2707",
    ],
)
def test_numbers_without_a_valid_window_survive(text):
    assert card_windows_in(text) == []  # the examples are what they claim to be
    assert redact(text) == Redaction(text, {})
    assert not contains_card_number(text)


def test_luhn_valid_runs_outside_13_to_19_digits():
    assert luhn_valid([int(c) for c in "799273987138"])  # 12
    assert luhn_valid([int(c) for c in "78222422837823322617"])  # 20
    assert luhn_valid([int(c) for c in "286010818899981089478"])  # 21
    # this 20-digit run holds valid windows (so an id holding it gets a stand-in), but none
    # from its start that a card brand issues (no PCI brand's numbers start with 1)
    assert card_windows_in("12345678901234567890")
    assert has_luhn_run("12345678901234567890")
    assert not contains_card_number("12345678901234567890")
    assert redact_text("12345678901234567890") == "12345678901234567890"
    # and in groups, a window that starts inside a group is not a card written in groups
    assert card_windows_in("1234 5678 9012 3456") == [(2, 16)]
    assert redact_text("1234 5678 9012 3456") == "1234 5678 9012 3456"


def test_unicode_around_and_inside_numbers():
    text = "Ça coûte trop cher — carte 4111 1111 1111 1111 € merci 🙏 ✓"
    assert redact_text(text) == f"Ça coûte trop cher — carte {CARD} € merci 🙏 ✓"
    fullwidth = "カード４１１１１１１１１１１１１１１１です"
    assert redact_text(fullwidth) == f"カード{CARD}です"
    arabic_indic = "بطاقتي " + "٤١١١ ١١١١ ١١١١ ١١١١"
    assert redact_text(arabic_indic) == f"بطاقتي {CARD}"
    assert contains_card_number(arabic_indic)
    # non-ASCII text with numbers that are not cards keeps them
    assert redact_text("Réf. 2024-000123 à 10h30 📦") == "Réf. 2024-000123 à 10h30 📦"


def test_long_inputs_stay_linear():
    started = time.perf_counter()
    redact("1 " * 100_000)
    redact("9" * 200_000)
    redact(("order 12345678, call 555-123-4567. " * 5000) + "4111111111111111")
    assert time.perf_counter() - started < 10


# --- rule 2: security codes ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("CVV: 123", f"CVV: {CODE}"),
        ("cvv 123", f"cvv {CODE}"),
        ("my cvv2 is 456", f"my cvv2 is {CODE}"),
        ("CVC 1234", f"CVC {CODE}"),
        ("cvc123", f"cvc{CODE}"),
        ("Amex CID: 4321", f"Amex CID: {CODE}"),
        ("security code is 4567", f"security code is {CODE}"),
        ("Security Code = 987", f"Security Code = {CODE}"),
        ("card verification value 987", f"card verification value {CODE}"),
        ("the 3 digit code 321", f"the 3 digit code {CODE}"),
        ("the 3-digit code: 321", f"the 3-digit code: {CODE}"),
        ("the code on the back is 456", f"the code on the back is {CODE}"),
        ("123 is the cvv", f"{CODE} is the cvv"),
        ("exp 12/25 cvv 123", f"exp 12/25 cvv {CODE}"),
        ("card 4111111111111111 cvv 123", f"card {CARD} cvv {CODE}"),
    ],
)
def test_security_codes(text, expected):
    result = redact(text)
    assert result.text == expected
    assert result.counts["security_code"] == 1


@pytest.mark.parametrize(
    "text",
    [
        "I have 123 apples",
        "acid 123",  # "cid" inside a word
        "room 1234",
        "cvv 12",  # too short
        "cvv 12345",  # too long
        "cvv is on the back. Order 1234 arrived broken, and the rest of the text goes on",
    ],
)
def test_numbers_that_are_not_security_codes(text):
    assert redact_text(text) == text


# --- rule 3: SSNs --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("123-45-6789", SSN),
        ("my ssn is 123-45-6789.", f"my ssn is {SSN}."),
        ("123 45 6789", SSN),
        ("born 1980 123-45-6789", f"born 1980 {SSN}"),
        ("665-01-0001", SSN),
        ("899-99-9999", SSN),
        # 9 bare digits (or dots) only next to an SSN word
        ("SSN 123456789", f"SSN {SSN}"),
        ("social security number: 123.45.6789", f"social security number: {SSN}"),
        ("123456789 is my SSN", f"{SSN} is my SSN"),
    ],
)
def test_ssns(text, expected):
    result = redact(text)
    assert result.text == expected
    assert result.counts == {"ssn": 1}


@pytest.mark.parametrize(
    "text",
    [
        "000-12-3456",  # area 000
        "666-12-3456",  # area 666
        "900-12-3456",  # areas 900-999
        "999-12-3456",
        "123-00-4567",  # group 00
        "123-45-0000",  # serial 0000
        "SSN 000-12-3456",  # never issued, even next to the word
        "123456789",  # bare digits without an SSN word
        "order 123.45.6789",
        "555-123-45-6789",  # part of a longer dash chain
        "+44 207 12 3456",  # spaced, but not a run of its own
    ],
)
def test_not_ssns(text):
    assert redact_text(text) == text


# --- rule 4: extra patterns ----------------------------------------------------------------


def test_extra_patterns():
    member = compile_extra_pattern(r"\bMBR-\d{6,10}\b")
    policy = compile_extra_pattern(r"(?i)\bpolicy\s+[A-Z]{2}\d{7}\b")
    text = "MBR-123456 and policy AB1234567, also MBR-7654321; card 4111111111111111"
    result = redact(text, [("member ID", member), ("policy", policy)])
    assert result.text == (
        f"[member ID redacted] and [policy redacted], also [member ID redacted]; card {CARD}"
    )
    assert result.counts == {"card": 1, "member ID": 2, "policy": 1}
    assert redact_text(text, [("member ID", member)]).startswith("[member ID redacted] and")


def test_extra_patterns_never_touch_placeholders():
    word = compile_extra_pattern(r"redacted|card|\w+")
    text = f"already {CARD} here"
    result = redact(text, [("word", word)])
    assert CARD in result.text
    assert result.text == f"[word redacted] {CARD} [word redacted]"


def test_extra_pattern_names_are_made_safe_for_placeholders():
    digits = compile_extra_pattern(r"ZZ\d+")
    result = redact("ZZ42", [("[weird]\nname\\", digits)])
    assert result.text == "[weird name redacted]"
    assert redact_text("ZZ42", [("", digits)]) == "[custom redacted]"


@pytest.mark.parametrize(
    ("regex", "message"),
    [
        ("(", "not a valid regular expression"),
        ("[a-", "not a valid regular expression"),
        ("", "empty"),
        ("a*", "empty string"),
        ("x?", "empty string"),
        (r"\b", "empty string"),
        ("(?=abc)", "empty string"),
        ("(a+)+b", "exponential"),
        ("(a|aa)+$", "exponential"),
        (r"(\d+)*x", "exponential"),
        (r"(.*a){20}", "exponential"),
        (r"(\w)\1", "backreference"),
        ("a" * 501, "limit is 500"),
    ],
)
def test_compile_extra_pattern_rejects(regex, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        compile_extra_pattern(regex)


@pytest.mark.parametrize(
    "regex",
    [r"\bACCT-\d{8}\b", r"[A-Z]{2}\d{6}", r"\d+(?:\.\d+)*+", r"(?>\w+\s?)+x", r"(?:a{1,5}){1,5}"],
)
def test_compile_extra_pattern_accepts(regex):
    assert compile_extra_pattern(regex).pattern == regex


def test_catastrophic_shapes_made_safe_really_are_fast():
    pattern = compile_extra_pattern(r"(?:a+)++b")
    started = time.perf_counter()
    assert redact_text("a" * 5000 + "!", [("x", pattern)]) == "a" * 5000 + "!"
    assert time.perf_counter() - started < 2


def test_only_vetted_patterns_are_accepted():
    with pytest.raises(ValueError, match="compile_extra_pattern"):
        redact("text", [("raw", re.compile(r"(?:unvetted){2}x"))])


# --- the API -------------------------------------------------------------------------------


def test_none_and_empty():
    assert redact(None) == Redaction("", {})
    assert redact("") == Redaction("", {})
    assert redact_text(None) == ""
    assert not redact(None).changed
    assert not contains_card_number(None)
    assert not contains_card_number("")


def test_counts_cover_every_kind():
    text = (
        "cards 4111111111111111 and 5555-5555-5555-4444, cvv 123, ssn 123-45-6789, order 12345678"
    )
    result = redact(text)
    assert result.counts == {"card": 2, "security_code": 1, "ssn": 1}
    assert result.text == f"cards {CARD} and {CARD}, cvv {CODE}, ssn {SSN}, order 12345678"
    assert not redact("nothing to see, order 12345678").changed


@pytest.mark.parametrize(
    "text",
    [
        "SSN 123-45-6789cvv 123",
        "cvv 123 456 security code 789",
        "4111111111111111-123-45-6789",
        "[SSN redacted] 123456789 and [security code redacted] 123",
        "security code [card number redacted] 1234",
        "41111111111111111225123 cvv 999",
        "5105105105105100 123 cvv",
    ],
)
def test_idempotent_examples(text):
    once = redact_text(text)
    assert redact_text(once) == once
    assert card_windows_in(once) == []


# --- properties ----------------------------------------------------------------------------

PROPERTY_SETTINGS = settings(
    max_examples=150,
    deadline=None,
    database=None,  # no .hypothesis directory in the repository
    suppress_health_check=[HealthCheck.too_slow],
)

DIGIT_FORMS = st.sampled_from(["0123456789", "０１２３４５６７８９", "٠١٢٣٤٥٦٧٨٩"])
SEPARATOR_CHOICES = [
    "", "", "", " ", "-", ".", "\u00a0", "\u2013", "  ", " - ", "\t", " .-",
]  # fmt: skip


# Strong separators: a card's groups may mix them ("4111-1111 1111.1111"). A tab is not one
# (it separates the columns of a table): pairs or single digits between tabs are not a card.
STRONG_CHOICES = [" ", "-", ".", "\u00a0", "\u2013", "  ", " - ", " .-"]


@st.composite
def card_numbers(draw) -> str:
    """A random Luhn-valid 13-19 digit number from a card brand's first digits, in a layout
    people write cards in: unbroken, in equal groups (with one separator kind, or any strong
    separators), or Amex's 4-6-5."""
    length = draw(st.integers(13, 19))
    prefix = draw(st.sampled_from(["4", "51", "55", "34", "37", "6011", "65", "35", "62", "2221"]))
    body = [int(c) for c in prefix] + draw(
        st.lists(
            st.integers(0, 9), min_size=length - 1 - len(prefix), max_size=length - 1 - len(prefix)
        )
    )
    digits = with_check_digit(body)
    forms = draw(DIGIT_FORMS) if draw(st.integers(0, 9)) == 0 else "0123456789"
    chars = [forms[d] for d in digits]
    layout = draw(st.sampled_from(["plain", "groups", "strong", "amex"]))
    if layout == "plain":
        return "".join(chars)
    if layout == "amex" and length == 15:
        separator = draw(st.sampled_from(SEPARATOR_CHOICES[3:]))
        return separator.join("".join(chars[a:b]) for a, b in ((0, 4), (4, 10), (10, 15)))
    size = draw(st.integers(3, 6)) if layout != "strong" else draw(st.integers(1, 6))
    groups = ["".join(chars[i : i + size]) for i in range(0, len(chars), size)]
    if layout == "groups":
        separator = draw(st.sampled_from([*SEPARATOR_CHOICES[3:], "/", ", ", "\n", "    ", ":"]))
        return separator.join(groups)
    out = groups[0]
    for group in groups[1:]:
        out += draw(st.sampled_from(STRONG_CHOICES)) + group
    return out


LETTER_NOISE = st.text(alphabet="abefghjklmqrwxyz ", min_size=1, max_size=20).map(
    lambda s: " " + s.strip(" ") + "q "
)


NOISE = st.one_of(
    st.text(max_size=20),
    st.text(alphabet="0123456789 -./", max_size=12),
    st.sampled_from(["cvv ", " exp 12/25 ", "ssn ", "123-45-6789", CARD, " ", "-", ""]),
)


def ascii_digits(text: str) -> str:
    return "".join(
        str(unicodedata.digit(ch)) for ch in text if unicodedata.digit(ch, None) is not None
    )


@PROPERTY_SETTINGS
@given(st.lists(st.tuples(LETTER_NOISE, card_numbers()), min_size=1, max_size=4), LETTER_NOISE)
def test_no_card_survives(parts, tail):
    """Cards written in any grouping a person uses, with letters around them: none of their
    digits survives in a row, and nothing the wide net would call a card is left."""
    text = "".join(noise + card for noise, card in parts) + tail
    result = redact(text)
    left = ascii_digits(result.text)
    for _, card in parts:
        assert ascii_digits(card) not in left
    assert result.counts.get("card", 0) >= 1
    assert not contains_card_number(result.text)


@PROPERTY_SETTINGS
@given(st.text(alphabet=st.characters(exclude_categories=("Nd", "Cs")), max_size=200))
def test_text_without_digits_is_unchanged(text):
    assert redact(text) == Redaction(text, {})


SAFE_LETTERS = "abefghjklmqrwxyzABEFGHJKLMQRWXYZ ,;:!?/()éü🙂"  # no keyword can be spelled


@st.composite
def runs_without_valid_windows(draw) -> str:
    """A digit run of any length (separators included) built so that no 13-19 window is
    Luhn-valid: each next digit avoids the (at most 7) values that would complete one."""
    length = draw(st.integers(1, 40))
    digits: list[int] = []
    for _ in range(length):
        allowed = [
            d
            for d in range(10)
            if not any(
                luhn_valid([*digits[len(digits) + 1 - size :], d])
                for size in range(13, 20)
                if len(digits) + 1 >= size
            )
        ]
        digits.append(draw(st.sampled_from(allowed)))
    forms = draw(DIGIT_FORMS) if draw(st.integers(0, 9)) == 0 else "0123456789"
    out = forms[digits[0]]
    for d in digits[1:]:
        out += draw(st.sampled_from(SEPARATOR_CHOICES)) + forms[d]
    return out


# letters between runs end with a letter so that two runs never join into one (";" or "/"
# alone would join them, as it joins the groups of a card)
LETTERS = st.text(alphabet=SAFE_LETTERS, max_size=8).map(lambda s: s + ";q")
# Any dash counts as any other (redaction reads "–" and "-" alike), so no backreference.
SSN_SEPARATOR = r"[\s\-\u2010-\u2014\u2212\uff0d.\uff0e]?"
SSN_LIKE = re.compile(rf"(?<!\d)\d{{3}}{SSN_SEPARATOR}\d{{2}}{SSN_SEPARATOR}\d{{4}}(?!\d)")


@PROPERTY_SETTINGS
@given(st.lists(st.tuples(LETTERS, runs_without_valid_windows()), max_size=5))
def test_runs_without_a_valid_window_are_unchanged(parts):
    text = "".join(letters + run for letters, run in parts)
    assert card_windows_in(text) == []
    assume(SSN_LIKE.search(text) is None)  # rule 3 would rightly take those
    assert redact(text) == Redaction(text, {})
    assert not contains_card_number(text)


@PROPERTY_SETTINGS
@given(
    st.lists(st.one_of(NOISE, card_numbers(), st.sampled_from(["[x redacted]", "ZZ9"])), max_size=8)
)
def test_idempotent(parts):
    text = "".join(parts)
    extra = [("zz", compile_extra_pattern(r"ZZ\d|\w+ redacted"))]
    for extras in ((), extra):
        once = redact(text, extras)
        assert redact(once.text, extras).text == once.text
        assert not contains_card_number(once.text)


ASCII_NOISE = st.one_of(
    st.text(alphabet="abcxyz 0123456789-./,:", max_size=20),
    st.sampled_from(["cvv ", " exp 12/25 ", "ssn ", " ", "-", ""]),
)


@PROPERTY_SETTINGS
@given(st.lists(st.one_of(ASCII_NOISE, card_numbers()), max_size=6))
def test_the_wide_net_holds_the_checker_and_the_card_rule(parts):
    text = "".join(parts)
    # the wide net joins more separators than the checker's runs: a superset
    if card_windows_in(text) or contains_card_number(text):
        assert has_luhn_run(text)
    if not has_luhn_run(text):
        assert redact(text).counts.get("card", 0) == 0
