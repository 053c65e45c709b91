"""The calendar invitation of a side-by-side session (RFC 5545), as a pure function.

One UID per session for its whole life, so a calendar updates the event it already has: each
reschedule sends the same UID with a higher SEQUENCE, and a cancellation sends METHOD:CANCEL
with a higher SEQUENCE still.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

REQUEST = "REQUEST"
CANCEL = "CANCEL"


@dataclass(frozen=True)
class Invitation:
    uid: str
    sequence: int
    method: str  # REQUEST or CANCEL
    start: datetime
    end: datetime
    summary: str
    description: str
    organizer: str  # an email address
    attendees: tuple[tuple[str, str], ...]  # (name, email)
    stamp: datetime


def escape_text(value: str) -> str:
    """A TEXT value: backslash, semicolon, comma and newlines escaped (RFC 5545 3.3.11)."""
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _param(value: str) -> str:
    # A parameter value is quoted and may not hold quotes or control characters.
    cleaned = "".join(ch for ch in value if ch >= " " and ch not in '"\x7f')
    return f'"{cleaned}"'


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def fold(line: str) -> str:
    """Lines longer than 75 octets are folded: CRLF and a space (RFC 5545 3.1)."""
    encoded = line.encode("utf-8")
    if len(encoded) <= 75:
        return line
    parts: list[str] = []
    current = b""
    for char in line:
        piece = char.encode("utf-8")
        if len(current) + len(piece) > (75 if not parts else 74):
            parts.append(current.decode("utf-8"))
            current = b""
        current += piece
    parts.append(current.decode("utf-8"))
    return "\r\n ".join(parts)


def ics_text(invitation: Invitation) -> str:
    status = "CANCELLED" if invitation.method == CANCEL else "CONFIRMED"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//VoC//Side-by-side sessions//EN",
        "CALSCALE:GREGORIAN",
        f"METHOD:{invitation.method}",
        "BEGIN:VEVENT",
        f"UID:{invitation.uid}",
        f"SEQUENCE:{invitation.sequence}",
        f"DTSTAMP:{_when(invitation.stamp)}",
        f"DTSTART:{_when(invitation.start)}",
        f"DTEND:{_when(invitation.end)}",
        f"SUMMARY:{escape_text(invitation.summary)}",
        f"DESCRIPTION:{escape_text(invitation.description)}",
        f"ORGANIZER:mailto:{invitation.organizer}",
        *(
            f"ATTENDEE;CN={_param(name)};ROLE=REQ-PARTICIPANT;RSVP=TRUE:mailto:{email}"
            for name, email in invitation.attendees
        ),
        f"STATUS:{status}",
        "TRANSP:OPAQUE",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(fold(line) for line in lines) + "\r\n"
