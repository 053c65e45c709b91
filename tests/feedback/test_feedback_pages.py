"""The feedback pages: the list (scope, filters, paging), an item's page, setting a topic by
hand and logging a complaint or compliment by hand, per role."""

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse

from feedback.items.rollups import feedback_rollups_differences
from feedback.items.services import feedback_item_record
from feedback.items.topic_edits import feedback_item_set_topic
from feedback.models import FeedbackItem, FeedbackRollup
from tests.feedback.feedback_pages_world import NOW, SEES, make_world, viewer
from voc.core.models import AuditEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(cast):
    return make_world(cast)


def listed(client, **params) -> list[int]:
    response = client.get(reverse("feedback:item-list"), params)
    assert response.status_code == 200
    return [int(value) for value in _rows(response.content.decode())]


def _rows(html: str) -> list[str]:
    import re

    return re.findall(r'<tr data-item="(\d+)">', html)


@pytest.mark.parametrize("who", SEES)
def test_each_role_lists_and_opens_exactly_the_items_in_its_scope(client, cast, world, who):
    user = viewer(cast, who)
    client.force_login(user)
    items = world.items()
    expected = [
        items[name].id
        for name in sorted(SEES[who], key=lambda n: -items[n].received_at.timestamp())
    ]
    assert listed(client) == expected  # newest first
    for name, item in items.items():
        status = client.get(reverse("feedback:item-detail", args=[item.id])).status_code
        assert status == (200 if name in SEES[who] else 404), name


def test_anonymous_users_go_to_the_login_page(client, world):
    response = client.get(reverse("feedback:item-list"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"kind": "complaint"}, ["complaint_a"]),
        ({"kind": "nps"}, ["nps_a"]),
        ({"band": "negative"}, ["nps_a"]),
        ({"band": "positive"}, ["csat_dept"]),
        ({"channel": "social"}, ["review_none"]),
        ({"channel": "phone"}, ["complaint_a", "compliment_b", "nps_a"]),
        ({"q": "CHARGED twice"}, ["complaint_a"]),
        ({"q": "nothing like this"}, []),
    ],
)
def test_filters_return_exactly_the_matching_rows(client, cast, world, params, expected):
    client.force_login(cast.executive)
    items = world.items()
    assert listed(client, **params) == sorted(
        (items[name].id for name in expected),
        key=lambda i: -FeedbackItem.objects.get(id=i).received_at.timestamp(),
    )


def test_topic_and_team_filters(client, cast, world):
    client.force_login(cast.executive)
    assert set(listed(client, reason=world.billing.id)) == {
        world.nps_a.id,
        world.complaint_a.id,
        world.csat_dept.id,
    }
    assert listed(client, reason=world.outage.id) == [world.compliment_b.id]
    assert listed(client, team=cast.team_b.id) == [world.compliment_b.id]
    # a parent topic finds its children's items
    parent = type(world.billing).objects.create(name="Billing")
    world.billing.parent = parent
    world.billing.save()
    assert len(listed(client, reason=parent.id)) == 3


def test_the_date_range_includes_both_days_whole(client, cast, world):
    client.force_login(cast.executive)
    # complaint_a: 2 days ago (14 Nov 12:00); compliment_b: 13 Nov; nps_a: 11 Nov.
    assert listed(client, date_from="2026-11-13", date_to="2026-11-14") == [
        world.complaint_a.id,
        world.compliment_b.id,
    ]
    assert listed(client, date_from="2026-11-14") == [world.complaint_a.id]
    assert listed(client, date_to="2026-11-11") == [
        world.nps_a.id,
        world.review_none.id,
        world.csat_dept.id,
    ]
    # exactly at midnight starting the "from" day: in; one second before: out
    midnight = NOW.replace(day=15, hour=0) - timedelta(hours=0)
    at_midnight = feedback_item_record(
        kind="complaint", source="t", verbatim="midnight", customer=world.customer_a,
        received_at=midnight.astimezone(), by=cast.admin,
    ).item  # fmt: skip
    assert at_midnight.id in listed(client, date_from=midnight.astimezone().date().isoformat())


def test_a_reversed_date_range_is_reported_and_ignored(client, cast, world):
    client.force_login(cast.executive)
    response = client.get(
        reverse("feedback:item-list"), {"date_from": "2026-11-15", "date_to": "2026-11-01"}
    )
    assert "The end date is before the start date." in response.content.decode()


def test_the_scope_applies_under_the_filters(client, cast, world):
    client.force_login(cast.rep)
    assert listed(client, kind="compliment") == []  # team B's compliment stays hidden
    assert listed(client, q="Great engineer") == []


def test_pages_of_fifty_newest_first(client, cast, world, django_assert_max_num_queries):
    for number in range(55):
        feedback_item_record(
            kind="ces", score=4, source="bulk", verbatim=f"row {number}", contact=world.contact_a,
            received_at=NOW - timedelta(minutes=number), by=cast.admin,
        )  # fmt: skip
    client.force_login(cast.rep)
    first = listed(client)
    assert len(first) == 50
    second = listed(client, page=2)
    assert len(second) == 2 + 5  # 57 in the rep's scope: the 55 and nps_a, complaint_a
    assert not set(first) & set(second)
    # prevents an N+1 over rows (customer, contact, topic, team are joined; links in 2 queries)
    with django_assert_max_num_queries(14):
        client.get(reverse("feedback:item-list"))


def test_a_script_verbatim_is_escaped_on_the_list_and_the_detail(client, cast, world):
    client.force_login(cast.manager)
    for url in (
        reverse("feedback:item-list"),
        reverse("feedback:item-detail", args=[world.complaint_a.id]),
    ):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html
        assert "&lt;script&gt;alert(&#x27;gift&#x27;)&lt;/script&gt;" in html


def test_the_detail_shows_score_band_topic_and_its_source_and_history(client, cast, world):
    client.force_login(cast.manager)
    html = client.get(reverse("feedback:item-detail", args=[world.nps_a.id])).content.decode()
    assert 'data-testid="score">3<' in html
    assert "Detractor / unhappy" in html
    assert 'Double charge <span class="muted">(from the linked contact)</span>' in html
    assert reverse("contacts:contact-detail", args=[world.contact_a.id]) in html
    assert reverse("contacts:customer-detail", args=[world.customer_a.id]) in html
    assert "recorded the feedback item" in html
    assert 'data-testid="topic-form"' in html


def test_a_rep_may_not_set_a_topic(client, cast, world):
    client.force_login(cast.rep)
    html = client.get(reverse("feedback:item-detail", args=[world.nps_a.id])).content.decode()
    assert 'data-testid="topic-form"' not in html
    response = client.post(
        reverse("feedback:item-topic", args=[world.nps_a.id]), {"reason": world.outage.id}
    )
    assert response.status_code == 403


def test_a_manager_sets_a_topic_by_hand_audited(client, cast, world):
    client.force_login(cast.manager)
    other = type(world.billing).objects.create(name="Refund late", department=cast.dept_a)
    response = client.post(
        reverse("feedback:item-topic", args=[world.nps_a.id]), {"reason": other.id}
    )
    assert response.status_code == 302
    world.nps_a.refresh_from_db()
    assert (world.nps_a.reason_id, world.nps_a.topic_source) == (other.id, "hand")
    entry = AuditEntry.objects.get(action="feedback.set_topic", target_id=world.nps_a.id)
    assert entry.actor == cast.manager
    assert entry.changes == {
        "reason": [world.billing.id, other.id],
        "topic_source": ["contact", "hand"],
    }
    assert entry.customer_id == world.customer_a.id
    # the same topic again: nothing written
    feedback_item_set_topic(item=world.nps_a, reason=other, by=cast.manager)
    assert AuditEntry.objects.filter(action="feedback.set_topic").count() == 1


def test_a_topic_set_by_hand_moves_the_item_in_the_rollups(cast, world):
    """The topic is part of the rollups' key: the old row loses the item, the new one gains it,
    and the stored rollups still equal a recount."""
    other = type(world.billing).objects.create(name="Refund late", department=cast.dept_a)

    def counted(reason_id: int) -> int:
        rows = FeedbackRollup.objects.filter(kind=world.nps_a.kind, reason_id=reason_id)
        return sum(rows.values_list("items", flat=True))

    billing_before = counted(world.billing.id)
    feedback_item_set_topic(item=world.nps_a, reason=other, by=cast.manager)
    assert counted(world.billing.id) == billing_before - 1
    assert counted(other.id) == 1
    assert feedback_rollups_differences() == {}


def test_topic_outside_scope_is_404_and_retired_reasons_are_refused(client, cast, world):
    client.force_login(cast.manager)
    url = reverse("feedback:item-topic", args=[world.compliment_b.id])
    assert client.post(url, {"reason": world.billing.id}).status_code == 404
    world.outage.retired_at = NOW
    world.outage.save()
    response = client.post(
        reverse("feedback:item-topic", args=[world.nps_a.id]), {"reason": world.outage.id}
    )
    assert response.status_code == 400  # not offered any more
    world.nps_a.refresh_from_db()
    assert world.nps_a.reason_id == world.billing.id


def test_moving_an_item_out_of_a_managers_scope_says_so(client, cast, world):
    client.force_login(cast.manager)
    response = client.post(
        reverse("feedback:item-topic", args=[world.csat_dept.id]), {"reason": world.outage.id},
        follow=True,
    )  # fmt: skip
    assert response.redirect_chain[-1][0] == reverse("feedback:item-list")
    assert "outside the feedback you can see" in response.content.decode()


def test_a_rep_logs_a_complaint_from_a_contact(client, cast, world):
    client.force_login(cast.rep)
    response = client.post(
        reverse("feedback:item-log"),
        {"kind": "complaint", "verbatim": "Card 4111 1111 1111 1111 charged twice",
         "contact": world.contact_a.id, "channel": "letter", "received_at": "2026-11-16T10:00"},
    )  # fmt: skip
    item = FeedbackItem.objects.exclude(id__in=[i.id for i in world.items().values()]).get()
    assert response.status_code == 302
    assert response["Location"] == reverse("feedback:item-detail", args=[item.id])
    assert (item.kind, item.source, item.customer_id, item.team_id, item.channel) == (
        "complaint",
        "voc",
        world.customer_a.id,
        cast.team_a.id,
        "letter",
    )
    assert "4111 1111 1111 1111" not in item.verbatim  # redacted by the one write path
    assert (item.reason_id, item.topic_source, item.created_by) == (
        world.billing.id,
        "contact",
        cast.rep,
    )
    assert AuditEntry.objects.filter(action="feedback.record", target_id=item.id).count() == 1


def test_logging_refuses_a_contact_outside_the_scope_and_empty_words(client, cast, world):
    client.force_login(cast.rep)
    response = client.post(
        reverse("feedback:item-log"),
        {"kind": "compliment", "verbatim": "  ", "contact": world.contact_b.id,
         "received_at": "2026-11-16T10:00"},
    )  # fmt: skip
    assert response.status_code == 400
    html = response.content.decode()
    assert "No contact with this number among the ones you can see." in html
    assert "This field is required." in html  # the words
    assert FeedbackItem.objects.count() == 5


def test_a_letter_without_a_contact_belongs_to_the_reps_team_and_the_rep_reads_it(
    client, cast, world
):
    client.force_login(cast.rep)
    response = client.post(
        reverse("feedback:item-log"),
        {"kind": "compliment", "verbatim": "Thanks!", "channel": "letter",
         "received_at": "2026-11-16T10:00"},
    )  # fmt: skip
    item = FeedbackItem.objects.get(verbatim="Thanks!")
    assert (item.team_id, item.contact_id, item.channel) == (cast.team_a.id, None, "letter")
    assert response["Location"] == reverse("feedback:item-detail", args=[item.id])
    assert client.get(response["Location"]).status_code == 200


def test_a_contacts_team_wins_over_the_given_team(cast, world):
    saved = feedback_item_record(
        kind="complaint", source="voc", verbatim="Late", contact=world.contact_a,
        team=cast.team_b, by=cast.rep,
    )  # fmt: skip
    assert saved.item.team_id == cast.team_a.id


@pytest.mark.parametrize(
    ("who", "status"), [("rep", 200), ("manager", 200), ("executive", 403), ("admin", 403)]
)
def test_who_logs_by_hand(client, cast, who, status):
    client.force_login(getattr(cast, who))
    assert client.get(reverse("feedback:item-log")).status_code == status
