"""Make it right on the pages: the contact page's panel (gestures, the form, what is left of
the allowance), the approvers' home widget with one-click decisions, and escaping."""

from decimal import Decimal

import pytest
from django.urls import reverse

from contacts.gestures.services import gesture_record
from contacts.models import Gesture
from tests.contacts.gesture_helpers import contact_of, lead_only_manager, set_allowance

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert('gesture')</script>"


@pytest.fixture
def contact(cast):
    set_allowance(cast, per_gesture="50.00", per_month="120.00")
    return contact_of(cast.team_a)


def page(client, contact) -> str:
    response = client.get(reverse("contacts:contact-detail", args=[contact.id]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_panel_says_what_is_left_of_the_allowance(client, cast, contact):
    gesture_record(contact=contact, kind="credit", value="20.00", by=cast.rep)
    client.force_login(cast.rep)
    html = page(client, contact)
    assert 'data-panel="contacts.gestures"' in html
    assert "You can give up to 50.00 USD per gesture, 100.00 USD left this month." in html
    assert 'data-testid="gesture-form"' in html
    assert "Credit</strong> · 20.00 USD" in html


def test_executives_see_the_gestures_but_give_none(client, cast, contact):
    gesture_record(contact=contact, kind="refund", value="5.00", by=cast.rep)
    client.force_login(cast.executive)
    html = page(client, contact)
    assert "Refund</strong> · 5.00 USD" in html
    assert 'data-testid="gesture-form"' not in html


def test_a_rep_gives_a_gesture_from_the_contact_page(client, cast, contact):
    client.force_login(cast.rep)
    url = reverse("contacts:gesture-record", args=[contact.id])
    response = client.post(url, {"kind": "fee_waiver", "value": "50.00", "note": "Late fee"})
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:contact-detail", args=[contact.id])
    gesture = Gesture.objects.get()
    assert (gesture.kind, gesture.value, gesture.state, gesture.note) == (
        "fee_waiver",
        Decimal("50.00"),
        "granted",
        "Late fee",
    )
    html = page(client, contact)
    assert "Fee waiver of 50.00 USD granted." in html
    over = client.post(url, {"kind": "refund", "value": "50.01"})
    assert over.status_code == 302
    html = page(client, contact)
    assert "is above your allowance: it waits for your team lead" in html
    assert Gesture.objects.filter(state="pending").count() == 1


def test_a_bad_value_is_said_on_the_form_with_what_was_typed_and_nothing_stored(
    client, cast, contact
):
    client.force_login(cast.rep)
    url = reverse("contacts:gesture-record", args=[contact.id])
    response = client.post(url, {"kind": "credit", "value": "-3", "note": "Sorry <b>twice</b>"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Ensure this value is greater than or equal to 0." in html
    # What was typed is still there (escaped), on the contact page.
    assert 'value="-3"' in html and "Sorry &lt;b&gt;twice&lt;/b&gt;</textarea>" in html
    assert '<option value="credit" selected>' in html
    assert response.context["contact"] == contact
    # The service's own refusal is said on the form too.
    response = client.post(url, {"kind": "credit", "value": "0", "note": "kept"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "only a call back may be worth nothing" in html
    assert 'value="0"' in html and "kept</textarea>" in html
    assert not Gesture.objects.exists()
    # A fresh visit shows an empty form again.
    assert 'value="0"' not in page(client, contact)


def test_outsiders_cannot_give_on_a_contact_they_cannot_see(client, cast, contact):
    client.force_login(cast.outsider)
    url = reverse("contacts:gesture-record", args=[contact.id])
    assert client.post(url, {"kind": "credit", "value": "5"}).status_code == 404
    client.force_login(cast.executive)
    assert client.post(url, {"kind": "credit", "value": "5"}).status_code == 403
    assert not Gesture.objects.exists()


def test_a_script_in_a_note_is_text_everywhere(client, cast, contact):
    gesture_record(contact=contact, kind="credit", value="80.00", note=SCRIPT, by=cast.rep)
    client.force_login(cast.manager)
    for html in (page(client, contact), client.get(reverse("home")).content.decode()):
        assert SCRIPT not in html
        assert "&lt;script&gt;alert(&#x27;gesture&#x27;)&lt;/script&gt;" in html
    customer_page = client.get(reverse("contacts:customer-detail", args=[contact.customer_id]))
    assert SCRIPT not in customer_page.content.decode()


def test_the_manager_approves_from_the_home_page_in_one_click(client, cast, contact):
    waiting = gesture_record(contact=contact, kind="refund", value="80.00", by=cast.rep)
    lead = lead_only_manager(cast)
    client.force_login(lead)
    home = client.get(reverse("home")).content.decode()
    assert 'data-testid="gestures-waiting"' in home
    assert "Refund of 80.00 USD" in home
    response = client.post(
        reverse("contacts:gesture-approve", args=[waiting.id]),
        {"reason": "Weeks of outage", "next": reverse("home")},
    )
    assert response.status_code == 302 and response["Location"] == reverse("home")
    waiting.refresh_from_db()
    assert (waiting.state, waiting.decided_by, waiting.decision_reason) == (
        "approved",
        lead,
        "Weeks of outage",
    )
    home = client.get(reverse("home")).content.decode()
    assert "Refund of 80.00 USD approved." in home
    assert 'data-testid="gestures-waiting"' not in home  # nothing waits any more


def test_declining_from_the_contact_page(client, cast, contact):
    waiting = gesture_record(contact=contact, kind="refund", value="80.00", by=cast.rep)
    client.force_login(cast.manager)
    assert 'data-testid="gesture-decide"' in page(client, contact)
    response = client.post(
        reverse("contacts:gesture-decline", args=[waiting.id]),
        {"next": "https://evil.example/"},
    )
    # A next address elsewhere is ignored: back to the contact.
    assert response["Location"] == reverse("contacts:contact-detail", args=[contact.id])
    waiting.refresh_from_db()
    assert waiting.state == "declined"
    again = client.post(reverse("contacts:gesture-approve", args=[waiting.id]))
    assert again.status_code == 302
    assert "This gesture is already declined by" in page(client, contact)


def test_the_home_widget_is_for_those_who_may_decide(client, cast, contact):
    gesture_record(contact=contact, kind="refund", value="80.00", by=cast.rep)
    for role, shown in [
        ("rep", False),
        ("teammate", False),
        ("manager", True),
        ("other_manager", False),
        ("executive", True),
        ("admin", True),
    ]:
        client.force_login(getattr(cast, role))
        home = client.get(reverse("home")).content.decode()
        assert ('data-testid="gestures-waiting"' in home) is shown, role


def test_a_manager_of_another_team_cannot_decide_by_address(client, cast, contact):
    waiting = gesture_record(contact=contact, kind="refund", value="80.00", by=cast.rep)
    client.force_login(cast.other_manager)
    assert client.post(reverse("contacts:gesture-approve", args=[waiting.id])).status_code == 404
    client.force_login(cast.rep)
    assert client.post(reverse("contacts:gesture-approve", args=[waiting.id])).status_code == 403
    waiting.refresh_from_db()
    assert waiting.state == "pending"


def test_the_contact_page_costs_a_few_queries_more_whatever_the_gestures(
    client, cast, contact, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(cast.manager)
    gesture_record(contact=contact, kind="credit", value="1.00", by=cast.rep)
    with CaptureQueriesContext(connection) as one:
        page(client, contact)
    for _ in range(15):
        gesture_record(contact=contact, kind="credit", value="80.00", by=cast.rep)
    # Prevents an N+1 over the gestures (givers, deciders, teams) on the panel and timeline.
    with django_assert_max_num_queries(len(one.captured_queries)):
        page(client, contact)


def test_the_report_is_linked_for_those_who_may_read_it(client, cast, contact):
    for role, linked in [("rep", False), ("manager", True), ("executive", True)]:
        client.force_login(getattr(cast, role))
        assert ('data-testid="gesture-report-link"' in page(client, contact)) is linked, role


def test_admins_read_gestures_in_the_django_admin(client, cast, contact):
    gesture = gesture_record(contact=contact, kind="credit", value="5.00", by=cast.rep)
    client.force_login(cast.admin)
    assert client.get(reverse("admin:contacts_gesture_changelist")).status_code == 200
    assert (
        client.get(reverse("admin:contacts_gesture_change", args=[gesture.id])).status_code == 200
    )
    client.force_login(cast.manager)
    assert client.get(reverse("admin:contacts_gesture_changelist")).status_code == 403
