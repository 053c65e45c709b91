"""Complaints as gifts: the complaint page (who to thank, what to fix), the one-click thank-you
(sent once, never past the contact budget, escaped) and the "Complaints to thank" widget."""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from contacts.budget.services import budget_claim, budget_opt_out
from contacts.models import BudgetRefusal, BudgetTouch, Contact
from feedback.complaints.selectors import complaints_to_thank
from feedback.complaints.services import EMAIL_PURPOSE, complaint_thank
from feedback.items.services import feedback_item_record
from feedback.models import ComplaintThanks
from tests.feedback.feedback_pages_world import NOW, SEES, ingest_contact, make_world, viewer
from voc.core.models import AuditEntry, SendOnce
from voc.core.sendonce import send_once_deliver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(cast):
    return make_world(cast)


def complaint_url(item) -> str:
    return reverse("feedback:complaint-detail", args=[item.id])


def thank_url(item) -> str:
    return reverse("feedback:complaint-thank", args=[item.id])


@pytest.mark.parametrize("who", SEES)
def test_the_complaint_page_is_for_those_who_see_the_complaint(client, cast, world, who):
    client.force_login(viewer(cast, who))
    expected = 200 if "complaint_a" in SEES[who] else 404
    assert client.get(complaint_url(world.complaint_a)).status_code == expected


def test_only_complaints_have_a_complaint_page(client, cast, world):
    client.force_login(cast.executive)
    assert client.get(complaint_url(world.nps_a)).status_code == 404
    assert client.post(thank_url(world.nps_a)).status_code == 404


def test_who_to_thank_shows_contact_details_to_those_who_see_the_customer(client, cast, world):
    client.force_login(cast.manager)
    html = client.get(complaint_url(world.complaint_a)).content.decode()
    assert 'data-testid="customer-email">ann@customer.example<' in html
    assert reverse("contacts:customer-detail", args=[world.customer_a.id]) in html


def test_outside_the_customer_scope_only_the_minimal_card_is_shown(client, cast, world):
    # A complaint about a department A topic from team B's customer: the manager of A reads
    # the complaint (its topic is theirs) but not the customer (no contact of theirs).
    complaint = feedback_item_record(
        kind="complaint", source="voc", verbatim="Refund never came",
        customer=world.customer_b, reason=world.billing, received_at=NOW, by=cast.admin,
    ).item  # fmt: skip
    client.force_login(cast.manager)
    html = client.get(complaint_url(complaint)).content.decode()
    assert 'data-testid="customer-card"' in html
    assert "Customer CUST-B" in html and "CUST-B" in html
    assert "bob@customer.example" not in html
    assert reverse("contacts:customer-detail", args=[world.customer_b.id]) not in html


def test_what_to_fix_counts_the_topics_complaints_and_contacts_of_the_last_30_days(
    client, cast, world
):
    # Another contact and two complaints about "Double charge": one exactly 30 days ago (in),
    # one 30 days and a second ago (out); contacts the same way.
    at_edge = NOW - timedelta(days=30)
    for number, when in enumerate([at_edge, at_edge - timedelta(seconds=1)]):
        contact = ingest_contact(
            external_id=f"a-edge-{number}", team=cast.team_a, reason="Double charge",
            ref=f"CUST-E{number}", email=f"e{number}@customer.example", when=when,
        )  # fmt: skip
        feedback_item_record(
            kind="complaint", source="voc", verbatim=f"Edge {number}", contact=contact,
            received_at=when, by=cast.rep,
        )  # fmt: skip
    client.force_login(cast.manager)
    html = client.get(complaint_url(world.complaint_a)).content.decode()
    assert 'data-testid="fix-topic">Double charge<' in html
    # complaints: complaint_a and the one at the edge; contacts: the one at the edge only
    # (contact_a is 40 days old)
    assert "<strong>2</strong> complaints and <strong>1</strong> contact about it" in html
    assert "Edge 0" in html and "Edge 1" not in html


def test_the_customers_script_is_escaped_on_the_complaint_page_and_in_the_email(
    client, cast, world
):
    client.force_login(cast.manager)
    html = client.get(complaint_url(world.complaint_a)).content.decode()
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    client.post(thank_url(world.complaint_a))
    email = SendOnce.objects.get(purpose=EMAIL_PURPOSE)
    mail.outbox.clear()
    assert send_once_deliver(email_id=email.id) == "sent"
    (message,) = mail.outbox
    assert message.to == ["ann@customer.example"]
    html_body = message.alternatives[0][0]
    assert "<script>" not in html_body and "&lt;script&gt;alert(&#x27;gift&#x27;)" in html_body
    assert "I was charged twice" in message.body
    assert "/c/opt-out/thanks/" in message.body


def test_a_double_post_thanks_once_and_records_who_and_when(
    client, cast, world, django_capture_on_commit_callbacks
):
    client.force_login(cast.manager)
    with django_capture_on_commit_callbacks(execute=False) as queued:
        first = client.post(thank_url(world.complaint_a), follow=True)
        second = client.post(thank_url(world.complaint_a), follow=True)
    assert len(queued) == 1  # one email asked for
    assert "Thank-you on its way" in first.content.decode()
    assert "already thanked: nothing was sent again" in second.content.decode()
    (email,) = SendOnce.objects.filter(purpose=EMAIL_PURPOSE)
    assert email.key == f"complaint-thanks:{world.complaint_a.id}"
    assert email.customer_id == world.customer_a.id
    thanks = ComplaintThanks.objects.get()
    assert (thanks.item_id, thanks.thanked_by, thanks.thanked_at, thanks.email_id) == (
        world.complaint_a.id, cast.manager, NOW, email.id
    )  # fmt: skip
    assert BudgetTouch.objects.filter(
        customer_id=world.customer_a.id, purpose="thanks", key=email.key
    ).count() == 1  # fmt: skip
    entry = AuditEntry.objects.get(action="feedback.complaint_thank")
    assert (entry.actor, entry.target_id, entry.customer_id) == (
        cast.manager, world.complaint_a.id, world.customer_a.id
    )  # fmt: skip
    html = client.get(complaint_url(world.complaint_a)).content.decode()
    assert 'data-testid="thanked"' in html and 'data-testid="thank"' not in html


def refused(client, cast, world, reason_text: str, code: str) -> None:
    client.force_login(cast.manager)
    response = client.post(thank_url(world.complaint_a), follow=True)
    html = response.content.decode()
    assert f"Nothing was sent: {reason_text}" in html
    assert 'data-testid="refusal"' in html
    assert not SendOnce.objects.filter(purpose=EMAIL_PURPOSE).exists()
    assert not ComplaintThanks.objects.exists()
    assert not AuditEntry.objects.filter(action="feedback.complaint_thank").exists()
    assert BudgetRefusal.objects.filter(
        customer_id=world.customer_a.id, purpose="thanks", reason=code
    ).count() == 1  # fmt: skip


def test_an_opted_out_customer_is_not_thanked(client, cast, world):
    budget_opt_out(customer=world.customer_a, purpose="thanks", by=cast.rep)
    refused(client, cast, world, "the customer opted out of thank-yous", "opted_out")


def test_no_second_thank_you_within_30_days(client, cast, world, frozen):
    """A customer thanked for another complaint 29 days, 23:59:59 ago is not thanked again."""
    frozen.move_to(NOW - timedelta(days=29, hours=23, minutes=59, seconds=59))
    budget_claim(customer=world.customer_a, purpose="thanks", key="complaint-thanks:0", by=cast.manager)  # fmt: skip
    frozen.move_to(NOW)
    refused(client, cast, world, "last thank-you 29 days ago; the cool-down is 30 days", "cool_down")  # fmt: skip


def test_at_exactly_30_days_the_thank_you_goes(client, cast, world, frozen):
    frozen.move_to(NOW - timedelta(days=30))
    budget_claim(customer=world.customer_a, purpose="thanks", key="complaint-thanks:0", by=cast.manager)  # fmt: skip
    frozen.move_to(NOW)
    result = complaint_thank(item=world.complaint_a, by=cast.manager)
    assert result.created and result.refusal is None


def test_an_outreach_call_does_not_hold_a_thank_you_back(cast, world):
    """Each purpose has its own touches: an executive's loyal-customer call yesterday does not
    stop a thank-you today (nor the other way round)."""
    budget_claim(customer=world.customer_a, purpose="outreach", key="loyal-call", by=cast.executive)
    result = complaint_thank(item=world.complaint_a, by=cast.manager)
    assert result.created and result.refusal is None
    again = budget_claim(customer=world.customer_a, purpose="outreach", key="x", by=cast.executive)
    assert again.allowed is False  # outreach keeps its own 90-day cool-down


def test_an_open_contact_does_not_hold_a_thank_you_back(cast, world):
    """A thank-you does not wait for open contacts (only surveys do): a customer with an open
    contact is thanked. Pinned so a change to the budget is noticed."""
    Contact.objects.filter(id=world.contact_a.id).update(outcome="open", occurred_at=NOW)
    result = complaint_thank(item=world.complaint_a, by=cast.manager)
    assert result.created


def test_an_erased_customer_is_not_thanked(client, cast, world):
    from contacts.erasure.services import customer_erase

    customer_erase(customer=world.customer_a, by=cast.admin)
    result = complaint_thank(item=world.complaint_a, by=cast.manager)
    assert result.refusal is not None and result.refusal.reason == "erased"
    assert not SendOnce.objects.filter(purpose=EMAIL_PURPOSE).exists()
    client.force_login(cast.manager)
    html = client.get(complaint_url(world.complaint_a)).content.decode()
    assert "Erased customer: there is nobody to thank." in html
    assert 'data-testid="thank"' not in html


@pytest.mark.parametrize(
    ("who", "status"),
    [("rep", 403), ("teammate", 403), ("admin", 403), ("manager", 302), ("deputy", 302),
     ("executive", 302), ("other_manager", 404), ("lone_manager", 404)],
)  # fmt: skip
def test_who_may_thank(client, cast, world, who, status):
    client.force_login(viewer(cast, who))
    assert client.post(thank_url(world.complaint_a)).status_code == status
    assert ComplaintThanks.objects.exists() is (status == 302)


def test_a_customer_without_email_is_not_written_to(client, cast, world):
    type(world.customer_a).objects.filter(id=world.customer_a.id).update(email="")
    client.force_login(cast.manager)
    html = client.post(thank_url(world.complaint_a), follow=True).content.decode()
    assert "The customer has no email address: thank them on the phone instead." in html
    assert not BudgetTouch.objects.exists() and not ComplaintThanks.objects.exists()


# --- the home widget ------------------------------------------------------------------------


def test_the_widget_lists_unthanked_complaints_of_the_last_14_days_in_scope(cast, world):
    edge = NOW - timedelta(days=14)
    inside = feedback_item_record(
        kind="complaint", source="voc", verbatim="edge", contact=world.contact_a,
        received_at=edge, by=cast.rep,
    ).item  # fmt: skip
    feedback_item_record(
        kind="complaint", source="voc", verbatim="too old", contact=world.contact_a,
        received_at=edge - timedelta(seconds=1), by=cast.rep,
    )  # fmt: skip
    team_b_complaint = feedback_item_record(
        kind="complaint", source="voc", verbatim="b", contact=world.contact_b,
        received_at=NOW, by=cast.outsider,
    ).item  # fmt: skip
    assert list(complaints_to_thank(viewer=cast.manager)) == [world.complaint_a, inside]
    assert list(complaints_to_thank(viewer=viewer(cast, "lone_manager"))) == []
    assert list(complaints_to_thank(viewer=cast.other_manager)) == [team_b_complaint]
    complaint_thank(item=world.complaint_a, by=cast.manager)
    assert list(complaints_to_thank(viewer=cast.manager)) == [inside]


@pytest.mark.parametrize(("who", "shown"), [("manager", True), ("executive", True), ("rep", False), ("admin", False)])  # fmt: skip
def test_the_widget_is_on_the_home_page_of_those_who_thank(client, cast, world, who, shown):
    client.force_login(getattr(cast, who))
    html = client.get(reverse("home")).content.decode()
    assert ('data-testid="complaints-to-thank"' in html) is shown
    if shown:
        assert complaint_url(world.complaint_a) in html
    # every role gets the way to the feedback list
    assert 'data-testid="feedback-list-link"' in html
