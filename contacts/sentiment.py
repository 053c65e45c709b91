"""Sentiment of contact texts: VADER (its lexicon ships in the wheel: nothing downloaded) with
what a contact center's customers say on top.

VADER was built on social media, where "please", "like" and "free" are warm and "charges" are
criminal, and it has no word for calling for the third time or for a router that is still not
working. Two layers fix that, both on VADER's own scale (a word's valence from -4 to +4; -1.5
is about "problem", -2 about "terrible") so that VADER's arithmetic (negation, "but", "!",
normalisation into -1..1) applies to them unchanged:

* LEXICON: words whose contact-center sense differs from VADER's. Billing, account and
  request vocabulary ("charge", "pay", "number", "cancel", "please", "like", "want", "help")
  is neutral here: asking to cancel is not anger, and a threat to cancel is caught by a
  phrase. Words VADER lacks ("overcharged", "nightmare", "unusable") get a valence; "outage"
  does not: asking whether there is one is not a complaint, and "no internet" is a phrase.
* PHRASES: a small set of patterns, each with one valence added to the text's sum for each
  match, as if it were one more word: repeat contacts ("the third time I call"), things still
  broken or back again, double charges and charges for what was cancelled or never ordered,
  promises and callbacks that never came, waits and transfers, cancellation threats and
  escalations, and (positive) problems reported solved ("it works now", "no longer see the
  error").

bench/sentiment_bench.py measures the result on labelled contact-center sentences (figures
in bench/README.md); tests/contacts/test_sentiment.py pins each phrase. Add a phrase only
for a way customers say something, not for one sentence, and measure on the held-out part.
"""

import re
from dataclasses import dataclass
from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

MAX_CHARS = 5000  # the customer's opening words carry the tone; long threads cost time

LEXICON: dict[str, float] = {
    # Billing and account vocabulary: neutral in a contact center.
    "charge": 0.0, "charges": 0.0, "charged": 0.0, "pay": 0.0, "credit": 0.0, "free": 0.0,
    "block": 0.0, "number": 0.0, "cancel": 0.0, "cancelled": 0.0, "canceled": 0.0,
    "cancelling": 0.0,
    # Request and politeness vocabulary: "I'd like to", "I want to", "please help".
    "please": 0.0, "like": 0.0, "want": 0.0, "help": 0.0, "care": 0.0, "cares": 0.0,
    # Mostly said of broken promises ("you promised a callback").
    "promised": 0.0, "promise": 0.0,
    # Said sarcastically of a service ("this is a joke").
    "joke": -1.5,
    # Words of the trade VADER lacks.
    "overcharged": -2.0, "overcharging": -2.0, "unusable": -2.3, "nightmare": -2.6,
    "unresolved": -1.6, "disconnected": -1.2, "cracked": -1.2, "persists": -1.2,
    "unreachable": -1.5, "unhelpful": -1.8,
}  # fmt: skip

# Pieces of the patterns below. Texts are lowercased and curly apostrophes straightened.
_I_WILL = r"(?:i'?ll|i will|i'?m|i am|we'?ll|we will|we'?re|we are)"
_COUNT = r"(?:two|three|four|five|six|seven|eight|nine|ten|several|many|multiple|countless|\d+)"
_ORDINAL = r"(?:second|third|fourth|fifth|sixth|seventh|umpteenth|\d+(?:st|nd|rd|th))"
_NOT = (
    r"(?:not|never|no|isn'?t|aren'?t|wasn'?t|weren'?t|doesn'?t|don'?t|didn'?t|won'?t|can'?t"
    r"|cannot|haven'?t|hasn'?t|hadn'?t)"
)
_SPAN = r"[^.!?\n]{0,40}?"  # within the same sentence
_CONTACT_VERB = (
    r"(?:call(?:ed|ing)?|phon(?:ed|ing)|rang|emailed|emailing|wr(?:ote|itten|iting)"
    r"|contact(?:ed|ing)|chas(?:ed|ing)|explain(?:ed|ing)?|asked|report(?:ed|ing)?"
    r"|postponed|rescheduled|cancell?ed|restarted|tried)"
)
_SERVICE = (
    r"(?:internet|broadband|wi-?fi|service|line|network|website|site|app|connection|tv|phone"
    r"|system|signal|coverage|dial tone|phone line|power|access|mobile data)"
)


@dataclass(frozen=True)
class Phrase:
    name: str
    valence: float  # on VADER's word scale, added once a match
    anchors: tuple[str, ...]  # every match contains one of these: no anchor, no search
    pattern: re.Pattern[str]


def _phrase(name: str, valence: float, anchors: str, pattern: str) -> Phrase:
    return Phrase(name, valence, tuple(anchors.split("|")), re.compile(pattern))


PHRASES: tuple[Phrase, ...] = (
    # Repeat contacts: the strongest sign of an unhappy customer in a contact center.
    _phrase(
        "repeat contact: nth time",
        -2.0,
        "time|call|email|message|attempt|visit|chat",
        rf"\b{_ORDINAL} (?:time|call|email|message|attempt|visit|chat)\b",
    ),
    _phrase(
        "repeat contact: n times",
        -2.0,
        "times",
        rf"\b{_CONTACT_VERB}\b{_SPAN}\b{_COUNT} times\b",
    ),
    _phrase(
        "repeat contact: again",
        -1.5,
        "again|same",
        r"\b(?:call(?:ing|ed)?|writ(?:e|ing)|email(?:ing|ed)?|contact(?:ing|ed)?|chas(?:e|ing)"
        r"|follow(?:ing)? up|repeat(?:ing)?|explain(?:ing)?)\s+(?:you\s+)?(?:\w+\s+)?again\b"
        r"|\b(?:once again|yet again|again and again|same problem|same issue)\b"
        r"|^again\b",
    ),
    _phrase(
        "repeat contact: already",
        -1.5,
        "already",
        r"\b(?:i'?ve|i have|i)\s+already\s+(?:called|told|explained|sent|reported|asked|emailed)\b",
    ),
    _phrase(
        "repeat contact: how many times",
        -2.0,
        "how many",
        r"\bhow many (?:more )?times\b",
    ),
    _phrase(
        "repeat contact: why must I",
        -1.5,
        "why",
        r"\bwhy (?:do|should|must) (?:i|we) (?:have to|always|keep)\b",
    ),
    # Things still broken, broken again, or never fixed.
    _phrase(
        "still broken",
        -2.0,
        "still",
        rf"\bstill\s+(?:{_NOT}|without|waiting|broken|down|blinking|dropping|failing|getting"
        r"|being|charging|billing|shows|showing|says|no)\b",
    ),
    _phrase(
        "does not work",
        -1.5,
        "work|turn on|connect|load|help",
        r"(?<!if it )(?<!if that )(?<!if this )\b(?:didn'?t|doesn'?t|don'?t|won'?t|does not"
        r"|did not|will not|not)\s+(?:work|working|turn on|connect|load|help)\b",
    ),
    _phrase(
        "not fixed",
        -1.8,
        "fixed|resolved|solved|sorted|repaired|but |without",
        r"\b(?:not|never|isn'?t|wasn'?t|hasn'?t been|haven'?t been)\s+(?:been\s+)?"
        r"(?:fixed|resolved|solved|sorted|repaired)\b"
        r"|\bbut (?:it|this|that) (?:isn'?t|is not|wasn'?t|hasn'?t|doesn'?t|didn'?t)\b"
        r"|\bwithout (?:fixing|solving|resolving|sorting|doing)\b",
    ),
    _phrase(
        "keeps failing",
        -1.8,
        "keep|back",
        r"\bkeeps?\s+(?:on\s+)?(?:dropping|cutting|restarting|rebooting|failing|crashing"
        r"|disconnecting|coming back|happening|freezing|buffering|going down|getting charged"
        r"|charging|logging me out)\b"
        r"|\b(?:problem|issue|fault|error)\s+(?:came|comes|has come|is)\s+back\b",
    ),
    _phrase(
        "service down",
        -2.0,
        "down|no |without",
        rf"\b{_SERVICE}s?\b[^.!?\n]{{0,20}}\b(?:is|are|has been|have been|was|went|keeps going"
        r"|goes|been)\s+(?:\w+\s+)?down\b"
        rf"|\b(?:no|without)\s+{_SERVICE}\b",
    ),
    _phrase(
        "nothing done",
        -1.8,
        "nothing|no ",
        r"\bnothing\s+(?:has\s+)?(?:changed|happened|been done)\b"
        r"|\b(?:did|done|do|does|doing)\s+nothing\b"
        r"|\bno (?:progress|improvement|resolution|reply|response|answer|update)\b",
    ),
    # Billing errors.
    _phrase(
        "charged twice",
        -2.2,
        "twice|double|times|again|same",
        r"\b(?:charged|billed|debited|taken|paid|charging me|billing me)\s+(?:me\s+)?"
        r"(?:twice|double|two times|three times|again)\b"
        r"|\bdouble[- ](?:charge|charged|charging|billing|billed|payment)s?\b"
        r"|\b(?:two|2) (?:bills|invoices|charges|payments) for the same\b",
    ),
    _phrase(
        "charged for what wasn't wanted",
        -1.8,
        "never|didn|did not|have not|haven|already|cancel|closed|after|despite|though",
        r"\b(?:charged|billed|paying|charging|bills?|invoices?)\b[^.!?\n]{0,40}?\b(?:i|we)\s+"
        r"(?:never|didn'?t|did not|have not|haven'?t|already)\s+(?:order|ordered|use|used"
        r"|agree|agreed|ask|asked|request|requested|cancell?ed|closed)\b"
        r"|\b(?:plan|account|service|contract|line|subscription) (?:i|we) "
        r"(?:cancell?ed|closed)\b"
        r"|\b(?:after|despite|even though)\b[^.!?\n]{0,15}?\b(?:cancell?ing|cancell?ed|closing"
        r"|closed|paying|paid|returning|returned)\b",
    ),
    _phrase(
        "price raised without notice",
        -2.0,
        "without|increased|raised|put up|hiked|doubled",
        r"\bwithout (?:any |a )?(?:warning|notice|notification|telling|asking|my permission"
        r"|my consent|my agreement)\b"
        r"|\b(?:increased|raised|put up|hiked|doubled)\s+(?:my|the|our)\s+(?:price|bill|rate"
        r"|fee)s?\b",
    ),
    # Promises and callbacks that never came.
    _phrase(
        "nobody called back",
        -2.0,
        "nobody|no one|no-one|noone|never",
        r"\b(?:nobody|no one|no-one|noone)\b[^.!?\n]{0,25}?\b(?:called|calls?|rang|phoned"
        r"|got back|gets back|gotten back|replied|replies|responded|answered|came|showed"
        r"|turned|contacted|can help|helps|cares?|listens|listening|knows|seems)\b"
        r"|\bnever\s+(?:fix|fixes|fixed|help|helps|helped|listen|listens|call|calls|called"
        r"|answer|answers|reply|replies|respond|responds|get back|got back)\b",
    ),
    _phrase(
        "never arrived",
        -1.8,
        "never|haven|hasn|have not|has not|didn|did not|where is my",
        r"\b(?:never|haven'?t|hasn'?t|have not|has not|didn'?t|did not)\s+(?:been\s+|yet\s+)?"
        r"(?:received|receive|got|gotten|arrived|arrives|arrive|came|come|appeared|showed up"
        r"|show up|turned up|turn up|heard back)\b"
        r"|\bwhere is my (?:refund|order|package|parcel|delivery|technician|engineer|callback"
        r"|money)\b",
    ),
    _phrase(
        "told one thing, got another",
        -1.8,
        "told|promised|assured|quoted|tell|different answer",
        r"\b(?:told|promised|assured|quoted)\b[^.!?\n]{0,50}?\b(?:but|and now|yet|is not"
        r"|isn'?t)\b"
        r"|\b(?:told|tell) (?:me|us) (?:the opposite|something different)\b"
        r"|\bdifferent answer\b",
    ),
    # Waiting, holding, being passed around.
    _phrase(
        "kept waiting",
        -1.8,
        "hold|wait|queue|been|lasted|lasting|long|all day|day off",
        r"\b(?:on hold|waited|waiting|queued?)\b[^.!?\n]{0,25}?\b(?:\d+|an?|one|two|three|four"
        r"|five|six|ten|several|many|\w+ty)\s*-?\s*(?:minutes?|mins?|hours?|hrs?|days?|weeks?"
        r"|months?)\b"
        r"|\b(?:it'?s|it has|its)\s+(?:now\s+)?been\s+(?:over\s+|more than\s+)?(?:a|an|one"
        rf"|{_COUNT}|weeks|days|months|ages)\b"
        r"|\b(?:been waiting|lasted|lasting)\s+(?:since|for)\b"
        r"|\b(?:taking|takes|took) (?:so|this|too|far too|way too) long\b"
        r"|\bwaited (?:in )?all day\b|\btook (?:a|the) day off\b",
    ),
    _phrase(
        "passed around",
        -2.0,
        "transferred|hung up|get through|anywhere|circles|back and forth|start",
        rf"\btransferred\s+(?:around|{_COUNT} times|from \w+ to \w+)\b"
        r"|\bhung up on (?:me|us)\b|\bcan'?t get through\b|\bcannot get through\b"
        r"|\bnot getting anywhere\b|\bin circles\b|\bback and forth\b"
        r"|\b(?:had|have) to start (?:over|again|from scratch)\b",
    ),
    # Churn threats and escalation.
    _phrase(
        "cancellation threat",
        -2.0,
        "cancel|switch|another|business|leav|considering|thinking|elsewhere|customer",
        rf"\b{_I_WILL}\s+(?:going to\s+|gonna\s+|about to\s+|seriously\s+)?(?:cancel\w*"
        r"|switch\w* to another|mov(?:e|ing) to another|tak(?:e|ing) my business|leav(?:e|ing)"
        r" (?:you|now|unless|if|after))\b"
        r"|\b(?:considering|thinking (?:of|about))\s+(?:leaving|cancell?ing|switching)\b"
        r"|\b(?:business|custom|money) elsewhere\b"
        r"|\blost (?:a|an|one) (?:\w+ )?customer\b",
    ),
    _phrase(
        "escalation",
        -1.8,
        "manager|supervisor|regulator|ombudsman|ofcom|fcc|trading standards|lawyer|solicitor|small claims|escalate",
        r"\b(?:speak|talk) to (?:a|your|the) (?:manager|supervisor)\b"
        r"|\b(?:regulator|ombudsman|ofcom|fcc|trading standards|lawyer|solicitor|small claims)\b"
        r"|\bescalate\b",
    ),
    _phrase(
        "fed up",
        -2.0,
        "fed up|enough|last straw|how you treat|done|waste of",
        r"\bfed up\b|\b(?:had|have had) enough\b|\benough is enough\b|\blast straw\b"
        r"|\bthis is how you treat\b|\b(?:i'?m|i am) done\b|\bwaste of (?:time|money)\b",
    ),
    # Problems reported solved: VADER reads "error" and "problem" there as negative.
    _phrase(
        "solved",
        1.5,
        "work|sorted|fixed|resolved|solved|normal|no longer|no more|no issues|no problems|no complaints|no errors",
        r"(?<!not )\b(?:works?|working)\s+(?:now|again|perfectly|fine|great)\b"
        r"|\b(?:all|that'?s|it'?s|is now|been|got it|have)\s+(?:sorted|fixed|resolved|solved)\b"
        r"|\bback to normal\b"
        r"|\bno longer\b[^.!?\n]{0,25}?\b(?:error|problem|issue|drop|fault)s?\b"
        r"|\bno (?:more )?(?:issues|problems|complaints|errors)\b",
    ),
)


# vaderSentiment has no type information.
class ContactCenterAnalyzer(SentimentIntensityAnalyzer):  # type: ignore[misc]
    """VADER with LEXICON merged in and PHRASES added to each text's sum."""

    def __init__(self) -> None:
        super().__init__()
        self.lexicon: dict[str, float] = {**self.lexicon, **LEXICON}
        for word in [word for word, valence in LEXICON.items() if valence == 0]:
            # Unknown rather than 0: VADER runs its negation and idiom checks, which cost
            # time, around every word it knows.
            del self.lexicon[word]

    # VADER lowercases all the text's words again for each check around each word it knows,
    # which is quadratic in the text's length. Its checks look at most three words back and
    # two ahead (and only from the fourth word on, where nothing wraps around), so a window
    # of those words gives the same result in constant time.
    @staticmethod
    def _negation_check(
        valence: float, words_and_emoticons: list[str], start_i: int, i: int
    ) -> float:
        start = max(0, i - 3)
        window = words_and_emoticons[start : i + 3]
        checked: float = SentimentIntensityAnalyzer._negation_check(
            valence, window, start_i, i - start
        )
        return checked

    @staticmethod
    def _special_idioms_check(valence: float, words_and_emoticons: list[str], i: int) -> float:
        start = max(0, i - 3)
        window = words_and_emoticons[start : i + 3]
        checked: float = SentimentIntensityAnalyzer._special_idioms_check(
            valence, window, i - start
        )
        return checked

    def score_valence(self, sentiments: list[float], text: str) -> dict[str, float]:
        lowered = text.lower()
        extra = [
            phrase.valence
            for phrase in PHRASES
            if any(anchor in lowered for anchor in phrase.anchors)  # a regex costs 5-150 µs
            for _ in phrase.pattern.finditer(lowered)
        ]
        scores: dict[str, float] = super().score_valence(sentiments + extra, text)
        return scores


@cache
def _analyzer() -> ContactCenterAnalyzer:
    return ContactCenterAnalyzer()


def phrases_in(text: str) -> list[str]:
    """The names of the phrases found in a text (for tests and for tuning)."""
    lowered = _normalise(text).lower()
    return [phrase.name for phrase in PHRASES if phrase.pattern.search(lowered)]


def _normalise(text: str) -> str:
    # Phones and mail clients type curly apostrophes: VADER's negations ("don't") and the
    # phrases expect straight ones.
    return text.replace("\u2019", "'").replace("\u2018", "'")


def sentiment_score(text: str) -> float | None:
    """The compound score, -1 (negative) to 1 (positive); None for no text."""
    text = _normalise((text or "").strip())
    if not text:
        return None
    compound: float = _analyzer().polarity_scores(text[:MAX_CHARS])["compound"]
    return round(compound, 4)
