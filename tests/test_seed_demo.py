import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.http import HttpRequest
from django.test.utils import CaptureQueriesContext

from contacts.models import (
    Contact,
    ContactReason,
    ContactRollup,
    Customer,
    InboundEmail,
    SupportMailbox,
)
from feedback.models import FeedbackItem, FeedbackRollup, Session, TopicRule
from voc.people.models import Department, Team, User
from voc.people.roles import Role

pytestmark = pytest.mark.django_db


def snapshot() -> dict:
    return {
        "users": list(
            User.objects.order_by("username").values_list(
                "username", "first_name", "last_name", "role", "team__name", "reports_to__username"
            )
        ),
        "contacts": list(
            Contact.objects.order_by("external_id").values_list(
                "external_id",
                "customer__external_ref",
                "reason__name",
                "rep__username",
                "occurred_at",
                "repeat_of__external_id",
            )
        ),
        "customers": list(
            Customer.objects.order_by("external_ref").values_list(
                "external_ref", "name", "email", "segment"
            )[:50]
        ),
    }


def test_demo_data_covers_every_role_and_logs_in(client, settings):
    call_command("seed_demo", customers=300, contacts=0)
    counts = {role: User.objects.filter(role=role).count() for role in Role.values}
    assert sum(counts.values()) >= 30
    assert all(count >= 2 for count in counts.values()), counts
    assert Department.objects.filter(head__role=Role.MANAGER).count() == Department.objects.count()
    assert not Team.objects.filter(lead__isnull=True).exists()
    assert not User.objects.filter(role=Role.REP, team__isnull=True).exists()
    # The demo's inbound emails add their senders as customers.
    assert Customer.objects.exclude(contacts__source="email").count() == 300
    assert client.login(request=HttpRequest(), username="rep01", password=settings.DEMO_PASSWORD)
    assert client.login(request=HttpRequest(), username="ceo", password=settings.DEMO_PASSWORD)


def wipe_demo() -> None:
    FeedbackItem.objects.all().delete()  # survey answers: their topic protects reasons
    Contact.objects.all().delete()
    Customer.objects.all().delete()  # and their lifecycle events
    InboundEmail.objects.all().delete()
    SupportMailbox.objects.all().delete()  # they keep their teams and reasons
    FeedbackItem.objects.all().delete()  # they and topic rules keep their reasons
    FeedbackRollup.objects.all().delete()
    TopicRule.objects.all().delete()
    ContactReason.objects.filter(parent__isnull=False).delete()
    ContactReason.objects.all().delete()
    ContactRollup.objects.all().delete()
    Session.objects.all().delete()  # and their notes
    User.objects.all().delete()
    Department.objects.all().delete()
    Team.objects.all().delete()


def test_the_same_seed_gives_the_same_data():
    call_command("seed_demo", customers=100, contacts=300, seed=7)
    first = snapshot()
    wipe_demo()
    call_command("seed_demo", customers=100, contacts=300, seed=7)
    assert snapshot() == first


def test_it_refuses_a_database_with_users_unless_asked_to_skip():
    User.objects.create_user("someone")
    with pytest.raises(CommandError):
        call_command("seed_demo", customers=10)
    call_command("seed_demo", customers=10, contacts=10, if_empty=True)
    assert Customer.objects.count() == 0


def test_customers_are_inserted_in_bulk():
    # Users are saved one by one (36), customers in batches (of 5,000; SQLite's parameter limit
    # cuts them to about 110), and the demo's few inbound emails cost the same at any size:
    # 11,000 more customers must cost about a hundred more queries at most, not 11,000.
    def queries_for(customers: int) -> int:
        with CaptureQueriesContext(connection) as queries:
            call_command("seed_demo", customers=customers, contacts=0)
        return len(queries.captured_queries)

    small = queries_for(1000)
    assert Customer.objects.exclude(contacts__source="email").count() == 1000
    wipe_demo()
    large = queries_for(12000)
    assert Customer.objects.exclude(contacts__source="email").count() == 12000
    assert large - small <= (12000 - 1000) // 100, (small, large)  # 100+ customers a query


def test_demo_contacts_go_through_ingestion_with_repeats_rollups_and_sentiment():
    from contacts.models import Contact, CustomerEvent, Message
    from contacts.pingpong import threads_needing_call
    from contacts.rollups import rollup_snapshot, rollups_rebuild

    call_command("seed_demo", customers=200, contacts=1500)
    assert Contact.objects.filter(source="demo").count() == 1500
    # The verified-fix story (loops/verification/demo.py) brings its own Autopay contacts.
    assert (
        Contact.objects.exclude(source__in=["demo", "email"]).count()
        == Contact.objects.filter(
            source="demo-verification", reason__parent__name="Billing"
        ).count()
        > 1000
    )
    # Two email threads from the demo's inbound mail, one with the mailbox's two bcc'd replies
    # between three customer messages: the rep is told to call (contacts.pingpong).
    assert Contact.objects.filter(source="email").count() == 2
    assert Message.objects.filter(contact__source="email", direction="outgoing").count() == 2
    nudged = threads_needing_call(Contact.objects.all()).select_related("customer").get()
    assert (nudged.customer.email, nudged.customer.phone, nudged.customer_messages) == (
        "noor.rahman@mail.example",
        "+15550142207",
        3,
    )
    assert Message.objects.filter(text__contains="4111").count() == 0  # redacted on the way in
    assert Message.objects.filter(text__contains="[card number redacted]").exists()
    assert Contact.objects.filter(repeat_of__isnull=False).count() > 100
    assert not Contact.objects.filter(sentiment__isnull=True).exists()
    assert Contact.objects.filter(source="demo").values("reason").distinct().count() == 12
    assert Contact.objects.values("team").distinct().count() == Team.objects.count()
    assert set(CustomerEvent.objects.values_list("kind", flat=True)) == {
        "gained",
        "lost",
        "won_back",
    }
    kept = rollup_snapshot()
    rollups_rebuild()
    assert rollup_snapshot() == kept
