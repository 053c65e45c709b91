"""The bcc digests: what a digest holds (scope, filters, grouping, limits, escaping), exactly
one per subscription and period, missed periods merged, empty periods recorded, instant
batching, the signed unsubscribe link, enrolment."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.urls import reverse

from contacts.models import Contact, Message
from feedback.models import Story
from loops.access import enrollable_users
from loops.digests.links import digest_unsubscribe_path
from loops.digests.selectors import (
    MAX_THREADS,
    MESSAGES_PER_THREAD,
    DigestFilters,
    digest_content,
)
from loops.digests.services import (
    SEND_ONCE_PURPOSE,
    SubscriptionData,
    digest_email_context,
    digests_send_due,
    digests_send_instant,
    subscription_create,
    subscriptions_enrol,
)
from loops.models import Digest, DigestSubscription
from tests.factories import UserFactory
from tests.loops.world import contact_of, reason
from voc.core.models import SendOnce
from voc.core.sendonce import send_once_deliver
from voc.people.roles import Role

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)  # a Wednesday


def thread(team, *, at=DAY, texts=("Charged twice!",), reason=None, outgoing_reply=""):
    contact = contact_of(team, at=at, reason=reason)
    for position, text in enumerate(texts):
        Message.objects.create(
            contact=contact,
            external_id=f"m{position}",
            position=position,
            direction="incoming",
            text=text,
            sent_at=at + timedelta(minutes=position),
        )
    if outgoing_reply:
        Message.objects.create(
            contact=contact,
            external_id="reply",
            position=len(texts),
            direction="outgoing",
            text=outgoing_reply,
            sent_at=at + timedelta(hours=1),
        )
    return contact


ANY = DigestFilters()


def content(viewer, filters=ANY, start=DAY - timedelta(days=1), end=DAY + timedelta(days=1)):
    return digest_content(filters, viewer=viewer, start=start, end=end, now=DAY)


def deliver_all():
    for email in SendOnce.objects.filter(status=SendOnce.Status.PENDING).order_by("id"):
        assert send_once_deliver(email_id=email.id) == "sent"


def test_scope_reasons_with_children_and_outgoing(cast):
    billing = reason("Billing", department=cast.dept_a)
    double = reason("Double charge", parent=billing, department=cast.dept_a)
    outage = reason("Outage", department=cast.dept_b)
    mine = thread(cast.team_a, reason=double, outgoing_reply="Refunded")
    thread(cast.team_b, reason=outage)
    # A rep of team A sees only team A's thread, whatever the filters say.
    shown = content(cast.rep)
    assert [t.contact.pk for topic in shown.topics for t in topic.threads] == [mine.pk]
    assert shown.message_count == 2
    # Billing includes its child reason; without our replies, one message.
    filtered = content(
        cast.executive, DigestFilters(reason_ids=(billing.pk,), include_outgoing=False)
    )
    assert filtered.thread_count == 1 and filtered.message_count == 1
    assert filtered.topics[0].label == "Billing › Double charge"
    assert content(cast.executive).thread_count == 2


def test_period_boundaries_and_previous_period_counts(cast):
    start, end = DAY, DAY + timedelta(days=1)
    thread(cast.team_a, at=start)  # exactly at the start: in
    thread(cast.team_a, at=end)  # exactly at the end: next period
    thread(cast.team_a, at=start - timedelta(hours=3))  # the period before
    shown = content(cast.executive, start=start, end=end)
    assert shown.thread_count == 1
    assert (shown.topics[0].count, shown.topics[0].previous) == (1, 1)


def test_at_most_50_threads_newest_first_and_long_threads_trimmed(cast):
    for n in range(MAX_THREADS + 2):
        thread(cast.team_a, at=DAY - timedelta(minutes=n))
    long = thread(cast.team_a, at=DAY + timedelta(hours=1), texts=[f"m{n}" for n in range(9)])
    shown = content(cast.executive)
    threads = [t for topic in shown.topics for t in topic.threads]
    assert len(threads) == MAX_THREADS and shown.more_threads == 3
    assert threads[0].contact.pk == long.pk
    assert [m.text for m in threads[0].messages] == [f"m{n}" for n in range(3, 9)]
    assert threads[0].trimmed == 9 - MESSAGES_PER_THREAD


def test_keywords_channels_tags_and_sentiment(cast):
    a = thread(cast.team_a, texts=("The refund never arrived",))
    b = thread(cast.team_a, texts=("Router keeps dropping",))
    Contact.objects.filter(pk=a.pk).update(tags=["vip"], sentiment=-0.8)
    Contact.objects.filter(pk=b.pk).update(channel="email", sentiment=0.2)

    def ids(**kw):
        shown = content(cast.executive, DigestFilters(**kw))
        return sorted(t.contact.pk for topic in shown.topics for t in topic.threads)

    assert ids(keywords="refund") == [a.pk]
    assert ids(keywords="-refund") == [b.pk]
    assert ids(channels=("email",)) == [b.pk]
    assert ids(tags=("vip",)) == [a.pk]
    assert ids(sentiment_at_most=-0.5) == [a.pk]


def subscribe(user, **kw):
    data = SubscriptionData(name=kw.pop("name", "Billing"), **kw)
    subscription = subscription_create(user=user, data=data, by=user)
    return subscription


def test_one_digest_per_period_and_an_empty_period_is_not_sent(cast):
    subscription = subscribe(cast.executive, hour=8)
    DigestSubscription.objects.filter(pk=subscription.pk).update(
        sent_until=datetime(2026, 1, 13, 8, tzinfo=UTC)
    )
    thread(cast.team_a, at=datetime(2026, 1, 13, 20, tzinfo=UTC), texts=("<b>bold</b> & co",))
    now = datetime(2026, 1, 14, 9, tzinfo=UTC)
    first = digests_send_due(now=now)
    again = digests_send_due(now=now)
    deliver_all()
    assert (first.queued, first.empty, again.queued, again.empty) == (1, 0, 0, 0)
    digest = Digest.objects.get()
    assert digest.period_keys == ["2026-01-14"]
    assert (digest.period_start, digest.period_end) == (
        datetime(2026, 1, 13, 8, tzinfo=UTC),
        datetime(2026, 1, 14, 8, tzinfo=UTC),
    )
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in digest.html and "<b>bold</b>" not in digest.html
    assert "<b>bold</b> & co" in digest.text
    email = SendOnce.objects.get(purpose=SEND_ONCE_PURPOSE)
    assert email.key == f"digest:{digest.pk}" and email.to == [cast.executive.email]
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.subject == "Billing: 1 conversation"
    assert sent.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert (
        digest_unsubscribe_path(subscription).split("/")[-3]
        in sent.extra_headers["List-Unsubscribe"]
        or "unsubscribe" in sent.extra_headers["List-Unsubscribe"]
    )
    # The next day has nothing: recorded as empty, nothing sent.
    later = digests_send_due(now=now + timedelta(days=1))
    deliver_all()
    assert (later.queued, later.empty) == (0, 1)
    assert Digest.objects.filter(status=Digest.Status.EMPTY).count() == 1
    assert len(mail.outbox) == 1


def test_missed_periods_merge_into_one_digest(cast):
    subscription = subscribe(cast.executive, hour=8)
    DigestSubscription.objects.filter(pk=subscription.pk).update(
        sent_until=datetime(2026, 1, 10, 8, tzinfo=UTC)
    )
    thread(cast.team_a, at=datetime(2026, 1, 11, 10, tzinfo=UTC))
    thread(cast.team_a, at=datetime(2026, 1, 13, 10, tzinfo=UTC))
    run = digests_send_due(now=datetime(2026, 1, 14, 9, tzinfo=UTC))
    assert run.queued == 1
    digest = Digest.objects.get()
    assert digest.period_keys == ["2026-01-11", "2026-01-12", "2026-01-13", "2026-01-14"]
    assert digest.thread_count == 2
    assert "(4 periods)" in digest.subject


def test_a_weekly_digest_in_the_subscribers_time_zone(cast):
    cast.executive.time_zone = "America/New_York"
    cast.executive.save()
    subscription = subscribe(cast.executive, frequency="weekly", weekday=0, hour=9)
    DigestSubscription.objects.filter(pk=subscription.pk).update(
        sent_until=datetime(2026, 1, 5, 14, tzinfo=UTC)
    )
    # Monday 12 January, 09:00 in New York is 14:00 UTC: one second before, nothing.
    assert digests_send_due(now=datetime(2026, 1, 12, 13, 59, 59, tzinfo=UTC)).empty == 0
    run = digests_send_due(now=datetime(2026, 1, 12, 14, tzinfo=UTC))
    assert run.empty == 1
    assert Digest.objects.get().period_end == datetime(2026, 1, 12, 14, tzinfo=UTC)


def test_inactive_people_and_stopped_subscriptions_get_nothing(cast):
    stopped = subscribe(cast.manager)
    stopped.active = False
    stopped.save()
    gone = subscribe(cast.executive)
    cast.executive.is_active = False
    cast.executive.save()
    later = gone.created_at + timedelta(days=3)
    assert digests_send_due(now=later) == digests_send_due(now=later)
    assert not Digest.objects.exists()


def test_instant_batches_and_waits_for_something_to_say(cast):
    subscription = subscribe(cast.executive, frequency="instant")
    created = subscription.created_at
    assert digests_send_instant(now=created + timedelta(minutes=10)).queued == 0  # nothing yet
    thread(cast.team_a, at=created + timedelta(minutes=11))
    thread(cast.team_a, at=created + timedelta(minutes=12))
    # Two arrivals in a burst: within 5 minutes of the cursor... the cursor is still at
    # creation, so the first run after them sends both at once.
    assert digests_send_instant(now=created + timedelta(minutes=13)).queued == 1
    thread(cast.team_a, at=created + timedelta(minutes=14))
    # Less than 5 minutes since the last digest: it waits; at exactly 5 it goes.
    assert digests_send_instant(now=created + timedelta(minutes=17, seconds=59)).queued == 0
    assert digests_send_instant(now=created + timedelta(minutes=18)).queued == 1
    deliver_all()
    digests = list(Digest.objects.order_by("id"))
    assert [d.thread_count for d in digests] == [2, 1]
    assert len(mail.outbox) == 2


def test_the_email_context_reads_the_stored_digest(cast):
    subscription = subscribe(cast.executive)
    DigestSubscription.objects.filter(pk=subscription.pk).update(
        sent_until=datetime(2026, 1, 13, 8, tzinfo=UTC)
    )
    thread(cast.team_a, at=datetime(2026, 1, 13, 20, tzinfo=UTC))
    digests_send_due(now=datetime(2026, 1, 14, 9, tzinfo=UTC))
    digest = Digest.objects.get()
    context = digest_email_context({"digest_id": digest.pk})
    assert context["html"] == digest.html and context["subject"] == digest.subject
    assert "/loops/digests/unsubscribe/" in context["list_unsubscribe"]


def test_stories_in_scope_only(cast):
    mine = contact_of(cast.team_a, at=DAY)
    theirs = contact_of(cast.team_b, at=DAY)
    Story.objects.create(contact=mine, thumb="up", title="Kind", text="t", author=cast.rep)
    Story.objects.create(contact=theirs, thumb="down", title="Rude", text="t", author=cast.outsider)
    shown = content(cast.rep, start=DAY - timedelta(days=400), end=DAY + timedelta(days=400))
    assert [s.title for s in shown.stories] == ["Kind"]


def test_unsubscribe_link_without_signing_in(client, cast):
    subscription = subscribe(cast.executive)
    other = subscribe(cast.manager)
    path = digest_unsubscribe_path(subscription)
    assert client.get(path).status_code == 200
    response = client.post(path, data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")  # fmt: skip
    assert response.status_code == 200
    subscription.refresh_from_db()
    other.refresh_from_db()
    assert not subscription.active and other.active
    # A forged token, or one edited to name another subscription, does nothing.
    token = path.rstrip("/").split("/")[-1]
    forged = reverse("loops:digest-unsubscribe", args=[token[:-2] + "xx"])
    assert client.post(forged).status_code == 400
    other.refresh_from_db()
    assert other.active


def test_enrolment_scope(cast):
    member = UserFactory(username="member", role=Role.MANAGER, department=cast.dept_a)
    assert set(enrollable_users(cast.manager)) >= {cast.rep, cast.teammate, member}
    assert cast.outsider not in set(enrollable_users(cast.manager))
    assert cast.outsider not in set(enrollable_users(member))  # a member who does not head
    assert set(enrollable_users(cast.rep)) == set()
    assert cast.outsider in set(enrollable_users(cast.admin))
    enrolled = subscriptions_enrol(
        users=[cast.rep, cast.teammate], data=SubscriptionData(name="Billing"), by=cast.manager
    )
    assert [s.enrolled_by for s in enrolled] == [cast.manager, cast.manager]
    assert DigestSubscription.objects.filter(user=cast.rep, name="Billing").exists()


def test_pages(client, cast):
    client.force_login(cast.executive)
    response = client.post(
        reverse("loops:digest-subscribe"),
        {"name": "Outages", "frequency": "daily", "hour": "7", "weekday": "0",
         "include_outgoing": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    subscription = DigestSubscription.objects.get(name="Outages")
    assert (subscription.user, subscription.hour) == (cast.executive, 7)
    assert client.get(reverse("loops:digest-preview", args=[subscription.pk])).status_code == 200
    preview = client.get(reverse("loops:digest-preview-new") + "?name=x&frequency=daily&hour=8")
    assert preview.status_code == 200 and b"Preview" in preview.content
    client.force_login(cast.manager)
    assert client.get(reverse("loops:digest-preview", args=[subscription.pk])).status_code == 404
    client.force_login(cast.admin)
    assert client.get(reverse("loops:digest-preview", args=[subscription.pk])).status_code == 200
    listed = client.get(reverse("loops:digest-list") + "?all=1").content.decode()
    assert "Outages" in listed


# --- instant mode reads by arrival ----------------------------------------------------------


def test_a_late_message_with_an_older_time_is_sent_once(cast):
    subscription = subscribe(cast.executive, frequency="instant")
    created, start = subscription.created_at, subscription.message_cursor
    first = thread(cast.team_a, at=created + timedelta(minutes=1), texts=("On time",))
    assert digests_send_instant(now=created + timedelta(minutes=6)).queued == 1
    # Stored after that digest went out, but its own time is before it: read by time, it
    # would fall in a window already sent and never go out.
    late = thread(cast.team_a, at=created + timedelta(minutes=2), texts=("Late <b>one</b>",))
    assert digests_send_instant(now=created + timedelta(minutes=7)).queued == 0  # the wait
    assert digests_send_instant(now=created + timedelta(minutes=11)).queued == 1
    for minute in (12, 17, 30):  # and never again
        assert digests_send_instant(now=created + timedelta(minutes=minute)).queued == 0
    deliver_all()
    digests = list(Digest.objects.order_by("id"))
    assert [d.contact_ids for d in digests] == [[first.pk], [late.pk]]
    first_id, late_id = first.messages.get().pk, late.messages.get().pk
    assert (digests[0].messages_after, digests[0].messages_through) == (start, first_id)
    assert (digests[1].messages_after, digests[1].messages_through) == (first_id, late_id)
    assert len(mail.outbox) == 2
    assert "Late &lt;b&gt;one&lt;/b&gt;" in mail.outbox[1].alternatives[0][0]
    assert "Late <b>one</b>" not in mail.outbox[1].alternatives[0][0]
    subscription.refresh_from_db()
    assert subscription.message_cursor == late_id


def test_a_burst_is_batched_into_one_digest_with_every_message_once(cast):
    subscription = subscribe(cast.executive, frequency="instant")
    created, start = subscription.created_at, subscription.message_cursor
    contacts = [
        thread(cast.team_a, at=created + timedelta(seconds=10 * n), texts=("a", "b", "c"))
        for n in range(20)
    ]
    assert digests_send_instant(now=created + timedelta(minutes=4)).queued == 0  # the wait
    assert digests_send_instant(now=created + timedelta(minutes=5)).queued == 1
    assert digests_send_instant(now=created + timedelta(minutes=10)).queued == 0
    deliver_all()
    digest = Digest.objects.get()
    ids = sorted(Message.objects.filter(contact__in=contacts).values_list("id", flat=True))
    assert (digest.thread_count, digest.message_count) == (20, 60)
    assert start < ids[0] and (digest.messages_after, digest.messages_through) == (start, ids[-1])
    assert sorted(digest.contact_ids) == sorted(c.pk for c in contacts)
    assert len(mail.outbox) == 1


def test_messages_outside_the_subscribers_scope_or_filters_do_not_open_a_digest(cast):
    subscription = subscribe(cast.manager, frequency="instant")  # heads department A
    created, start = subscription.created_at, subscription.message_cursor
    thread(cast.team_b, at=created + timedelta(minutes=1))  # another department's team
    assert digests_send_instant(now=created + timedelta(minutes=6)).queued == 0
    subscription.refresh_from_db()
    assert subscription.message_cursor == start  # unmoved: nothing claimed
    assert not Digest.objects.exists()
    mine = thread(cast.team_a, at=created + timedelta(minutes=7))
    assert digests_send_instant(now=created + timedelta(minutes=8)).queued == 1
    assert Digest.objects.get().contact_ids == [mine.pk]


def test_a_subscription_without_an_arrival_cursor_starts_from_now(cast):
    subscription = subscribe(cast.executive, frequency="instant")
    created = subscription.created_at
    thread(cast.team_a, at=created + timedelta(minutes=1))
    DigestSubscription.objects.filter(pk=subscription.pk).update(message_cursor=None)
    assert digests_send_instant(now=created + timedelta(minutes=6)).queued == 0
    subscription.refresh_from_db()
    assert subscription.message_cursor == Message.objects.order_by("-id").first().pk
    newer = thread(cast.team_a, at=created + timedelta(minutes=7))
    assert digests_send_instant(now=created + timedelta(minutes=8)).queued == 1
    assert Digest.objects.get().contact_ids == [newer.pk]


@pytest.mark.django_db(transaction=True)
def test_a_message_still_being_stored_is_waited_for_not_skipped(cast):
    """Ids are handed out at insert and seen at commit: a message numbered before one already
    committed, whose transaction is still open, must not be passed by the cursor."""
    import psycopg2
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's lock")
    subscription = subscribe(cast.executive, frequency="instant")
    created = subscription.created_at
    slow_contact = contact_of(cast.team_a, at=created)
    other = psycopg2.connect(**connection.get_connection_params())
    try:
        with other.cursor() as cursor:  # an import's transaction, left open
            cursor.execute(
                "INSERT INTO contacts_message (contact_id, external_id, position, direction, "
                "author, sent_at, text) VALUES (%s, 'slow', 0, 'incoming', '', %s, 'Slow') "
                "RETURNING id",
                [slow_contact.pk, created + timedelta(seconds=30)],
            )
            (slow_id,) = cursor.fetchone()
        fast = thread(cast.team_a, at=created + timedelta(minutes=1), texts=("Fast",))
        assert fast.messages.get().pk > slow_id
        # The run cannot tell where the arrivals end: it sends nothing and moves nothing.
        assert digests_send_instant(now=created + timedelta(minutes=6)).queued == 0
        subscription.refresh_from_db()
        assert subscription.message_cursor < slow_id
        other.commit()
    finally:
        other.close()
    assert digests_send_instant(now=created + timedelta(minutes=7)).queued == 1
    assert sorted(Digest.objects.get().contact_ids) == sorted([slow_contact.pk, fast.pk])
