"""What a digest says: the verbatim messages that match a subscription in a period, within the
subscriber's own row scope, grouped by topic and thread; counts per topic against the previous
period; the issues on those topics that are ageing or escalated; the latest stories.

A message belongs to the period its time falls in: when it was sent, or, for a message without
its own time, when its contact happened. A message imported after its period's digest went out
is not sent later (docs/digests.md). Instant digests read by arrival instead: the messages
whose ids are in the range ``messages`` = (after, through], whatever their time.
"""

from collections import Counter, defaultdict
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import Count, Exists, F, Max, OuterRef, Q, QuerySet, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone

from contacts.models import Channel, Contact, ContactReason, Customer, Message
from contacts.selectors import contact_list_visible
from feedback.models import Story
from feedback.stories.selectors import stories_for_digest
from loops.digests.periods import PERIOD_SQL, digest_period_fresh
from loops.models import OPEN_EXCLUDED, Digest, DigestSubscription, Escalation, Issue
from loops.selectors import issue_list_visible
from voc.people.models import User

MAX_THREADS = 50
MESSAGES_PER_THREAD = 6  # the latest of a long thread; the rest behind a link
MAX_ISSUES = 10
AGEING_DAYS = 30

# (after, through]: the ids of the messages an instant digest reads, by arrival.
MessageRange = tuple[int, int]

# The rows of a message-id range: id, contact_id, direction, at (as PERIOD_SQL's).
RANGE_SQL = (
    "SELECT m.id, m.contact_id, m.direction, COALESCE(m.sent_at, c.occurred_at) AS at "
    "FROM contacts_message m JOIN contacts_contact c ON c.id = m.contact_id "
    "WHERE m.id > %s AND m.id <= %s"
)


@dataclass(frozen=True, slots=True)
class ContactShown:
    """What a digest shows of a thread's contact, read as values (a digest shows up to 50)."""

    pk: int
    channel: str  # its label: "Email"
    customer: str  # how the customer is named; "" when unknown
    subject: str

    @property
    def id(self) -> int:
        return self.pk


@dataclass(frozen=True, slots=True)
class MessageShown:
    """A message of a thread shown, read as values (a digest shows up to 300)."""

    direction: str
    at: datetime | None
    text: str

    @property
    def outgoing(self) -> bool:
        return self.direction == Message.Direction.OUTGOING


@dataclass(frozen=True)
class ThreadShown:
    contact: ContactShown
    messages: list[MessageShown]
    trimmed: int  # earlier messages of the period not shown
    newest_at: datetime


@dataclass(frozen=True)
class TopicShown:
    label: str
    threads: list[ThreadShown]
    count: int  # threads on this topic in the period (shown or not)
    previous: int  # in the period before, of the same length


@dataclass(frozen=True)
class DigestContent:
    start: datetime
    end: datetime
    topics: list[TopicShown] = field(default_factory=list)
    thread_count: int = 0  # matching threads in the period
    shown_threads: int = 0
    message_count: int = 0
    issues: list[Issue] = field(default_factory=list)
    stories: list[Story] = field(default_factory=list)
    messages_in: MessageRange | None = None  # an instant digest's id range, read by arrival

    @property
    def contact_ids(self) -> list[int]:
        return sorted(t.contact.pk for topic in self.topics for t in topic.threads)

    @property
    def more_threads(self) -> int:
        return self.thread_count - self.shown_threads

    @property
    def is_empty(self) -> bool:
        return self.thread_count == 0 and not self.stories


@dataclass(frozen=True)
class DigestFilters:
    """What a subscription (saved, or still a form being previewed) matches. Empty: any."""

    reason_ids: tuple[int, ...] = ()  # as chosen; their children are added when matching
    department_ids: tuple[int, ...] = ()
    team_ids: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    keywords: str = ""
    sentiment_at_most: float | None = None
    include_outgoing: bool = True
    # reason_ids holds the children of the reasons chosen already (with_children()).
    children_included: bool = False


def filters_of(subscription: DigestSubscription) -> DigestFilters:
    # The three relations in one query: a row per combination (a handful), read as sets.
    reasons: set[int] = set()
    departments: set[int] = set()
    teams: set[int] = set()
    chosen = DigestSubscription.objects.filter(pk=subscription.pk).values_list(
        "reasons", "departments", "teams"
    )
    for reason_id, department_id, team_id in chosen if subscription.pk else []:
        reasons.add(reason_id)
        departments.add(department_id)
        teams.add(team_id)
    return DigestFilters(
        reason_ids=tuple(sorted(reasons - {None})),
        department_ids=tuple(sorted(departments - {None})),
        team_ids=tuple(sorted(teams - {None})),
        tags=tuple(subscription.tags),
        channels=tuple(subscription.channels),
        keywords=subscription.keywords,
        sentiment_at_most=subscription.sentiment_at_most,
        include_outgoing=subscription.include_outgoing,
    )


def reason_ids_with_children(filters: DigestFilters) -> list[int] | None:
    """The chosen reasons with their children (None: any reason)."""
    if not filters.reason_ids:
        return None
    if filters.children_included:
        return list(filters.reason_ids)
    children = ContactReason.objects.filter(parent_id__in=filters.reason_ids).values_list(
        "id", flat=True
    )
    return sorted({*filters.reason_ids, *children})


@dataclass(frozen=True)
class Reasons:
    """The reason taxonomy (small), read once per digest: labels and children."""

    labels: dict[int, str]
    children: dict[int, list[int]]


def _reasons() -> Reasons:
    labels: dict[int, str] = {}
    children: dict[int, list[int]] = defaultdict(list)
    rows = ContactReason.objects.order_by().values_list("id", "name", "parent_id", "parent__name")
    for pk, name, parent_id, parent in rows:
        labels[pk] = f"{parent} › {name}" if parent_id else name
        if parent_id:
            children[parent_id].append(pk)
    return Reasons(labels, children)


class DigestReads:
    """Reads that the digests of one build task share, made once for all of them: the reason
    taxonomy and the latest stories per (period start, reasons), which do not depend on the
    reader (each digest still keeps the stories of its reader's scope). Lives as long as the
    task (seconds), so nothing is read from an older state than a digest read on its own."""

    def __init__(self) -> None:
        self._reasons: Reasons | None = None
        self._stories: dict[tuple[datetime, tuple[int, ...] | None], list[Story]] = {}

    def reasons(self) -> Reasons:
        if self._reasons is None:
            self._reasons = _reasons()
        return self._reasons

    def stories(self, *, since: datetime, reason_ids: list[int] | None) -> list[Story]:
        key = (since, None if reason_ids is None else tuple(sorted(reason_ids)))
        if key not in self._stories:
            self._stories[key] = stories_for_digest(since=since, reason_ids=reason_ids)
        return self._stories[key]


def with_children(filters: DigestFilters, reasons: Reasons) -> DigestFilters:
    """The filters with their reasons' children added, so that matching does not read them
    again (reason_ids_with_children())."""
    if not filters.reason_ids or filters.children_included:
        return filters
    chosen = {*filters.reason_ids}
    for reason_id in filters.reason_ids:
        chosen.update(reasons.children.get(reason_id, ()))
    return replace(filters, reason_ids=tuple(sorted(chosen)), children_included=True)


def matching_contacts(
    filters: DigestFilters, *, viewer: User, visible: QuerySet[Contact] | None = None
) -> QuerySet[Contact]:
    """Contacts within the subscriber's scope that pass every filter that is set. ``visible``:
    the subscriber's scope read already (contact_list_visible), for a digest's several reads."""
    contacts = contact_list_visible(viewer=viewer) if visible is None else visible
    reason_ids = reason_ids_with_children(filters)
    if reason_ids is not None:
        contacts = contacts.filter(reason_id__in=reason_ids)
    if filters.department_ids:
        contacts = contacts.filter(reason__department_id__in=filters.department_ids)
    if filters.team_ids:
        contacts = contacts.filter(team_id__in=filters.team_ids)
    if filters.channels:
        contacts = contacts.filter(channel__in=filters.channels)
    if filters.sentiment_at_most is not None:
        contacts = contacts.filter(sentiment__lte=filters.sentiment_at_most)
    if filters.tags:
        tagged = Q()
        for tag in filters.tags:
            if connection.vendor == "postgresql":
                tagged |= Q(tags__contains=[tag])
            else:
                # SQLite's JSON has no containment: match the quoted tag in the stored list.
                tagged |= Q(tags__icontains=f'"{tag}"')
        contacts = contacts.filter(tagged)
    return contacts


def _keywords_q(keywords: str) -> Q | None:
    keywords = keywords.strip()
    if not keywords:
        return None
    if connection.vendor == "postgresql":
        # As a subquery of ids: the condition names the table, which a query that nests this
        # one (counts per topic) would alias.
        return Q(
            id__in=RawSQL(
                "SELECT id FROM contacts_message "
                "WHERE search_vector @@ websearch_to_tsquery('english', %s)",
                [keywords],
            )
        )
    condition = Q()
    for word in keywords.replace('"', " ").split():
        if word.lower() == "or":
            continue
        if word.startswith("-") and len(word) > 1:
            condition &= ~Q(text__icontains=word[1:])
        else:
            condition &= Q(text__icontains=word)
    return condition


def matching_messages(
    filters: DigestFilters,
    *,
    viewer: User,
    visible: QuerySet[Contact] | None = None,
    start: datetime,
    end: datetime,
    messages_in: MessageRange | None = None,
) -> QuerySet[Message]:
    """The messages of the period (or of the id range ``messages_in``) that match, with their
    time as ``at``."""
    messages = Message.objects.annotate(at=Coalesce("sent_at", "contact__occurred_at")).filter(
        Exists(
            matching_contacts(filters, viewer=viewer, visible=visible).filter(
                id=OuterRef("contact_id")
            )
        )
    )
    return _message_filters(messages, filters, start=start, end=end, messages_in=messages_in)


def _message_filters(
    messages: QuerySet[Any],
    filters: DigestFilters,
    *,
    start: datetime,
    end: datetime,
    messages_in: MessageRange | None,
) -> QuerySet[Message]:
    """``messages`` (annotated with their time as ``at``) narrowed by what a subscription asks
    of messages: the period (or the id range ``messages_in``), our replies, keywords."""
    if messages_in is not None:
        messages = messages.filter(id__gt=messages_in[0], id__lte=messages_in[1])
    else:
        messages = messages.filter(at__gte=start, at__lt=end)
    if not filters.include_outgoing:
        messages = messages.filter(direction=Message.Direction.INCOMING)
    keywords = _keywords_q(filters.keywords)
    if keywords is not None:
        messages = messages.filter(keywords)
    return messages


NO_REASON = "No reason given"


def _reason_labels() -> dict[int, str]:
    """Every reason's label ("Billing › Double charge"): the taxonomy is small."""
    return _reasons().labels


def _topic_label(reason_id: int | None, labels: dict[int, str]) -> str:
    return labels.get(reason_id, NO_REASON) if reason_id else NO_REASON


@dataclass(frozen=True)
class PeriodCounts:
    """What the database counts of a period's matching messages."""

    threads_per_topic: Counter[str]
    threads: int
    messages: int


def _matched_sql(
    filters: DigestFilters,
    *,
    viewer: User,
    visible: QuerySet[Contact] | None = None,
    start: datetime,
    end: datetime,
    messages_in: MessageRange | None = None,
) -> tuple[str, list[Any]]:
    """The matching messages of the period (or of the id range) as SQL (PostgreSQL): id,
    contact_id, direction, at. The same rows as matching_messages(), without reading the wide
    message rows."""
    contacts = matching_contacts(filters, viewer=viewer, visible=visible).order_by().values("id")
    contacts_sql, contacts_params = contacts.query.sql_with_params()
    conditions = [f"p.contact_id IN ({contacts_sql})"]
    rows_sql = PERIOD_SQL if messages_in is None else RANGE_SQL
    rows_params: list[Any] = [start, end, start, end] if messages_in is None else [*messages_in]
    params: list[Any] = [*rows_params, *contacts_params]
    if not filters.include_outgoing:
        conditions.append("p.direction = %s")
        params.append(Message.Direction.INCOMING)
    if filters.keywords.strip():
        conditions.append(
            "p.id IN (SELECT id FROM contacts_message "
            "WHERE search_vector @@ websearch_to_tsquery('english', %s))"
        )
        params.append(filters.keywords.strip())
    sql = f"SELECT p.* FROM ({rows_sql}) p WHERE " + " AND ".join(conditions)  # noqa: S608
    return sql, params


def _summary_sql(
    filters: DigestFilters,
    *,
    viewer: User,
    summary: int,
    visible: QuerySet[Contact] | None = None,
) -> tuple[str, list[Any]]:
    """The matching threads of a summed-up period (loops/digests/periods.py) as SQL:
    contact_id, reason_id, messages, at (the newest matching message's time). The same
    threads, counts and times as grouping _matched_sql() by contact, when the summary is of
    the filters' keywords (loops/digests/periods.py). The scoped, filtered contacts are joined, not tested with IN, so each thread
    row costs one look-up of its contact by key, however many contacts there are."""
    contacts = (
        matching_contacts(filters, viewer=viewer, visible=visible)
        .order_by()
        .values("id", "reason_id")
    )
    contacts_sql, contacts_params = contacts.query.sql_with_params()
    if filters.include_outgoing:
        columns, condition = "t.messages AS messages, t.newest_at AS at", ""
    else:
        columns, condition = (
            "t.incoming AS messages, t.newest_incoming_at AS at",
            (" AND t.incoming > 0"),
        )
    sql = (
        f"SELECT t.contact_id, m.reason_id, {columns} FROM loops_digestperiodthread t "  # noqa: S608
        f"JOIN ({contacts_sql}) m ON m.id = t.contact_id WHERE t.period_id = %s{condition}"
    )
    return sql, [*contacts_params, summary]


def _counts_and_newest(
    threads: str, params: list[Any], *, limit: int
) -> tuple[list[tuple[int | None, int, int]], list[tuple[int, datetime, int]]]:
    """In one pass over ``threads`` (SQL of contact_id, reason_id, messages, at: one row per
    matching thread): (reason id, threads, messages) per reason, and (contact id, newest
    time, messages) of the newest ``limit`` threads (ties: the newer contact)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"WITH s AS MATERIALIZED ({threads}) "  # noqa: S608
            "SELECT 0, s.reason_id, count(*), sum(s.messages), NULL::timestamptz FROM s "
            "GROUP BY s.reason_id "
            "UNION ALL (SELECT 1, s.contact_id, s.messages, 0, s.at FROM s "
            "ORDER BY s.at DESC, s.contact_id DESC LIMIT %s)",
            [*params, limit],
        )
        rows = cursor.fetchall()
    counts = [(row[1], int(row[2]), int(row[3])) for row in rows if row[0] == 0]
    newest = [(row[1], row[4], int(row[2])) for row in rows if row[0] == 1]
    newest.sort(key=lambda row: (row[1], row[0]), reverse=True)  # UNION ALL keeps no order
    return counts, newest


def _matched_threads_sql(
    filters: DigestFilters,
    *,
    viewer: User,
    visible: QuerySet[Contact] | None = None,
    start: datetime,
    end: datetime,
    messages_in: MessageRange | None = None,
) -> tuple[str, list[Any]]:
    """The matching messages (_matched_sql) grouped by thread, with the thread's reason: the
    rows _counts_and_newest() reads, so a digest that must read messages (keywords, instant)
    scans its period once for both its counts and its newest threads."""
    matched, params = _matched_sql(
        filters, viewer=viewer, visible=visible, start=start, end=end, messages_in=messages_in
    )
    sql = (
        "SELECT g.contact_id, c.reason_id, g.messages, g.at FROM ("  # noqa: S608
        f"SELECT p.contact_id, count(*) AS messages, max(p.at) AS at FROM ({matched}) p "
        "GROUP BY p.contact_id) g JOIN contacts_contact c ON c.id = g.contact_id"
    )
    return sql, params


def _summary_of(
    filters: DigestFilters,
    *,
    start: datetime,
    end: datetime,
    messages_in: MessageRange | None = None,
) -> int | None:
    """The period's fresh summary, of the messages matching the filters' keywords if any,
    when it can stand in for the messages (read by time, not by arrival)."""
    if messages_in is not None:
        return None
    return digest_period_fresh(start=start, end=end, keywords=filters.keywords)


def _period_counts(
    filters: DigestFilters,
    *,
    viewer: User,
    visible: QuerySet[Contact] | None = None,
    start: datetime,
    end: datetime,
    labels: dict[int, str] | None = None,
    messages_in: MessageRange | None = None,
) -> PeriodCounts:
    """Threads per topic, threads and messages of a period (or an id range), in one query
    (two with a summary of the period to look up)."""
    summary = _summary_of(filters, start=start, end=end, messages_in=messages_in)
    if summary is not None:
        threads, params = _summary_sql(filters, viewer=viewer, visible=visible, summary=summary)
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT s.reason_id, count(*), sum(s.messages) "  # noqa: S608
                f"FROM ({threads}) s GROUP BY s.reason_id",
                params,
            )
            rows = cursor.fetchall()
    elif connection.vendor == "postgresql":
        matched, params = _matched_sql(
            filters, viewer=viewer, visible=visible, start=start, end=end, messages_in=messages_in
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT c.reason_id, count(DISTINCT p.contact_id), count(*) "  # noqa: S608
                f"FROM ({matched}) p JOIN contacts_contact c ON c.id = p.contact_id "
                "GROUP BY c.reason_id",
                params,
            )
            rows = cursor.fetchall()
    else:
        rows = list(
            matching_messages(
                filters,
                viewer=viewer,
                visible=visible,
                start=start,
                end=end,
                messages_in=messages_in,
            )
            .order_by()
            .values("contact__reason_id")
            .annotate(threads=Count("contact_id", distinct=True), messages=Count("id"))
            .values_list("contact__reason_id", "threads", "messages")
        )
    return _counted(rows, labels)


def _counted(rows: list[Any], labels: dict[int, str] | None) -> PeriodCounts:
    if rows and labels is None:
        labels = _reason_labels()
    per_topic: Counter[str] = Counter()
    threads = messages = 0
    for reason_id, thread_count, message_count in rows:
        label = _topic_label(reason_id, labels or {})
        per_topic[label] += thread_count
        threads += thread_count
        messages += message_count
    return PeriodCounts(per_topic, threads, messages)


def period_has_messages(
    filters: DigestFilters,
    *,
    viewer: User,
    start: datetime,
    end: datetime,
    messages_in: MessageRange | None = None,
) -> bool:
    """Whether anything matches in the period or the id range (the instant digests' check,
    every minute)."""
    if connection.vendor == "postgresql":
        matched, params = _matched_sql(
            filters, viewer=viewer, start=start, end=end, messages_in=messages_in
        )
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT EXISTS ({matched})", params)
            return bool(cursor.fetchone()[0])
    return matching_messages(
        filters, viewer=viewer, start=start, end=end, messages_in=messages_in
    ).exists()


def _newest_threads(
    filters: DigestFilters,
    *,
    viewer: User,
    visible: QuerySet[Contact] | None = None,
    start: datetime,
    end: datetime,
    limit: int,
    messages_in: MessageRange | None = None,
) -> list[tuple[int, datetime, int]]:
    """(contact id, newest message time, messages) of the newest ``limit`` threads, through
    the ORM (SQLite; PostgreSQL reads them with the counts: _counts_and_newest)."""
    return list(
        matching_messages(
            filters, viewer=viewer, visible=visible, start=start, end=end, messages_in=messages_in
        )
        .order_by()
        .values("contact_id")
        .annotate(newest=Max("at"), messages=Count("id"))
        .order_by("-newest", "-contact_id")
        .values_list("contact_id", "newest", "messages")[:limit]
    )


def digest_content(
    filters: DigestFilters,
    *,
    viewer: User,
    start: datetime,
    end: datetime,
    now: datetime | None = None,
    messages_in: MessageRange | None = None,
    reads: DigestReads | None = None,
) -> DigestContent:
    """Everything one digest shows, in a fixed number of queries whose result sizes do not
    grow with the number of matching messages: the database counts and ranks the threads,
    Python only sees the (at most MAX_THREADS) threads shown and their last messages, read
    as values. With ``messages_in`` (instant digests) the messages are those of that id
    range; the period before, for the counts per topic, is still the time before ``start``.
    ``reads``: what the digests of one build share (DigestReads)."""
    now = now or timezone.now()
    reads = reads or DigestReads()
    reasons = reads.reasons()
    filters = with_children(filters, reasons)
    visible = contact_list_visible(viewer=viewer)  # the scope, read once for every query
    labels = reasons.labels
    summary = _summary_of(filters, start=start, end=end, messages_in=messages_in)
    # Threads newest first, by their newest message of the period (ties: the newer contact).
    if summary is not None:
        rows, ranked = _counts_and_newest(
            *_summary_sql(filters, viewer=viewer, visible=visible, summary=summary),
            limit=MAX_THREADS,
        )
        counts = _counted(rows, labels)
    elif connection.vendor == "postgresql":
        rows, ranked = _counts_and_newest(
            *_matched_threads_sql(
                filters,
                viewer=viewer,
                visible=visible,
                start=start,
                end=end,
                messages_in=messages_in,
            ),
            limit=MAX_THREADS,
        )
        counts = _counted(rows, labels)
    else:
        counts = _period_counts(
            filters,
            viewer=viewer,
            visible=visible,
            start=start,
            end=end,
            labels=labels,
            messages_in=messages_in,
        )
        ranked = (
            _newest_threads(
                filters,
                viewer=viewer,
                visible=visible,
                start=start,
                end=end,
                limit=MAX_THREADS,
                messages_in=messages_in,
            )
            if counts.threads
            else []
        )
    thread_count, message_count = counts.threads, counts.messages
    shown_ids = [contact_id for contact_id, _, _ in ranked]
    contacts = _contacts_shown(shown_ids, labels) if shown_ids else {}
    by_contact = (
        _latest_messages(filters, shown_ids, start=start, end=end, messages_in=messages_in)
        if shown_ids
        else {}
    )
    threads_by_topic: dict[str, list[ThreadShown]] = defaultdict(list)
    for contact_id, newest, count in ranked:
        contact, topic = contacts[contact_id]
        shown = by_contact.get(contact_id, [])
        threads_by_topic[topic].append(ThreadShown(contact, shown, count - len(shown), newest))
    previous_start = start - (end - start)
    previous = (
        _period_counts(
            filters, viewer=viewer, visible=visible, start=previous_start, end=start, labels=labels
        ).threads_per_topic
        if thread_count
        else Counter()
    )
    topics = [
        TopicShown(label, threads_by_topic.get(label, []), count, previous.get(label, 0))
        for label, count in sorted(
            counts.threads_per_topic.items(), key=lambda item: (-item[1], item[0])
        )
    ]
    reason_ids = reason_ids_with_children(filters)
    return DigestContent(
        start=start,
        end=end,
        messages_in=messages_in,
        topics=topics,
        thread_count=thread_count,
        shown_threads=len(shown_ids),
        message_count=message_count,
        issues=ageing_issues(viewer=viewer, reason_ids=reason_ids, now=now),
        stories=_stories(
            visible=visible, stories=reads.stories(since=start, reason_ids=reason_ids)
        ),
    )


_CHANNELS = dict(Channel.choices)


def _contacts_shown(
    contact_ids: list[int], labels: dict[int, str]
) -> dict[int, tuple[ContactShown, str]]:
    """{contact id: (what the digest shows of it, its topic)}, in one query of values."""
    rows = Contact.objects.filter(id__in=contact_ids).values_list(
        "id",
        "channel",
        "subject",
        "reason_id",
        "customer_id",
        "customer__name",
        "customer__external_ref",
        "customer__erased_at",
    )
    shown = {}
    for pk, channel, subject, reason_id, customer_id, name, ref, erased_at in rows:
        customer = (
            Customer.label_of(pk=customer_id, name=name, external_ref=ref, erased_at=erased_at)
            if customer_id
            else ""
        )
        contact = ContactShown(pk, _CHANNELS.get(channel, channel), customer, subject)
        shown[pk] = (contact, _topic_label(reason_id, labels))
    return shown


def _latest_messages(
    filters: DigestFilters,
    contact_ids: list[int],
    *,
    start: datetime,
    end: datetime,
    messages_in: MessageRange | None,
) -> dict[int, list[MessageShown]]:
    """The last MESSAGES_PER_THREAD matching messages of each thread shown, oldest first, as
    values, ranked by the database. The threads come from the subscriber's scoped, filtered
    contacts already: only the message filters (time or id range, our replies, keywords)
    apply here."""
    messages = _message_filters(
        Message.objects.filter(contact_id__in=contact_ids).annotate(
            at=Coalesce("sent_at", "contact__occurred_at")
        ),
        filters,
        start=start,
        end=end,
        messages_in=messages_in,
    )
    latest = (
        messages.annotate(
            from_last=Window(
                RowNumber(),
                partition_by=[F("contact_id")],
                order_by=[F("position").desc(), F("id").desc()],
            )
        )
        .filter(from_last__lte=MESSAGES_PER_THREAD)
        .order_by("contact_id", "position", "id")
        .values_list("contact_id", "direction", "at", "text")
    )
    by_contact: dict[int, list[MessageShown]] = defaultdict(list)
    for contact_id, direction, at, text in latest:
        by_contact[contact_id].append(MessageShown(direction, at, text))
    return by_contact


@dataclass(frozen=True)
class ThreadRow:
    contact: Contact
    newest_at: datetime
    messages: int


def digest_threads(
    filters: DigestFilters,
    *,
    viewer: User,
    start: datetime,
    end: datetime,
    offset: int = 0,
    limit: int = 100,
    messages_in: MessageRange | None = None,
) -> tuple[list[ThreadRow], int]:
    """Every matching thread of a period, newest first (the page a digest's "and N more"
    links to), a page at a time, with the total. With ``messages_in`` (an instant digest's),
    the messages of that id range, read by arrival as the digest read them."""
    messages = matching_messages(
        filters, viewer=viewer, start=start, end=end, messages_in=messages_in
    ).order_by()
    total = messages.aggregate(threads=Count("contact_id", distinct=True))["threads"] or 0
    ranked = list(
        messages.values("contact_id")
        .annotate(newest=Max("at"), messages=Count("id"))
        .order_by("-newest", "-contact_id")
        .values_list("contact_id", "newest", "messages")[offset : offset + limit]
    )
    contacts = Contact.objects.select_related("customer", "reason__parent", "team").in_bulk(
        [contact_id for contact_id, _, _ in ranked]
    )
    rows = [ThreadRow(contacts[cid], newest, count) for cid, newest, count in ranked]
    return rows, total


def ageing_issues(*, viewer: User, reason_ids: list[int] | None, now: datetime) -> list[Issue]:
    """Open issues on the subscription's reasons (any, without reasons) that are escalated or
    older than AGEING_DAYS, the oldest first, within the subscriber's issue scope."""
    issues = (
        issue_list_visible(viewer=viewer)
        .filter(merged_into__isnull=True)
        .exclude(status__in=OPEN_EXCLUDED)
        .annotate(escalated=Exists(Escalation.objects.filter(issue_id=OuterRef("id"))))
        .filter(Q(escalated=True) | Q(created_at__lte=now - timedelta(days=AGEING_DAYS)))
    )
    if reason_ids is not None:
        issues = issues.filter(reasons__id__in=reason_ids).distinct()
    return list(issues.select_related("owner").order_by("created_at", "id")[:MAX_ISSUES])


def _stories(*, visible: QuerySet[Contact], stories: list[Story]) -> list[Story]:
    """The stories of contacts in ``visible`` (the reader's scope)."""
    if not stories:
        return []
    seen = set(
        visible.filter(id__in=[story.contact_id for story in stories]).values_list("id", flat=True)
    )
    return [story for story in stories if story.contact_id in seen]


def digest_problems() -> QuerySet[Digest]:
    """Digests that did not reach their reader: the send failed, its fate is unknown (the
    window of docs/digests.md), or the ESP reported a bounce, complaint or rejection."""
    return (
        Digest.objects.filter(
            Q(send_once__status__in=["failed", "unknown"])
            | Q(delivery__in=["bounced", "complained", "rejected", "failed"])
        )
        .select_related("user", "subscription", "send_once")
        .order_by("-period_end", "-id")
    )
