"""How well and how fast contacts.sentiment reads contact-center sentences.

    .venv/bin/python bench/sentiment_bench.py [--seconds S]

Scores the labelled sentences of bench/sentiment/ (tuning.tsv, and heldout.tsv, which was
committed before the scorer was tuned and must not be tuned on) twice: with plain VADER (the
scorer before contact-center phrases were added) and with ``sentiment_score``. A score is read
the way the product reads it: "negative" at or below settings.VOC_NEGATIVE_SENTIMENT (the
rollups' negative_contacts and road suggestions), "positive" at or above VADER's own +0.05,
"neutral" between. Prints, for each part and scorer, the three-class accuracy and the recall
and precision of "negative", then the sentences the scorer misreads (with --errors), then
speed in rows per CPU second on ~300-character texts (a few labelled sentences joined, like
a message).
"""

import argparse
import csv
import os
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "voc.settings")

from django.conf import settings  # noqa: E402
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer  # noqa: E402

from contacts.sentiment import sentiment_score  # noqa: E402

DATA = Path(__file__).resolve().parent / "sentiment"
PARTS = ("tuning", "heldout")
POSITIVE = 0.05  # VADER's documented threshold for a positive compound score


def load(part: str) -> list[tuple[str, str]]:
    with open(DATA / f"{part}.tsv", newline="", encoding="utf-8") as handle:
        return [(row["label"], row["text"]) for row in csv.DictReader(handle, delimiter="\t")]


def label_of(score: float) -> str:
    if score <= settings.VOC_NEGATIVE_SENTIMENT:
        return "negative"
    return "positive" if score >= POSITIVE else "neutral"


def measure(rows: list[tuple[str, str]], score: Callable[[str], float]) -> dict:
    predicted = [label_of(score(text)) for _, text in rows]
    truth = [label for label, _ in rows]
    hits = sum(p == t for p, t in zip(predicted, truth, strict=True))
    negative_true = sum(t == "negative" for t in truth)
    negative_said = sum(p == "negative" for p in predicted)
    negative_hit = sum(p == t == "negative" for p, t in zip(predicted, truth, strict=True))
    return {
        "rows": len(rows),
        "accuracy": hits / len(rows),
        "recall": negative_hit / negative_true if negative_true else 0.0,
        "precision": negative_hit / negative_said if negative_said else 0.0,
        "misread": [(t, p, text) for (t, text), p in zip(rows, predicted, strict=True) if p != t],
    }


def messages(rows: list[tuple[str, str]], count: int) -> list[str]:
    """~300-character texts: labelled sentences joined in a fixed random order."""
    rng = random.Random(7)
    texts = []
    for _ in range(count):
        parts: list[str] = []
        while sum(len(part) + 1 for part in parts) < 300:
            parts.append(rng.choice(rows)[1])
        texts.append(" ".join(parts))
    return texts


def rows_per_second(score: Callable[[str], float], texts: list[str], seconds: float) -> float:
    for text in texts[:50]:  # warm-up: lexicon loaded, caches filled
        score(text)
    done = 0
    start = time.process_time()  # CPU time: other load on a shared host matters less
    while time.process_time() - start < seconds:
        for text in texts:
            score(text)
        done += len(texts)
    return done / (time.process_time() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="per speed measurement")
    parser.add_argument("--rounds", type=int, default=3, help="speed rounds; the best counts")
    parser.add_argument("--errors", action="store_true", help="list misread sentences")
    args = parser.parse_args()

    vader = SentimentIntensityAnalyzer()
    scorers = {
        "plain VADER": lambda text: vader.polarity_scores(text)["compound"],
        "sentiment_score": lambda text: sentiment_score(text),
    }
    print(f"negative: score <= {settings.VOC_NEGATIVE_SENTIMENT}; positive: score >= {POSITIVE}")
    print(f"{'part':<8} {'scorer':<16} {'rows':>5} {'accuracy':>9} {'neg recall':>11} "
          f"{'neg precision':>14}")  # fmt: skip
    everything = []
    for part in PARTS:
        rows = load(part)
        everything += rows
        for name, score in scorers.items():
            result = measure(rows, score)
            print(
                f"{part:<8} {name:<16} {result['rows']:>5} {result['accuracy']:>9.3f} "
                f"{result['recall']:>11.3f} {result['precision']:>14.3f}"
            )
            if args.errors and name == "sentiment_score":
                for truth, said, text in result["misread"]:
                    print(f"    {truth:>8} read as {said:<8} {text}")
    texts = messages(everything, 2000)
    average = sum(len(text) for text in texts) / len(texts)
    print(
        f"\nspeed on {len(texts):,} texts of {average:.0f} characters on average "
        f"(rows per CPU second, best of {args.rounds} interleaved rounds of {args.seconds:g} s):"
    )
    best = dict.fromkeys(scorers, 0.0)
    for _ in range(args.rounds):  # interleaved, so that other load on the host hits both
        for name, score in scorers.items():
            best[name] = max(best[name], rows_per_second(score, texts, args.seconds))
    for name, speed in best.items():
        print(f"  {name:<16} {speed:>9,.0f} rows/s")


if __name__ == "__main__":
    main()
