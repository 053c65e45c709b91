"""The survey page: public, from a signed link; answered once, until it expires; forged,
altered or other tokens refused; rate-limited per client address; one-click opt-out on the page
and by the email's List-Unsubscribe POST; the answer is a FeedbackItem."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.urls import reverse

from contacts.budget.links import OPT_OUT_LINK_PURPOSES
from contacts.models import BudgetOptOut, BudgetRefusal
from feedback.models import FeedbackItem, SurveyInvitation
from feedback.surveys.links import SURVEY_LINK, survey_answer_path
from feedback.surveys.views import HITS_PER_MINUTE
from tests.feedback.surveys_common import T0, closed_contact, run_job, setting
from voc.core.links import LinkPurpose, link_token
from voc.core.models import SendOnce
from voc.core.sendonce import send_once_deliver

pytestmark = pytest.mark.django_db
SENT = T0  # the job runs at T0: invitations expire 14 days later
EXPIRES = T0 + timedelta(days=14)


@pytest.fixture
def invitation(db) -> SurveyInvitation:
    setting("survey_share_percent", 100)
    closed_contact()
    run_job()
    return SurveyInvitation.objects.select_related("contact", "customer").get()


def page(client, path, at=SENT + timedelta(hours=1), method="get", **data):
    with time_machine.travel(at, tick=False):
        return getattr(client, method)(path, data or None)


def test_a_customer_answers_and_the_answer_is_a_feedback_item(client, invitation):
    path = survey_answer_path(invitation)
    shown = page(client, path)
    assert shown.status_code == 200
    html = shown.content.decode()
    assert "How likely are you to recommend" in html
    assert html.count('name="score"') == 11  # 0 to 10
    sent = page(client, path, method="post", score="9", verbatim="  Quick and kind.  ")
    assert sent.status_code == 200
    assert 'data-testid="survey-thanks"' in sent.content.decode()
    item = FeedbackItem.objects.get()
    assert (item.kind, item.score, item.band, item.source) == ("nps", 9, "positive", "survey")
    assert item.external_id == f"invitation:{invitation.id}"
    assert (item.contact, item.customer) == (invitation.contact, invitation.customer)
    assert item.channel == "phone"
    assert item.verbatim == "Quick and kind."
    assert item.received_at == SENT + timedelta(hours=1)
    invitation.refresh_from_db()
    assert invitation.answer == item
    assert invitation.answered_at == SENT + timedelta(hours=1)


def test_the_reason_is_redacted_before_it_is_stored(client, invitation):
    page(
        client, survey_answer_path(invitation), method="post", score="2",
        verbatim="Charged twice on 4111 1111 1111 1111 again",
    )  # fmt: skip
    item = FeedbackItem.objects.get()
    assert "4111" not in item.verbatim and item.band == "negative"


def test_a_csat_survey_shows_five_scores_and_records_csat(client):
    setting("survey_share_percent", 100)
    setting("survey_scale_by_channel", "chat=csat")
    closed_contact(channel="chat")
    run_job()
    invitation = SurveyInvitation.objects.get()
    path = survey_answer_path(invitation)
    assert page(client, path).content.decode().count('name="score"') == 5
    assert page(client, path, method="post", score="0").status_code == 400  # not on the scale
    assert page(client, path, method="post", score="5").status_code == 200
    item = FeedbackItem.objects.get()
    assert (item.kind, item.score, item.band) == ("csat", 5, "positive")


def test_a_score_is_required_and_must_be_on_the_scale(client, invitation):
    path = survey_answer_path(invitation)
    for data in ({}, {"score": "11"}, {"score": "seven"}, {"score": "-1"}):
        response = page(client, path, method="post", **data)
        assert response.status_code == 400
        assert 'data-testid="score-error"' in response.content.decode()
    assert not FeedbackItem.objects.exists()


def test_a_score_tapped_in_the_email_is_preselected_not_recorded(client, invitation):
    response = page(client, survey_answer_path(invitation) + "?score=7")
    assert 'value="7" checked' in response.content.decode()
    assert not FeedbackItem.objects.exists()  # a GET (a mail scanner) records nothing


def test_a_second_answer_is_refused_kindly(client, invitation):
    path = survey_answer_path(invitation)
    assert page(client, path, method="post", score="8").status_code == 200
    again = page(client, path, method="post", score="0", verbatim="changed my mind")
    assert again.status_code == 410
    assert 'data-reason="answered"' in again.content.decode()
    # Even with another link to the same invitation (a re-sent email signs a new token).
    other = survey_answer_path(invitation)
    assert page(client, other, method="post", score="0").status_code == 410
    assert page(client, other).status_code == 410
    assert list(FeedbackItem.objects.values_list("score", flat=True)) == [8]


@pytest.mark.parametrize(
    ("at", "status"),
    [(EXPIRES, 200), (EXPIRES + timedelta(seconds=1), 410)],
    ids=["at-the-expiry-instant", "one-second-past"],
)
def test_the_survey_expires(client, invitation, at, status):
    path = survey_answer_path(invitation)
    assert page(client, path, at=at).status_code == status
    response = page(client, path, at=at, method="post", score="6")
    assert response.status_code == status
    assert FeedbackItem.objects.exists() is (status == 200)
    if status == 410:
        assert 'data-reason="expired"' in response.content.decode()


def test_the_expiry_follows_the_setting_when_sent(client):
    setting("survey_share_percent", 100)
    setting("survey_link_days", 3)
    closed_contact()
    run_job()
    invitation = SurveyInvitation.objects.get()
    assert invitation.expires_at == T0 + timedelta(days=3)
    assert (
        page(client, survey_answer_path(invitation), at=T0 + timedelta(days=4)).status_code == 410
    )


def test_forged_altered_and_foreign_tokens_are_refused(client, invitation):
    good = survey_answer_path(invitation).rstrip("/").rsplit("/", 1)[1]
    url = lambda token: reverse("feedback:surveys:answer", args=[token])  # noqa: E731
    altered = good[:-1] + ("A" if good[-1] != "A" else "B")
    opt_out = link_token(purpose=OPT_OUT_LINK_PURPOSES["survey"], target=invitation.customer)
    other_purpose = link_token(
        purpose=LinkPurpose("feedback.other", SURVEY_LINK.max_age), target=invitation
    )
    wrong_model = link_token(purpose=SURVEY_LINK, target=invitation.contact)
    for token in ("nonsense", altered, opt_out, other_purpose, wrong_model, good + "x"):
        for method in ("get", "post"):
            response = page(client, url(token), method=method, score="9")
            assert response.status_code == 400, (token, method)
            assert 'data-reason="invalid"' in response.content.decode()
    assert not FeedbackItem.objects.exists()


def test_a_token_answers_its_own_invitation_only(client, invitation):
    closed_contact()
    run_job(T0 + timedelta(minutes=1))
    second = SurveyInvitation.objects.exclude(id=invitation.id).get()
    page(client, survey_answer_path(second), method="post", score="3")
    invitation.refresh_from_db()
    second.refresh_from_db()
    assert invitation.answered_at is None
    assert second.answer.contact_id == second.contact_id
    assert (
        page(client, survey_answer_path(invitation), method="post", score="10").status_code == 200
    )


def test_an_erased_customers_survey_is_closed(client, invitation):
    customer = invitation.customer
    customer.erased_at = SENT
    customer.save()
    assert page(client, survey_answer_path(invitation)).status_code == 404


def test_survey_links_are_rate_limited_per_client_address(client, invitation):
    path = survey_answer_path(invitation)
    for _ in range(HITS_PER_MINUTE):
        assert page(client, path).status_code == 200
    limited = page(client, path)
    assert limited.status_code == 429
    assert 'data-reason="busy"' in limited.content.decode()
    # Another address is not held back.
    with time_machine.travel(SENT + timedelta(hours=1), tick=False):
        assert client.get(path, REMOTE_ADDR="10.9.8.7").status_code == 200


def test_opt_out_from_the_page_stops_the_next_invitation(client, invitation):
    html = page(client, survey_answer_path(invitation)).content.decode()
    action = html.split('class="survey-opt-out"')[0].rsplit('action="', 1)[1].split('"')[0]
    assert action.startswith("/c/opt-out/survey/")
    response = page(client, action, method="post")
    assert response.status_code == 200
    assert BudgetOptOut.objects.filter(customer=invitation.customer, purpose="survey").exists()
    later = closed_contact(invitation.customer, closed_at=T0 + timedelta(days=40))
    run_job(T0 + timedelta(days=40, hours=1))
    assert not SurveyInvitation.objects.filter(contact=later).exists()
    assert BudgetRefusal.objects.get(key=f"contact:{later.id}").reason == "opted_out"


def test_opt_out_by_the_emails_one_click_list_unsubscribe(client, invitation):
    with time_machine.travel(SENT + timedelta(minutes=1), tick=False):
        send_once_deliver(email_id=SendOnce.objects.get().id)
    header = mail.outbox[0].extra_headers["List-Unsubscribe"]
    url = header.strip("<>")
    assert url.startswith(settings.VOC_BASE_URL)
    response = client.post(
        url.removeprefix(settings.VOC_BASE_URL),
        data="List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 200
    assert BudgetOptOut.objects.filter(customer=invitation.customer, purpose="survey").exists()
