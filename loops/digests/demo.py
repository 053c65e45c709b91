"""Demo digests: executives and department heads enrolled on their topics, and a week of
daily digests built as the job would have built them, delivered to the outbox."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from loops.digests.services import SubscriptionData, digests_send_due, subscription_create
from loops.models import Digest, DigestSubscription
from voc.core.demo import DemoContext
from voc.core.models import SendOnce
from voc.core.sendonce import send_once_deliver
from voc.people.models import Department, User
from voc.people.roles import Role

DAYS = 7


def seed_digests(ctx: DemoContext) -> None:
    admin = User.objects.filter(role=Role.ADMIN, is_active=True).order_by("id").first()
    if admin is None:
        return
    now = timezone.now()
    start = now - timedelta(days=DAYS)
    subscriptions: list[DigestSubscription] = []
    for executive in User.objects.filter(role=Role.EXECUTIVE, is_active=True).order_by("id")[:3]:
        subscriptions.append(
            subscription_create(
                user=executive,
                data=SubscriptionData(
                    name="Unhappy customers, every topic", hour=7, sentiment_at_most=-0.2
                ),
                by=admin,
                enrolled=True,
            )
        )
    for department in Department.objects.filter(~Q(head=None)).select_related("head"):
        head = department.head
        if head is None or not head.is_active:
            continue
        subscriptions.append(
            subscription_create(
                user=head,
                data=SubscriptionData(
                    name=f"{department.name}: what customers write",
                    hour=8,
                    departments=(department.pk,),
                ),
                by=admin,
                enrolled=True,
            )
        )
    DigestSubscription.objects.filter(pk__in=[s.pk for s in subscriptions]).update(
        sent_until=start, created_at=start
    )
    # The job as it ran each hour of the week: one digest a day per subscription.
    for hour in range(DAYS * 24):
        digests_send_due(now=start + timedelta(hours=hour + 1))
    emails = SendOnce.objects.filter(
        id__in=Digest.objects.filter(subscription__in=subscriptions).values("send_once_id"),
        status=SendOnce.Status.PENDING,
    )
    for email_id in emails.values_list("id", flat=True):
        send_once_deliver(email_id=email_id)
    ctx.stdout(f"  digests: {len(subscriptions)} people enrolled, a week of digests sent")
