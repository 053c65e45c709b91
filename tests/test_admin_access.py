import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["rep", "manager", "executive"])
def test_signed_in_non_admins_are_refused_the_django_admin_with_403(client, cast, role):
    """Like every other admin-only page (README, "Access"): a 403 with VoC's page, not the
    admin's login form."""
    client.force_login(getattr(cast, role))
    for url in (
        reverse("admin:index"),
        reverse("admin:people_user_changelist"),
        reverse("admin:people_user_change", args=[cast.rep.id]),
        reverse("admin:login"),
    ):
        response = client.get(url)
        assert response.status_code == 403, url
        assert b'data-testid="forbidden"' in response.content, url
    response = client.post(
        reverse("admin:people_user_change", args=[cast.rep.id]), {"role": "admin"}
    )
    assert response.status_code == 403
    cast.rep.refresh_from_db()
    assert cast.rep.role == "rep"


def test_inactive_users_are_anonymous_to_the_django_admin(client, cast):
    client.force_login(cast.inactive)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_anonymous_users_are_sent_to_the_admin_login(client):
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_admins_use_the_django_admin_without_per_model_permissions(client, cast):
    """The admin role alone grants the admin: no superuser flag, no model permissions."""
    assert not cast.admin.is_superuser
    assert not cast.admin.user_permissions.exists()
    client.force_login(cast.admin)
    assert client.get(reverse("admin:index")).status_code == 200
    for name in [
        "admin:people_user_changelist",
        "admin:people_team_changelist",
        "admin:people_department_changelist",
        "admin:people_apitoken_changelist",
        "admin:contacts_customer_changelist",
        "admin:core_jobrun_changelist",
        "admin:django_celery_beat_periodictask_changelist",
    ]:
        assert client.get(reverse(name)).status_code == 200, name


def test_api_token_keys_are_not_shown_in_the_admin(client, cast):
    from voc.people.services import api_token_create

    token, key = api_token_create(user=cast.rep, name="crm export")
    client.force_login(cast.admin)
    page = client.get(reverse("admin:people_apitoken_change", args=[token.id])).content.decode()
    assert token.key_hint in page
    assert key not in page
    assert token.key_hash not in page
