import pytest
from django.urls import reverse

from voc.people.models import ApiToken

pytestmark = pytest.mark.django_db


def names_on(page: str, cast, *names: str) -> dict[str, bool]:
    return {name: str(getattr(cast, name)) in page for name in names}


def test_the_directory_shows_a_rep_only_their_team(client, cast):
    client.force_login(cast.rep)
    page = client.get(reverse("people:directory")).content.decode()
    assert names_on(page, cast, "teammate", "outsider", "other_manager") == {
        "teammate": True,
        "outsider": False,
        "other_manager": False,
    }
    assert "Billing Care" in page
    assert "Tech Tier 1" not in page


def test_the_directory_shows_a_manager_their_department(client, cast):
    client.force_login(cast.manager)
    page = client.get(reverse("people:directory")).content.decode()
    assert names_on(page, cast, "rep", "teammate", "outsider") == {
        "rep": True,
        "teammate": True,
        "outsider": False,
    }
    assert "Technical Support" not in page


def test_the_directory_shows_an_executive_everyone(client, cast, django_assert_max_num_queries):
    client.force_login(cast.executive)
    # Fixed number of queries whatever the number of people: prevents an N+1 over teams.
    with django_assert_max_num_queries(8):
        page = client.get(reverse("people:directory")).content.decode()
    assert all(names_on(page, cast, "rep", "outsider", "manager", "other_manager").values())


def test_a_user_creates_a_token_and_sees_its_key_once(client, cast):
    client.force_login(cast.rep)
    response = client.post(reverse("people:tokens"), {"name": "CRM export"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=cast.rep)
    page = response.content.decode()
    assert 'data-testid="new-token"' in page
    assert token.key_hint in page
    # The next visit shows the hint, never the key again.
    again = client.get(reverse("people:tokens")).content.decode()
    assert 'data-testid="new-token"' not in again
    assert token.key_hint in again


def test_a_token_needs_a_name(client, cast):
    client.force_login(cast.rep)
    response = client.post(reverse("people:tokens"), {"name": "   "})
    assert response.status_code == 200
    assert not ApiToken.objects.exists()
    assert "This field is required" in response.content.decode()


def test_a_user_revokes_their_token(client, cast):
    from voc.people.services import api_token_create

    token, _ = api_token_create(user=cast.rep, name="old script")
    client.force_login(cast.rep)
    response = client.post(reverse("people:token-revoke", args=[token.id]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert not token.is_active


def test_token_names_are_escaped(client, cast):
    from voc.people.services import api_token_create

    api_token_create(user=cast.rep, name="<script>alert(1)</script>")
    client.force_login(cast.rep)
    page = client.get(reverse("people:tokens")).content.decode()
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_the_navigation_shows_each_role_what_it_may_use(client, cast):
    mine = {"digests", "notifications", "tokens", "api-docs"}  # each user's own pages
    expected = {
        # reps and managers flag recurring issues: "My flags"
        "rep": {"home", "contacts", "customers", "issues", "sessions", "people", "flags", *mine},
        "manager": {
            "home", "dashboard", "contacts", "customers", "issues", "people", "flags", *mine,
        },
        "executive": {
            "home", "dashboard", "contacts", "customers", "issues", "sessions", "people", *mine,
        },
        "admin": {
            "home", "dashboard", "contacts", "customers", "issues", "people", *mine,
            "jobs", "outbox", "inbound", "settings", "sla", "admin",
        },
    }  # fmt: skip
    for role, keys in expected.items():
        client.force_login(getattr(cast, role))
        response = client.get(reverse("home"))
        shown = {item["key"] for item in response.context["nav_items"]}
        assert shown == keys, role
