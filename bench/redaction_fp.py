"""False positives of card redaction on ordinary contact-center text.

    .venv/bin/python bench/redaction_fp.py [bench/corpus/heldout.txt ...]

The corpus (bench/corpus/, written by make_corpus.py) holds no card number, so every line that
redaction changes is changed wrongly. Prints, per file, the share of lines changed when each
line is redacted on its own and when the text is redacted as messages of 10 lines (numbers on
neighbouring lines can then join), and the dates and phone numbers that did not survive
(the goal: none)."""

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contacts.redaction import redact_text

HERE = Path(__file__).resolve().parent
MESSAGE_LINES = 10
_MONTHS = "Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec"
DATES = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}:\d{2}Z)?|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}"
    rf"|(?:{_MONTHS}) \d{{1,2}}, \d{{4}}|\d{{1,2}} (?:{_MONTHS}) \d{{4}}"
)
PHONES = re.compile(
    r"\(\d{3}\) \d{3}-\d{4}|\+\d{1,2}(?: \d{1,4}){2,5}|\b\d{3}[-.]\d{3}[-.]\d{4}\b"
    r"|1-800-\d{3}-\d{4}|\b07700 \d{6}|\b0\d (?:\d{2} ){3}\d{2}|\b0\d{2} \d{7}|\+1\d{10}"
)


def lost(original: str, redacted: str, pattern: re.Pattern) -> list[str]:
    return [m for m in pattern.findall(original) if m not in redacted]


def measure(path: Path) -> dict:
    lines = path.read_text(encoding="utf-8").splitlines()
    alone = [line for line in lines if redact_text(line) != line]
    joined_changed = 0
    dates: list[str] = []
    phones: list[str] = []
    for start in range(0, len(lines), MESSAGE_LINES):
        chunk = lines[start : start + MESSAGE_LINES]
        redacted = redact_text("\n".join(chunk)).split("\n")
        if len(redacted) != len(chunk):  # a placeholder swallowed a line break
            redacted = (redacted + [""] * len(chunk))[: len(chunk)]
        for before, after in zip(chunk, redacted, strict=True):
            if before != after:
                joined_changed += 1
                dates += lost(before, after, DATES)
                phones += lost(before, after, PHONES)
    for line in alone:
        dates += lost(line, redact_text(line), DATES)
        phones += lost(line, redact_text(line), PHONES)
    return {
        "lines": len(lines),
        "alone": alone,
        "joined": joined_changed,
        "dates": sorted(set(dates)),
        "phones": sorted(set(phones)),
    }


def main() -> None:
    paths = [Path(p) for p in sys.argv[1:]] or [
        HERE / "corpus/tune.txt",
        HERE / "corpus/heldout.txt",
    ]
    for path in paths:
        r = measure(path)
        print(
            f"{path.name:<12} {r['lines']:>5} lines   changed alone: {len(r['alone']):>4} "
            f"({len(r['alone']) / r['lines']:.2%})   as {MESSAGE_LINES}-line messages: "
            f"{r['joined']:>4} ({r['joined'] / r['lines']:.2%})   dates altered: "
            f"{len(r['dates'])}   phone numbers altered: {len(r['phones'])}"
        )
        if path.name == "heldout.txt":  # measured, never looked at while tuning
            continue
        for line in r["alone"][:8]:
            print(f"    {line!r}\n      -> {redact_text(line)!r}")


if __name__ == "__main__":
    main()
