"""Sign-in throttling (django-axes) and the password-reset limits.

10 wrong passwords lock the (username, client address) pair for 15 minutes, on VoC's sign-in
page and the Django admin's; never an address alone, never for good; an admin can lift it.
Password resets: 3 an hour per address asked for, 20 an hour per client address.
"""

from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt
from django.core import mail
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

OFFICE = "203.0.113.10"
HOME = "198.51.100.7"


def sign_in(client, username, password, *, ip=OFFICE, url=None):
    url = url or reverse("login")
    return client.post(url, {"username": username, "password": password}, REMOTE_ADDR=ip)


def signed_in(response, client) -> bool:
    return response.status_code == 302 and "_auth_user_id" in client.session


def fail(client, username, times, **kwargs):
    for _ in range(times):
        response = sign_in(client, username, "wrong-password", **kwargs)
        assert response.status_code in (200, 429)


def test_nine_failures_then_the_right_password_signs_in(client, cast):
    fail(client, cast.rep.username, 9)
    assert signed_in(sign_in(client, cast.rep.username, PASSWORD), client)


def test_ten_failures_lock_the_username_from_that_address(client, cast):
    fail(client, cast.rep.username, 10)
    response = sign_in(client, cast.rep.username, PASSWORD)
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    assert "paused" in response.content.decode()
    assert "15 minutes" in response.content.decode()


def test_thirty_failures_in_a_burst_then_the_right_password_is_refused(client, cast):
    fail(client, cast.rep.username, 30)
    assert sign_in(client, cast.rep.username, PASSWORD).status_code == 429


def test_the_lock_is_per_username_and_address_not_per_address(client, cast):
    fail(client, cast.rep.username, 10)
    # A teammate in the same office signs in; the rep signs in from home.
    assert signed_in(sign_in(client, cast.manager.username, PASSWORD), client)
    client.logout()
    assert signed_in(sign_in(client, cast.rep.username, PASSWORD, ip=HOME), client)


def test_the_lock_lifts_after_fifteen_minutes(client, cast):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        fail(client, cast.rep.username, 10)
    with time_machine.travel(start + timedelta(minutes=14, seconds=59), tick=False):
        assert sign_in(client, cast.rep.username, PASSWORD).status_code == 429
    with time_machine.travel(start + timedelta(minutes=15, seconds=1), tick=False):
        assert signed_in(sign_in(client, cast.rep.username, PASSWORD), client)


def test_the_admin_sign_in_is_throttled_too(client, cast):
    admin_login = reverse("admin:login")
    fail(client, cast.admin.username, 10, url=admin_login)
    response = sign_in(client, cast.admin.username, PASSWORD, url=admin_login)
    assert response.status_code == 429
    # The same pair is locked on VoC's own page as well.
    assert sign_in(client, cast.admin.username, PASSWORD).status_code == 429


def test_an_admin_lifts_a_lock_in_the_admin(client, cast):
    fail(client, cast.rep.username, 10)
    attempt = AccessAttempt.objects.get(username=cast.rep.username, ip_address=OFFICE)
    admin = type(client)()
    admin.force_login(cast.admin)
    url = reverse("admin:axes_accessattempt_delete", args=[attempt.id])
    assert admin.post(url, {"post": "yes"}).status_code == 302
    assert signed_in(sign_in(client, cast.rep.username, PASSWORD), client)


def test_a_command_lifts_a_lock(client, cast):
    fail(client, cast.rep.username, 10)
    call_command("axes_reset_username", cast.rep.username)
    assert signed_in(sign_in(client, cast.rep.username, PASSWORD), client)


def test_a_successful_sign_in_clears_the_count(client, cast):
    fail(client, cast.rep.username, 9)
    assert signed_in(sign_in(client, cast.rep.username, PASSWORD), client)
    client.logout()
    fail(client, cast.rep.username, 9)
    assert signed_in(sign_in(client, cast.rep.username, PASSWORD), client)


# --- password reset ---------------------------------------------------------------------------


def reset(client, email, *, ip=OFFICE):
    return client.post(reverse("password_reset"), {"email": email}, REMOTE_ADDR=ip)


@pytest.fixture
def sent_at_once(monkeypatch):
    """Queued mail is sent as the worker would, at once (no broker)."""
    from voc.core.tasks import email_send_task

    monkeypatch.setattr("voc.core.mail.enqueue_email_send", email_send_task.run)


def test_three_resets_an_hour_per_address_then_429(
    client, cast, django_capture_on_commit_callbacks, sent_at_once
):
    with django_capture_on_commit_callbacks(execute=True):
        codes = [reset(client, cast.rep.email).status_code for _ in range(4)]
    assert codes == [302, 302, 302, 429]
    assert len(mail.outbox) == 3
    response = reset(client, cast.rep.email.upper(), ip=HOME)  # same address, other client
    assert response.status_code == 429
    assert "Too many password resets" in response.content.decode()
    # Another person's reset from the same office still goes out.
    with django_capture_on_commit_callbacks(execute=True):
        assert reset(client, cast.manager.email).status_code == 302
    assert len(mail.outbox) == 4


def test_unknown_addresses_are_limited_the_same(client, cast):
    codes = [reset(client, "nobody@example.com").status_code for _ in range(4)]
    assert codes == [302, 302, 302, 429]


def test_twenty_resets_an_hour_per_client_address_then_429(client, cast):
    codes = [reset(client, f"person{n}@example.com").status_code for n in range(21)]
    assert codes == [302] * 20 + [429]
    assert reset(client, "person99@example.com", ip=HOME).status_code == 302


def test_the_reset_limit_starts_again_the_next_hour(client, cast):
    start = timezone.now().replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    with time_machine.travel(start, tick=False):
        assert [reset(client, cast.rep.email).status_code for _ in range(4)][-1] == 429
    with time_machine.travel(start + timedelta(hours=1), tick=False):
        assert reset(client, cast.rep.email).status_code == 302
