"""PII redaction for customer text, applied before anything is stored.

Every piece of customer text goes through :func:`redact` (or :func:`redact_text`) before it
reaches the database, a log line, an error report, a task argument or a response. The module is
pure Python (no Django imports) so it can be used and tested anywhere, and it is built for speed:
it runs on every ingested message (``bench/redaction_bench.py`` measures it).

Rules, applied in this order (a later rule never looks inside an earlier rule's placeholder):

1. Payment card numbers -> ``[card number redacted]``, as a person reads them.
   The rules read a *view* of the text (see ``_view``): every Unicode digit is its ASCII digit
   (full-width, superscript, circled, Arabic-Indic, ...), invisible characters (zero-width
   spaces and joiners, word joiner, BOM, soft hyphen, combining marks) are transparent, and
   other characters fold to what they look like (NFKC). A *chain* is digit groups joined by
   runs of whitespace or punctuation (line breaks included) of at most 40 characters, 3 line
   breaks and 3 punctuation marks. A 13-19 digit window of a chain is a card when it is
   Luhn-valid, starts like a PCI brand's number (:func:`plausible_issuer`) and is written like
   a card (``_chain_windows``): a whole unbroken group of 13-16 digits; an unbroken group of
   17+ digits that starts with a card (the expiry or code typed on goes with it, unless the
   group follows a letter, as in an id); or whole groups in a card's shape (equal groups of
   3-6 digits with one kind of punctuation, pairs or single digits between spaces, dashes or
   dots, Amex's 4-6-5, a number wrapped over two lines, or any grouping of the whole number
   between spaces, dashes or dots). Windows inside a valid IBAN or USPS tracking number are
   not cards. Overlapping or touching windows are merged into one placeholder, which
   replaces the original characters from the first digit to the last.
   :func:`redact_split_cards` does the same over the ordered messages of one contact, for
   cards split at a group boundary. docs/redaction.md says what this catches and why.
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

Identifiers (external ids, customer references, Message-IDs) are never redacted in place:
:meth:`Redactor.identifier` stores one that holds a card-like run as a keyed stand-in.

The result is idempotent: ``redact(redact(x).text).text == redact(x).text``. Placeholders contain
no digits of their own (unless an admin puts digits in a pattern name) and are opaque to the
context rules, and :func:`redact` re-applies the rules until nothing changes (a text without PII
takes one pass, a redacted one a second pass that normally only confirms), so a redaction that
exposes a new match (digits left over next to a card placeholder, say) is caught in the same
call.

Speed: the digit rules are anchored on digits, not on words. One scan finds every digit run of
3+ digits, and only the few runs of the right size look at their surroundings, with a cheap
substring prefilter before any keyword regex runs; the card rule's chain scan only runs when
runs joined by separators hold 12+ digits. ASCII text is its own view.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

# The parsed-regex vocabulary (Python 3.11+); typeshed has no stubs for re's private modules.
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parser  # type: ignore[attr-defined]
from typing import Any

__all__ = [
    "CARD_PLACEHOLDER",
    "SECURITY_CODE_PLACEHOLDER",
    "SSN_PLACEHOLDER",
    "ExtraPattern",
    "Redaction",
    "Redactor",
    "compile_extra_pattern",
    "contains_card_number",
    "has_luhn_run",
    "is_stand_in",
    "redact",
    "redact_split_cards",
    "redact_text",
    "stand_in",
]

# An admin's extra pattern: (name, compiled regex).
ExtraPattern = tuple[str, re.Pattern[str]]

CARD_PLACEHOLDER = "[card number redacted]"
SECURITY_CODE_PLACEHOLDER = "[security code redacted]"
SSN_PLACEHOLDER = "[SSN redacted]"

# --- the view the rules read ------------------------------------------------------------------
# Rules read a *view* of the text: same length, same offsets, one character for each character of
# the text, so a match in the view is redacted in the text character for character. ASCII maps
# to itself. Any other character maps to what a person reading it sees:
#   * a digit (full-width, superscript, circled, Arabic-Indic, ...: anything with a digit value,
#     the digit its compatibility folding (NFKC) shows) -> that ASCII digit;
#   * an invisible character (format characters such as zero-width spaces and joiners, word
#     joiner, BOM, soft hyphen; combining marks; control characters) -> IGNORED, which is
#     transparent inside a digit group;
#   * a line or paragraph separator -> "\n"; any other space -> " ";
#   * a dash or minus -> "-"; a full stop -> "."; other punctuation -> its NFKC form when that is
#     ASCII punctuation, else ","; anything else (letters, symbols, emoji) -> "a".
IGNORED = "\x7f"
_LINE_BREAKS = "\n\x0b\x0c\r\x1c\x1d\x1e\x85\u2028\u2029"


def _view_char(ch: str) -> str:
    digit = unicodedata.digit(ch, None)
    if digit is not None:
        return "0123456789"[digit]
    category = unicodedata.category(ch)
    if ch in _LINE_BREAKS:
        return "\n"
    if category in ("Cf", "Mn", "Me", "Cc"):
        return IGNORED
    if category in ("Zs", "Zl", "Zp"):
        return " "
    if category == "Pd" or ch == "\u2212":
        return "-"
    folded = unicodedata.normalize("NFKC", ch)
    if len(folded) == 1 and folded.isascii():
        return folded if not folded.isdigit() else "a"
    if category[0] == "P" or ch == "\u00b7":
        return ","
    return "a"


class _ViewTable(dict[str, str]):
    """str -> view character, filled on first sight (a few hundred distinct characters in
    practice, so the cache stays small)."""

    def __missing__(self, ch: str) -> str:
        view = _view_char(ch)
        if len(self) < 20_000:  # a text of every code point must not grow it without bound
            self[ch] = view
        return view


_VIEW = _ViewTable()
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


def _view_sub(m: re.Match[str]) -> str:
    return _VIEW[m.group()]


def _view(text: str) -> str:
    """The view of ``text`` (see above): ``text`` itself when it is ASCII."""
    if text.isascii():
        return text
    return _NON_ASCII.sub(_view_sub, text)


# In the view. Separators between digit groups: whitespace and punctuation (what people put
# between groups of a card number), and invisible characters.
_SEP = r" \t\n\r\x0b\x0c!\"'()*+,\-./:;=?\[\\\]_`{|}~" + IGNORED
_SEPS = frozenset(" \t\n\r\x0b\x0c!\"'()*+,-./:;=?[\\]_`{|}~" + IGNORED)
# The strong separators of the spec's "any spacing or dash pattern": up to three spaces,
# dashes or dots between two digits keep them in one digit run. (A tab is a weak separator for
# cards: it separates the columns of a table. _RUN, which only finds candidates, takes it.)
MAX_SEPARATORS = 3
_STRONG = frozenset(" -." + IGNORED)
# Every digit run with at least 3 digits. Each repetition consumes exactly one digit (after at
# most three separators), so the scan is linear and each match is a whole (maximal) run.
_RUN = re.compile(rf"[0-9](?:[ \t.\-{IGNORED}]{{0,{MAX_SEPARATORS}}}[0-9]){{2,}}")
# A chain: digit groups joined by separator runs of at most MAX_GAP characters. Digits and
# separators are disjoint classes, so the scan is linear.
MAX_GAP = 40
_CHAIN = re.compile(rf"[0-9][0-9{IGNORED}]*(?:[{_SEP}]{{1,{MAX_GAP}}}[0-9][0-9{IGNORED}]*)*")
_GROUP = re.compile(rf"[0-9](?:{IGNORED}*[0-9])*")
_SEPARATORS_DELETED = dict.fromkeys(map(ord, _SEPS))
MAX_GAP_LINE_BREAKS = 3  # "4111 1111<br>1111 1111" in HTML mail has two
MAX_GAP_PUNCTUATION = 3
# Nine digits shaped like an SSN, inside a run; which shapes count is decided in _ssn_edits.
_SSN_SHAPE = re.compile(r"(?<![0-9])([0-9]{3})([ .\-]?)([0-9]{2})\2([0-9]{4})(?![0-9])")
# A placeholder this module (or an admin pattern) wrote: never re-matched by extra patterns.
_PLACEHOLDER = re.compile(r"(\[[^\[\]\n]{1,80} redacted\])")

_CARD_MIN, _CARD_MAX = 13, 19
# A group this long may be a card with its expiry or security code typed on (windows from its
# start); a shorter one is a card only as a whole.
_GLUED_MIN = 17
# Luhn with prefix sums: window [i, j) of a digit string is valid when its digits, doubled at
# every second position counting back from the last one, sum to 0 mod 10. Which absolute
# indices are doubled depends only on the parity of j, so two prefix sums mod 10 (one doubling
# the odd indices, one the even) make each window one comparison.
_PLAIN = [0] * 256  # indexed by ASCII byte: b"7"[0] -> 7
_DOUBLED = [0] * 256  # b"7"[0] -> 7 * 2 = 14 -> 1 + 4 = 5 (Luhn's doubling)
for _d in range(10):
    _PLAIN[48 + _d] = _d
    _DOUBLED[48 + _d] = (0, 2, 4, 6, 8, 1, 3, 5, 7, 9)[_d]
del _d


def _luhn_prefixes(digits: bytes) -> tuple[list[int], list[int]]:
    n = len(digits)
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
    return odd_j, even_j


def luhn_valid(digits: str) -> bool:
    """The textbook Luhn check of a string of ASCII digits."""
    odd_j, even_j = _luhn_prefixes(digits.encode("ascii"))
    prefix = odd_j if len(digits) & 1 else even_j
    return prefix[0] == prefix[len(digits)]


def plausible_issuer(digits: str) -> bool:
    """Whether a number starts like a payment card of a PCI brand: Visa (4), Mastercard (51-55,
    2221-2720), American Express (34, 37), Discover and Diners (30, 36, 38, 39, 60, 64, 65),
    JCB (35), UnionPay (62, 81), Maestro (50, 56-69), Mir (2200-2204), Troy (9792).
    Years (19xx, 20xx), USPS tracking numbers (9x), and numbers starting 0, 1 or 7 are not."""
    first = digits[0]
    if first in "34568":
        return True
    if first == "2":
        head = int(digits[:4])
        return 2200 <= head <= 2204 or 2221 <= head <= 2720
    return digits[:4] == "9792"


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


def _keyword_before(words: str, gap: int) -> re.Pattern[str]:
    return re.compile(
        rf"{_NOT_AFTER_LETTER}(?:{words}){_NOT_BEFORE_LETTER}{_GAP}{{0,{gap}}}\Z",
        re.IGNORECASE | re.VERBOSE,
    )


def _keyword_after(words: str, gap: int) -> re.Pattern[str]:
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


def redact(
    text: str | None, extra_patterns: Sequence[tuple[str, re.Pattern[str]]] = ()
) -> Redaction:
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


def redact_text(
    text: str | None, extra_patterns: Sequence[tuple[str, re.Pattern[str]]] = ()
) -> str:
    """:func:`redact` returning only the text (``""`` for ``None``)."""
    # Most text has nothing to redact: ASCII without three digits in a row (every digit rule
    # needs a run of 3+), and no extra patterns. One C-level scan says so; a text with such a
    # run may still be plainly clean (see _plainly_clean).
    if (
        not extra_patterns
        and type(text) is str
        and text.isascii()
        and (_RUN.search(text) is None or _plainly_clean(text))
    ):
        return text
    return redact(text, extra_patterns).text


# The fewest digits a rule takes without a keyword nearby: an SSN has 9 (a card 13).
_FEWEST_DIGITS = 9
_ASCII_DIGITS = b"0123456789"


def _plainly_clean(text: str) -> bool:
    """Whether the digit rules surely leave an ASCII ``text`` as it is, by a check far cheaper
    than running them: fewer than 9 digits in all (the SSN rule needs 9 and the card rule 13,
    so neither can match), and no hint of a card-code word (the security-code rule, the only
    one that takes fewer digits, needs such a word next to its 3-4 digits). Ids such as
    "order-20231" pass; admins' extra patterns are not covered (callers check them apart)."""
    return len(text) - len(
        text.encode("ascii").translate(None, _ASCII_DIGITS)
    ) < _FEWEST_DIGITS and not _security_hint(text.casefold())


def contains_card_number(text: str | None) -> bool:
    """True if :func:`redact` would redact a card number in ``text`` (rule 1). For assertions
    and guards."""
    if not text:
        return False
    scan = _view(text)
    return _RUN.search(scan) is not None and bool(_card_spans(scan))


def redact_split_cards(texts: Sequence[str]) -> list[str]:
    """The messages of one contact, in order, each already redacted, with the card numbers
    written over consecutive messages redacted too ("my card is 4111 1111" then "1111 1111").

    Only card-shaped groups split at a group boundary count (4-4-4-4, 4-6-5 and the like: the
    digits at the end of one message, the next at the start of the next, separators and line
    breaks around them), never any two digit runs: "order 4111" then "1111 1111 1111 thanks"
    is a card, "4111111" then "111111111" is not. Each message keeps its own part of the text;
    the part of the card in each becomes a placeholder. Returns a new list (the same strings
    when nothing was found)."""
    texts = list(texts)
    if len(texts) < 2:
        return texts
    views = [_view(text) for text in texts]
    # Only the ends of the messages matter: a chain that crosses a boundary ends and starts
    # within a card's length (19 digits, 18 gaps) of it.
    reach = _CARD_MAX * (MAX_GAP + 1)
    parts: list[str] = []
    starts: list[int] = []  # where each message's slice starts in the joined view
    offsets: list[int] = []  # and where that slice starts in the message
    position = 0
    for view in views:
        cut = max(0, len(view) - reach) if len(view) > 2 * reach else 0
        head = view if not cut else view[:reach] + "a" + view[cut:]
        parts.append(head)
        starts.append(position)
        offsets.append(0)
        position += len(head) + 1
    joined = "\n".join(parts)
    edits: list[list[tuple[int, int]]] = [[] for _ in texts]
    end = 0
    for chain_text in _CHAIN.findall(joined):
        start = joined.find(chain_text, end)
        end = start + len(chain_text)
        if "\n" not in chain_text or len(chain_text) < _CARD_MIN:
            continue
        first = _message_at(starts, start)
        last = _message_at(starts, end - 1)
        if first == last:
            continue
        chain = _Chain.parse(chain_text, start, "")
        boundaries = tuple(
            sum(1 for w in chain.where if w < starts[k]) for k in range(first + 1, last + 1)
        )
        windows = _chain_windows(chain, boundaries)
        for i, j in _merge(windows) if windows else ():
            for k in range(first, last + 1):
                inside = [w for w in chain.where[i:j] if _message_at(starts, w) == k]
                if inside:
                    edits[k].append(_message_span(parts[k], views[k], starts[k], inside))
    result = []
    for k, text in enumerate(texts):
        if edits[k]:
            text = _apply(text, [(a, b, CARD_PLACEHOLDER) for a, b in sorted(set(edits[k]))])
        result.append(text)
    return result


def _message_at(starts: list[int], offset: int) -> int:
    k = 0
    while k + 1 < len(starts) and starts[k + 1] <= offset:
        k += 1
    return k


def _message_span(part: str, view: str, start: int, inside: list[int]) -> tuple[int, int]:
    """The [start, end) offsets in the message of the digits at joined-view offsets
    ``inside`` (the slice may have cut the middle out of a long message)."""
    a, b = inside[0] - start, inside[-1] - start + 1
    if len(part) != len(view):  # cut: offsets after the cut mark shift by the removed length
        shift = len(view) - len(part)
        reach = _CARD_MAX * (MAX_GAP + 1)
        if a > reach:
            a += shift
        if b > reach:
            b += shift
    return a, b


# --- one entry point -------------------------------------------------------------------------


@dataclass(frozen=True)
class Redactor:
    """Everything that is redacted before storage, for one batch or request.

    Built once (``contacts.redaction_rules.redactor()`` reads the admin's enabled patterns and
    the key), then used for every value of the batch: ``.text()`` for free text (subjects,
    notes, names, tags, reason names, message authors), ``.messages()`` for the ordered
    messages of one contact, ``.identifier()`` for ids that find a row again (external ids,
    customer references, Message-IDs)."""

    extra_patterns: tuple[ExtraPattern, ...] = ()
    key: bytes = b""  # keys the identifier stand-ins; never empty where identifiers are stored

    def redact(self, value: str | None) -> Redaction:
        return redact(value, self.extra_patterns)

    def text(self, value: str | None) -> str:
        return redact_text(value, self.extra_patterns)

    def messages(self, texts: Sequence[str | None]) -> list[str]:
        """Each text redacted, then the card numbers split over consecutive ones."""
        return redact_split_cards([self.text(text) for text in texts])

    def identifier(self, value: str | None) -> str:
        """``value`` itself, or, if redaction would change it (a card number, an SSN, an
        admin pattern in it), a keyed stand-in: the same value always gives the same stand-in,
        two values never the same one (so a re-send finds its row, and two rows never merge),
        and the stand-in holds nothing of the value."""
        if not value:
            return ""
        # Most ids hold a few digits and nothing redaction takes: no rule to run.
        if not self.extra_patterns and value.isascii() and _plainly_clean(value):
            return value
        if is_stand_in(value) or (not has_luhn_run(value) and self.text(value) == value):
            return value
        return stand_in(value, key=self.key)


def has_luhn_run(value: str) -> bool:
    """Whether digits of ``value`` joined by separators (a chain, as the card rule reads it)
    have a Luhn-valid window of 13-19 digits anywhere: the wide net for identifiers, where a
    stand-in costs nothing. It takes every id inbound email stored as a hash before (digits
    joined by up to three spaces, tabs, dashes or dots), so those still match."""
    scan = _view(value)
    for run in _CHAIN.findall(scan):
        digits = "".join(ch for ch in run if "0" <= ch <= "9")
        n = len(digits)
        if n < _CARD_MIN:
            continue
        odd_j, even_j = _luhn_prefixes(digits.encode("ascii"))
        for j in range(_CARD_MIN, n + 1):
            prefix = odd_j if j & 1 else even_j
            if prefix[j] in prefix[max(0, j - _CARD_MAX) : j - _CARD_MIN + 1]:
                return True
    return False


STAND_IN_PREFIX = "hash-"
_STAND_IN = re.compile(r"hash-[0-9a-f]{64}")


def is_stand_in(value: str) -> bool:
    """Whether ``value`` has the form of a stand-in. Such a value is kept as it is (a stand-in
    given back, say as the In-Reply-To of a reply, must find its row again, and 64 hex digits
    now and then hold a run the card rule would take)."""
    return len(value) == 69 and _STAND_IN.fullmatch(value) is not None


def stand_in(value: str, *, key: bytes) -> str:
    """ "hash-" and the HMAC-SHA256 of ``value`` under ``key``, in hex (69 characters): the form
    inbound email already stores for Message-IDs that hold a card number."""
    if not key:
        raise ValueError("identifier stand-ins need a key")
    digest = hmac.new(key, value.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return STAND_IN_PREFIX + digest


# --- extra patterns -----------------------------------------------------------------------

MAX_EXTRA_PATTERN_LENGTH = 500
_VETTED: set[re.Pattern[str]] = (
    set()
)  # patterns compile_extra_pattern accepted (Pattern is hashable)


def compile_extra_pattern(regex: str) -> re.Pattern[str]:
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


def _backtracking_problem(items: Iterable[tuple[Any, Any]], *, inside_repeat: bool) -> str | None:
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


def _checked_extras(
    extra_patterns: Iterable[ExtraPattern],
) -> list[tuple[str, str, re.Pattern[str]]]:
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
def _placeholder_name(name: str) -> str:
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


def _one_pass(
    text: str, extras: Sequence[tuple[str, str, re.Pattern[str]]], counts: dict[str, int]
) -> str:
    """One application of all the rules; returns ``text`` itself when nothing matched."""
    scan = _view(text)
    runs = _RUN.findall(scan)  # strings only: locating them (find) is cheaper than Match objects
    if runs:
        located = _locate(scan, runs)
        cards = _card_spans(scan) if _may_hold_card(scan, located) else []
        if cards:
            counts["card"] = counts.get("card", 0) + len(cards)
        edits = _digit_edits(text, located, counts, cards)
        if cards:
            edits = sorted([*edits, *((s, e, CARD_PLACEHOLDER) for s, e in cards)])
        if edits:
            text = _apply(text, edits)
    for kind, placeholder, pattern in extras:
        text = _redact_extra(text, kind, placeholder, pattern, counts)
    return text


def _locate(scan: str, runs: list[str]) -> list[tuple[int, int, str, int]]:
    """(start, end, run, digits) of each run of the view."""
    located = []
    end = 0
    for run in runs:
        # Runs come in order and no other run of 3+ digits lies between two of them, so the
        # next occurrence of the string is the run itself.
        start = scan.find(run, end)
        end = start + len(run)
        located.append((start, end, run, len(run) if run.isdigit() else _digit_count(run)))
    return located


def _may_hold_card(scan: str, located: list[tuple[int, int, str, int]]) -> bool:
    """Whether the card rule can find anything: every card it takes has at least 12 digits in
    runs (a card's groups of 3+ digits are runs, and so are pairs and single digits between
    strong separators; only a last group of 1-2 digits can be outside), and those runs are
    joined by separators alone. Most text has no such runs, and skips the rule."""
    total = 0
    previous = -MAX_GAP - 1
    for start, end, _, digits in located:
        gap = start - previous
        if gap <= MAX_GAP and not scan[previous:start].translate(_SEPARATORS_DELETED):
            total += digits
        else:
            total = digits
        if total >= _CARD_MIN - 1:
            return True
        previous = end
    return False


def _overlaps(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(s < end and start < e for s, e in spans)


def _digit_edits(
    text: str,
    located: list[tuple[int, int, str, int]],
    counts: dict[str, int],
    cards: list[tuple[int, int]],
) -> list[tuple[int, int, str]]:
    """(start, end, placeholder) for the security-code and SSN rules, in text order, outside
    the card spans (a run that touches a card is the card's: its leftovers are looked at again
    in the next pass)."""
    edits: list[tuple[int, int, str]] = []
    # Does the text have a hint of a security-code word at all? Worth asking once for a short
    # text (most have none); a long one is better served by the per-candidate check alone.
    security_hint = None if len(text) <= 4096 else True
    for start, end, run, digits in located:
        if cards and _overlaps(cards, start, end):
            continue
        if digits >= 9:  # SSNs
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


# --- rule 1: card numbers -----------------------------------------------------------------


@dataclass(frozen=True)
class _Chain:
    """Digit groups joined by separators, as found in the view."""

    start: int  # offset of the chain in the view
    digits: str  # all its digits, ASCII
    sizes: tuple[int, ...]  # digits per group
    where: tuple[int, ...]  # view offset of every digit
    gaps: tuple[str, ...]  # the view between group k and k + 1
    after_letter: bool  # the chain follows a letter ("JJD4564...")

    @classmethod
    def parse(cls, chain: str, start: int, before: str) -> _Chain:
        sizes, gaps = [], []
        where: list[int] = []
        last_end = None
        for m in _GROUP.finditer(chain):
            group = m.group()
            if last_end is not None:
                gaps.append(chain[last_end : m.start()])
            last_end = m.end()
            base = start + m.start()
            if IGNORED in group:
                offsets: Sequence[int] = [base + k for k, ch in enumerate(group) if ch != IGNORED]
            else:
                offsets = range(base, base + len(group))
            where.extend(offsets)
            sizes.append(len(offsets))
        digits = chain.translate(_SEPARATORS_DELETED)
        return cls(start, digits, tuple(sizes), tuple(where), tuple(gaps), before.isalpha())


def _gap_kind(gap: str) -> str:
    """ "strong" (up to three spaces, tabs, dashes or dots on one line: the spec's "any spacing
    or dash pattern"), "weak" (any other run of separators within the bounds: slashes, commas,
    colons, underscores, four or more spaces, line breaks, ...) or "" (too long to join)."""
    if len(gap) > MAX_GAP:
        return ""
    visible = gap.replace(IGNORED, "")
    if not visible:
        return "strong"  # only invisible characters: the digits touch
    if len(visible) <= MAX_SEPARATORS and all(ch in _STRONG for ch in visible):
        return "strong"
    if visible.count("\n") > MAX_GAP_LINE_BREAKS:
        return ""
    if sum(1 for ch in visible if not ch.isspace()) > MAX_GAP_PUNCTUATION:
        return ""
    return "weak"


def _gap_key(gap: str) -> str:
    """What must be the same between the groups of one card: the visible punctuation of a gap
    ("" for spaces and line breaks, which may stand anywhere)."""
    return "".join(ch for ch in gap if not ch.isspace() and ch != IGNORED)


# Group shapes of a card written in groups (besides equal groups, see _card_shaped).
_SHAPES = frozenset({(4, 6, 5), (4, 6, 4)})  # Amex, Diners


def _card_shaped(
    sizes: tuple[int, ...],
    kinds: list[str],
    gaps: tuple[str, ...],
    *,
    whole: bool,
    split: bool = False,
) -> bool:
    """Whether groups of these sizes, joined by gaps of these kinds, are written like one card.

    * Equal groups of 3 to 6 digits, the last one possibly shorter (4-4-4-4, 4-4-4-4-3,
      4-4-4-1, 5-5-5-1), or Amex's 4-6-5 and the like, with at most one kind of punctuation
      between them (spaces, tabs and line breaks may stand anywhere).
    * Equal groups of 1 or 2 digits (pairs, single digits) joined by strong gaps only.
    * Two groups of 4+ digits with a line break between them (a number wrapped over two lines),
      when nothing else is joined to them (``whole``).
    * (Checked by the caller) any grouping with groups of 3 to 6 digits, or two groups of 3 or
      more, joined by strong gaps (the spec's "any spacing"), when it is the whole number.
    Over two messages (``split``), only groups of 3 to 6 digits and Amex's shapes count."""
    keys = [_gap_key(gap) for gap in gaps]
    k = sizes[0]
    if all(s == k for s in sizes[:-1]) and 1 <= sizes[-1] <= k:
        if k <= 2 and split:
            return False
        if k <= 2:
            return all(kind == "strong" for kind in kinds)
        if k <= 6:  # one kind of punctuation, or only strong gaps ("4111-1111 1111.1111")
            return len(set(keys) - {""}) <= 1 or all(kind == "strong" for kind in kinds)
    if sizes in _SHAPES:
        return len(set(keys) - {""}) <= 1
    return (
        len(sizes) == 2
        and min(sizes) >= 4
        and keys[0] == ""
        and "\n" in gaps[0]
        and whole
        and not split
    )


def _chain_windows(chain: _Chain, boundaries: tuple[int, ...] = ()) -> list[tuple[int, int]]:
    """[i, j) digit windows of a chain that are card numbers (not merged).

    ``boundaries``: for a chain over several messages, the digit indexes where a message
    starts; then only card-shaped windows of whole groups that cross one count."""
    digits, sizes = chain.digits, chain.sizes
    n = len(digits)
    if n < _CARD_MIN:
        return []
    odd_j, even_j = _luhn_prefixes(digits.encode("ascii"))

    def valid(i: int, j: int) -> bool:
        prefix = odd_j if j & 1 else even_j
        return prefix[i] == prefix[j] and plausible_issuer(digits[i:j])

    kinds = [_gap_kind(gap) for gap in chain.gaps]
    windows = []
    # Group starts, as digit indexes; a chain is cut where a gap is too long to join.
    starts = [0]
    for size in sizes[:-1]:
        starts.append(starts[-1] + size)
    for g, size in enumerate(sizes):
        begin = starts[g]
        # One group: the whole group, or, for a long one, windows from its start.
        if boundaries:
            pass  # a group is never split over two messages
        elif _CARD_MIN <= size < _GLUED_MIN:
            if valid(begin, begin + size):
                windows.append((begin, begin + size))
        elif (
            size >= _GLUED_MIN
            # (after a letter, "JJD456460048941319814", the digits are the rest of an id)
            and not (g == 0 and chain.after_letter)
            and any(
                valid(begin, begin + length)
                for length in range(_CARD_MIN, min(size, _CARD_MAX) + 1)
            )
        ):
            # The whole group goes: what is typed onto a card (expiry, security code) with it.
            windows.append((begin, begin + size))
        # Several whole groups from this one on.
        total = size
        h = g
        while h + 1 < len(sizes) and kinds[h] and total < _CARD_MAX:
            h += 1
            total += sizes[h]
            if total > _CARD_MAX:
                break
            if total < _CARD_MIN or not valid(begin, begin + total):
                continue
            window_sizes = sizes[g : h + 1]
            window_kinds = kinds[g:h]
            if boundaries:
                if any(begin < b < begin + total for b in boundaries) and _card_shaped(
                    window_sizes, window_kinds, chain.gaps[g:h], whole=False, split=True
                ):
                    windows.append((begin, begin + total))
                continue
            alone = (g == 0 or not kinds[g - 1]) and (h == len(sizes) - 1 or not kinds[h])
            if (
                _card_shaped(window_sizes, window_kinds, chain.gaps[g:h], whole=alone)
                # nor start or end inside another number: "709-6812 / 07700 833392" and
                # "... 9507.\n216-858-5515" are not cards
                and (g == 0 or kinds[g - 1] != "strong" or sizes[g - 1] == size)
                and (
                    h == len(sizes) - 1
                    or kinds[h] != "strong"
                    or sizes[h] == size
                    or window_sizes[-1] >= size  # "4111-1111-1111-1111-12/25" is a card
                )
            ) or (
                # any grouping, when it is the whole number: strong gaps, groups of 3 to 6
                # digits or two groups ("4111111111 111111", not "417-9160746-3208057"), and
                # nothing joined before or after it
                min(window_sizes) >= 3
                and (max(window_sizes) <= 6 or len(window_sizes) == 2)
                and all(kind == "strong" for kind in window_kinds)
                and (g == 0 or kinds[g - 1] != "strong")
                and (h == len(sizes) - 1 or kinds[h] != "strong")
            ):
                windows.append((begin, begin + total))
    return windows


def _merge(
    windows: list[tuple[int, int]], touching: Callable[[int, int], bool] | None = None
) -> list[tuple[int, int]]:
    """Overlapping windows as one span; touching ones too when ``touching(end, start)`` says
    so (by default always)."""
    windows.sort()
    spans = [windows[0]]
    for i, j in windows[1:]:
        start, end = spans[-1]
        if i < end or (i == end and (touching is None or touching(end, i))):
            spans[-1] = (start, max(end, j))
        else:
            spans.append((i, j))
    return spans


def _card_spans(scan: str) -> list[tuple[int, int]]:
    """Merged [start, end) view offsets of the card numbers in a view, in order."""
    spans: list[tuple[int, int]] = []
    end = 0
    for text in _CHAIN.findall(scan):
        start = scan.find(text, end)
        end = start + len(text)
        if len(text) < _CARD_MIN or _digit_count(text) < _CARD_MIN:
            continue
        chain = _Chain.parse(text, start, scan[start - 1] if start else "")
        windows = _chain_windows(chain)
        if not windows:
            continue
        windows = [w for w in windows if not _other_scheme(scan, chain, *w)]
        if windows:
            where = chain.where

            def touching(end: int, start: int, where: tuple[int, ...] = where) -> bool:
                # "4111111111111111 5555555555554444" is one placeholder, two cards between
                # commas or on two lines are two
                return _gap_kind(scan[where[end - 1] + 1 : where[start]]) == "strong"

            spans.extend((where[i], where[j - 1] + 1) for i, j in _merge(windows, touching))
    return spans


# Numbers of other schemes that hold Luhn-valid, card-shaped windows by chance, recognised by
# their own check digits: an IBAN (ISO 13616, MOD 97) and a USPS tracking number (20 or 22
# digits starting with 9, MOD 10 with weights 3 and 1). Only looked at when a window was found.
_IBAN = re.compile(r"(?<![A-Za-z0-9])[A-Z]{2}[0-9]{2}(?:[ ]?[A-Z0-9]){11,30}(?![A-Za-z0-9])")


def _iban_valid(value: str) -> bool:
    compact = value.replace(" ", "")
    if not 15 <= len(compact) <= 34 or value.endswith(" "):
        return False
    moved = compact[4:] + compact[:4]
    return int("".join(str(int(ch, 36)) for ch in moved)) % 97 == 1


def _usps_valid(digits: str) -> bool:
    if len(digits) not in (20, 22) or digits[0] != "9":
        return False
    body, check = digits[:-1], int(digits[-1])
    total = sum(int(d) * (3 if k % 2 == 0 else 1) for k, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == check


def _other_scheme(scan: str, chain: _Chain, i: int, j: int) -> bool:
    """Whether digit window [i, j) of the chain is part of a valid IBAN or USPS tracking
    number."""
    # The runs of groups joined by strong gaps around the window: is one a USPS number?
    begin = 0
    for g in range(len(chain.sizes)):
        if g == len(chain.gaps) or _gap_kind(chain.gaps[g]) != "strong":
            end = sum(chain.sizes[: g + 1])
            if begin < j and i < end and _usps_valid(chain.digits[begin:end]):
                return True
            begin = end
    first, last = chain.where[i], chain.where[j - 1]
    for m in _IBAN.finditer(scan, max(0, first - 40), min(len(scan), last + 60)):
        if m.start() <= last and first < m.end():  # the window and the IBAN overlap
            # The pattern may have taken a word after the IBAN ("... 3000 BIC"): try each end.
            value = m.group()
            for end in range(len(value), 14, -1):
                if _iban_valid(value[:end]):
                    return True
    return False


def _apply(text: str, edits: list[tuple[int, int, str]]) -> str:
    pieces = []
    last = 0
    for start, end, placeholder in edits:
        pieces.append(text[last:start])
        pieces.append(placeholder)
        last = end
    pieces.append(text[last:])
    return "".join(pieces)


def _digit_count(run: str) -> int:
    """Digits in a run or chain of the view (digits and separators only)."""
    if run.isdigit():
        return len(run)
    return len(run.translate(_SEPARATORS_DELETED))


def _near(
    text: str,
    start: int,
    end: int,
    hint: Callable[[str], bool],
    before: re.Pattern[str],
    after: re.Pattern[str],
) -> bool:
    """Whether a keyword sits just before or after text[start:end]. The substring hint keeps
    the keyword regexes (slow for what they do) off almost every candidate."""
    lo = max(0, start - _CONTEXT)
    if hint(text[lo:start].casefold()) and before.search(text, lo, start) is not None:
        return True
    return hint(text[end : end + _CONTEXT].casefold()) and (
        after.match(text, end, end + _CONTEXT) is not None
    )


def _ssn_edits(
    text: str, run: str, base: int, edits: list[tuple[int, int, str]], counts: dict[str, int]
) -> None:
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
    text: str, kind: str, placeholder: str, pattern: re.Pattern[str], counts: dict[str, int]
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
