"""What an executive's listening figure on the 5% tracker is made of: their sessions, outreach
calls and be-a-customer exercises in the period, newest first. One person's entries over at
most two years are a few hundred rows, so the page lists them all (no pages); the same rows
export to CSV and Excel."""

from datetime import date

from voc.core.exports import Column

KIND_LABELS = {
    "session": "Side-by-side session",
    "call": "Outreach call",
    "exercise": "Be a customer",
}

LISTENING_COLUMNS = [
    Column("When", lambda e: e.when),
    Column("Kind", lambda e: KIND_LABELS[e.kind]),
    Column("Minutes", lambda e: round(e.seconds / 60, 1)),
    Column("What", lambda e: e.what),
]


def listening_export_name(executive_id: int, start: date, end: date) -> str:
    return f"listening-{executive_id}-{start.isoformat()}-{end.isoformat()}"
