"""What the feedback pages add to the contacts pages: the contact and customer panels, the
customer timeline's feedback entries (restricted outside the scope) and erasure."""

import pytest
import time_machine
from django.urls import reverse

from contacts.erasure.services import customer_erase
from contacts.selectors import customer_timeline
from feedback.complaints.services import complaint_thank
from feedback.items.services import feedback_item_record
from feedback.models import ComplaintThanks, FeedbackItem
from tests.feedback.feedback_pages_world import NOW, make_world

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(cast):
    return make_world(cast)


def panel(html: str) -> str:
    start = html.index('data-panel="feedback.items"')
    return html[start : html.index("</section>", start)]


def test_the_contact_page_lists_its_feedback_and_offers_to_log_more(client, cast, world):
    client.force_login(cast.rep)
    html = panel(
        client.get(reverse("contacts:contact-detail", args=[world.contact_a.id])).content.decode()
    )
    assert f'data-item="{world.nps_a.id}"' in html and f'data-item="{world.complaint_a.id}"' in html
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert f"?contact={world.contact_a.id}" in html
    assert reverse("feedback:complaint-detail", args=[world.complaint_a.id]) in html


def test_an_executive_sees_the_panel_without_the_log_link(client, cast, world):
    client.force_login(cast.executive)
    html = panel(
        client.get(reverse("contacts:contact-detail", args=[world.contact_b.id])).content.decode()
    )
    assert f'data-item="{world.compliment_b.id}"' in html
    assert "?contact=" not in html


def test_the_customer_panel_lists_only_the_items_the_viewer_may_see(client, cast, world):
    url = reverse("contacts:customer-detail", args=[world.customer_a.id])
    client.force_login(cast.rep)
    html = panel(client.get(url).content.decode())
    assert f'data-item="{world.nps_a.id}"' in html and f'data-item="{world.complaint_a.id}"' in html
    assert f'data-item="{world.review_none.id}"' not in html  # no team: executives and admins
    client.force_login(cast.executive)
    html = panel(client.get(url).content.decode())
    assert f'data-item="{world.review_none.id}"' in html


def test_a_customer_without_feedback_has_no_panel(client, cast, world):
    FeedbackItem.objects.filter(customer=world.customer_b).delete()
    client.force_login(cast.executive)
    html = client.get(
        reverse("contacts:customer-detail", args=[world.customer_b.id])
    ).content.decode()
    assert 'data-panel="feedback.items"' not in html


def test_the_timeline_shows_feedback_and_restricts_what_is_outside_the_scope(cast, world):
    entries = [
        e
        for e in customer_timeline(customer=world.customer_a, viewer=cast.rep)
        if e.kind == "feedback"
    ]
    by_url = {e.url: e for e in entries if e.url}
    detail = reverse("feedback:item-detail", args=[world.nps_a.id])
    assert by_url[detail].title == "NPS answer 3 (Detractor / unhappy) · Double charge"
    assert by_url[detail].summary == "Too slow to fix my bill"
    assert not by_url[detail].restricted
    (restricted,) = [e for e in entries if e.restricted]
    assert (restricted.when, restricted.title, restricted.summary, restricted.url) == (
        world.review_none.received_at, "Review", "", ""
    )  # fmt: skip
    assert len(entries) == 3
    everything = [
        e
        for e in customer_timeline(customer=world.customer_a, viewer=cast.executive)
        if e.kind == "feedback"
    ]
    assert not any(e.restricted for e in everything) and len(everything) == 3


def test_the_timeline_on_the_customer_page_escapes_the_verbatim(client, cast, world):
    client.force_login(cast.manager)
    html = client.get(
        reverse("contacts:customer-detail", args=[world.customer_a.id])
    ).content.decode()
    assert "timeline-feedback" in html
    assert "<script>alert" not in html


def test_erasure_blanks_the_verbatims_and_identifiers_and_keeps_the_counts(cast, world):
    feedback_item_record(
        kind="nps", score=9, source="survey-tool", external_id="resp-ann-77", verbatim="Ann here",
        customer=world.customer_a, received_at=NOW, by=cast.admin,
    )  # fmt: skip
    complaint_thank(item=world.complaint_a, by=cast.manager)
    before = list(
        FeedbackItem.objects.filter(customer=world.customer_a).order_by("id").values_list(
            "id", "kind", "score", "band", "reason_id", "team_id", "sentiment"
        )
    )  # fmt: skip
    erasure = customer_erase(customer=world.customer_a, by=cast.admin)
    assert erasure.counts["feedback.items.verbatims"] == 4  # nps_a, complaint_a, review, resp
    assert erasure.counts["feedback.items.external_ids"] == 1
    items = FeedbackItem.objects.filter(customer=world.customer_a)
    assert set(items.values_list("verbatim", flat=True)) == {""}
    (renamed,) = items.filter(source="survey-tool").values_list("external_id", flat=True)
    assert renamed.startswith("erased-") and "ann" not in renamed
    after = list(
        items.order_by("id").values_list(
            "id", "kind", "score", "band", "reason_id", "team_id", "sentiment"
        )
    )
    assert after == before  # what the counts are made of stays
    assert ComplaintThanks.objects.filter(item=world.complaint_a).exists()  # who and when stay
    # the other customer's feedback is untouched
    world.compliment_b.refresh_from_db()
    assert world.compliment_b.verbatim == "Great engineer"


def test_erasure_reaches_the_thank_you_email_and_the_topic_audit(cast, world):
    from feedback.items.topic_edits import feedback_item_set_topic
    from voc.core.models import AuditEntry, SendOnce

    complaint_thank(item=world.complaint_a, by=cast.manager)
    feedback_item_set_topic(item=world.nps_a, reason=world.outage, by=cast.executive)
    customer_erase(customer=world.customer_a, by=cast.admin)
    email = SendOnce.objects.get(purpose="feedback.complaint_thanks")
    assert (email.to, email.context) == ([], {})
    entry = AuditEntry.objects.get(action="feedback.set_topic")
    assert entry.changes == {
        "reason": ["[erased]", "[erased]"],
        "topic_source": ["[erased]", "[erased]"],
    }


def test_the_demo_spreads_answers_complaints_and_compliments_over_90_days(db):
    from datetime import timedelta as td

    from django.core.management import call_command
    from django.utils import timezone

    from voc.core.models import AuditEntry

    call_command("seed_demo", customers=100, contacts=300, seed=3)
    items = FeedbackItem.objects.filter(source="demo")
    from contacts.models import Customer

    customers = Customer.objects.count()  # the demo's 100 and its inbound emails' senders
    assert items.count() == min(240, 2 * customers)
    assert set(items.values_list("kind", flat=True)) == {
        "nps",
        "csat",
        "ces",
        "complaint",
        "compliment",
    }
    assert not items.filter(received_at__lt=timezone.now() - td(days=90, hours=1)).exists()
    assert not items.filter(customer__isnull=True).exists()
    assert items.filter(contact__isnull=False, team__isnull=False).count() >= 100
    assert items.exclude(verbatim="").count() >= 150
    # through the one write path: one audit entry each
    assert (
        AuditEntry.objects.filter(action="feedback.record", actor_name="demo").count()
        == items.count()
    )


def test_erasing_a_customer_without_feedback_counts_nothing_for_it(cast, world):
    FeedbackItem.objects.filter(customer=world.customer_b).delete()
    erasure = customer_erase(customer=world.customer_b, by=cast.admin)
    assert not [key for key in erasure.counts if key.startswith("feedback.items")]
