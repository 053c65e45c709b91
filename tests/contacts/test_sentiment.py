"""Sentiment of contact texts: VADER with contact-center words and phrases on top.

Each phrase is pinned by sentences it must read as negative (at or below
settings.VOC_NEGATIVE_SENTIMENT, what the rollups count) and sentences near it that must not.
"""

import csv
from pathlib import Path

import pytest
from django.conf import settings
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from contacts.sentiment import PHRASES, ContactCenterAnalyzer, phrases_in, sentiment_score

BENCH = Path(__file__).resolve().parents[2] / "bench" / "sentiment"


def _negative(text: str) -> bool:
    return sentiment_score(text) <= settings.VOC_NEGATIVE_SENTIMENT


def test_the_issue_sentence_reads_negative():
    """Plain VADER knows no word in it: 0, neutral (+0.29 with the rest of the contact)."""
    text = "This is the third time I call about this!"
    assert SentimentIntensityAnalyzer().polarity_scores(text)["compound"] == 0
    # The phrase's -2.0, plus VADER's 0.292 for one "!", normalised: -2.292 / sqrt(2.292² + 15)
    assert sentiment_score(text) == -0.5093
    assert phrases_in(text) == ["repeat contact: nth time"]


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("This is the third time I call about this!", "repeat contact: nth time"),
        ("Fourth email I send you.", "repeat contact: nth time"),
        ("I've called three times this week.", "repeat contact: n times"),
        ("Calling again about my router.", "repeat contact: again"),
        ("Yet again the delivery was missed.", "repeat contact: again"),
        ("I already explained this yesterday.", "repeat contact: already"),
        ("How many times do I have to ring you?", "repeat contact: how many times"),
        ("Why do I have to chase you?", "repeat contact: why must I"),
        ("My internet is still not working.", "still broken"),
        ("I'm still waiting for the engineer.", "still broken"),
        ("The new SIM doesn't work.", "does not work"),
        ("They said it was fixed but it isn't.", "not fixed"),
        ("The problem has not been resolved.", "not fixed"),
        ("The line keeps dropping.", "keeps failing"),
        ("The error came back.", "keeps failing"),
        ("The internet has been down since noon.", "service down"),
        ("We have no signal in the kitchen.", "service down"),
        ("Nothing has changed since Monday.", "nothing done"),
        ("You charged me twice.", "charged twice"),
        ("There is a double charge on my statement.", "charged twice"),
        ("I'm billed for a router I never ordered.", "charged for what wasn't wanted"),
        ("I still get bills for the account I closed.", "charged for what wasn't wanted"),
        ("My bill went up without any warning.", "price raised without notice"),
        ("Nobody called me back.", "nobody called back"),
        ("No one has got back to me.", "nobody called back"),
        ("The refund never arrived.", "never arrived"),
        ("Where is my refund?", "never arrived"),
        ("I was told it would be free but now I pay.", "told one thing, got another"),
        ("I've been on hold for 40 minutes.", "kept waiting"),
        ("It's been two weeks.", "kept waiting"),
        ("I was transferred four times.", "passed around"),
        ("The agent hung up on me.", "passed around"),
        ("If it isn't fixed today I'm cancelling.", "cancellation threat"),
        ("I'll take my business elsewhere.", "cancellation threat"),
        ("I want to speak to a manager.", "escalation"),
        ("I'm fed up with this.", "fed up"),
    ],
)
def test_each_phrase_reads_negative(text, phrase):
    assert phrase in phrases_in(text)
    assert _negative(text), (text, sentiment_score(text))
    assert sentiment_score(text) < 0


@pytest.mark.parametrize(
    "text",
    [
        "No problem, thanks, it works now.",
        "Thanks, I no longer see the error.",
        "No issues since the technician came, thank you.",
        "Great, it's working again!",
        "All sorted, thanks for the help.",
    ],
)
def test_problems_reported_solved_read_positive(text):
    assert "solved" in phrases_in(text)
    assert sentiment_score(text) >= 0.05, sentiment_score(text)


@pytest.mark.parametrize(
    "text",
    [
        # Requests that use billing and politeness words VADER reads as feelings.
        "I'd like to cancel the TV add-on at the end of the month.",
        "Can you explain the charges on my bill?",
        "Please call me back after 5pm.",
        "What does it cost to end the contract early?",
        "I want to pay by bank transfer.",
        "I'll restart the box and call back if that doesn't help.",
        "I'm calling to check on my delivery.",
        "Please send me a copy of my last invoice.",
        "I'd like to book an installation.",
        # Near misses of the phrases: none of them may fire.
        "The second line is for my daughter.",
        "I'm moving house next month.",
        "Is the outage on Main Street over?",
        "My order number is 4471.",
        "I'd like to switch to paper billing.",
    ],
)
def test_requests_stay_neutral(text):
    score = sentiment_score(text)
    assert settings.VOC_NEGATIVE_SENTIMENT < score < 0.05, (text, score)


def test_a_condition_is_not_a_failure():
    assert phrases_in("I'll restart the box and call back if it doesn't help.") == []
    assert phrases_in("It doesn't help.") == ["does not work"]


def test_a_request_is_not_a_threat():
    assert phrases_in("I don't want to cancel, I just want to downgrade.") == []
    assert phrases_in("What happens to my number if I cancel?") == []
    assert phrases_in("I'm cancelling unless you call me back.") == ["cancellation threat"]


def test_a_phrase_counts_once_per_match_with_its_valence():
    """Each match adds its valence to VADER's sum, like one more word: two repeat contacts
    weigh more than one, and VADER's normalisation keeps the score within -1..1."""
    one = sentiment_score("Third time I call.")
    two = sentiment_score("Third time I call. Second email too.")
    assert two < one < settings.VOC_NEGATIVE_SENTIMENT
    assert sentiment_score("Third time I call. " * 50) >= -1


def test_phrase_valences_are_on_vaders_word_scale():
    assert all(-4 <= phrase.valence <= 4 and phrase.valence != 0 for phrase in PHRASES)
    assert len({phrase.name for phrase in PHRASES}) == len(PHRASES)


def test_curly_apostrophes_read_like_straight_ones():
    straight = "It still doesn't work and I'm fed up."
    curly = straight.replace("'", "\u2019")
    assert sentiment_score(curly) == sentiment_score(straight)
    assert phrases_in(curly) == phrases_in(straight)


def test_no_text_has_no_score():
    assert sentiment_score("") is None
    assert sentiment_score("   \n") is None
    assert sentiment_score(None) is None


def _labelled() -> list[str]:
    texts = []
    for part in ("tuning", "heldout"):
        with open(BENCH / f"{part}.tsv", newline="", encoding="utf-8") as handle:
            texts += [row["text"] for row in csv.DictReader(handle, delimiter="\t")]
    return texts


def test_anchors_never_hide_a_match():
    """A phrase's regex runs only when one of its anchors is in the text: every match must
    contain one, or the anchor would silently switch the phrase off."""
    texts = _labelled() + [
        text for text, _ in test_each_phrase_reads_negative.pytestmark[0].args[1]
    ]
    for text in texts:
        lowered = text.replace("\u2019", "'").lower()
        for phrase in PHRASES:
            for match in phrase.pattern.finditer(lowered):
                assert any(anchor in match.group(0) for anchor in phrase.anchors), (
                    phrase.name,
                    match.group(0),
                )


def test_windowed_checks_score_exactly_as_vader():
    """The constant-time negation and idiom checks give VADER's own results."""

    class Reference(ContactCenterAnalyzer):
        _negation_check = staticmethod(SentimentIntensityAnalyzer._negation_check)
        _special_idioms_check = staticmethod(SentimentIntensityAnalyzer._special_idioms_check)

    reference, windowed = Reference(), ContactCenterAnalyzer()
    texts = _labelled()
    texts += [" ".join(texts[index : index + 7]) for index in range(0, len(texts), 7)]
    texts += [
        "Never so happy, without doubt the best. Not bad at all, kind of good.",
        "It is not so bad, the shit is the bomb, it does not cut the mustard.",
    ]
    for text in texts:
        assert windowed.polarity_scores(text) == reference.polarity_scores(text), text
