"""Sentiment of contact texts with VADER (its lexicon ships in the wheel: nothing downloaded)."""

from functools import cache

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

MAX_CHARS = 5000  # the customer's opening words carry the tone; long threads cost time


@cache
def _analyzer() -> SentimentIntensityAnalyzer:
    return SentimentIntensityAnalyzer()


def sentiment_score(text: str) -> float | None:
    """VADER's compound score, -1 (negative) to 1 (positive); None for no text."""
    text = (text or "").strip()
    if not text:
        return None
    return round(_analyzer().polarity_scores(text[:MAX_CHARS])["compound"], 4)
