"""PII redaction for customer text, applied before anything is stored.

Every piece of customer text goes through :func:`redact` (or :func:`redact_text`) before it
reaches the database, a log line, an error report, a task argument or a response. The module is
pure Python (no Django imports) so it can be used and tested anywhere, and it is built for speed:
it runs on every ingested message (``bench/redaction_bench.py`` measures it).

Rules, applied in this order (a later rule never looks inside an earlier rule's placeholder):

1. Payment card numbers -> ``[card number redacted]``.
   A *digit run* is a maximal sequence of digits in which neighbouring digits are separated by
   nothing or by at most THREE separator characters (space, tab, no-break/thin/ideographic
   space, ``-`` and the Unicode hyphens/dashes, ``.``), so "4111 1111", "4111  1111",
   "4111 - 1111" and "4111.-1111" all continue a run. Every window of 13-19 consecutive digits of a run (separators
   are transparent) that passes the Luhn check is redacted, wherever it sits in the run: a card
   typed next to its expiry or CVV ("41111111111111111225123") or in the middle of a longer
   number. Overlapping or touching windows are merged, so there is one placeholder per maximal
   redacted span, and the separators inside that span go with it. Runs with no Luhn-valid window
   (order numbers, phone numbers, dates) are left alone.
   Note the consequence of "any window": a random run of 20+ digits almost always contains a
   Luhn-valid window (35 windows, each valid with probability 1/10), so long digit runs are
   usually redacted. That is the intended trade-off: a leaked card costs far more than a
   redacted order number.
2. Security codes -> ``[security code redacted]``: a whole digit run of 3-4 digits within a
   short distance of a card-code word (CVV, CVV2, CVC, CID, CSC, PIN, "security code",
   "card verification", "3 digit code", "code on the back", ...), before or after it.
3. US Social Security numbers -> ``[SSN redacted]``: ``ddd-dd-dddd`` (not part of a longer
   dash/dot chain) and ``ddd dd dddd`` (a whole digit run on its own); near an SSN word ("SSN",
   "social security") also 9 bare digits or dots. Numbers SSA never issues are left alone: area
   000, 666 or 900-999, group 00, serial 0000.
4. Extra patterns an admin configured -> ``[<name> redacted]``. They must be compiled with
   :func:`compile_extra_pattern` (see there for the catastrophic-backtracking risk). They never
   match inside an existing placeholder.

Digits are Unicode decimal digits (what ``\\d`` matches: ASCII, Arabic-Indic, fullwidth, ...).

The result is idempotent: ``redact(redact(x).text).text == redact(x).text``. Placeholders contain
no digits of their own (unless an admin puts digits in a pattern name) and are opaque to the
context rules, and :func:`redact` re-applies the rules until nothing changes (a text without PII
takes one pass, a redacted one a second pass that normally only confirms), so a redaction that
exposes a new match (digits left over next to a card placeholder, say) is caught in the same
call.

Speed: the digit rules are anchored on digits, not on words. One scan finds every digit run of
3+ digits (in an ASCII view of the text, so the regex engine only tests ASCII classes), and only
the few runs of the right size look at their surroundings, with a cheap substring prefilter
before any keyword regex runs.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from re import _constants as sre_constants  # the parsed-regex vocabulary (Python 3.11+)
from re import _parser as sre_parser

__all__ = [
    "CARD_PLACEHOLDER",
    "SECURITY_CODE_PLACEHOLDER",
    "SSN_PLACEHOLDER",
    "Redaction",
    "compile_extra_pattern",
    "contains_card_number",
    "redact",
    "redact_text",
]

CARD_PLACEHOLDER = "[card number redacted]"
SECURITY_CODE_PLACEHOLDER = "[security code redacted]"
SSN_PLACEHOLDER = "[SSN redacted]"

# One of these between two digits keeps them in the same digit run. The spec says single
# spaces, dashes and dots; the Unicode spaces and dashes are what copy-paste and phone keyboards
# turn those into. Each maps to its ASCII stand-in in the scanning view.
_SEPARATOR_ASCII = {
    **dict.fromkeys(" \u00a0\u2007\u2009\u202f\u3000", " "),  # spaces: no-break, figure, thin...
    **dict.fromkeys("-\u2010\u2011\u2012\u2013\u2014\u2212\uff0d", "-"),  # hyphens, dashes, minus
    **dict.fromkeys(".\uff0e", "."),  # full stop, fullwidth full stop
}
SEPARATORS = "".join(_SEPARATOR_ASCII)
_UNICODE_SEPARATORS = "".join(ch for ch in SEPARATORS if not ch.isascii())

_CARD_MIN, _CARD_MAX = 13, 19

# Every digit run with at least 3 digits, in the ASCII view. Each repetition consumes exactly
# one digit (after at most three separators), so the scan is linear and each match is a whole
# (maximal) run.
MAX_SEPARATORS = 3
_RUN = re.compile(rf"[0-9](?:[ \t.\-]{{0,{MAX_SEPARATORS}}}[0-9]){{2,}}")
# Nine digits shaped like an SSN, inside a run; which shapes count is decided in _ssn_edits.
_SSN_SHAPE = re.compile(r"(?<![0-9])([0-9]{3})([ .\-]?)([0-9]{2})\2([0-9]{4})(?![0-9])")
_UNICODE_DIGIT = re.compile(r"[^\x00-\x7f\D]")
_UNICODE_SEPARATOR = re.compile(f"[{_UNICODE_SEPARATORS}]")
_UNICODE_SPECIAL = re.compile(rf"[^\x00-\x7f\D]|[{_UNICODE_SEPARATORS}]")
# A placeholder this module (or an admin pattern) wrote: never re-matched by extra patterns.
_PLACEHOLDER = re.compile(r"(\[[^\[\]\n]{1,80} redacted\])")

# Luhn: hand-rolled rather than stdnum.luhn. stdnum checks one string at a time (O(window)
# per call, with str->int conversions), but rule 1 needs EVERY 13-19 window of a run: with
# prefix sums of the (precomputed) doubled digits each window is a single comparison, so a run
# of n digits costs O(n) instead of O(n * 7 * 16) - and no new dependency.
_PLAIN = [0] * 256  # indexed by ASCII byte: b"7"[0] -> 7
_DOUBLED = [0] * 256  # b"7"[0] -> 7 * 2 = 14 -> 1 + 4 = 5 (Luhn's doubling)
for _d in range(10):
    _PLAIN[48 + _d] = _d
    _DOUBLED[48 + _d] = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)[_d]
del _d

# Keywords. "Not preceded/followed by a letter" rather than \b, so "cvv123" and "9cvv" count
# but "acid" or "pinned" do not.
_NOT_AFTER_LETTER = r"(?<![^\W\d_])"
_NOT_BEFORE_LETTER = r"(?![^\W\d_])"
_SECURITY_WORDS = r"""
    cvv2? | cvc2? | cvn2? | cav2 | cvd | cid | csc
  | pin (?:\s*(?:code|number|no\.?|\#))?
  | (?:card\s*)? security\s*code
  | sec\.?\s*code
  | (?:card\s*)? verification\s*value
  | card\s*verification (?:\s*(?:code|number|no\.?|\#))?
  | (?:3|4|three|four) [\s-]* digits? \s* (?:security\s*|verification\s*|card\s*|cvv\s*)?
        (?:code|number|no\.?|\#)
  | (?: (?:code|number)[ ]? | digits\s* ) on \s* (?:the\s*)? back
"""


def _security_hint(folded: str) -> bool:
    """Every keyword above, casefolded, contains one of these: the keyword regexes only run
    around candidates with a hint nearby. (Plain `in` tests: far faster than a regex.)"""
    return (
        "cv" in folded
        or "sec" in folded
        or "pin" in folded
        or "digit" in folded
        or "verif" in folded
        or "cid" in folded
        or "csc" in folded
        or "cav" in folded
        or "code on" in folded
        or "codeon" in folded
        or "number on" in folded
        or "numberon" in folded
    )


_SSN_WORDS = r"""
    ssns? | ss\s*\# | social\s*security (?:\s*(?:number|num|no\.?|\#))? | soc\.?\s*sec\.?
"""


def _ssn_hint(folded: str) -> bool:
    return "ss" in folded or "soc" in folded  # every SSN keyword has one


# The gap between a keyword and its number: short, on one line, never across a placeholder.
_GAP = r"[^\[\]\n]"
_CONTEXT = 64  # characters looked at on each side of a candidate (keyword + gap always fit)


def _keyword_before(words: str, gap: int) -> re.Pattern:
    return re.compile(
        rf"{_NOT_AFTER_LETTER}(?:{words}){_NOT_BEFORE_LETTER}{_GAP}{{0,{gap}}}\Z",
        re.IGNORECASE | re.VERBOSE,
    )


def _keyword_after(words: str, gap: int) -> re.Pattern:
    return re.compile(
        rf"{_GAP}{{0,{gap}}}?{_NOT_AFTER_LETTER}(?:{words}){_NOT_BEFORE_LETTER}",
        re.IGNORECASE | re.VERBOSE,
    )


_SECURITY_BEFORE = _keyword_before(_SECURITY_WORDS, 20)  # "CVV: 123", "security code is 4567"
_SECURITY_AFTER = _keyword_after(_SECURITY_WORDS, 12)  # "123 is the cvv", "123 (CVV)"
_SSN_BEFORE = _keyword_before(_SSN_WORDS, 20)  # "SSN 123456789"
_SSN_AFTER = _keyword_after(_SSN_WORDS, 12)  # "123456789 is my SSN"


@dataclass(frozen=True)
class Redaction:
    """The redacted text and how many placeholders of each kind went in.

    ``counts`` maps a kind ("card", "security_code", "ssn", or an extra pattern's name as it
    appears in its placeholder) to the number of placeholders inserted; kinds with none are
    absent. For cards it counts maximal redacted spans (one placeholder each), not cards."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return bool(self.counts)


def redact(text: str | None, extra_patterns: Sequence[tuple[str, re.Pattern]] = ()) -> Redaction:
    """Redact card numbers, security codes, SSNs and the admin's extra patterns from ``text``.

    ``None`` is treated as ``""``. Each of ``extra_patterns`` is ``(name, pattern)`` with the
    pattern from :func:`compile_extra_pattern`; a pattern that did not come from there raises
    ValueError (before the text is looked at)."""
    if text is None:
        return Redaction("", {})
    if not isinstance(text, str):
        raise TypeError(f"redact() takes text (str), not {type(text).__name__}")
    extras = _checked_extras(extra_patterns) if extra_patterns else ()
    counts: dict[str, int] = {}
    if not text:
        return Redaction(text, counts)
    # Repeat until nothing changes (see the module docstring). The bound is only a guard: each
    # changing pass turns unprotected text into placeholders.
    for _ in range(8):
        redacted = _one_pass(text, extras, counts)
        if redacted is text:
            break
        text = redacted
    return Redaction(text, counts)


def redact_text(text: str | None, extra_patterns: Sequence[tuple[str, re.Pattern]] = ()) -> str:
    """:func:`redact` returning only the text (``""`` for ``None``)."""
    # Most text has nothing to redact: ASCII without three digits in a row (every digit rule
    # needs a run of 3+), and no extra patterns. One C-level scan says so.
    if not extra_patterns and type(text) is str and text.isascii() and _RUN.search(text) is None:
        return text
    return redact(text, extra_patterns).text


def contains_card_number(text: str | None) -> bool:
    """True if a digit run of ``text`` has a Luhn-valid window of 13-19 digits (rule 1), i.e.
    :func:`redact` would redact a card number. For assertions and guards."""
    if not text:
        return False
    for m in _RUN.finditer(_ascii_view(text)):
        run = m.group()
        if _digit_count(run) >= _CARD_MIN and _card_spans(_digit_bytes(run)):
            return True
    return False


# --- extra patterns -----------------------------------------------------------------------

MAX_EXTRA_PATTERN_LENGTH = 500
_VETTED: set[re.Pattern] = set()  # patterns compile_extra_pattern accepted (Pattern is hashable)


def compile_extra_pattern(regex: str) -> re.Pattern:
    """Compile an admin's extra redaction pattern, or raise ValueError saying what is wrong.

    Risk: Python's ``re`` is a backtracking engine with no timeout, and redaction runs inline on
    every ingested message, so a pattern with catastrophic backtracking (``(a+)+b`` on a long
    run of "a"s takes exponential time) would hang ingestion; the match cannot be interrupted
    from Python. This helper rejects the classic exponential shapes: an unbounded repeat whose
    body holds another variable repeat or an alternation (``(a+)+``, ``(\\w|\\d)*``, ``(a|ab)*``)
    unless the outer repeat is possessive (``*+``, ``++``) or the body is an atomic group
    (``(?>...)``); backreferences and conditionals; patterns over 500 characters. It also
    rejects patterns that can match the empty string (they would splatter placeholders
    everywhere). What remains possible is polynomial slowness (``\\d*\\d*\\d*x``): admins should
    prefer bounded repeats (``\\d{6,10}``), and ingestion should run under a task time limit so
    a bad pattern cannot stall it forever.

    Only patterns returned by this function are accepted by :func:`redact`."""
    if not isinstance(regex, str):
        raise TypeError(f"a redaction pattern is text (str), not {type(regex).__name__}")
    if not regex.strip():
        raise ValueError("The redaction pattern is empty.")
    if len(regex) > MAX_EXTRA_PATTERN_LENGTH:
        raise ValueError(
            f"The redaction pattern is {len(regex)} characters long; "
            f"the limit is {MAX_EXTRA_PATTERN_LENGTH}."
        )
    try:
        pattern = re.compile(regex)
        parsed = sre_parser.parse(regex)
    except re.error as exc:
        where = f" at position {exc.pos}" if exc.pos is not None else ""
        raise ValueError(
            f"The redaction pattern is not a valid regular expression: {exc.msg}{where}."
        ) from None
    except (RecursionError, OverflowError) as exc:
        raise ValueError(f"The redaction pattern is too complex to compile ({exc}).") from None
    if parsed.getwidth()[0] == 0:
        raise ValueError(
            "The redaction pattern can match the empty string (for example 'a*', 'x?' or a "
            "lookaround alone); it must always match at least one character."
        )
    problem = _backtracking_problem(parsed.data, inside_repeat=False)
    if problem:
        raise ValueError(f"The redaction pattern could take exponential time: {problem}.")
    _VETTED.add(pattern)
    return pattern


_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT}
_POSSESSIVE = sre_constants.POSSESSIVE_REPEAT
_MAXREPEAT = sre_constants.MAXREPEAT
_BACKREFS = {
    sre_constants.GROUPREF,
    sre_constants.GROUPREF_EXISTS,
    sre_constants.GROUPREF_IGNORE,
    sre_constants.GROUPREF_LOC_IGNORE,
    sre_constants.GROUPREF_UNI_IGNORE,
}
_NESTED_HINT = (
    "make the outer repeat possessive (*+, ++, {m,n}+) or wrap its body in an atomic group (?>...)"
)


def _backtracking_problem(items, *, inside_repeat: bool) -> str | None:
    """Why a parsed pattern (sre_parse items) risks exponential backtracking, or None.

    inside_repeat: we are in the body of an unbounded (or long) backtracking repeat, where any
    ambiguity (a variable repeat, an alternation) multiplies with every iteration."""
    for op, av in items:
        if op in _BACKREFS:
            return "it uses a backreference or conditional group (\\1, (?P=name), (?(1)...))"
        if op in _REPEATS:
            low, high, body = av
            if inside_repeat and high != low:
                return (
                    f"a repeated part is nested inside another repeat, as in (a+)+; {_NESTED_HINT}"
                )
            problem = _backtracking_problem(
                body, inside_repeat=inside_repeat or high == _MAXREPEAT or high > 16
            )
        elif op == sre_constants.BRANCH:
            if inside_repeat:
                return f"an alternation (a|b) is repeated, as in (a|ab)*; {_NESTED_HINT}"
            problem = next(
                filter(None, (_backtracking_problem(b, inside_repeat=False) for b in av[1])), None
            )
        elif op == sre_constants.SUBPATTERN:
            problem = _backtracking_problem(av[-1], inside_repeat=inside_repeat)
        elif op in (sre_constants.ASSERT, sre_constants.ASSERT_NOT):
            problem = _backtracking_problem(av[1], inside_repeat=inside_repeat)
        elif op == _POSSESSIVE:
            # A possessive repeat (or atomic group) never gives back what it matched, so its
            # iterations cannot be re-split; only its body's own ambiguity is left to check.
            problem = _backtracking_problem(av[2], inside_repeat=False)
        elif op == sre_constants.ATOMIC_GROUP:
            problem = _backtracking_problem(av, inside_repeat=False)
        else:
            problem = None
        if problem:
            return problem
    return None


def _checked_extras(extra_patterns) -> list[tuple[str, str, re.Pattern]]:
    """[(kind, placeholder, pattern)], refusing patterns compile_extra_pattern did not vet."""
    extras = []
    for name, pattern in extra_patterns or ():
        if pattern not in _VETTED:
            raise ValueError(
                f"Extra redaction pattern {name!r} was not compiled with "
                "contacts.redaction.compile_extra_pattern()."
            )
        kind = _placeholder_name(name)
        extras.append((kind, f"[{kind} redacted]", pattern))
    return extras


@functools.lru_cache(maxsize=256)
def _placeholder_name(name) -> str:
    """The name as it goes into "[name redacted]": no brackets, backslashes, control
    characters or line breaks (they would break placeholder recognition), at most 60
    characters."""
    cleaned = "".join(
        ch if unicodedata.category(ch)[0] not in "CZ" else " "
        for ch in str(name or "")
        if ch not in "[]\\"
    )
    return " ".join(cleaned.split())[:60].strip() or "custom"


# --- the rules ------------------------------------------------------------------------------


def _one_pass(text: str, extras, counts: dict[str, int]) -> str:
    """One application of all the rules; returns ``text`` itself when nothing matched."""
    scan = _ascii_view(text)
    runs = _RUN.findall(scan)  # strings only: locating them (find) is cheaper than Match objects
    if runs and (edits := _digit_edits(text, scan, runs, counts)):
        text = _apply(text, edits)
    for kind, placeholder, pattern in extras:
        text = _redact_extra(text, kind, placeholder, pattern, counts)
    return text


def _digit_edits(text: str, scan: str, runs: list[str], counts: dict[str, int]) -> list:
    """(start, end, placeholder) for the card, security-code and SSN rules, in text order."""
    edits: list[tuple[int, int, str]] = []
    # Does the text have a hint of a security-code word at all? Worth asking once for a short
    # text (most have none); a long one is better served by the per-candidate check alone.
    security_hint = None if len(text) <= 4096 else True
    end = 0
    for run in runs:
        # Runs come in order and no other run of 3+ digits lies between two of them, so the
        # next occurrence of the string is the run itself.
        start = scan.find(run, end)
        end = start + len(run)
        digits = len(run) if len(run) <= 4 or run.isdigit() else _digit_count(run)
        if digits >= 9:  # cards, SSNs
            if digits >= _CARD_MIN and (spans := _card_edits(run, start, edits)):
                counts["card"] = counts.get("card", 0) + spans
            else:
                _ssn_edits(text, run, start, edits, counts)
        elif digits <= 4:  # 3-4 digits: maybe a security code
            if security_hint is None:
                security_hint = _security_hint(text.casefold())
            if security_hint and _near(
                text, start, end, _security_hint, _SECURITY_BEFORE, _SECURITY_AFTER
            ):
                edits.append((start, end, SECURITY_CODE_PLACEHOLDER))
                counts["security_code"] = counts.get("security_code", 0) + 1
    return edits


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    pieces = []
    last = 0
    for start, end, placeholder in edits:
        pieces.append(text[last:start])
        pieces.append(placeholder)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _ascii_view(text: str) -> str:
    """``text`` with non-ASCII digits and separators replaced by ASCII ones: same length, same
    offsets, so the scanning regexes only need ASCII classes."""
    if text.isascii() or (
        _UNICODE_DIGIT.search(text) is None and _UNICODE_SEPARATOR.search(text) is None
    ):
        return text
    return _UNICODE_SPECIAL.sub(_ascii_char, text)


def _ascii_char(m: re.Match) -> str:
    ch = m.group()
    return _SEPARATOR_ASCII.get(ch) or str(unicodedata.decimal(ch))


def _digit_count(run: str) -> int:
    if run.isdigit():
        return len(run)
    return len(run) - run.count(" ") - run.count("-") - run.count(".") - run.count("\t")


def _digit_bytes(run: str) -> bytes:
    if not run.isdigit():
        run = run.replace(" ", "").replace("-", "").replace(".", "").replace("\t", "")
    return run.encode("ascii")


def _card_spans(digits: bytes) -> list[tuple[int, int]]:
    """Merged [start, end) digit-index spans covered by Luhn-valid 13-19 digit windows."""
    n = len(digits)
    if n < _CARD_MIN:
        return []
    # Window [i, j) is Luhn-valid when its digits, doubled at every second position counting
    # back from the last one (j - 1), sum to 0 mod 10. Which absolute indices are doubled
    # depends only on the parity of j, so keep two prefix sums mod 10: odd_j doubles the odd
    # indices (right when j - 1 is even, i.e. j is odd), even_j the even ones.
    odd_j = [0] * (n + 1)
    even_j = [0] * (n + 1)
    a = b = 0
    plain, doubled = _PLAIN, _DOUBLED
    for k, byte in enumerate(digits, 1):  # k = index + 1: odd k is an even index
        if k & 1:
            a += plain[byte]
            b += doubled[byte]
        else:
            a += doubled[byte]
            b += plain[byte]
        odd_j[k] = a % 10
        even_j[k] = b % 10
    windows = []
    for j in range(_CARD_MIN, n + 1):
        prefix = odd_j if j & 1 else even_j
        try:  # the widest valid window ending at j covers the others ending there
            i = prefix.index(prefix[j], max(0, j - _CARD_MAX), j - _CARD_MIN + 1)
        except ValueError:
            continue
        windows.append((i, j))
    if len(windows) < 2:
        return windows
    windows.sort()
    spans = [windows[0]]
    for i, j in windows[1:]:
        start, end = spans[-1]
        if i <= end:  # overlapping or touching: one placeholder
            spans[-1] = (start, max(end, j))
        else:
            spans.append((i, j))
    return spans


def _card_edits(run: str, base: int, edits: list) -> int:
    """Add the card placeholders of one digit run; returns how many."""
    spans = _card_spans(_digit_bytes(run))
    if not spans:
        return 0
    if run.isdigit():
        where = range(len(run))
    else:  # the offsets of the digits in the run
        where = [k for k, ch in enumerate(run) if "0" <= ch <= "9"]
    for i, j in spans:
        edits.append((base + where[i], base + where[j - 1] + 1, CARD_PLACEHOLDER))
    return len(spans)


def _near(text: str, start: int, end: int, hint, before: re.Pattern, after: re.Pattern) -> bool:
    """Whether a keyword sits just before or after text[start:end]. The substring hint keeps
    the keyword regexes (slow for what they do) off almost every candidate."""
    lo = max(0, start - _CONTEXT)
    if hint(text[lo:start].casefold()) and before.search(text, lo, start) is not None:
        return True
    return hint(text[end : end + _CONTEXT].casefold()) and (
        after.match(text, end, end + _CONTEXT) is not None
    )


def _ssn_edits(text: str, run: str, base: int, edits: list, counts: dict[str, int]) -> None:
    for m in _SSN_SHAPE.finditer(run):
        area, sep, group, serial = m.groups()
        if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
            continue  # never issued
        start, end = m.span()
        if sep == "-":  # ddd-dd-dddd, unless part of a longer dash/dot chain
            shaped = not (start and run[start - 1] in "-.") and not (
                end < len(run) and run[end] in "-."
            )
        elif sep == " ":  # ddd dd dddd only as a whole run ("+44 207 12 3456" is not one)
            shaped = start == 0 and end == len(run)
        else:
            shaped = False
        if shaped or _near(text, base + start, base + end, _ssn_hint, _SSN_BEFORE, _SSN_AFTER):
            edits.append((base + start, base + end, SSN_PLACEHOLDER))
            counts["ssn"] = counts.get("ssn", 0) + 1


def _redact_extra(
    text: str, kind: str, placeholder: str, pattern: re.Pattern, counts: dict[str, int]
) -> str:
    # Match only between existing placeholders, so a pattern never eats into one (and the
    # result stays idempotent). split() with a capturing group keeps the placeholders at the
    # odd indexes.
    parts = _PLACEHOLDER.split(text) if "[" in text else [text]
    total = 0
    for index in range(0, len(parts), 2):
        if parts[index]:
            parts[index], n = pattern.subn(lambda _m: placeholder, parts[index])
            total += n
    if not total:
        return text
    counts[kind] = counts.get(kind, 0) + total
    return "".join(parts)
