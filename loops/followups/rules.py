"""When a customer's answer calls for a call back (pure, tested without a database).

A detractor is NPS 0-6, CSAT 1-2 or CES 1-3 (CES asks how much the customer agrees that "the
company made it easy to handle my issue", so 3 and below is a detractor); any complaint (a
feedback item of that kind, or a contact whose reason is marked complaint) calls for one too.
"""

# kind -> the highest score that is a detractor
DETRACTOR_AT_MOST = {"nps": 6, "csat": 2, "ces": 3}


def is_detractor(kind: str, score: int | None) -> bool:
    limit = DETRACTOR_AT_MOST.get(kind)
    return limit is not None and score is not None and score <= limit


def calls_for_follow_up(kind: str, score: int | None) -> str | None:
    """The trigger ("detractor", "complaint") of a feedback item, or None."""
    if kind == "complaint":
        return "complaint"
    if is_detractor(kind, score):
        return "detractor"
    return None
