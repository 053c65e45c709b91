"""What an executive's listening figure on the 5% tracker is made of: their sessions, outreach
calls and be-a-customer exercises in the period, newest first, in keyset pages like the other
drill-downs (``after=<time>~<kind>~<id>`` of the last entry shown: the three kinds are three
tables, so the kind breaks a tie an id cannot); the same rows, all of them, export to CSV and
Excel."""

import re
from datetime import date, datetime

from feedback.listening import ListeningEntry, ListeningPosition, listening_entries
from voc.core.exports import Column
from voc.dashboards import drill
from voc.people.models import User

KIND_LABELS = {
    "session": "Side-by-side session",
    "call": "Outreach call",
    "exercise": "Be a customer",
}
_POSITION = re.compile(
    r"^(?P<when>[0-9T:.+\- ]{10,40})~(?P<kind>session|call|exercise)~(?P<id>[0-9]{1,19})$"
)

LISTENING_COLUMNS = [
    Column("When", lambda e: e.when),
    Column("Kind", lambda e: KIND_LABELS[e.kind]),
    Column("Minutes", lambda e: round(e.seconds / 60, 1)),
    Column("What", lambda e: e.what),
]


def listening_position(text: str) -> ListeningPosition | None:
    """The position an ``after`` names, or None when it names none (a naive time included)."""
    found = _POSITION.match(text)
    if found is None:
        return None
    try:
        moment = datetime.fromisoformat(found["when"])
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return moment, found["kind"], int(found["id"])


def listening_page(
    *, viewer: User, executive_id: int, start: date, end: date, after: ListeningPosition | None
) -> tuple[list[ListeningEntry] | None, str | None]:
    """One page of the executive's entries after ``after``, and the position after its last
    entry (None on the last page); (None, None) when the viewer may not read them."""
    entries = listening_entries(
        viewer=viewer, executive_id=executive_id, start=start, end=end, after=after,
        limit=drill.PAGE_SIZE + 1,
    )  # fmt: skip
    if entries is None or len(entries) <= drill.PAGE_SIZE:
        return entries, None
    page = entries[: drill.PAGE_SIZE]
    when, kind, entry_id = page[-1].position
    return page, f"{when.isoformat()}~{kind}~{entry_id}"


def listening_export_name(executive_id: int, start: date, end: date) -> str:
    return f"listening-{executive_id}-{start.isoformat()}-{end.isoformat()}"
