"""A period summed up once for all the digests that cover it.

The daily digests of a morning mostly cover the same period (midnight to midnight in the
same time zone), and each one counted its matching messages per topic, ranked its newest
threads and counted the period before: three passes over every message of the period, per
digest. A ``DigestPeriod`` sums the period up once per thread (contact): how many messages
and the newest one's time, all and incoming only. A digest then joins its own scoped,
filtered contacts with those rows, one per thread instead of one per message; the row
scope and every filter still apply per digest, on the contacts, as before.

A summary is built before a chunk's digests (``digests_build``), in its own transaction
under an advisory lock, so two workers build a period once. It is used only while fresh
(``FRESH``) and only for a period that was over when it was built: a message stored after
the build with a time in the period is left out of the later digests of that period, like a
message imported after its period's digest went out (docs/digests.md).

Keyword subscriptions get a summary of their own, of the period's messages that match their
keywords (``keywords``, as the subscription has them), once per period and distinct
keywords. It is summed up from the period's texts (``DigestPeriodTexts``): the period's
messages copied once with their search vectors, for every keyword subscription of the
period, so each distinct keywords searches a few MB instead of the whole message table (a
keyword digest searched it two or three times before). A keyword summary is as old as the
texts it was read from. PostgreSQL only: on SQLite every digest reads the messages.
"""

import logging
import zlib
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from contacts.models import Message
from loops.models import DigestPeriod, DigestPeriodTexts

logger = logging.getLogger(__name__)

FRESH = timedelta(minutes=10)
KEEP = timedelta(days=1)

# The rows of a period's messages: id, contact_id, direction, at (loops.digests.selectors).
PERIOD_SQL = (
    "SELECT m.id, m.contact_id, m.direction, m.sent_at AS at FROM contacts_message m "
    "WHERE m.sent_at >= %s AND m.sent_at < %s "
    "UNION ALL "
    "SELECT m.id, m.contact_id, m.direction, c.occurred_at AS at FROM contacts_contact c "
    "JOIN contacts_message m ON m.contact_id = c.id AND m.sent_at IS NULL "
    "WHERE c.occurred_at >= %s AND c.occurred_at < %s"
)

# The period's messages with their search vectors, for DigestPeriodTexts (the same rows).
TEXTS_SQL = (
    "SELECT m.contact_id, m.direction, m.sent_at AS at, m.search_vector "
    "FROM contacts_message m WHERE m.sent_at >= %s AND m.sent_at < %s "
    "UNION ALL "
    "SELECT m.contact_id, m.direction, c.occurred_at AS at, m.search_vector "
    "FROM contacts_contact c JOIN contacts_message m ON m.contact_id = c.id "
    "AND m.sent_at IS NULL WHERE c.occurred_at >= %s AND c.occurred_at < %s"
)
_TEXTS_LOCK = "\0texts"  # no keywords can hold a NUL: the texts' lock is nobody else's


_LOCK_NAMESPACE = 0x766F_6364  # "vocd": the high half of this module's advisory-lock keys


def _lock_key(start: datetime, end: datetime, keywords: str) -> int:
    period = zlib.crc32(f"{start.isoformat()}|{end.isoformat()}|{keywords}".encode())
    return (_LOCK_NAMESPACE << 32) | period


def digest_period_fresh(*, start: datetime, end: datetime, keywords: str = "") -> int | None:
    """The id of the period's summary (of the messages matching ``keywords``, if any) if one
    can stand in for its messages, else None."""
    if connection.vendor != "postgresql":
        return None
    built_after = max(timezone.now() - FRESH, end)
    return (
        DigestPeriod.objects.filter(
            start=start, end=end, keywords=keywords.strip(), built_at__gte=built_after
        )
        .values_list("id", flat=True)
        .first()
    )


def digest_period_build(*, start: datetime, end: datetime, keywords: str = "") -> int | None:
    """Sum up a period that is over (once, whoever asks first), or its messages that match
    ``keywords`` (from the period's texts); returns the summary's id, or None where there is
    nothing to share (SQLite, a period not over yet). Summaries older than KEEP go at the
    same time."""
    if connection.vendor != "postgresql":
        return None
    now = timezone.now()
    if end > now:
        return None
    keywords = keywords.strip()
    if keywords:
        texts = digest_period_texts(start=start, end=end)
        if texts is None:
            return None
        texts_id, built_at = texts
        rows_sql = (
            "SELECT t.contact_id, t.direction, t.at FROM loops_digestperiodtext t WHERE "
            "t.texts_id = %s AND t.search_vector @@ websearch_to_tsquery('english', %s)"
        )
        rows_params: list[Any] = [texts_id, keywords]
    else:
        rows_sql, rows_params, built_at = PERIOD_SQL, [start, end, start, end], now
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key(start, end, keywords)])
        fresh = digest_period_fresh(start=start, end=end, keywords=keywords)
        if fresh is not None:
            return fresh
        DigestPeriod.objects.filter(
            Q(start=start, end=end, keywords=keywords) | Q(built_at__lt=now - KEEP)
        ).delete()
        period = DigestPeriod.objects.create(
            start=start, end=end, keywords=keywords, built_at=built_at
        )
        cursor.execute(
            "INSERT INTO loops_digestperiodthread "  # noqa: S608
            "(period_id, contact_id, messages, newest_at, incoming, newest_incoming_at) "
            "SELECT %s, p.contact_id, count(*), max(p.at), "
            "count(*) FILTER (WHERE p.direction = %s), max(p.at) FILTER (WHERE p.direction = %s) "
            f"FROM ({rows_sql}) p GROUP BY p.contact_id",
            [period.pk, Message.Direction.INCOMING, Message.Direction.INCOMING, *rows_params],
        )
    return period.pk


def digest_period_texts(*, start: datetime, end: datetime) -> tuple[int, datetime] | None:
    """The period's texts (id, built_at), copied once, whoever asks first, and reused while
    fresh; None where there are none to share (SQLite, a period not over yet). Texts older
    than KEEP go at the same time."""
    if connection.vendor != "postgresql":
        return None
    now = timezone.now()
    if end > now:
        return None
    built_after = max(now - FRESH, end)
    fresh = DigestPeriodTexts.objects.filter(start=start, end=end, built_at__gte=built_after)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_lock_key(start, end, _TEXTS_LOCK)])
        found = fresh.values_list("id", "built_at").first()
        if found is not None:
            return found
        DigestPeriodTexts.objects.filter(
            Q(start=start, end=end) | Q(built_at__lt=now - KEEP)
        ).delete()
        texts = DigestPeriodTexts.objects.create(start=start, end=end, built_at=now)
        cursor.execute(
            "INSERT INTO loops_digestperiodtext (texts_id, contact_id, direction, at, "  # noqa: S608
            f"search_vector) SELECT %s, p.* FROM ({TEXTS_SQL}) p",
            [texts.pk, start, end, start, end],
        )
    return texts.pk, now


def digest_periods_share(periods: set[tuple[datetime, datetime, str]]) -> int:
    """Build the summaries of these (start, end, keywords) periods (each digest's period and
    the one before it); a summary that fails is logged and its digests read the messages.
    Returns how many summaries are ready."""
    ready = 0
    for start, end, keywords in sorted(periods):
        try:
            ready += digest_period_build(start=start, end=end, keywords=keywords) is not None
        except Exception:
            logger.exception(
                "digest period %s to %s (keywords %r) could not be summed up", start, end, keywords
            )
    return ready
