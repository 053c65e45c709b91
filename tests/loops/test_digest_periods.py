"""A period summed up once for every digest that covers it (loops/digests/periods.py): a
digest read from the summary is the digest read from the messages, for every filter and
every role's scope; the summary is used only while fresh and only for a period that was over;
two builds make one; keyword digests read a summary of the messages matching their keywords,
shared by the subscriptions with the same keywords."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from contacts.models import Contact, Message
from loops.digests import periods
from loops.digests.periods import digest_period_build, digest_period_fresh, digest_period_texts
from loops.digests.selectors import DigestFilters, digest_content
from loops.digests.services import (
    SubscriptionData,
    digests_share_periods,
    subscription_create,
)
from loops.models import (
    DigestPeriod,
    DigestPeriodText,
    DigestPeriodTexts,
    DigestPeriodThread,
    DigestSubscription,
)
from tests.loops.world import contact_of, reason

pytestmark = pytest.mark.django_db

START = datetime(2026, 3, 10, tzinfo=UTC)
END = START + timedelta(days=1)


@pytest.fixture(autouse=True)
def _postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("period summaries are PostgreSQL's (SQLite reads the messages)")


def thread(team, *, at, directions=("incoming",), dated=True, reason=None, **contact):
    made = contact_of(team, at=at, reason=reason)
    if contact:
        Contact.objects.filter(pk=made.pk).update(**contact)
    for position, direction in enumerate(directions):
        Message.objects.create(
            contact=made,
            external_id=f"m{position}",
            position=position,
            direction=direction,
            text=f"message {position}",
            sent_at=at + timedelta(minutes=position) if dated else None,
        )
    return made


@pytest.fixture
def world(cast):
    billing = reason("Billing", department=cast.dept_a)
    double = reason("Double charge", parent=billing, department=cast.dept_a)
    outage = reason("Outage", department=cast.dept_b)
    hour = timedelta(hours=1)
    made = [
        thread(cast.team_a, at=START, reason=double),  # exactly at the start: in
        thread(cast.team_a, at=END, reason=double),  # exactly at the end: the next period
        thread(cast.team_a, at=END - timedelta(minutes=1), reason=billing, dated=False),
        thread(cast.team_a, at=START + hour, directions=("incoming", "outgoing", "incoming")),
        thread(cast.team_a, at=START + 2 * hour, directions=("outgoing",), reason=billing),
        thread(cast.team_b, at=START + 3 * hour, reason=outage, channel="email", sentiment=-0.7),
        thread(cast.team_b, at=START + 4 * hour, reason=outage, tags=["vip"], sentiment=0.4),
        thread(cast.team_b, at=START - hour, reason=outage),  # the period before
        thread(cast.team_a, at=START - 2 * hour, reason=double, dated=False),  # before, undated
    ]
    # A thread that starts before the period and goes on in it: only its messages in it count.
    late = made[0]
    Message.objects.create(
        contact=late, external_id="late", position=5, direction="outgoing", text="reply",
        sent_at=START + 5 * hour,
    )  # fmt: skip
    return {"billing": billing, "double": double, "outage": outage, "threads": made}


def summary_of(shown):
    return (
        shown.thread_count,
        shown.message_count,
        shown.shown_threads,
        [
            (
                topic.label,
                topic.count,
                topic.previous,
                [(t.contact.pk, t.newest_at, t.trimmed, len(t.messages)) for t in topic.threads],
            )
            for topic in shown.topics
        ],
    )


def read(viewer, filters):
    return summary_of(digest_content(filters, viewer=viewer, start=START, end=END, now=END))


FILTERS = {
    "everything": lambda w, c: DigestFilters(),
    "a parent reason": lambda w, c: DigestFilters(reason_ids=(w["billing"].pk,)),
    "without our replies": lambda w, c: DigestFilters(include_outgoing=False),
    "a department, no replies": lambda w, c: DigestFilters(
        department_ids=(c.dept_b.pk,), include_outgoing=False
    ),
    "a team": lambda w, c: DigestFilters(team_ids=(c.team_a.pk,)),
    "a channel": lambda w, c: DigestFilters(channels=("email",)),
    "a tag": lambda w, c: DigestFilters(tags=("vip",)),
    "sentiment": lambda w, c: DigestFilters(sentiment_at_most=-0.5),
    "keywords": lambda w, c: DigestFilters(keywords="message"),
    "keywords, one word left out": lambda w, c: DigestFilters(keywords="message -1"),
    "keywords without our replies": lambda w, c: DigestFilters(
        keywords="reply OR message", include_outgoing=False
    ),
    "keywords and a team": lambda w, c: DigestFilters(keywords="reply", team_ids=(c.team_a.pk,)),
}


@pytest.mark.parametrize("viewer", ["executive", "manager", "other_manager", "rep", "outsider"])
@pytest.mark.parametrize("name", FILTERS)
def test_the_summary_gives_the_digest_the_messages_give(cast, world, viewer, name):
    user = getattr(cast, viewer)
    filters = FILTERS[name](world, cast)
    from_messages = read(user, filters)
    keywords = filters.keywords
    assert digest_period_build(start=START, end=END, keywords=keywords) is not None
    assert digest_period_build(start=START - timedelta(days=1), end=START, keywords=keywords)
    with CaptureQueriesContext(connection) as queries:
        assert read(user, filters) == from_messages
    assert [q for q in queries if "loops_digestperiodthread" in q["sql"]]


def test_the_figures_themselves(cast, world):
    digest_period_build(start=START, end=END)
    digest_period_build(start=START - timedelta(days=1), end=START)
    thread_count, messages, shown, topics = read(cast.executive, DigestFilters())
    # Six threads in the period (the one at its end is not) and nine messages: the thread at
    # the start with its later reply (2), the undated one (1), the three-message one (3), and
    # three of one message each.
    assert (thread_count, messages, shown) == (6, 9, 6)
    assert [(label, count, previous) for label, count, previous, _ in topics] == [
        ("Billing", 2, 0),
        ("Outage", 2, 1),
        ("Billing › Double charge", 1, 1),
        ("No reason given", 1, 0),
    ]
    # Without our replies: the thread of one outgoing message drops out, the late reply too.
    thread_count, messages, _, _ = read(cast.executive, DigestFilters(include_outgoing=False))
    assert (thread_count, messages) == (5, 6)
    # The rep of team A sees team A's threads only.
    thread_count, _, _, topics = read(cast.rep, DigestFilters())
    assert thread_count == 4
    assert "Outage" not in [label for label, *_ in topics]


def test_a_digest_reads_the_summary_not_the_messages(cast, world):
    digest_period_build(start=START, end=END)
    digest_period_build(start=START - timedelta(days=1), end=START)
    with CaptureQueriesContext(connection) as queries:
        digest_content(DigestFilters(), viewer=cast.executive, start=START, end=END, now=END)
    summary_reads = [q["sql"] for q in queries if "loops_digestperiodthread" in q["sql"]]
    assert len(summary_reads) == 2  # counts and newest threads in one, the period before
    # Only the shown threads' last messages are read from the messages themselves.
    message_reads = [q["sql"] for q in queries if "contacts_message" in q["sql"]]
    assert len(message_reads) == 1


def test_keywords_read_a_summary_of_their_own_matches(cast, world):
    Message.objects.filter(contact=world["threads"][3], position=0).update(text="refund please")
    Message.objects.filter(contact=world["threads"][5]).update(text="Refunds, again")
    refunds = DigestFilters(keywords="refund")
    # The summary of every message is not one of "refund": the digest reads the messages.
    digest_period_build(start=START, end=END)
    with CaptureQueriesContext(connection) as queries:
        shown = digest_content(refunds, viewer=cast.executive, start=START, end=END, now=END)
    assert (shown.thread_count, shown.message_count) == (2, 2)
    assert not [q for q in queries if "loops_digestperiodthread" in q["sql"]]
    # Its own summary: the matching threads only, and it is what the digest reads.
    summary = digest_period_build(start=START, end=END, keywords=" refund ")
    assert summary != digest_period_fresh(start=START, end=END)
    assert summary == digest_period_fresh(start=START, end=END, keywords="refund")
    counted = DigestPeriodThread.objects.filter(period_id=summary)
    assert sorted(counted.values_list("contact_id", "messages")) == [
        (world["threads"][3].pk, 1),
        (world["threads"][5].pk, 1),
    ]
    digest_period_build(start=START - timedelta(days=1), end=START, keywords="refund")
    with CaptureQueriesContext(connection) as queries:
        again = digest_content(refunds, viewer=cast.executive, start=START, end=END, now=END)
    assert summary_of(again) == summary_of(shown)
    assert len([q for q in queries if "loops_digestperiodthread" in q["sql"]]) == 2
    # Other keywords have none yet.
    assert digest_period_fresh(start=START, end=END, keywords="outage") is None


def test_the_periods_texts_are_copied_once_for_every_keywords(cast, world):
    first = digest_period_build(start=START, end=END, keywords="message")
    texts = DigestPeriodTexts.objects.get()
    # Every message of the period (nine) with its search vector, whatever the keywords.
    assert (texts.start, texts.end) == (START, END)
    assert DigestPeriodText.objects.filter(texts=texts).count() == 9
    second = digest_period_build(start=START, end=END, keywords="reply")
    assert DigestPeriodTexts.objects.get().pk == texts.pk  # the same texts, not copied again
    assert first != second
    # A keyword summary is as old as the texts it was read from: they go stale together.
    built = DigestPeriod.objects.filter(keywords__in=["message", "reply"])
    assert set(built.values_list("built_at", flat=True)) == {texts.built_at}
    # Stale texts are copied again, with the messages stored since; old ones are dropped.
    DigestPeriodTexts.objects.update(built_at=datetime.now(UTC) - periods.FRESH * 2)
    DigestPeriod.objects.update(built_at=datetime.now(UTC) - periods.FRESH * 2)
    thread(cast.team_a, at=START + timedelta(hours=7), directions=("incoming", "outgoing"))
    old = DigestPeriodTexts.objects.create(
        start=START - timedelta(days=9),
        end=START - timedelta(days=8),
        built_at=datetime.now(UTC) - periods.KEEP - timedelta(seconds=1),
    )
    digest_period_build(start=START, end=END, keywords="message")
    renewed = DigestPeriodTexts.objects.get()
    assert renewed.pk not in (texts.pk, old.pk)
    assert DigestPeriodText.objects.filter(texts=renewed).count() == 11
    assert not DigestPeriodText.objects.exclude(texts=renewed).exists()
    # None for a period not over, nor anywhere but on PostgreSQL (the caller's check).
    assert digest_period_texts(start=END, end=datetime.now(UTC) + timedelta(hours=1)) is None


def test_used_only_while_fresh(cast, world, monkeypatch):
    digest_period_build(start=START, end=END)
    before = read(cast.executive, DigestFilters())
    # A message stored after the build, in the period: a fresh summary leaves it out...
    thread(cast.team_a, at=START + timedelta(hours=6))
    assert read(cast.executive, DigestFilters()) == before
    # ...one built more than FRESH ago is not used: the digest reads the messages again.
    DigestPeriod.objects.update(built_at=datetime.now(UTC) - periods.FRESH - timedelta(seconds=1))
    assert digest_period_fresh(start=START, end=END) is None
    assert read(cast.executive, DigestFilters())[0] == before[0] + 1
    # Exactly FRESH old still counts as fresh.
    now = datetime.now(UTC)
    monkeypatch.setattr(periods.timezone, "now", lambda: now)
    DigestPeriod.objects.update(built_at=now - periods.FRESH)
    assert digest_period_fresh(start=START, end=END) is not None


def test_a_period_not_over_is_not_summed_up(cast, monkeypatch):
    monkeypatch.setattr(periods.timezone, "now", lambda: END - timedelta(seconds=1))
    assert digest_period_build(start=START, end=END) is None
    assert not DigestPeriod.objects.exists()
    # A summary built before its period ended (a clock jump) is never used.
    DigestPeriod.objects.create(start=START, end=END, built_at=END - timedelta(seconds=1))
    monkeypatch.setattr(periods.timezone, "now", lambda: END + timedelta(minutes=1))
    assert digest_period_fresh(start=START, end=END) is None


def test_built_once_and_stale_summaries_replaced_and_old_ones_dropped(cast, world, monkeypatch):
    first = digest_period_build(start=START, end=END)
    assert digest_period_build(start=START, end=END) == first
    assert DigestPeriodThread.objects.filter(period_id=first).count() == 6
    stale = datetime.now(UTC) - periods.FRESH - timedelta(minutes=1)
    DigestPeriod.objects.filter(pk=first).update(built_at=stale)
    old = DigestPeriod.objects.create(
        start=START - timedelta(days=9),
        end=START - timedelta(days=8),
        built_at=datetime.now(UTC) - periods.KEEP - timedelta(seconds=1),
    )
    second = digest_period_build(start=START, end=END)
    assert second != first
    assert list(DigestPeriod.objects.values_list("id", flat=True)) == [second]
    assert DigestPeriodThread.objects.filter(period_id=second).count() == 6
    assert not DigestPeriodThread.objects.filter(period_id__in=[first, old.pk]).exists()


def test_a_chunk_sums_up_its_periods_and_the_ones_before(cast, world):
    for user in (cast.executive, cast.manager):
        user.time_zone = "UTC"
        user.save(update_fields=["time_zone"])
    daily = subscription_create(user=cast.executive, data=_daily("Everything"), by=cast.executive)
    refunds = subscription_create(
        user=cast.manager, data=_daily("Refunds", keywords="refund"), by=cast.manager
    )
    DigestSubscription.objects.update(sent_until=START)
    also_refunds = subscription_create(
        user=cast.executive, data=_daily("Refunds too", keywords="refund"), by=cast.executive
    )
    DigestSubscription.objects.update(sent_until=START)
    # Keyword digests: their keywords' summaries, once for the two subscriptions that share them.
    ready = digests_share_periods(
        subscription_ids=[refunds.pk, also_refunds.pk], now=END + timedelta(hours=1)
    )
    assert ready == 2
    assert sorted(DigestPeriod.objects.values_list("start", "end", "keywords")) == [
        (START - timedelta(days=1), START, "refund"),
        (START, END, "refund"),
    ]
    ready = digests_share_periods(
        subscription_ids=[daily.pk, refunds.pk, also_refunds.pk], now=END + timedelta(hours=1)
    )
    assert ready == 4
    assert sorted(DigestPeriod.objects.values_list("start", "end", "keywords")) == [
        (START - timedelta(days=1), START, ""),
        (START - timedelta(days=1), START, "refund"),
        (START, END, ""),
        (START, END, "refund"),
    ]


def _daily(name, keywords=""):
    return SubscriptionData(name=name, frequency="daily", hour=0, keywords=keywords)
