"""The bcc digests, continued: the 50-thread limit at its boundary, queries that do not grow
with the messages, the job spread over workers in chunks, instant batching at its
boundaries, the ageing and escalated issues section, delivery problems (tracking, the
admins' page, resend) and erasure."""

from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qsl

import pytest
from django.conf import settings
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from contacts.models import Message
from feedback.models import Story
from loops.digests import services
from loops.digests.selectors import (
    AGEING_DAYS,
    MAX_THREADS,
    DigestFilters,
    ageing_issues,
    digest_content,
    digest_problems,
    filters_of,
)
from loops.digests.services import (
    BUILD_CHUNK,
    SEND_ONCE_PURPOSE,
    SubscriptionData,
    digest_render,
    digest_resend,
    digests_build,
    digests_dispatch_due,
    digests_due_ids,
    digests_erase,
    digests_send_due,
    digests_send_instant,
    subscription_create,
)
from loops.digests.tracking import digest_tracking_event
from loops.models import Digest, DigestSubscription, Escalation, Issue
from tests.loops.world import contact_of, open_issue, reason
from voc.core.audit import SystemActor
from voc.core.business import business_setting_set
from voc.core.models import AuditEntry, SendOnce
from voc.core.sendonce import send_once_deliver

pytestmark = pytest.mark.django_db

DAY = datetime(2026, 1, 14, 12, 0, tzinfo=UTC)
START, END = DAY - timedelta(days=1), DAY + timedelta(days=1)


def thread(team, *, at=DAY, texts=("Charged twice!",), reason=None, customer=None):
    contact = contact_of(team, at=at, reason=reason, customer=customer)
    Message.objects.bulk_create(
        Message(
            contact=contact,
            external_id=f"m{n}",
            position=n,
            direction="incoming" if n % 2 == 0 else "outgoing",
            text=text,
            sent_at=at + timedelta(minutes=n),
        )
        for n, text in enumerate(texts)
    )
    return contact


def threads(team, count, *, messages=1):
    for n in range(count):
        thread(team, at=DAY - timedelta(minutes=n), texts=[f"t{n}-{m}" for m in range(messages)])


def subscribe(user, **kw):
    return subscription_create(
        user=user, data=SubscriptionData(name=kw.pop("name", "Everything"), **kw), by=user
    )


def deliver_all():
    for email_id in SendOnce.objects.filter(status="pending").values_list("id", flat=True):
        send_once_deliver(email_id=email_id)


# --- at most 50 threads, the rest counted with a link ------------------------------------


@pytest.mark.parametrize(("count", "more"), [(MAX_THREADS, 0), (MAX_THREADS + 1, 1)])
def test_fifty_threads_are_shown_and_the_fifty_first_is_counted(cast, count, more):
    threads(cast.team_a, count)
    content = digest_content(DigestFilters(), viewer=cast.executive, start=START, end=END)
    shown = [t for topic in content.topics for t in topic.threads]
    assert (content.thread_count, len(shown), content.more_threads) == (count, MAX_THREADS, more)
    # The newest 50: the oldest thread (made last, the furthest back) is the one left out.
    assert [t.messages[0].text for t in shown][-1] == f"t{MAX_THREADS - 1}-0"
    subscription = subscribe(cast.executive)
    _, html, text = digest_render(subscription=subscription, content=content, covers=["x"])
    link = reverse("loops:digest-threads", args=[subscription.pk])
    if more:
        assert "And 1 more conversation:" in html and link in html
        assert "And 1 more conversation:" in text and link in text
    else:
        assert "more conversation" not in html and link not in html


def test_the_queries_of_a_digest_do_not_grow_with_its_messages(cast):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            digest_content(DigestFilters(), viewer=cast.manager, start=START, end=END)
        return len(captured)

    threads(cast.team_a, 2, messages=2)
    few = queries()
    threads(cast.team_a, MAX_THREADS + 30, messages=9)  # many more threads and messages
    assert queries() == few


# --- the job spread over the workers ---------------------------------------------------


def test_the_job_queues_only_due_subscriptions_in_chunks(cast, monkeypatch):
    due = [subscribe(cast.executive, hour=8) for _ in range(BUILD_CHUNK + 1)]
    later = subscribe(cast.manager, hour=20)  # its period ends later today
    stopped = subscribe(cast.rep, hour=8)
    stopped.active = False
    stopped.save()
    now = datetime(2026, 1, 14, 8, 0, tzinfo=UTC)
    DigestSubscription.objects.update(sent_until=now - timedelta(days=1))
    DigestSubscription.objects.filter(pk=later.pk).update(sent_until=now - timedelta(hours=12))
    queued: list[list[int]] = []
    monkeypatch.setattr(services, "enqueue", lambda name, ids, catch_up: queued.append(ids))
    # One second before 08:00 nothing is due; at 08:00 the 21 daily ones are.
    assert digests_due_ids(now=now - timedelta(seconds=1)) == []
    assert digests_dispatch_due(now=now) == BUILD_CHUNK + 1
    assert queued == [[s.pk for s in due[:BUILD_CHUNK]], [due[-1].pk]]


def test_a_chunk_built_twice_makes_one_digest_each(cast):
    one, two = subscribe(cast.executive), subscribe(cast.manager)
    DigestSubscription.objects.update(sent_until=datetime(2026, 1, 13, 8, tzinfo=UTC))
    thread(cast.team_a, at=datetime(2026, 1, 13, 20, tzinfo=UTC))
    now = datetime(2026, 1, 14, 9, tzinfo=UTC)
    first = digests_build(subscription_ids=[one.pk, two.pk], now=now)
    again = digests_build(subscription_ids=[one.pk, two.pk], now=now)
    assert (first.queued, again.queued, again.empty) == (2, 0, 0)
    deliver_all()
    assert Digest.objects.count() == 2 and len(mail.outbox) == 2


def test_a_chunk_sends_its_emails_as_soon_as_it_is_built_and_their_tasks_send_nothing(
    cast, django_capture_on_commit_callbacks
):
    one, two = subscribe(cast.executive), subscribe(cast.manager)
    DigestSubscription.objects.update(sent_until=datetime(2026, 1, 13, 8, tzinfo=UTC))
    thread(cast.team_a, at=datetime(2026, 1, 13, 20, tzinfo=UTC))
    now = datetime(2026, 1, 14, 9, tzinfo=UTC)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        assert digests_build(subscription_ids=[one.pk, two.pk], now=now).queued == 2
    # Each claim still queued its email's task when it committed (the safety net)...
    assert len(queued) == 2
    # ...but the chunk sent them itself, once each.
    assert sorted(address for m in mail.outbox for address in m.to) == sorted(
        [cast.executive.email, cast.manager.email]
    )
    emails = SendOnce.objects.filter(purpose=SEND_ONCE_PURPOSE)
    assert set(emails.values_list("status", flat=True)) == {"sent"}
    for email_id in emails.values_list("id", flat=True):
        assert send_once_deliver(email_id=email_id) == "not pending"
    assert len(mail.outbox) == 2


def test_a_digest_that_fails_to_build_leaves_the_others_and_is_tried_again(cast, monkeypatch):
    broken, fine = subscribe(cast.executive), subscribe(cast.manager)
    DigestSubscription.objects.update(sent_until=datetime(2026, 1, 13, 8, tzinfo=UTC))
    real = services.digest_content

    def content(filters, *, viewer, **kw):
        if viewer == cast.executive:
            raise RuntimeError("boom")
        return real(filters, viewer=viewer, **kw)

    monkeypatch.setattr(services, "digest_content", content)
    now = datetime(2026, 1, 14, 9, tzinfo=UTC)
    run = digests_build(subscription_ids=[broken.pk, fine.pk], now=now)
    assert (run.queued, run.empty) == (0, 1)
    broken.refresh_from_db()
    assert broken.sent_until == datetime(2026, 1, 13, 8, tzinfo=UTC)  # nothing claimed
    monkeypatch.setattr(services, "digest_content", real)
    assert digests_build(subscription_ids=[broken.pk, fine.pk], now=now).empty == 1
    assert Digest.objects.filter(subscription=broken).count() == 1


def test_a_chunk_reads_the_taxonomy_and_the_stories_once_and_scopes_each_readers(cast):
    billing = reason("Billing", department=cast.dept_a)
    mine = thread(cast.team_a, at=datetime(2026, 1, 13, 20, tzinfo=UTC), reason=billing)
    theirs = thread(cast.team_b, at=datetime(2026, 1, 13, 21, tzinfo=UTC), reason=billing)
    Story.objects.create(contact=mine, thumb="up", title="Kind", text="t", author=cast.rep)
    Story.objects.create(contact=theirs, thumb="down", title="Rude", text="t", author=cast.rep)
    readers = [cast.executive, cast.rep, cast.executive, cast.rep]
    subscriptions = [subscribe(user, reasons=(billing.pk,)) for user in readers]
    DigestSubscription.objects.update(sent_until=datetime(2026, 1, 13, 8, tzinfo=UTC))
    now = datetime(2026, 1, 14, 9, tzinfo=UTC)
    with CaptureQueriesContext(connection) as captured:
        assert digests_build(subscription_ids=[s.pk for s in subscriptions], now=now).queued == 4
    sql = [q["sql"] for q in captured]
    assert len([q for q in sql if q.startswith('SELECT "feedback_story"')]) == 1
    assert len([q for q in sql if q.startswith('SELECT "contacts_contactreason"')]) == 1
    for subscription, user in zip(subscriptions, readers, strict=True):
        html = Digest.objects.get(subscription=subscription).html
        assert "Kind" in html
        assert ("Rude" in html) is (user == cast.executive)  # the rep's scope is team A


def test_a_subscriptions_filters_are_read_in_one_query(cast):
    billing = reason("Billing", department=cast.dept_a)
    outage = reason("Outage", department=cast.dept_b)
    subscription = subscribe(
        cast.executive,
        reasons=(outage.pk, billing.pk),
        departments=(cast.dept_a.pk,),
        keywords="refund",
        channels=("email",),
    )
    with CaptureQueriesContext(connection) as captured:
        filters = filters_of(subscription)
    assert len(captured) == 1
    assert filters == DigestFilters(
        reason_ids=tuple(sorted((billing.pk, outage.pk))),
        department_ids=(cast.dept_a.pk,),
        keywords="refund",
        channels=("email",),
    )
    assert filters_of(subscribe(cast.rep)) == DigestFilters()
    subscription.teams.set([cast.team_a, cast.team_b])
    assert filters_of(subscription).team_ids == tuple(sorted((cast.team_a.pk, cast.team_b.pk)))


# --- instant mode ----------------------------------------------------------------------


def test_a_burst_of_fifty_messages_is_one_email(cast):
    subscription = subscribe(cast.executive, frequency="instant")
    created = subscription.created_at
    for n in range(50):
        thread(cast.team_a, at=created + timedelta(minutes=5, seconds=n))
    assert digests_send_instant(now=created + timedelta(minutes=6)).queued == 1
    for minute in range(7, 11):  # every minute after: nothing new, nothing sent
        assert digests_send_instant(now=created + timedelta(minutes=minute)).queued == 0
    deliver_all()
    assert len(mail.outbox) == 1 and Digest.objects.get().thread_count == 50


def test_instant_waits_the_configured_minutes_exactly(cast):
    business_setting_set(key="digest_instant_minutes", value=10, by=SystemActor("test"))
    subscription = subscribe(cast.executive, frequency="instant")
    created = subscription.created_at
    thread(cast.team_a, at=created + timedelta(seconds=30))
    at_limit = created + timedelta(minutes=10)
    assert digests_send_instant(now=at_limit - timedelta(seconds=1)).queued == 0
    assert digests_send_instant(now=at_limit).queued == 1
    # The next one waits 10 minutes from that digest, however much arrives.
    thread(cast.team_a, at=at_limit + timedelta(seconds=5))
    assert digests_send_instant(now=at_limit + timedelta(minutes=10, seconds=-1)).queued == 0
    assert digests_send_instant(now=at_limit + timedelta(minutes=10)).queued == 1
    assert [d.thread_count for d in Digest.objects.order_by("id")] == [1, 1]


def test_instant_runs_every_minute():
    from voc.core.jobs import registered_jobs

    jobs = registered_jobs()
    assert jobs["loops.digests_instant"].every == timedelta(minutes=1)
    assert jobs["loops.digests_due"].every == timedelta(minutes=5)


# --- ageing and escalated issues -------------------------------------------------------


def test_ageing_or_escalated_open_issues_on_the_topics_in_scope(cast):
    billing = reason("Billing", department=cast.dept_a)
    double = reason("Double charge", parent=billing, department=cast.dept_a)
    outage = reason("Outage", department=cast.dept_a)
    now = DAY
    aged = now - timedelta(days=AGEING_DAYS)

    def issue(title, reasons=(double,), at=aged, **kw):
        return open_issue(cast, title=title, reasons=reasons, at=at, **kw)

    issue("Exactly 30 days")
    issue("A second younger", at=aged + timedelta(seconds=1))
    escalated = issue("Escalated today", at=now - timedelta(hours=2))
    Escalation.objects.create(issue=escalated, clock="response", level=1, due_at=now)
    closed = issue("Closed")
    Issue.objects.filter(pk=closed.pk).update(status=Issue.Status.CLOSED)
    issue("Other topic", reasons=(outage,))
    theirs = open_issue(cast, title="Not theirs", reasons=[double], by=cast.other_manager, at=aged)
    Issue.objects.filter(pk=theirs.pk).update(department=cast.dept_b)

    def titles(viewer, reason_ids):
        return [i.title for i in ageing_issues(viewer=viewer, reason_ids=reason_ids, now=now)]

    ids = [billing.pk, double.pk]
    assert titles(cast.executive, ids) == ["Exactly 30 days", "Not theirs", "Escalated today"]
    assert titles(cast.manager, ids) == ["Exactly 30 days", "Escalated today"]
    assert titles(cast.other_manager, ids) == ["Not theirs"]
    assert "Other topic" in titles(cast.executive, None)


# --- delivery problems, resend, erasure ------------------------------------------------


def sent_digest(cast, *, customer=None):
    subscription = subscribe(cast.executive)
    DigestSubscription.objects.filter(pk=subscription.pk).update(
        sent_until=datetime(2026, 1, 13, 8, tzinfo=UTC)
    )
    thread(cast.team_a, at=datetime(2026, 1, 13, 20, tzinfo=UTC), customer=customer)
    digests_send_due(now=datetime(2026, 1, 14, 9, tzinfo=UTC))
    deliver_all()
    return Digest.objects.select_related("send_once").get(subscription=subscription)


def test_a_bounce_pauses_the_subscription_and_shows_to_admins(cast, client):
    digest = sent_digest(cast)
    event = SimpleNamespace(
        event_type="bounced",
        metadata={"voc_send_once": f"{SEND_ONCE_PURPOSE}:{digest.send_once.key}"},
        description="mailbox full",
        message_id="esp-1",
    )
    assert digest_tracking_event(event=event).pk == digest.pk
    digest.refresh_from_db()
    assert (digest.delivery, digest.delivery_detail) == ("bounced", "mailbox full")
    assert not DigestSubscription.objects.get(pk=digest.subscription_id).active
    assert AuditEntry.objects.filter(action="digest.pause").count() == 1
    assert list(digest_problems()) == [digest]
    # A second report of the same bounce pauses nothing more.
    digest_tracking_event(event=event)
    assert AuditEntry.objects.filter(action="digest.pause").count() == 1
    client.force_login(cast.admin)
    page = client.get(reverse("loops:digest-problems")).content.decode()
    assert "mailbox full" in page and "(paused)" in page
    client.force_login(cast.manager)
    assert client.get(reverse("loops:digest-problems")).status_code in (403, 404)


def test_delivered_is_noted_and_other_events_are_ignored(cast):
    digest = sent_digest(cast)
    metadata = {"voc_send_once": f"{SEND_ONCE_PURPOSE}:{digest.send_once.key}"}
    assert (
        digest_tracking_event(event=SimpleNamespace(event_type="opened", metadata=metadata)) is None
    )
    assert digest_tracking_event(
        event=SimpleNamespace(event_type="delivered", metadata=metadata, description="")
    )
    digest.refresh_from_db()
    assert digest.delivery == "delivered" and list(digest_problems()) == []
    assert DigestSubscription.objects.get(pk=digest.subscription_id).active


def test_an_admin_resends_a_digest_once_more_audited(cast, client):
    digest = sent_digest(cast)
    first = digest.send_once_id
    client.force_login(cast.admin)
    response = client.post(reverse("loops:digest-resend", args=[digest.pk]))
    assert response.status_code == 302
    digest.refresh_from_db()
    assert digest.send_once_id != first
    deliver_all()
    assert len(mail.outbox) == 2
    entry = AuditEntry.objects.get(action="digest.resend")
    assert entry.actor_id == cast.admin.pk
    empty = Digest.objects.create(
        user=cast.executive, period_start=DAY, period_end=DAY, status=Digest.Status.EMPTY
    )
    with pytest.raises(ValueError):
        digest_resend(digest=empty, by=cast.admin)


def test_erasure_removes_the_customers_messages_from_stored_digests(cast):
    digest = sent_digest(cast)
    contact = Message.objects.get().contact
    assert "Charged twice!" in digest.html
    assert digests_erase(customer_ids=[contact.customer_id]) == {"digests": 1}
    digest.refresh_from_db()
    assert "Charged twice!" not in digest.html + digest.text
    assert digest.contact_ids == [] and digest.status == Digest.Status.QUEUED


def test_xss_in_customer_text_stays_inert(cast):
    payloads = [
        "<script>alert(1)</script>",
        '<img src=x onerror="alert(2)">',
        "javascript:alert(3)",
        '"><svg onload=alert(4)>',
    ]
    customer_contact = thread(cast.team_a, texts=payloads)
    customer_contact.subject = "<script>alert(5)</script>"
    customer_contact.save()
    subscription = subscribe(cast.executive, name="<b>Mine</b>")
    content = digest_content(DigestFilters(), viewer=cast.executive, start=START, end=END)
    _, html, _ = digest_render(subscription=subscription, content=content, covers=["x"])
    assert "<script" not in html and "<img" not in html and "<svg" not in html
    assert "<b>Mine</b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_every_thread_of_the_period_in_the_viewers_scope(cast, client):
    threads(cast.team_a, MAX_THREADS + 1)
    thread(cast.team_b, at=DAY)  # outside the manager's scope
    subscription = subscribe(cast.manager)
    url = reverse("loops:digest-threads", args=[subscription.pk])
    period = {"start": START.isoformat(), "end": END.isoformat()}
    client.force_login(cast.manager)
    page = client.get(url, period)
    assert page.status_code == 200
    assert page.context["total"] == MAX_THREADS + 1 and len(page.context["rows"]) == 51
    assert client.get(url, {"start": END.isoformat(), "end": START.isoformat()}).status_code == 404
    assert client.get(url, {"start": "x", "end": END.isoformat()}).status_code == 404
    client.force_login(cast.other_manager)  # not theirs
    assert client.get(url, period).status_code == 404
    client.force_login(cast.admin)  # an admin sees it, within the admin's own scope
    assert client.get(url, period).context["total"] == MAX_THREADS + 2


def test_an_instant_digests_more_link_reads_its_messages_by_arrival(cast, client):
    subscription = subscribe(cast.executive, frequency="instant")
    created = subscription.created_at
    for n in range(MAX_THREADS):
        thread(cast.team_a, at=created + timedelta(minutes=1, seconds=n))
    # Stored now with a time a day older: read by time it is outside the digest's period.
    late = thread(cast.team_a, at=created - timedelta(days=1))
    assert digests_send_instant(now=created + timedelta(minutes=6)).queued == 1
    digest = Digest.objects.get()
    assert (digest.thread_count, digest.more_count) == (MAX_THREADS + 1, 1)
    link = digest.text.split("And 1 more conversation: ")[1].split()[0]
    assert link in digest.html.replace("&amp;", "&")
    path, query = link.removeprefix(settings.VOC_BASE_URL).split("?")
    params = dict(parse_qsl(query))
    assert (int(params["after"]), int(params["through"])) == (
        digest.messages_after,
        digest.messages_through,
    )
    client.force_login(cast.executive)
    page = client.get(path, params)
    assert page.context["total"] == MAX_THREADS + 1
    assert late.pk in [row.contact.pk for row in page.context["rows"]]
    by_time = {"start": params["start"], "end": params["end"]}
    assert client.get(path, by_time).context["total"] == MAX_THREADS  # the late one missed
    for wrong in ({"after": "x"}, {"through": "5"}, {"after": "9", "through": "9"}):
        assert client.get(path, by_time | wrong).status_code == 404


def test_a_digest_opened_in_the_browser_is_sandboxed_with_its_own_styles(cast, client):
    digest = sent_digest(cast)
    client.force_login(cast.executive)
    for url in (
        reverse("loops:digest-sent", args=[digest.pk]),
        reverse("loops:digest-preview", args=[digest.subscription_id]),
    ):
        policy = client.get(url)["Content-Security-Policy"]
        assert "style-src 'unsafe-inline'" in policy and "default-src 'none'" in policy
        assert "sandbox" in policy and "script" not in policy


def test_subscribe_to_this_carries_the_searchs_filters(cast, client):
    billing = reason("Billing", department=cast.dept_a)
    thread(cast.team_a, reason=billing, texts=("router down",))
    client.force_login(cast.manager)
    search = client.get(
        reverse("contacts:message-search"),
        {"q": "router", "reason": billing.pk, "team": cast.team_a.pk, "channel": "phone",
         "direction": "incoming"},
    )  # fmt: skip
    link = search.content.decode().split('data-testid="subscribe-to-search"')[0]
    href = link.rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    form = client.get(href).context["form"]
    assert form.initial["keywords"] == "router"
    assert form.initial["reasons"] == [billing.pk] and form.initial["teams"] == [cast.team_a.pk]
    assert form.initial["channels"] == ["phone"] and form.initial["include_outgoing"] is False


def test_times_in_the_email_are_the_subscribers_own(cast):
    cast.executive.time_zone = "America/New_York"
    cast.executive.save()
    thread(cast.team_a, at=datetime(2026, 1, 14, 15, 30, tzinfo=UTC))
    subscription = subscribe(cast.executive)
    content = digest_content(DigestFilters(), viewer=cast.executive, start=START, end=END)
    _, html, text = digest_render(subscription=subscription, content=content, covers=["x"])
    for part in (html, text):
        assert "Wed 14 Jan 10:30" in part and "(America/New_York)" in part  # 15:30 UTC
