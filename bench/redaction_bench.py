"""Throughput of contacts.redaction on typical contact-center text.

    .venv/bin/python bench/redaction_bench.py [--messages N] [--seconds S]

Prints MB/s (UTF-8 bytes of input per second) for:
  * typical messages, one redact() call each (the ingestion path): mostly plain text with order
    numbers, phone numbers, dates, amounts, and a few percent carrying a card, CVV or SSN;
  * the same corpus as one large text;
  * a PII-heavy corpus (every message has a card, a code or an SSN);
  * typical messages with two admin extra patterns.
The target is well over 10 MB/s for typical text."""

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contacts.redaction import compile_extra_pattern, redact

OPENERS = [
    "Hi, I was charged twice for my order",
    "Hello team, my delivery still hasn't arrived and the tracking page says",
    "I need to change the address on my account before the next shipment",
    "Can someone call me back about the refund I was promised",
    "The app keeps logging me out whenever I open the billing page",
    "Bonjour, ma commande n'est toujours pas arrivée, pouvez-vous vérifier",
    "My package was left at the wrong door again, this is the third time",
    "I was on hold for 45 minutes yesterday and nobody picked up",
    "Why did my monthly plan go up without any notice?",
    "Thanks for the quick help earlier, everything works now",
]
DETAILS = [
    "order #{order}",
    "order number {order}",
    "ticket {ticket}",
    "call me at {phone}",
    "my number is {phone}",
    "it was on {date}",
    "the amount was ${amount}",
    "reference {ref}",
    "since {date} at {time}",
    "zip code {zip}",
]
CLOSERS = [
    "Please help.",
    "Thanks in advance!",
    "This is really frustrating.",
    "Let me know what you need from me.",
    "I'd like a refund please.",
    "Merci beaucoup 🙏",
    "",
]
CARDS = ["4111111111111111", "5555555555554444", "378282246310005", "6011111111111117"]


def _spaced(card: str, rng: random.Random) -> str:
    sep = rng.choice(["", " ", "-"])
    return sep.join(card[i : i + 4] for i in range(0, len(card), 4))


def _fill(template: str, rng: random.Random) -> str:
    return template.format(
        order=rng.randint(10_000_000, 99_999_999),
        ticket=f"T-{rng.randint(1000, 999_999)}",
        phone=rng.choice(
            [
                f"({rng.randint(200, 999)}) {rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
                f"+1 {rng.randint(200, 999)} {rng.randint(200, 999)} {rng.randint(1000, 9999)}",
                f"{rng.randint(200, 999)}-{rng.randint(200, 999)}-{rng.randint(1000, 9999)}",
            ]
        ),
        date=f"{rng.randint(2023, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
        time=f"{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
        amount=f"{rng.randint(5, 900)}.{rng.randint(0, 99):02d}",
        ref=f"{rng.choice('ABCDEFGH')}{rng.choice('XYZ')}-{rng.randint(100_000, 999_999)}",
        zip=rng.randint(10000, 99999),
    )


def _pii(rng: random.Random) -> str:
    card = _spaced(rng.choice(CARDS), rng)
    return rng.choice(
        [
            f"my card is {card} exp {rng.randint(1, 12):02d}/{rng.randint(25, 30)}",
            f"card {card}, CVV: {rng.randint(100, 999)}",
            f"the security code is {rng.randint(1000, 9999)}",
            f"my SSN is {rng.randint(100, 665)}-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}",
        ]
    )


def message(rng: random.Random, pii_rate: float) -> str:
    parts = [rng.choice(OPENERS)]
    for _ in range(rng.randint(1, 3)):
        parts.append(_fill(rng.choice(DETAILS), rng))
    if rng.random() < pii_rate:
        parts.append(_pii(rng))
    parts.append(rng.choice(CLOSERS))
    text = ", ".join(p for p in parts if p)
    if rng.random() < 0.3:  # some longer emails
        text = f"{text}\n\n{text.lower()} {rng.choice(OPENERS)}. {rng.choice(CLOSERS)}"
    return text


def corpus(n: int, pii_rate: float, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [message(rng, pii_rate) for _ in range(n)]


def measure(label: str, texts: list[str], seconds: float, extras=()) -> float:
    """Best of 5 timed rounds (the machine may be shared: the best round is the least
    disturbed one), each round redacting every text once, for about `seconds` in all."""
    size = sum(len(t.encode()) for t in texts)
    best = float("inf")
    deadline = time.perf_counter() + seconds
    rounds = 0
    while rounds < 5 or time.perf_counter() < deadline:
        start = time.perf_counter()
        for t in texts:
            redact(t, extras)
        best = min(best, time.perf_counter() - start)
        rounds += 1
    mb_s = size / best / 1e6
    print(
        f"{label:<40} {mb_s:7.1f} MB/s   ({len(texts)} text(s), avg {size / len(texts):,.0f} B, "
        f"{best / len(texts) * 1e6:,.1f} µs per call)"
    )
    return mb_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()

    typical = corpus(args.messages, pii_rate=0.03, seed=1)
    heavy = corpus(args.messages, pii_rate=1.0, seed=2)
    extras = [
        ("member ID", compile_extra_pattern(r"\bMBR-\d{6,10}\b")),
        ("policy", compile_extra_pattern(r"(?i)\bpolicy\s+[A-Z]{2}\d{7}\b")),
    ]
    # sanity: the heavy corpus really is redacted
    assert sum(redact(t).changed for t in heavy) > 0.9 * len(heavy)

    typical_mb_s = measure("typical messages, one call each", typical, args.seconds)
    measure("typical corpus as one text", ["\n".join(typical)], args.seconds)
    measure("PII in every message, one call each", heavy, args.seconds)
    measure("typical messages + 2 extra patterns", typical, args.seconds, extras)
    print(f"\ntypical-text throughput: {typical_mb_s:.1f} MB/s (target: well over 10 MB/s)")


if __name__ == "__main__":
    main()
