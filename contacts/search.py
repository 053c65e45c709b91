"""Full-text search of message texts, newest first, within the viewer's row scope.

On PostgreSQL the query is read by ``websearch_to_tsquery('english', …)`` (quoted phrases,
``or``, ``-word``) and matched against a stored tsvector column with a GIN index (migration
0003). How the newest matches are found depends on how common the words are, as the planner
estimates them for the whole table:

- common words (more than RARE_SHARE of all messages, which only words in PostgreSQL's
  statistics can be): contacts are walked newest first (the contact_time and
  contact_team_time indexes) until the page is full, a few hundred rows. The total is a
  count of at most EXACT_TOTAL_UP_TO + 1 matches, exact up to the cap; past it the planner's
  estimate, flagged, so a common word never counts millions of rows;
- rarer words: every match is gathered through the GIN index, then sorted and counted; the
  total is exact (see _gathered_page for why the planner is not left to choose).

The search runs in one transaction with its own settings (SET LOCAL): work_mem SEARCH_WORK_MEM,
no parallel workers (starting them costs more than these short queries take, and a walk split
over workers reads far more rows than the page needs) and no JIT compilation (the planner's
cost for an unlimited plan switches it on; compiling took longer than the capped count it
was for). Highlights come from
``ts_headline`` on the page's rows only.

Elsewhere (SQLite, the embedded default) search is simpler: every word or quoted phrase must
occur in the text (case-insensitively, as a substring), ``-word`` excludes, ``or`` is not
supported, totals are exact up to the cap and "more than" beyond it, and highlights are made in
Python.

Highlights are returned as fragments, ``(text, is_match)``, so pages render them escaped
without marking customer text safe; ``SearchHit.highlight_html`` escapes them for the API.
"""

import json
import re
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import BooleanField, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.utils.html import escape

from contacts.ingest.records import MAX_YEAR, MIN_YEAR
from contacts.models import Contact, ContactReason, Message
from contacts.selectors import CONTACT_SCOPE
from voc.people.access import Scope, scope_for
from voc.people.models import User

MAX_QUERY_LENGTH = 200
EXACT_TOTAL_UP_TO = 10_000
# Deepest first row a page may start at: deeper pages of a common word would walk (and skip)
# that many matches; narrowing the search is the way on.
MAX_OFFSET = 10_000
# For this search's transaction only: room for the GIN bitmap of a mid-frequency word, so it
# stays exact instead of turning lossy (every row of a lossy page is checked again).
SEARCH_WORK_MEM = "32MB"
# A word PostgreSQL estimates at no more than this share of all messages may be one it has no
# statistics for (see _gathered_page); its matches are gathered through the GIN index.
RARE_SHARE = 0.005
HEADLINE_OPTIONS = "MaxWords=30, MinWords=12, ShortWord=2, MaxFragments=2"
FRAGMENT_DELIMITER = " … "
FALLBACK_SNIPPET = 240  # characters of context around the first match, without PostgreSQL

EMPTY_QUERY_NOTICE = (
    "Type one or more words to find. Words to leave out (-word) need a word to find with "
    "them, and very common words (such as “the” or “and”) are not searched on their own."
)


class SearchQueryError(ValueError):
    """The query can't be searched for (too long, or with characters text can't hold)."""


@dataclass(frozen=True)
class SearchFilters:
    """Which messages to search: contacts in [since, until), on a channel, about a reason (or
    a parent reason and its children), in a team; messages in one direction."""

    since: datetime | None = None
    until: datetime | None = None
    channel: str = ""
    reason_id: int | None = None
    team_id: int | None = None
    direction: str = ""


@dataclass(frozen=True)
class SearchHit:
    message: Message  # with contact, its customer, reason (and parent) and team loaded
    fragments: list[tuple[str, bool]]  # the excerpt, in pieces; True for a matched word

    @property
    def highlight_html(self) -> str:
        """The excerpt as HTML: the text escaped, matches in <mark>."""
        return "".join(
            f"<mark>{escape(text)}</mark>" if matched else escape(text)
            for text, matched in self.fragments
        )


@dataclass(frozen=True)
class SearchResult:
    rows: list[SearchHit] = field(default_factory=list)
    total: int = 0
    total_is_estimate: bool = False
    has_more: bool = False
    notice: str = ""  # why nothing was searched, for an empty or stop-word-only query


def day_bounds(first: date | None, last: date | None) -> tuple[datetime | None, datetime | None]:
    """From the start of ``first`` to the end of ``last`` (both included) in the reporting
    time zone, as [since, until). Days beyond the years a contact can have are clamped to
    just outside them, so any date is a valid bound."""
    zone = ZoneInfo(settings.VOC_REPORTING_TIME_ZONE)
    earliest, latest = date(MIN_YEAR - 1, 12, 31), date(MAX_YEAR + 1, 1, 1)

    def start_of(day: date) -> datetime:
        return datetime.combine(min(max(day, earliest), latest), time(), tzinfo=zone)

    since = start_of(first) if first else None
    until = start_of(min(last, latest) + timedelta(days=1)) if last else None
    return since, until


def check_query(query: str) -> str:
    """The query, trimmed; SearchQueryError if it can't be searched for."""
    query = (query or "").strip()
    if len(query) > MAX_QUERY_LENGTH:
        raise SearchQueryError(f"Use at most {MAX_QUERY_LENGTH} characters.")
    if "\x00" in query:
        raise SearchQueryError("Remove the NUL characters.")
    try:
        query.encode("utf-8")
    except UnicodeEncodeError:
        raise SearchQueryError("Remove the invalid characters.") from None
    return query


def message_search(
    *,
    user: User,
    query: str,
    filters: SearchFilters | None = None,
    limit: int = 50,
    offset: int = 0,
) -> SearchResult:
    """Messages the user may see whose text matches ``query``, newest contact first (then
    in the order of the conversation), ``limit`` of them from ``offset``."""
    query = check_query(query)
    if not query:
        return SearchResult(notice=EMPTY_QUERY_NOTICE)
    filters = filters or SearchFilters()
    if not 0 <= offset <= MAX_OFFSET:
        raise SearchQueryError(f"Start at most {MAX_OFFSET} results in; narrow the search.")
    if connection.vendor == "postgresql":
        return _postgres_search(user, query, filters, limit, offset)
    return _fallback_search(user, query, filters, limit, offset)


def _contact_conditions(scope: Scope, filters: SearchFilters, prefix: str = "") -> Q:
    """Contacts in the scope (as the contact list applies it) that pass the filters;
    ``prefix`` is the path to the contact ("contact__" from a message)."""
    conditions = [
        scope.q(
            team_field=prefix + CONTACT_SCOPE["team_field"],
            department_field=prefix + CONTACT_SCOPE["department_field"],
        )
    ]
    if filters.since is not None:
        conditions.append(Q(**{f"{prefix}occurred_at__gte": filters.since}))
    if filters.until is not None:
        conditions.append(Q(**{f"{prefix}occurred_at__lt": filters.until}))
    if filters.channel:
        conditions.append(Q(**{f"{prefix}channel": filters.channel}))
    if filters.team_id is not None:
        conditions.append(Q(**{f"{prefix}team_id": filters.team_id}))
    if filters.reason_id is not None:
        # A parent reason also finds its children's contacts, as the contact list does.
        reasons = ContactReason.objects.filter(
            Q(id=filters.reason_id) | Q(parent_id=filters.reason_id)
        ).values("id")
        conditions.append(Q(**{f"{prefix}reason_id__in": reasons}))
    return Q(*conditions)


def _scoped(scope: Scope, filters: SearchFilters) -> QuerySet[Message]:
    """Messages of contacts in the scope that pass the filters."""
    messages = Message.objects.filter(_contact_conditions(scope, filters, "contact__"))
    if filters.direction:
        messages = messages.filter(direction=filters.direction)
    return messages


def _newest_first(messages: QuerySet[Message]) -> QuerySet[Message]:
    return messages.order_by("-contact__occurred_at", "-contact_id", "position", "id")


def _page_ids(messages: QuerySet[Message], limit: int, offset: int) -> list[int]:
    # One row more than the page, to know whether there is a next page without counting.
    return list(_newest_first(messages).values_list("id", flat=True)[offset : offset + limit + 1])


def _total(messages: QuerySet[Message], shown: int, has_more: bool, offset: int, estimate):
    """(total, is_estimate): from the page itself when it is the last one, else a count of
    at most EXACT_TOTAL_UP_TO + 1 rows, and past that ``estimate()``."""
    if not has_more and (shown or offset == 0):
        return offset + shown, False
    counted = messages.order_by()[: EXACT_TOTAL_UP_TO + 1].count()
    if counted <= EXACT_TOTAL_UP_TO:
        return counted, False
    return max(estimate(), EXACT_TOTAL_UP_TO + 1), True


def _loaded(ids: list[int], **annotations) -> list[Message]:
    """The page's messages with what a result shows, in the page's order."""
    rows = (
        Message.objects.filter(id__in=ids)
        .select_related("contact__customer", "contact__reason__parent", "contact__team")
        .annotate(**annotations)
    )
    by_id = {message.id: message for message in rows}
    return [by_id[message_id] for message_id in ids if message_id in by_id]


# --- PostgreSQL ----------------------------------------------------------------------------


def _postgres_search(user, query, filters, limit, offset) -> SearchResult:
    with transaction.atomic():
        with connection.cursor() as cursor:
            # The parsed query as text, read again below with ::tsquery (no second parse).
            # querytree() is what an index can search for: '' or 'T' when nothing is (only
            # stop words, or only words to leave out).
            cursor.execute(
                "SELECT set_config('work_mem', %s, true), "
                "set_config('max_parallel_workers_per_gather', '0', true), "
                "set_config('jit', 'off', true), "
                "query::text, querytree(query), "
                "(SELECT reltuples FROM pg_class WHERE oid = 'contacts_message'::regclass) "
                "FROM websearch_to_tsquery('english', %s) AS query",
                [SEARCH_WORK_MEM, query],
            )
            *_, tsquery, indexable, table_rows = cursor.fetchone()
        if indexable in ("", "T"):
            return SearchResult(notice=EMPTY_QUERY_NOTICE)
        matches = RawSQL(
            "contacts_message.search_vector @@ %s::tsquery", [tsquery], output_field=BooleanField()
        )
        scope = scope_for(user)
        messages = _scoped(scope, filters).filter(matches)
        if _planner_estimate(Message.objects.filter(matches)) <= RARE_SHARE * max(table_rows, 1):
            page, has_more, total = _gathered_page(scope, filters, tsquery, limit, offset)
            is_estimate = False
            if total is None:  # a page past the end: nothing to count the matches with
                total, is_estimate = _total(messages, 0, False, offset, lambda: 0)
        else:
            page = _page_ids(messages, limit, offset)
            has_more = len(page) > limit
            page = page[:limit]
            total, is_estimate = _total(
                messages, len(page), has_more, offset, lambda: _planner_estimate(messages)
            )
        start, stop = _markers()
        options = (
            f'{HEADLINE_OPTIONS}, StartSel="{start}", StopSel="{stop}", '
            f'FragmentDelimiter="{FRAGMENT_DELIMITER}"'
        )
        rows = _loaded(
            page,
            headline=RawSQL(
                "ts_headline('english', contacts_message.text, %s::tsquery, %s)",
                [tsquery, options],
            ),
        )
    # headline: the annotation _loaded() added to each message.
    hits = [SearchHit(row, _split_marked(row.headline, start, stop)) for row in rows]  # type: ignore[attr-defined]
    return SearchResult(hits, total, is_estimate, has_more)


def _gathered_page(scope: Scope, filters, tsquery: str, limit: int, offset: int):
    """(page ids, has_more, total) for a rare word: every match is gathered through the GIN
    index, counted, and the newest sorted out.

    PostgreSQL knows the frequencies of its most common words only; it guesses the others at
    up to half the least common of those (at most RARE_SHARE of the rows), so a rare word can
    look ten times more common than it is, and the newest-first walk it then picks reads
    every contact for a word in a few hundred messages (seconds). Gathering the matches first
    (a MATERIALIZED CTE on the word alone, which only the GIN index answers well) leaves it
    no walk to pick; a rare word's matches are few by definition, so sorting and counting
    them all is cheap, and the total is exact."""
    contacts = Contact.objects.filter(_contact_conditions(scope, filters)).order_by()
    try:
        contact_sql, contact_params = contacts.values("id", "occurred_at").query.sql_with_params()
    except EmptyResultSet:  # a scope or filter that no contact can pass
        return [], False, 0
    direction = " AND direction = %s" if filters.direction else ""
    # Only fixed text and the SQL Django compiled for the contacts, with its parameters.
    sql = f"""
        WITH hits AS MATERIALIZED (
            SELECT id, contact_id, position FROM contacts_message
            WHERE search_vector @@ %s::tsquery{direction}
        ), scoped AS MATERIALIZED (
            SELECT hits.id, hits.position, hits.contact_id, c.occurred_at
            FROM hits JOIN ({contact_sql}) AS c ON c.id = hits.contact_id
        )
        SELECT id, (SELECT count(*) FROM scoped) FROM scoped
        ORDER BY occurred_at DESC, contact_id DESC, position, id
        LIMIT %s OFFSET %s
    """  # noqa: S608
    params = [tsquery, *([filters.direction] if filters.direction else [])]
    with connection.cursor() as cursor:
        # Join the few hits to their contacts by primary key. Misled by the same guess, the
        # planner would hash a whole team's contacts to join a few dozen hits (for the rest
        # of this transaction only; what follows reads rows by id).
        cursor.execute(
            "SELECT set_config('enable_hashjoin', 'off', true), "
            "set_config('enable_mergejoin', 'off', true)"
        )
        cursor.execute(sql, [*params, *contact_params, limit + 1, offset])
        rows = cursor.fetchall()
    page = [message_id for message_id, _ in rows[:limit]]
    return page, len(rows) > limit, rows[0][1] if rows else (0 if offset == 0 else None)


def _markers() -> tuple[str, str]:
    """Start and stop markers for ts_headline, new for every search: letters and digits only,
    so escaping leaves them alone, and unguessable, so a customer's text can't contain them."""
    token = secrets.token_hex(8)
    return f"vocmatchstart{token}", f"vocmatchstop{token}"


def _split_marked(headline: str, start: str, stop: str) -> list[tuple[str, bool]]:
    fragments: list[tuple[str, bool]] = []
    matched = False
    for piece in re.split(f"({start}|{stop})", headline):
        if piece == start:
            matched = True
        elif piece == stop:
            matched = False
        elif piece:
            fragments.append((piece, matched))
    return fragments


def _planner_estimate(messages: QuerySet[Message]) -> int:
    """PostgreSQL's estimate of all the matches (no rows are read): good for a word among the
    column's most common elements, which is when a total is past the cap."""
    plan = json.loads(messages.order_by().values("id").explain(format="json"))
    return int(plan[0]["Plan"]["Plan Rows"])


# --- other databases -----------------------------------------------------------------------

_TERM = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')


def _fallback_terms(query: str) -> tuple[list[str], list[str]]:
    """Words and quoted phrases that must occur, and those that must not (``-word``)."""
    wanted: list[str] = []
    unwanted: list[str] = []
    for negated_phrase, phrase, negated_word, word in _TERM.findall(query):
        text = (phrase if phrase or negated_phrase else word).strip().strip('"')
        # Punctuation alone finds nothing (as on PostgreSQL); "or" is a word there, not here.
        if not any(char.isalnum() for char in text) or (not phrase and text.lower() == "or"):
            continue
        (unwanted if negated_phrase or negated_word else wanted).append(text)
    return wanted, unwanted


def _fallback_search(user, query, filters, limit, offset) -> SearchResult:
    wanted, unwanted = _fallback_terms(query)
    if not wanted:
        return SearchResult(notice=EMPTY_QUERY_NOTICE)
    messages = _scoped(scope_for(user), filters)
    for term in wanted:
        messages = messages.filter(text__icontains=term)
    for term in unwanted:
        messages = messages.exclude(text__icontains=term)
    page_ids = _page_ids(messages, limit, offset)
    has_more = len(page_ids) > limit
    page_ids = page_ids[:limit]
    total, is_estimate = _total(
        messages, len(page_ids), has_more, offset, lambda: EXACT_TOTAL_UP_TO + 1
    )
    pattern = re.compile("|".join(re.escape(term) for term in wanted), re.IGNORECASE)
    hits = [SearchHit(row, _fallback_fragments(row.text, pattern)) for row in _loaded(page_ids)]
    return SearchResult(hits, total, is_estimate, has_more)


def _fallback_fragments(text: str, pattern: re.Pattern) -> list[tuple[str, bool]]:
    first = pattern.search(text)
    begin = max(0, (first.start() if first else 0) - FALLBACK_SNIPPET // 2)
    end = min(len(text), begin + FALLBACK_SNIPPET)
    excerpt = text[begin:end]
    fragments: list[tuple[str, bool]] = [("…", False)] if begin else []
    position = 0
    for match in pattern.finditer(excerpt):
        if match.start() > position:
            fragments.append((excerpt[position : match.start()], False))
        fragments.append((match.group(), True))
        position = match.end()
    if position < len(excerpt):
        fragments.append((excerpt[position:], False))
    if end < len(text):
        fragments.append(("…", False))
    return fragments
