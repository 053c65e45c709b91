"""Pure rules of promoting: the issue title suggested from what someone wrote."""

import re

TITLE_LENGTH = 80  # a suggestion: short enough to read on the board; the person edits it
_SPACES = re.compile(r"\s+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s")


def title_from_text(text: str, *, limit: int = TITLE_LENGTH) -> str:
    """The first sentence of the first non-blank line of ``text``, spaces collapsed, cut at a
    word boundary to at most ``limit`` characters (an ellipsis marks the cut). "" for blank
    text."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    first = _SPACES.sub(" ", lines[0])
    first = _SENTENCE_END.split(first, maxsplit=1)[0]
    if len(first) <= limit:
        return first
    cut = first[: limit - 1]
    if first[limit - 1] != " " and " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + "…"
