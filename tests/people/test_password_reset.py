import pytest
from django.core import mail
from django.urls import reverse

from voc.core.tasks import email_send_task

pytestmark = pytest.mark.django_db


def test_a_reset_mail_is_queued_after_commit_and_sent_by_the_task(
    client, cast, django_capture_on_commit_callbacks, monkeypatch
):
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("password_reset"), {"email": cast.rep.email})
    assert response.status_code == 302
    assert mail.outbox == []  # nothing is sent from the web request
    assert len(callbacks) == 1

    sent = []
    monkeypatch.setattr("voc.core.mail.enqueue_email_send", sent.append)
    callbacks[0]()
    (message,) = sent
    assert message["to"] == [cast.rep.email]
    assert "user" not in message  # only plain values travel to the worker

    email_send_task.run(message)
    (email,) = mail.outbox
    assert email.subject == "Reset your VoC password"
    assert "/accounts/reset/" in email.body
    html = email.alternatives[0][0]
    assert "/accounts/reset/" in html


def test_the_reset_link_sets_a_new_password(
    client, cast, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(
        "voc.core.mail.enqueue_email_send", email_send_task.run
    )  # the worker's part, inline
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("password_reset"), {"email": cast.rep.email})
    link = next(line for line in mail.outbox[0].body.splitlines() if "/accounts/reset/" in line)
    path = link.split("testserver", 1)[1].strip()
    form_page = client.get(path, follow=True)
    assert form_page.context["validlink"]
    response = client.post(
        form_page.redirect_chain[-1][0],
        {"new_password1": "a-much-better-passphrase", "new_password2": "a-much-better-passphrase"},
    )
    assert response.status_code == 302
    cast.rep.refresh_from_db()
    assert cast.rep.check_password("a-much-better-passphrase")


def test_an_unknown_address_gets_the_same_answer_and_no_mail(
    client, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr("voc.core.mail.enqueue_email_send", email_send_task.run)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("password_reset"), {"email": "nobody@example.com"})
    assert response.status_code == 302
    assert response["Location"] == reverse("password_reset_done")
    assert mail.outbox == []
