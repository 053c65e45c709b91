"""Pure text rules of the flag suggestions: words to terms, and the BM25 weights of a document's
terms. No database here: the index (loops/flags/index.py) and the query (loops/flags/ranking.py)
both call ``terms`` so an issue's words and a contact's words meet as the same terms on every
database (PostgreSQL and the embedded SQLite alike).

The stemmer is deliberately light (plurals, -ing, -ed, -ly, a few derivational endings): it
only has to map "charged", "charges" and "charging" to one term, and the index and the query
share it, so an imperfect stem costs nothing as long as it is the same on both sides.
"""

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

MAX_TERM = 40  # longer "words" are codes or garbage: cut (the column is this wide)
MIN_TERM = 2
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)

STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are aren as at be because been before
    being below between both but by can cannot could couldn did didn do does doesn doing don
    down during each few for from further had hadn has hasn have haven having he her here hers
    herself him himself his how i if in into is isn it its itself just let me more most my
    myself no nor not now of off on once only or other ought our ours ourselves out over own
    same she should shouldn so some such than that the their theirs them themselves then there
    these they this those through to too under until up very was wasn we were weren what when
    where which while who whom why will with won would wouldn you your yours yourself
    yourselves also get got im ive id dont cant wont thats theres s t ll re ve d m o y hi hello
    hey dear thanks thank please pls ok okay yes yeah regards best cheers sir madam
    """.split()  # noqa: SIM905 (a list of words reads better as one string)
)

# (suffix, replacement, the stem that must remain at least this long), first match wins.
_SUFFIXES = (
    ("ational", "ate", 3),
    ("ization", "ize", 3),
    ("fulness", "ful", 3),
    ("iveness", "ive", 3),
    ("ations", "ate", 3),
    ("ation", "ate", 3),
    ("nesses", "", 3),
    ("ness", "", 3),
    ("ments", "", 3),
    ("ment", "", 3),
    ("ingly", "", 3),
    ("edly", "", 3),
    ("ies", "y", 2),
    ("ied", "y", 2),
    ("ing", "", 3),
    ("ers", "", 3),
    ("er", "", 3),
    ("ed", "", 3),
    ("ly", "", 3),
    ("es", "", 3),
    ("s", "", 3),
)
_DOUBLED = re.compile(r"([bdfgklmnprt])\1$")


def stem(word: str) -> str:
    """A light English stem of a lower-case word: "charged", "charges", "charging" and
    "charge" all give "charg"; "refunds" "refund"; "cancelled" "cancel"."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith(("ss", "us", "is")):
        return word
    stripped = False
    for suffix, replacement, keep in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= keep:
            word = word[: len(word) - len(suffix)] + replacement
            stripped = True
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    # "running" → "run", "cancelled" → "cancel", but "billing" → "bill" like "bill" itself.
    double = _DOUBLED.search(word)
    if stripped and double and (double.group(1) != "l" or len(word) > 5):
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    """The words of ``text``, lower-cased, apostrophes dropped ("can't" → "cant")."""
    return [
        match.group(0).replace("'", "").replace("’", "")
        for match in _WORD.finditer(text.casefold())
    ]


def terms(text: str) -> list[str]:
    """The terms of ``text`` in order: words without stop words, stemmed, cut to MAX_TERM.
    Pure numbers are kept only when they are long enough to be a code ("error 4023")."""
    out = []
    for word in words(text):
        if word in STOPWORDS or len(word) < MIN_TERM:
            continue
        if word.isdigit() and len(word) < 3:
            continue
        out.append(stem(word)[:MAX_TERM])
    return out


# --- BM25 -------------------------------------------------------------------------------------
# Okapi BM25 with the usual constants. A document is an issue's title, description and the text
# of its latest evidence, each field's term counts multiplied by its FIELD_WEIGHTS (a simple
# BM25F): the title says what the issue is in a few words, the evidence says it in the
# customers' words.
K1 = 1.2
B = 0.75
FIELD_WEIGHTS = {"title": 3.0, "description": 1.5, "evidence": 1.0}


@dataclass(frozen=True)
class DocumentTerms:
    """A document's weighted term frequencies and its weighted length."""

    frequencies: dict[str, float]
    length: float


def document_terms(fields: Mapping[str, Iterable[str]]) -> DocumentTerms:
    """The weighted term frequencies of a document given as {field: texts}."""
    frequencies: defaultdict[str, float] = defaultdict(float)
    for field, texts in fields.items():
        weight = FIELD_WEIGHTS[field]
        for text in texts:
            for term, n in Counter(terms(text)).items():
                frequencies[term] += n * weight
    return DocumentTerms(dict(frequencies), float(sum(frequencies.values())))


def term_weight(frequency: float, length: float, average_length: float) -> float:
    """BM25's saturated term frequency (without the idf): grows with the frequency, towards
    K1 + 1, and less in a long document than in a short one."""
    norm = K1 * (1 - B + B * length / max(average_length, 1.0))
    return frequency * (K1 + 1) / (frequency + norm)


def idf(document_frequency: int, documents: int) -> float:
    """BM25's inverse document frequency (the variant that stays positive)."""
    return math.log(1 + (documents - document_frequency + 0.5) / (document_frequency + 0.5))


def query_terms(text: str, *, limit: int) -> dict[str, int]:
    """The distinct terms of a query text with their counts, at most ``limit``: the most
    frequent first, then the longest (a rarer word), then alphabetical for a stable choice."""
    counts = Counter(terms(text))
    chosen = sorted(counts.items(), key=lambda item: (-item[1], -len(item[0]), item[0]))[:limit]
    return dict(chosen)
