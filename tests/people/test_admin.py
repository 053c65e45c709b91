"""The Django admin's user form puts VoC's role, team and department first."""

import re

import pytest
from django.urls import reverse

from voc.people.models import User

pytestmark = pytest.mark.django_db

FIRST_FIELDS = ["role", "team", "department"]


def field_order(html: str) -> list[str]:
    names = re.findall(r'<(?:input|select)[^>]* name="([a-z_0-9]+)"', html)
    return [name for name in names if name not in {"csrfmiddlewaretoken", "_save"}]


def test_the_user_form_starts_with_role_team_and_department(client, cast):
    client.force_login(cast.admin)
    html = client.get(reverse("admin:people_user_change", args=[cast.rep.id])).content.decode()
    assert field_order(html)[:3] == FIRST_FIELDS
    assert field_order(html).index("department") < field_order(html).index("username")
    # Django's own permission flags are still there, folded away.
    assert re.search(r'<fieldset class="module aligned collapse"[^>]*>\s*<details><summary>\s*'
                     r'<h2[^>]*>Permissions</h2>', html)  # fmt: skip
    assert 'name="is_superuser"' in html

    html = client.get(reverse("admin:people_user_add")).content.decode()
    assert field_order(html)[:3] == FIRST_FIELDS
    assert field_order(html).index("department") < field_order(html).index("username")


def test_a_user_is_still_added_and_changed_through_the_form(client, cast):
    client.force_login(cast.admin)
    response = client.post(
        reverse("admin:people_user_add"),
        {"role": "manager", "team": cast.team_a.id, "department": cast.dept_a.id,
         "email": "new@example.com", "username": "newbie", "usable_password": "true",
         "password1": "a-long-Passw0rd-1", "password2": "a-long-Passw0rd-1"},
    )  # fmt: skip
    assert response.status_code == 302
    user = User.objects.get(username="newbie")
    assert (user.role, user.team_id, user.department_id) == (
        "manager",
        cast.team_a.id,
        cast.dept_a.id,
    )
