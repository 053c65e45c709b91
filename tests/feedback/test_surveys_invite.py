"""The invitation job: who is sampled, what the contact budget says (every "no" recorded with
its reason and stopping the invitation), the invitation and its email, and a fixed number of
queries per batch."""

import base64
import json
import zlib
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from contacts.budget.selectors import budget_cool_downs
from contacts.budget.services import budget_opt_out
from contacts.models import BudgetOptOut, BudgetRefusal, BudgetTouch, Contact, ContactReason
from feedback.models import SurveyInvitation
from feedback.surveys.sampling import bucket, is_sampled
from feedback.surveys.services import EMAIL_PURPOSE, survey_invitations_send
from feedback.surveys.settings import Overrides, sampling_rules
from tests.factories import CustomerFactory
from tests.feedback.surveys_common import ADMIN, T0, closed_contact, run_job, setting
from voc.core.models import SendOnce
from voc.core.sendonce import send_once_deliver

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def everyone_sampled(db):
    setting("survey_share_percent", 100)


def refusals(contact) -> list[str]:
    return list(
        BudgetRefusal.objects.filter(key=f"contact:{contact.id}").values_list("reason", flat=True)
    )


def test_a_closed_contact_gets_one_invitation_and_one_email():
    contact = closed_contact()
    run = run_job()
    invitation = SurveyInvitation.objects.get()
    assert (run.closed, run.sampled, run.invited, run.refused) == (1, 1, 1, 0)
    assert invitation.contact == contact
    assert invitation.customer == contact.customer
    assert (invitation.scale, invitation.channel) == ("nps", "phone")
    assert invitation.sent_at == T0
    assert invitation.expires_at == T0 + timedelta(days=14)
    assert invitation.answered_at is None
    touch = BudgetTouch.objects.get()
    assert (touch.customer_id, touch.purpose, touch.key) == (
        contact.customer_id,
        "survey",
        f"contact:{contact.id}",
    )
    email = SendOnce.objects.get()
    assert (email.purpose, email.key, email.to) == (
        EMAIL_PURPOSE,
        f"invitation:{invitation.id}",
        [contact.customer.email],
    )
    assert email.context == {"invitation_id": invitation.id}  # nothing personal stored
    # A re-run finds nothing new: same sample, invited contacts left out.
    again = run_job(T0 + timedelta(minutes=5))
    assert (again.closed, again.invited, again.refused) == (0, 0, 0)
    assert SurveyInvitation.objects.count() == SendOnce.objects.count() == 1


def test_the_email_has_text_html_and_one_click_unsubscribe_and_escapes_the_name():
    customer = CustomerFactory(name='<b>Ann</b> & "Co" <img src=x>')
    closed_contact(customer)
    run_job()
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        assert send_once_deliver(email_id=SendOnce.objects.get().id) == "sent"
    message = mail.outbox[0]
    html = message.alternatives[0][0]
    assert message.alternatives[0][1] == "text/html"
    assert "&lt;b&gt;Ann&lt;/b&gt; &amp; &quot;Co&quot; &lt;img src=x&gt;" in html
    assert "<b>Ann" not in html and "<img" not in html  # no tracking pixel, no injected tag
    assert "How likely are you to recommend" in message.body
    unsubscribe = message.extra_headers["List-Unsubscribe"]
    assert unsubscribe.startswith("<http") and unsubscribe.endswith(">")
    assert "/c/opt-out/survey/" in unsubscribe
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # Eleven score links, each the same signed link with a score.
    assert html.count("?score=") == 11


def _payload(token: str) -> dict:
    data = token.split(":")[0]
    compressed = data.startswith(".")
    raw = base64.urlsafe_b64decode(data.lstrip(".") + "=" * (-len(data.lstrip(".")) % 4))
    return json.loads(zlib.decompress(raw) if compressed else raw)


def test_the_survey_link_carries_no_personal_data():
    customer = CustomerFactory(name="Zelda Quartermain", email="zelda.q@customer.example")
    closed_contact(customer)
    run_job()
    with time_machine.travel(T0 + timedelta(minutes=1), tick=False):
        send_once_deliver(email_id=SendOnce.objects.get().id)
    invitation = SurveyInvitation.objects.get()
    body = mail.outbox[0].body
    url = next(word for word in body.split() if "/feedback/surveys/s/" in word)
    token = url.rstrip("/").rsplit("/", 1)[1]
    for private in ("zelda", "Zelda", "Quartermain", "customer.example", customer.external_ref):
        assert private not in url
    payload = _payload(token)
    assert set(payload) == {"p", "t", "i", "n"}  # purpose, type, id, nonce
    assert payload["t"] == "feedback.surveyinvitation" and payload["i"] == invitation.id


@pytest.mark.parametrize(
    ("days_ago", "allowed"),
    [(30, True), (29, False)],
    ids=["exactly-the-cool-down", "one-day-inside"],
)
def test_the_survey_cool_down(days_ago, allowed):
    contact = closed_contact()
    BudgetTouch.objects.create(
        customer=contact.customer, purpose="survey", at=T0 - timedelta(days=days_ago),
        actor_name="earlier",
    )  # fmt: skip
    run_job()
    assert SurveyInvitation.objects.filter(contact=contact).exists() is allowed
    assert refusals(contact) == ([] if allowed else ["cool_down"])
    assert SendOnce.objects.exists() is allowed


def test_an_open_contact_holds_the_survey_back():
    contact = closed_contact()
    closed_contact(contact.customer, outcome="callback", closed_at=T0 - timedelta(days=3))
    run_job()
    assert not SurveyInvitation.objects.exists()
    assert refusals(contact) == ["contact_open"]
    assert not SendOnce.objects.exists()


def test_an_opted_out_customer_is_not_asked():
    contact = closed_contact()
    budget_opt_out(customer=contact.customer, purpose="survey", by=ADMIN)
    run_job()
    assert not SurveyInvitation.objects.exists()
    assert refusals(contact) == ["opted_out"]
    assert not SendOnce.objects.exists()


@pytest.mark.parametrize("how", ["erased", "merged"])
def test_an_erased_or_merged_customer_is_not_asked(how):
    contact = closed_contact()
    customer = contact.customer
    if how == "erased":
        customer.erased_at, customer.email, customer.name = T0 - timedelta(days=1), "", ""
    else:
        customer.merged_into = CustomerFactory()
    customer.save()
    run_job()
    assert not SurveyInvitation.objects.exists()
    assert refusals(contact) == [how]
    assert not SendOnce.objects.exists()
    # Recorded once: a re-run leaves refused contacts alone.
    run_job(T0 + timedelta(minutes=5))
    assert refusals(contact) == [how]


def test_a_customer_without_email_is_skipped_without_a_claim():
    closed_contact(CustomerFactory(email=""))
    run = run_job()
    assert (run.closed, run.sampled) == (1, 0)
    assert not BudgetTouch.objects.exists() and not BudgetRefusal.objects.exists()


def test_only_closed_contacts_of_the_window_are_considered():
    closed_contact(outcome="open")
    closed_contact(outcome="callback")
    # The window is (now - 1 day, now]: the run a day earlier took its first instant.
    closed_contact(closed_at=T0 - timedelta(days=1))
    inside = [
        closed_contact(closed_at=T0 - timedelta(days=1) + timedelta(seconds=1)),
        closed_contact(closed_at=T0),
    ]
    closed_contact(closed_at=T0 + timedelta(seconds=1))  # not yet
    assert run_job().closed == 2
    assert set(SurveyInvitation.objects.values_list("contact_id", flat=True)) == {
        c.id for c in inside
    }


def test_two_contacts_of_one_customer_closed_the_same_day_make_one_invitation():
    first = closed_contact(closed_at=T0 - timedelta(hours=3))
    second = closed_contact(first.customer, closed_at=T0 - timedelta(hours=1))
    run = run_job()
    assert (run.invited, run.refused) == (1, 1)
    assert SurveyInvitation.objects.get().contact == first
    assert refusals(second) == ["cool_down"]


def test_sampling_boundaries_and_overrides():
    setting("survey_share_percent", 0)
    phone, chat = closed_contact(channel="phone"), closed_contact(channel="chat")
    assert run_job().sampled == 0
    assert not BudgetRefusal.objects.exists()  # not sampled: no claim at all
    setting("survey_share_by_channel", "chat=100")
    run_job()
    assert list(SurveyInvitation.objects.values_list("contact_id", flat=True)) == [chat.id]
    # A reason's share wins over the channel's; a parent's covers its sub-reasons.
    billing = ContactReason.objects.create(name="Billing")
    refund = ContactReason.objects.create(name="Refund", parent=billing)
    setting("survey_share_by_channel", "chat=0 email=100")
    setting("survey_share_by_reason", f"{billing.id}=100")
    on_phone = closed_contact(channel="phone", reason=refund)
    by_email = closed_contact(channel="email")
    setting("survey_share_by_reason", f"{billing.id}=100 {refund.id}=0")
    refused_by_reason = closed_contact(channel="email", reason=refund)
    setting("survey_share_by_reason", f"{billing.id}=100")
    run_job(T0 + timedelta(minutes=1))
    invited = set(SurveyInvitation.objects.values_list("contact_id", flat=True))
    assert invited == {chat.id, on_phone.id, by_email.id, refused_by_reason.id}
    assert phone.id not in invited


def test_sampling_is_deterministic_and_exact_at_0_and_100_percent():
    ids = range(1, 5001)
    assert not any(is_sampled(i, 0) for i in ids)
    assert all(is_sampled(i, 100) for i in ids)
    assert [bucket(i) for i in ids] == [bucket(i) for i in ids]
    # Close to the share asked for, and a higher share only adds contacts.
    ten = {i for i in ids if is_sampled(i, 10)}
    assert 400 < len(ten) < 600
    assert ten <= {i for i in ids if is_sampled(i, 11)}
    # The bucket boundary: sampled at share s exactly when bucket < s * 100.
    some = next(i for i in ids if bucket(i) % 100 == 99)
    share = bucket(some) // 100
    assert not is_sampled(some, share) and is_sampled(some, share + 1)


def test_the_scale_follows_the_channel_setting():
    setting("survey_scale_by_channel", "chat=csat")
    closed_contact(channel="chat")
    closed_contact(channel="phone")
    run_job()
    scales = dict(SurveyInvitation.objects.values_list("channel", "scale"))
    assert scales == {"chat": "csat", "phone": "nps"}


def test_overrides_setting_refuses_what_it_cannot_read():
    kind = Overrides(channels=True)
    assert kind.clean(" Phone=20,  chat=050 ") == "phone=20 chat=50"
    assert kind.clean("none") == ""
    for bad in ("phone", "fax=10", "phone=101", "phone=-1"):
        with pytest.raises(Exception, match="not"):
            kind.clean(bad)


def test_asked_at_most_once_in_30_days_over_consecutive_days():
    customer = CustomerFactory()
    for day in range(0, 35):
        at = T0 + timedelta(days=day)
        closed_contact(customer, closed_at=at - timedelta(hours=1))
        run_job(at)
    sent = list(SurveyInvitation.objects.order_by("sent_at").values_list("sent_at", flat=True))
    assert sent == [T0, T0 + timedelta(days=30)]  # again at exactly 30 days, not before
    assert BudgetRefusal.objects.filter(reason="cool_down").count() == 33
    from feedback.surveys.selectors import survey_report
    from tests.factories import UserFactory

    with time_machine.travel(T0 + timedelta(days=35), tick=False):
        report = survey_report(
            viewer=UserFactory(role="admin"), since=T0 - timedelta(days=1), until=timezone.now()
        )
    assert (report.customers_invited, report.customers_asked_twice) == (1, 0)
    assert report.asked_twice_share == 0.0


def warm_settings() -> None:
    """Business settings are read once per process and cached: load them before counting."""
    sampling_rules()
    budget_cool_downs()


def _job_queries(contacts: int) -> int:
    for n in range(contacts):
        customer = CustomerFactory()
        contact = closed_contact(customer)
        if n % 3 == 0:  # a third refused, for a reason each
            BudgetOptOut.objects.create(customer=customer, purpose="survey", at=T0, actor_name="t")
        if n % 3 == 1:
            closed_contact(customer, closed_at=T0 - timedelta(days=2))  # an older, closed one
        assert contact
    warm_settings()
    with time_machine.travel(T0, tick=False), CaptureQueriesContext(connection) as queries:
        run = survey_invitations_send()
    assert run.invited + run.refused == contacts
    return len(queries)


def test_the_job_makes_the_same_queries_for_5_or_50_contacts():
    few = _job_queries(5)
    Contact.objects.all().delete()  # and their invitations
    BudgetRefusal.objects.all().delete()
    BudgetTouch.objects.all().delete()
    SendOnce.objects.all().delete()
    many = _job_queries(50)
    assert few == many
    assert many <= 14  # candidates, one batch (12 with its savepoints), the audit entry


def test_batches_cost_a_fixed_number_of_queries_each():
    for _ in range(6):
        closed_contact()
    warm_settings()
    with time_machine.travel(T0, tick=False), CaptureQueriesContext(connection) as one_batch:
        survey_invitations_send(batch=6)
    SurveyInvitation.objects.all().delete()
    BudgetTouch.objects.all().delete()
    SendOnce.objects.all().delete()
    at_t0 = time_machine.travel(T0, tick=False)
    with at_t0, CaptureQueriesContext(connection) as three_batches:
        run = survey_invitations_send(batch=2)
    assert run.batches == 3
    per_batch = (len(three_batches) - len(one_batch)) / 2
    # Savepoints, the lock, the facts (and SET LOCAL jit), touches, refusals (none here),
    # invitations, the emails and their ids.
    assert per_batch == int(per_batch) and per_batch <= 12


def test_new_invitations_move_the_dashboards_data_version_after_commit(
    django_capture_on_commit_callbacks,
):
    """Survey fatigue is read from the invitations: the panel cache must not serve a figure
    from before them (voc.core.dataversion)."""
    closed_contact()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert run_job().invited == 1
    assert [c.__qualname__ for c in callbacks].count("_store_new_version") == 1
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert run_job(T0 + timedelta(minutes=5)).invited == 0
    assert "_store_new_version" not in [c.__qualname__ for c in callbacks]  # nothing new
