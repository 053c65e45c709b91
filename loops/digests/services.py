"""Digests sent exactly once per subscription and period (design: docs/digests.md).

A run (``digests_send_due``, a periodic job) takes each active daily or weekly subscription
that has a period due (loops/digests/schedule.py) and, in ONE transaction per subscription:

1. locks the subscription row and reads its cursor (``sent_until``) again under the lock;
2. builds the digest of every period that ended since the cursor, merged into one;
3. inserts the Digest row (unique per subscription and period end), renders it, and asks the
   send-once helper for the email (``voc.core.sendonce.send_once``: one row per purpose and
   key, sent by a worker after commit, its own window handled there);
4. moves the cursor to the period's end.

A worker that dies before the commit leaves nothing behind (the next run does it all again); a
second worker waits for the lock and then finds nothing due; a task delivered twice or beat
running twice does the same. After the commit the email is the send-once helper's: claimed,
handed over once, a row caught between "the ESP accepted" and "recorded" is reconciled by its
sweep, never resent blindly. A period with nothing to say is recorded as empty and not sent.

Instant subscriptions (``digests_send_instant``, every minute) work the same way, at most one
digest per ``digest_instant_minutes`` and only when there is something to say, but read by
arrival: the messages whose ids are past the subscription's ``message_cursor`` and at most the
run's horizon (``message_horizon``: the highest id below which no message can still appear),
so a message stored late with an older time is still sent, once; the cursor moves to the
horizon in the claim's transaction.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.db.models import Max, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from contacts.models import Contact, Message
from loops.digests.emails import email_topics
from loops.digests.links import digest_unsubscribe_path
from loops.digests.periods import digest_periods_share
from loops.digests.schedule import DAILY, WEEKLY, Cadence, Period, due_periods, merged
from loops.digests.selectors import (
    DigestContent,
    DigestFilters,
    DigestReads,
    MessageRange,
    digest_content,
    filters_of,
    period_has_messages,
)
from loops.models import Digest, DigestSubscription
from voc.core.audit import Actor, SystemActor, audit_record
from voc.core.business import business_setting
from voc.core.queueing import enqueue
from voc.core.sendonce import send_once, send_once_deliver_now
from voc.people.models import User

logger = logging.getLogger(__name__)

DIGESTS = SystemActor("digests")
SEND_ONCE_PURPOSE = "loops.digest"
Frequency = DigestSubscription.Frequency

AUDIT_LABELS = {
    "digest.subscribe": "subscribed to a digest",
    "digest.change": "changed a digest subscription",
    "digest.unsubscribe": "left a digest",
    "digest.enrol": "enrolled people in a digest",
    "digest.resend": "resent a digest",
    "digest.pause": "paused the digest after a delivery problem",
}


def user_zone(user: User) -> ZoneInfo:
    return ZoneInfo(user.time_zone or settings.VOC_REPORTING_TIME_ZONE)


def cadence_of(subscription: DigestSubscription) -> Cadence:
    frequency = DAILY if subscription.frequency == Frequency.DAILY else WEEKLY
    return Cadence(
        frequency, subscription.hour, subscription.weekday, tz=user_zone(subscription.user)
    )


def absolute(path: str) -> str:
    return settings.VOC_BASE_URL + path


def _period_label(periods: list[Period], zone: ZoneInfo) -> str:
    if len(periods) == 1:
        return periods[0].key
    return f"{periods[0].key} to {periods[-1].key} ({len(periods)} periods)"


def _threads_path(subscription: DigestSubscription, content: DigestContent) -> str:
    """Where "and N more conversations" leads: every thread of the period, or of an instant
    digest's message-id range (a subscription not saved yet, previewed from its form: the
    contact list)."""
    if subscription.pk is None:
        return reverse("contacts:contact-list")
    query: dict[str, str | int] = {
        "start": content.start.isoformat(),
        "end": content.end.isoformat(),
    }
    if content.messages_in is not None:
        query |= {"after": content.messages_in[0], "through": content.messages_in[1]}
    return reverse("loops:digest-threads", args=[subscription.pk]) + "?" + urlencode(query)


def digest_render(
    *,
    subscription: DigestSubscription,
    content: DigestContent,
    covers: list[str],
    preview: bool = False,
) -> tuple[str, str, str]:
    """(subject, html, text) of a digest. Customer text is escaped by the templates."""
    zone = user_zone(subscription.user)
    context = {
        "subscription": subscription,
        "content": content,
        "shown_topics": email_topics(content, zone=zone, base_url=settings.VOC_BASE_URL),
        "covers": covers,
        "preview": preview,
        "zone": zone,
        "base_url": settings.VOC_BASE_URL,
        "unsubscribe_url": "" if preview else absolute(digest_unsubscribe_path(subscription)),
        "settings_url": absolute(reverse("loops:digest-list")),
        "more_url": absolute(_threads_path(subscription, content)),
    }
    subject = f"{subscription.name}: {content.thread_count} conversation" + (
        "" if content.thread_count == 1 else "s"
    )
    if len(covers) > 1:
        subject += f" ({len(covers)} periods)"
    html = render_to_string("loops/digests/email.html", context)
    text = render_to_string("loops/digests/email.txt", context)
    return subject, html, text


def _claim_and_queue(
    subscription_id: int,
    *,
    periods_of: "PeriodsOf",
    now: datetime,
    reads: DigestReads | None = None,
) -> Digest | None:
    """Steps 1-4 of the module's docstring for one subscription; None when nothing is due."""
    with transaction.atomic():
        subscription = (
            DigestSubscription.objects.select_for_update()
            .select_related("user")
            .filter(pk=subscription_id, active=True)
            .first()
        )
        if subscription is None or not subscription.user.is_active:
            return None
        periods = periods_of(subscription, now)
        if not periods:
            return None
        period = merged(periods)
        covers = [p.key for p in periods]
        messages_in = periods_of.messages_in(subscription)
        content = digest_content(
            filters_of(subscription),
            viewer=subscription.user,
            start=period.start,
            end=period.end,
            now=now,
            messages_in=messages_in,
            reads=reads,
        )
        subject = html = text = ""
        if not content.is_empty:
            subject, html, text = digest_render(
                subscription=subscription, content=content, covers=covers
            )
        # Inserted whole (the rendering is ~100 kB: written once, not inserted and updated).
        digest = Digest.objects.create(
            subscription=subscription,
            user=subscription.user,
            period_start=period.start,
            period_end=period.end,
            period_keys=covers,
            status=Digest.Status.EMPTY if content.is_empty else Digest.Status.QUEUED,
            subject=subject,
            html=html,
            text=text,
            thread_count=content.thread_count,
            message_count=content.message_count,
            more_count=content.more_threads,
            contact_ids=content.contact_ids,
            created_at=now,
            messages_after=messages_in[0] if messages_in else None,
            messages_through=messages_in[1] if messages_in else None,
        )
        if not content.is_empty:
            email, _ = send_once(
                purpose=SEND_ONCE_PURPOSE,
                key=f"digest:{digest.pk}",
                to=[subscription.user.email],
                template="digest",
                context={"digest_id": digest.pk},
                by=DIGESTS,
            )
            digest.send_once = email
            digest.save(update_fields=["send_once"])
        subscription.sent_until = period.end
        update_fields = ["sent_until"]
        if messages_in is not None:
            subscription.message_cursor = messages_in[1]
            update_fields.append("message_cursor")
        subscription.save(update_fields=update_fields)
    return digest


class PeriodsOf(Protocol):
    """The periods due for a subscription at ``now``: scheduled or instant."""

    def __call__(self, subscription: DigestSubscription, now: datetime) -> list[Period]: ...

    def messages_in(self, subscription: DigestSubscription) -> MessageRange | None:
        """The message-id range the digest reads instead of the period's times, if any."""
        ...


class ScheduledPeriods:
    def __call__(self, subscription: DigestSubscription, now: datetime) -> list[Period]:
        return due_periods(cadence_of(subscription), sent_until=subscription.sent_until, now=now)

    def messages_in(self, subscription: DigestSubscription) -> MessageRange | None:
        return None  # a scheduled digest reads its period by the messages' own times


class InstantPeriods:
    """Once ``digest_instant_minutes`` have passed since the last digest (or the
    subscription's start) and a message arrived past the subscription's ``message_cursor``,
    up to ``horizon``: the period [last digest, now), read by arrival, (cursor, horizon]."""

    def __init__(self, horizon: int) -> None:
        self.horizon = horizon

    def messages_in(self, subscription: DigestSubscription) -> MessageRange | None:
        cursor = subscription.message_cursor
        if cursor is None or cursor >= self.horizon:
            return None
        return (cursor, self.horizon)

    def __call__(self, subscription: DigestSubscription, now: datetime) -> list[Period]:
        start = subscription.sent_until or subscription.created_at
        wait = timedelta(minutes=int(business_setting("digest_instant_minutes")))
        if now - start < wait:
            return []
        messages_in = self.messages_in(subscription)
        if messages_in is None:
            return []  # nothing arrived since the last digest
        waiting = period_has_messages(
            filters_of(subscription),
            viewer=subscription.user,
            start=start,
            end=now,
            messages_in=messages_in,
        )
        if not waiting:
            return []  # nothing for this subscriber yet: keep the window open
        return [Period(start=start, end=now, key=now.isoformat(timespec="seconds"))]


@dataclass(frozen=True)
class DigestRun:
    queued: int
    empty: int


def _run(frequencies: list[str], periods_of: PeriodsOf, now: datetime | None) -> DigestRun:
    now = now or timezone.now()
    queued = empty = 0
    ids = list(
        DigestSubscription.objects.filter(
            active=True, frequency__in=frequencies, user__is_active=True
        )
        .order_by("id")
        .values_list("id", flat=True)
    )
    if isinstance(periods_of, ScheduledPeriods):
        digests_share_periods(subscription_ids=ids, now=now)
    reads = DigestReads()
    for subscription_id in ids:
        digest = _claim_and_queue(subscription_id, periods_of=periods_of, now=now, reads=reads)
        if digest is None:
            continue
        if digest.status == Digest.Status.EMPTY:
            empty += 1
        else:
            queued += 1
    return DigestRun(queued, empty)


def digests_send_due(*, now: datetime | None = None) -> DigestRun:
    """Daily and weekly digests whose period ended (see the module's docstring), one after
    the other in this process (the job spreads them over the workers: digests_dispatch_due)."""
    return _run([Frequency.DAILY, Frequency.WEEKLY], ScheduledPeriods(), now)


BUILD_CHUNK = 20  # subscriptions per build task: small enough to spread over the workers
BUILD_TASK = "loops.digests_build"
DUE_JOB = "loops.digests_due"


def digests_due_ids(*, now: datetime | None = None) -> list[int]:
    """The daily and weekly subscriptions with a period due at ``now``, read without a lock
    in one query (the claim reads the cursor again under its lock)."""
    now = now or timezone.now()
    scheduled = ScheduledPeriods()
    subscriptions = (
        DigestSubscription.objects.filter(
            active=True,
            frequency__in=[Frequency.DAILY, Frequency.WEEKLY],
            user__is_active=True,
        )
        .select_related("user")
        .only("id", "frequency", "hour", "weekday", "sent_until", "user__time_zone")
        .order_by("id")
    )
    return [s.pk for s in subscriptions if scheduled(s, now)]


def digests_dispatch_due(*, now: datetime | None = None) -> int:
    """The job's part: queue the due subscriptions in chunks of BUILD_CHUNK for the workers to
    build (``loops.digests_build``), so N workers build N digests at a time. Returns how many
    were queued. Queueing twice (beat running twice, a task delivered twice) is harmless: the
    claim locks each subscription and finds its cursor moved; a chunk the broker refused is
    queued again by the next run, which finds the same subscriptions still due."""
    ids = digests_due_ids(now=now)
    for start in range(0, len(ids), BUILD_CHUNK):
        enqueue(BUILD_TASK, ids[start : start + BUILD_CHUNK], catch_up=DUE_JOB)
    return len(ids)


def digests_share_periods(*, subscription_ids: list[int], now: datetime) -> int:
    """Sum up, once, the periods these subscriptions' digests cover and the periods before
    them (loops/digests/periods.py), so their digests read a row per thread. Keyword
    subscriptions get summaries of the messages matching their keywords, one per period and
    distinct keywords. Returns how many summaries are ready."""
    scheduled = ScheduledPeriods()
    subscriptions = (
        DigestSubscription.objects.filter(id__in=subscription_ids, active=True)
        .select_related("user")
        .only("id", "frequency", "hour", "weekday", "sent_until", "keywords", "user__time_zone")
    )
    periods: set[tuple[datetime, datetime, str]] = set()
    for subscription in subscriptions:
        due = scheduled(subscription, now)
        if due:
            period = merged(due)
            keywords = subscription.keywords.strip()
            periods.add((period.start, period.end, keywords))
            periods.add((period.start - (period.end - period.start), period.start, keywords))
    return digest_periods_share(periods)


def digests_build(*, subscription_ids: list[int], now: datetime | None = None) -> DigestRun:
    """A worker's part: claim and queue each subscription's due digest (the steps of the
    module's docstring), each in its own transaction. One that fails to build is logged and
    left for the next run (its transaction rolled back: nothing was claimed); the others go on."""
    queued = empty = 0
    digests_share_periods(subscription_ids=subscription_ids, now=now or timezone.now())
    reads = DigestReads()
    emails: list[int] = []
    for subscription_id in subscription_ids:
        try:
            digest = _claim_and_queue(
                subscription_id,
                periods_of=ScheduledPeriods(),
                now=now or timezone.now(),
                reads=reads,
            )
        except Exception:
            logger.exception("digest of subscription %s could not be built", subscription_id)
            continue
        if digest is None:
            continue
        if digest.status == Digest.Status.EMPTY:
            empty += 1
        else:
            queued += 1
            if digest.send_once_id is not None:  # a digest to send always has its email
                emails.append(digest.send_once_id)
    # The chunk's emails go out now, not behind every build chunk of the run in the queue.
    # Each claim committed first and queued its email's task: a worker that dies here leaves
    # those to their tasks (and the send-once sweep), exactly as before.
    send_once_deliver_now(email_ids=emails)
    return DigestRun(queued, empty)


HORIZON_LOCK_TIMEOUT = "2s"


def message_horizon() -> int:
    """The highest message id such that no message with a lower id can still appear.

    Ids are handed out when a message is inserted but become visible when its transaction
    commits, not necessarily in order: reading the highest visible id while an earlier-numbered
    message is still uncommitted would move a cursor past it for ever. On PostgreSQL a SHARE
    lock on the message table waits for every transaction that inserted messages (each holds
    ROW EXCLUSIVE on it from its INSERT to its end) and is released at once; what is read
    under it is final. Raises OperationalError when that takes longer than
    HORIZON_LOCK_TIMEOUT (a long import): the run is skipped, the next minute tries again."""
    table = Message._meta.db_table
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT current_setting('lock_timeout'), set_config('lock_timeout', %s, true)",
                    [HORIZON_LOCK_TIMEOUT],
                )
                (before, _) = cursor.fetchone()
                cursor.execute(f"LOCK TABLE {table} IN SHARE MODE")
                cursor.execute("SELECT set_config('lock_timeout', %s, true)", [before])
        return int(Message.objects.aggregate(high=Max("id"))["high"] or 0)


def _start_cursors(horizon: int) -> None:
    """Instant subscriptions without an arrival cursor (made before it existed) start at the
    horizon: from now on, not a flood of the past."""
    DigestSubscription.objects.filter(
        frequency=Frequency.INSTANT, message_cursor__isnull=True
    ).update(message_cursor=horizon)


def digests_send_instant(*, now: datetime | None = None) -> DigestRun:
    """Instant subscriptions: what arrived since their last digest, batched."""
    try:
        horizon = message_horizon()
    except OperationalError:
        logger.warning("instant digests: messages still being stored, trying next minute")
        return DigestRun(0, 0)
    _start_cursors(horizon)
    return _run([Frequency.INSTANT], InstantPeriods(horizon), now)


def message_cursor_now() -> int:
    """Where a subscription that starts now begins reading by arrival."""
    return int(Message.objects.aggregate(high=Max("id"))["high"] or 0)


def digest_email_context(context: dict[str, object]) -> dict[str, object]:
    """The send-once builder: the stored rendering of the digest (what the history shows is
    what was sent), with the one-click unsubscribe headers."""
    digest = Digest.objects.select_related("subscription__user").get(
        pk=int(str(context["digest_id"]))
    )
    unsubscribe = ""
    if digest.subscription is not None:
        unsubscribe = absolute(digest_unsubscribe_path(digest.subscription))
    return {
        "subject": digest.subject,
        "html": digest.html,
        "text": digest.text,
        "list_unsubscribe": unsubscribe,
    }


# --- Subscriptions --------------------------------------------------------------------------


def subscription_unsubscribe(*, subscription: DigestSubscription, by: Actor) -> bool:
    """Stop a subscription (from its signed link or its owner's page); True if it was active."""
    with transaction.atomic():
        changed = DigestSubscription.objects.filter(pk=subscription.pk, active=True).update(
            active=False
        )
        if changed:
            audit_record(
                by=by,
                action="digest.unsubscribe",
                target=subscription,
                changes={"active": [True, False]},
            )
    return bool(changed)


@dataclass(frozen=True)
class SubscriptionData:
    """What a subscription says, from the form or an enrolment."""

    name: str
    frequency: str = Frequency.DAILY
    hour: int = 8
    weekday: int = 0
    reasons: tuple[int, ...] = ()
    departments: tuple[int, ...] = ()
    teams: tuple[int, ...] = ()
    tags: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    keywords: str = ""
    sentiment_at_most: float | None = None
    include_outgoing: bool = True


def filters_from(data: SubscriptionData) -> DigestFilters:
    """The filters of a subscription not saved yet (previewed from its form)."""
    return DigestFilters(
        reason_ids=data.reasons,
        department_ids=data.departments,
        team_ids=data.teams,
        tags=data.tags,
        channels=data.channels,
        keywords=data.keywords,
        sentiment_at_most=data.sentiment_at_most,
        include_outgoing=data.include_outgoing,
    )


def _apply(subscription: DigestSubscription, data: SubscriptionData) -> None:
    subscription.name = data.name.strip()[:100] or "My digest"
    subscription.frequency = data.frequency
    subscription.hour = data.hour
    subscription.weekday = data.weekday
    subscription.tags = list(data.tags)
    subscription.channels = list(data.channels)
    subscription.keywords = data.keywords.strip()
    subscription.sentiment_at_most = data.sentiment_at_most
    subscription.include_outgoing = data.include_outgoing


def _set_relations(subscription: DigestSubscription, data: SubscriptionData) -> None:
    subscription.reasons.set(data.reasons)
    subscription.departments.set(data.departments)
    subscription.teams.set(data.teams)


def subscription_create(
    *, user: User, data: SubscriptionData, by: Actor, enrolled: bool = False
) -> DigestSubscription:
    """A new subscription for ``user``. Its first digest covers the first period that ends
    after now (the cursor starts now: nobody gets a flood of the past)."""
    with transaction.atomic():
        subscription = DigestSubscription(user=user, created_at=timezone.now())
        _apply(subscription, data)
        subscription.sent_until = subscription.created_at
        subscription.message_cursor = message_cursor_now()
        if enrolled and isinstance(by, User):
            subscription.enrolled_by = by
        subscription.save()
        _set_relations(subscription, data)
        audit_record(
            by=by,
            action="digest.enrol" if enrolled else "digest.subscribe",
            target=subscription,
            changes={"user": [None, user.pk], "frequency": [None, data.frequency]},
        )
    return subscription


def subscription_change(
    *, subscription: DigestSubscription, data: SubscriptionData, by: Actor
) -> DigestSubscription:
    """Change what a subscription reads or when; reactivates a stopped one."""
    with transaction.atomic():
        subscription = DigestSubscription.objects.select_for_update().get(pk=subscription.pk)
        before = {"frequency": subscription.frequency, "active": subscription.active}
        _apply(subscription, data)
        if not subscription.active:
            # Back on: start from now, not from when it stopped.
            subscription.sent_until = timezone.now()
        if not before["active"] or (
            subscription.frequency == Frequency.INSTANT and before["frequency"] != Frequency.INSTANT
        ):
            # Reading by arrival starts from now too, not from an old cursor.
            subscription.message_cursor = message_cursor_now()
        subscription.active = True
        subscription.save()
        _set_relations(subscription, data)
        audit_record(
            by=by,
            action="digest.change",
            target=subscription,
            changes={
                "frequency": [before["frequency"], subscription.frequency],
                "active": [before["active"], True],
            },
        )
    return subscription


def subscriptions_enrol(
    *, users: list[User], data: SubscriptionData, by: User
) -> list[DigestSubscription]:
    """Enrol people in a digest (a manager their department, an admin anyone); each can
    still change or leave theirs."""
    return [subscription_create(user=user, data=data, by=by, enrolled=True) for user in users]


def digest_resend(*, digest: Digest, by: User) -> Digest:
    """An admin sends a failed digest again: a new send-once key (the first stays on record),
    audited."""
    if digest.status != Digest.Status.QUEUED or not digest.user.email:
        raise ValueError("Only a digest that was sent can be sent again.")
    with transaction.atomic():
        email, _ = send_once(
            purpose=SEND_ONCE_PURPOSE,
            key=f"digest:{digest.pk}:resend:{timezone.now().isoformat()}",
            to=[digest.user.email],
            template="digest",
            context={"digest_id": digest.pk},
            by=by,
        )
        previous = digest.send_once_id
        digest.send_once = email
        digest.save(update_fields=["send_once"])
        audit_record(
            by=by,
            action="digest.resend",
            target=digest,
            changes={"send_once": [previous, email.pk]},
        )
    return digest


ERASED_NOTICE = (
    "This digest showed messages of a customer who has since been erased at their request; "
    "it is no longer kept."
)


def digests_erase(*, customer_ids: list[int], erasure: object = None) -> dict[str, int]:
    """Erasure: stored digests that showed the erased customer's messages lose their text
    (the record that a digest was sent stays)."""
    contact_ids = set(
        Contact.objects.filter(customer_id__in=customer_ids).values_list("id", flat=True)
    )
    if not contact_ids:
        return {"digests": 0}
    digests = Digest.objects.exclude(html="", text="")
    if connection.vendor == "postgresql":
        condition = Q()
        for contact_id in contact_ids:
            condition |= Q(contact_ids__contains=[contact_id])
        hit = list(digests.filter(condition).values_list("id", flat=True))
    else:
        hit = [
            digest_id
            for digest_id, shown in digests.values_list("id", "contact_ids")
            if contact_ids.intersection(shown or ())
        ]
    Digest.objects.filter(id__in=hit).update(
        html=f"<p>{ERASED_NOTICE}</p>", text=ERASED_NOTICE, contact_ids=[]
    )
    return {"digests": len(hit)}
