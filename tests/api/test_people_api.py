"""Behaviour of the people API (voc/people/api_urls.py): who sees which rows, and personal API
tokens from creation to revocation."""

import pytest
from django.http import HttpRequest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import DepartmentFactory, TeamFactory, UserFactory
from voc.core.api import StrictLimitOffsetPagination
from voc.core.capabilities import Capability
from voc.people import services
from voc.people.models import ApiToken
from voc.people.roles import Role

pytestmark = pytest.mark.django_db

EVERYONE = {"api.docs", "home.view", "people.view", "tokens.manage_own"}


@pytest.fixture
def api(token_for):
    """An APIClient that authenticates as ``user`` with a fresh personal token."""

    def make(user) -> APIClient:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(user)}")
        return client

    return make


def usernames(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["username"] for row in response.json()["results"]}


def names(response) -> set[str]:
    assert response.status_code == 200, response.content
    return {row["name"] for row in response.json()["results"]}


def create_token(client, name="deploy script", **extra):
    return client.post(reverse("api-token-create"), {"name": name}, format="json", **extra)


def revoke_url(token_id) -> str:
    return reverse("api-token-revoke", kwargs={"token_id": token_id})


# --- /me/ -------------------------------------------------------------------------------------


def test_me_shows_a_reps_role_and_capabilities(cast, api):
    response = api(cast.rep).get(reverse("api-me"))
    assert response.status_code == 200
    data = response.json()
    assert data["username"] == "rep"
    assert data["role"] == "rep"
    assert data["team"] == cast.team_a.id
    assert set(data["capabilities"]) >= EVERYONE
    assert not {"admin.use", "ops.job_runs", "ops.outbox"} & set(data["capabilities"])
    assert data["capabilities"] == sorted(data["capabilities"])


def test_me_shows_an_admins_capabilities(cast, api):
    data = api(cast.admin).get(reverse("api-me")).json()
    assert data["role"] == "admin"
    assert {str(capability) for capability in Capability} <= set(data["capabilities"])


def test_me_shows_a_superuser_as_the_admin_they_act_as(cast, api):
    boss = UserFactory(username="boss", role=Role.REP, is_superuser=True)
    client = api(boss)
    data = client.get(reverse("api-me")).json()
    assert data["role"] == "admin"
    assert "admin.use" in data["capabilities"]
    assert usernames(client.get(reverse("api-user-list"))) == ALL_ACTIVE | {"boss"}


@pytest.mark.parametrize("who", ["manager", "executive"])
def test_managers_and_executives_have_no_admin_capabilities(cast, api, who):
    data = api(getattr(cast, who)).get(reverse("api-me")).json()
    assert data["role"] == who
    assert set(data["capabilities"]) >= EVERYONE
    assert "admin.use" not in data["capabilities"]


# --- Row scope --------------------------------------------------------------------------------

ALL_ACTIVE = {"manager", "other_manager", "rep", "teammate", "outsider", "executive", "admin"}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("rep", {"rep", "teammate"}),
        ("outsider", {"outsider"}),
        ("manager", {"manager", "rep", "teammate"}),
        ("other_manager", {"other_manager", "outsider"}),
        ("executive", ALL_ACTIVE),
        ("admin", ALL_ACTIVE),
    ],
)
def test_user_list_is_row_scoped(cast, api, who, expected):
    response = api(getattr(cast, who)).get(reverse("api-user-list"))
    assert usernames(response) == expected
    assert response.json()["count"] == len(expected)


def test_a_rep_without_a_team_sees_only_themselves(cast, api):
    loner = UserFactory(username="loner", role=Role.REP)
    assert usernames(api(loner).get(reverse("api-user-list"))) == {"loner"}


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("rep", {"Billing Care"}),
        ("outsider", {"Tech Tier 1"}),
        ("manager", {"Billing Care"}),
        ("other_manager", {"Tech Tier 1"}),
        ("executive", {"Billing Care", "Tech Tier 1"}),
        ("admin", {"Billing Care", "Tech Tier 1"}),
    ],
)
def test_team_list_is_row_scoped(cast, api, who, expected):
    assert names(api(getattr(cast, who)).get(reverse("api-team-list"))) == expected


def test_team_member_counts_leave_out_inactive_members(cast, api):
    rows = api(cast.admin).get(reverse("api-team-list")).json()["results"]
    by_name = {row["name"]: row for row in rows}
    assert by_name["Billing Care"]["member_count"] == 2  # rep, teammate; not inactive
    assert by_name["Billing Care"]["lead"] == cast.manager.id
    assert by_name["Billing Care"]["department"] == cast.dept_a.id
    assert by_name["Tech Tier 1"]["member_count"] == 1


@pytest.mark.parametrize(
    ("who", "expected"),
    [
        ("rep", {"Billing"}),
        ("outsider", {"Technical Support"}),
        ("manager", {"Billing"}),
        ("other_manager", {"Technical Support"}),
        ("executive", {"Billing", "Technical Support"}),
        ("admin", {"Billing", "Technical Support"}),
    ],
)
def test_department_list_is_row_scoped(cast, api, who, expected):
    response = api(getattr(cast, who)).get(reverse("api-department-list"))
    assert names(response) == expected
    for row in response.json()["results"]:
        assert row["team_count"] == 1


def test_user_detail_inside_scope(cast, api):
    response = api(cast.rep).get(reverse("api-user-detail", kwargs={"pk": cast.teammate.id}))
    assert response.status_code == 200
    assert response.json()["username"] == "teammate"
    assert response.json()["name"] == cast.teammate.get_full_name()


@pytest.mark.parametrize(
    ("who", "target"),
    [
        ("rep", "outsider"),
        ("rep", "manager"),
        ("rep", "inactive"),  # same team, but inactive people aren't listed to anyone
        ("manager", "outsider"),
        ("admin", "inactive"),
    ],
)
def test_user_detail_outside_scope_is_404(cast, api, who, target):
    url = reverse("api-user-detail", kwargs={"pk": getattr(cast, target).id})
    response = api(getattr(cast, who)).get(url)
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_a_missing_user_is_404_like_an_unseen_one(cast, api):
    response = api(cast.rep).get(reverse("api-user-detail", kwargs={"pk": 10**9}))
    assert response.status_code == 404


def test_filters_narrow_the_scope_but_never_widen_it(cast, api):
    rep, admin = api(cast.rep), api(cast.admin)
    assert usernames(rep.get(reverse("api-user-list"), {"team": cast.team_b.id})) == set()
    assert usernames(admin.get(reverse("api-user-list"), {"team": cast.team_b.id})) == {"outsider"}
    assert usernames(admin.get(reverse("api-user-list"), {"role": "manager"})) == {
        "manager",
        "other_manager",
    }
    assert names(admin.get(reverse("api-team-list"), {"department": cast.dept_b.id})) == {
        "Tech Tier 1"
    }
    # An id nobody has is an empty result, like an id the caller may not see.
    assert usernames(admin.get(reverse("api-user-list"), {"department": 10**9})) == set()


@pytest.mark.parametrize(
    "query",
    [
        {"team": "abc"},
        {"team": ""},
        {"role": "boss"},
        {"role": ""},
        {"limit": "0"},
        {"limit": "-1"},
        {"limit": "ten"},
        {"offset": "-1"},
        {"offset": "1.5"},
        {"offset": ""},
    ],
)
def test_malformed_query_parameters_are_400_with_a_message(cast, api, query):
    response = api(cast.admin).get(reverse("api-user-list"), query)
    assert response.status_code == 400
    [(field, messages)] = response.json().items()
    assert field == next(iter(query))
    assert messages and all(isinstance(message, str) and message for message in messages)


def test_paging(cast, api, monkeypatch):
    client = api(cast.admin)
    page = client.get(reverse("api-user-list"), {"limit": 2, "offset": 2}).json()
    assert page["count"] == len(ALL_ACTIVE)
    assert len(page["results"]) == 2
    assert "offset=4" in page["next"]
    assert page["previous"] is not None
    # Past the end: an empty page, not an error (nor a database overflow).
    far = client.get(reverse("api-user-list"), {"offset": "9" * 40}).json()
    assert far["results"] == []
    # A page is never larger than max_limit, whatever limit asks for.
    monkeypatch.setattr(StrictLimitOffsetPagination, "max_limit", 3)
    capped = client.get(reverse("api-user-list"), {"limit": "9" * 40}).json()
    assert len(capped["results"]) == 3


# --- Tokens -----------------------------------------------------------------------------------


def test_create_returns_the_key_once(cast, api):
    client = api(cast.rep)
    response = create_token(client, "  nightly export  ")
    assert response.status_code == 201
    data = response.json()
    key = data["key"]
    assert key.startswith(ApiToken.PREFIX)
    assert len(key) > 40
    assert data["key_hint"] == key[:10]
    assert data["name"] == "nightly export"
    assert data["active"] is True
    assert data["revoked_at"] is None
    token = ApiToken.objects.get(id=data["id"])
    assert token.user == cast.rep
    assert token.key_hash == ApiToken.hash_key(key)
    assert key not in {token.key_hash, token.key_hint, token.name}

    listing = client.get(reverse("api-token-list"))
    assert listing.status_code == 200
    assert key not in listing.content.decode()
    assert token.key_hash not in listing.content.decode()
    for row in listing.json()["results"]:
        assert set(row) == {
            "id",
            "name",
            "key_hint",
            "created_at",
            "last_used_at",
            "revoked_at",
            "active",
        }


@pytest.mark.parametrize("scheme", ["Token", "Bearer", "bearer", "TOKEN"])
def test_the_new_key_authenticates(cast, api, scheme):
    key = create_token(api(cast.rep)).json()["key"]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"{scheme} {key}")
    response = client.get(reverse("api-me"))
    assert response.status_code == 200
    assert response.json()["username"] == "rep"
    token = ApiToken.objects.get(key_hash=ApiToken.hash_key(key))
    assert token.last_used_at is not None


def test_token_list_shows_only_the_callers_tokens(cast, api, token_for):
    token_for(cast.teammate, name="teammate's")
    client = api(cast.rep)
    create_token(client, "mine")
    rows = client.get(reverse("api-token-list")).json()["results"]
    assert {row["name"] for row in rows} == {"tests", "mine"}  # "tests" authenticates `client`


def test_revoke(cast, api):
    owner = api(cast.rep)
    created = create_token(owner, "to revoke").json()
    victim = APIClient()
    victim.credentials(HTTP_AUTHORIZATION=f"Token {created['key']}")
    assert victim.get(reverse("api-me")).status_code == 200

    response = owner.post(revoke_url(created["id"]))
    assert response.status_code == 200
    assert response.json()["active"] is False
    assert response.json()["revoked_at"] is not None
    assert "key" not in response.json()

    refused = victim.get(reverse("api-me"))
    assert refused.status_code == 401
    assert refused["WWW-Authenticate"] == "Token"
    # Revoking again changes nothing.
    again = owner.post(revoke_url(created["id"]))
    assert again.status_code == 200
    assert again.json()["revoked_at"] == response.json()["revoked_at"]
    # The owner's other token still works.
    assert owner.get(reverse("api-me")).status_code == 200


def test_revoking_another_users_token_is_404(cast, api):
    theirs, _key = services.api_token_create(user=cast.teammate, name="teammate's")
    response = api(cast.rep).post(revoke_url(theirs.id))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
    # Not even an admin revokes someone else's token through this endpoint.
    assert api(cast.admin).post(revoke_url(theirs.id)).status_code == 404


def test_revoking_a_missing_token_is_404(cast, api):
    assert api(cast.rep).post(revoke_url(10**9)).status_code == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"name": ""}, "may not be blank"),
        ({"name": "   "}, "Give the token a name"),
        ({"name": "\t\n"}, "Give the token a name"),
        ({"name": "x" * 101}, "no more than 100 characters"),
        ({"name": "a\x00b"}, "Null characters are not allowed"),
        ({"name": 7}, "Not a valid string"),
        ({"name": None}, "may not be null"),
        ({}, "required"),
    ],
)
def test_create_refuses_a_bad_name_with_a_message(cast, api, body, message):
    client = api(cast.rep)
    response = client.post(reverse("api-token-create"), body, format="json")
    assert response.status_code == 400
    assert any(message in text for text in response.json()["name"]), response.json()
    assert ApiToken.objects.filter(user=cast.rep).count() == 1  # only the client's own


def test_create_refuses_a_21st_active_token(cast, api):
    client = api(cast.rep)  # one active token
    for number in range(services.MAX_ACTIVE_TOKENS - 1):
        services.api_token_create(user=cast.rep, name=f"script {number}")
    response = create_token(client, "one too many")
    assert response.status_code == 400
    assert response.json() == {"name": ["You have 20 active tokens; revoke one first."]}
    # Revoked tokens don't count.
    services.api_token_revoke(token=ApiToken.objects.filter(name="script 0").get())
    assert create_token(client, "now it fits").status_code == 201


def test_token_creation_is_rate_limited_per_user(cast, api):
    client = api(cast.rep)
    for number in range(20):
        response = create_token(client, f"script {number}")
        assert response.status_code == 201
        services.api_token_revoke(token=ApiToken.objects.get(id=response.json()["id"]))
    response = create_token(client, "one too many")
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "throttled" in response.json()["detail"]
    # Another user has their own allowance.
    assert create_token(api(cast.teammate)).status_code == 201


# --- Authentication ---------------------------------------------------------------------------

ENDPOINTS = [
    ("get", "api-me", {}),
    ("get", "api-user-list", {}),
    ("get", "api-user-detail", {"pk": 1}),
    ("get", "api-team-list", {}),
    ("get", "api-department-list", {}),
    ("get", "api-token-list", {}),
    ("post", "api-token-create", {}),
    ("post", "api-token-revoke", {"token_id": 1}),
]


@pytest.mark.parametrize(("method", "name", "kwargs"), ENDPOINTS)
def test_anonymous_callers_are_refused_everywhere(cast, method, name, kwargs):
    token, _key = services.api_token_create(user=cast.rep, name="target")
    # Real ids, so nothing but authentication stands in the way.
    kwargs = {key: {"pk": cast.rep.id, "token_id": token.id}[key] for key in kwargs}
    response = getattr(APIClient(), method)(reverse(name, kwargs=kwargs), {"name": "x"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert response.json() == {"detail": "Authentication credentials were not provided."}
    token.refresh_from_db()
    assert token.revoked_at is None
    assert ApiToken.objects.count() == 1


@pytest.mark.parametrize(("method", "name", "kwargs"), ENDPOINTS)
def test_an_inactive_users_token_is_refused_everywhere(cast, token_for, method, name, kwargs):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(cast.inactive)}")
    response = getattr(client, method)(reverse(name, kwargs=kwargs), {"name": "x"})
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid or revoked token."}


def test_a_token_stops_working_when_its_user_is_deactivated(cast, api):
    client = api(cast.rep)
    assert client.get(reverse("api-me")).status_code == 200
    cast.rep.is_active = False
    cast.rep.save()
    assert client.get(reverse("api-me")).status_code == 401


@pytest.mark.parametrize(
    "header",
    [
        "Token",
        "Bearer",
        "Token ",
        "Token a b",
        "Token voc_not-a-real-key",
        "Bearer voc_not-a-real-key",
        "Token \xe9\xff",  # not UTF-8 once encoded as latin-1, as WSGI does
        "Token " + "x" * 10_000,
        "Token voc_\x00",
    ],
)
def test_a_malformed_or_unknown_authorization_header_is_401(cast, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get(reverse("api-me"))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    assert "detail" in response.json()


def test_other_authorization_schemes_are_not_credentials(cast):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Basic cmVwOmNvcnJlY3QtaG9yc2UtYmF0dGVyeQ==")
    response = client.get(reverse("api-me"))
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_session_reads_work_but_unsafe_methods_need_csrf(cast):
    client = APIClient(enforce_csrf_checks=True)
    # django-axes needs the request it counts failures for; the test client has none.
    assert client.login(request=HttpRequest(), username="rep", password=cast.password)
    assert client.get(reverse("api-me")).json()["username"] == "rep"

    response = create_token(client)
    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    token, _key = services.api_token_create(user=cast.rep, name="keep")
    assert client.post(revoke_url(token.id)).status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None
    assert ApiToken.objects.filter(user=cast.rep).count() == 1

    # With the CSRF cookie a page hands out, sent back in the header, the session may post.
    assert client.get(reverse("password_change")).status_code == 200
    csrf = client.cookies["csrftoken"].value
    assert create_token(client, HTTP_X_CSRFTOKEN=csrf).status_code == 201


def test_token_requests_need_no_csrf(cast, api, token_for):
    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(cast.rep)}")
    assert create_token(client).status_code == 201


# --- Query counts -----------------------------------------------------------------------------


def _grow(cast, user, size: int) -> None:
    """More of everything a list shows, so per-row queries would show as more queries."""
    for _ in range(size):
        TeamFactory(department=DepartmentFactory())
        team = TeamFactory(department=cast.dept_a, lead=cast.manager)
        UserFactory.create_batch(3, team=team, department=cast.dept_a)
        services.api_token_create(user=user, name="script")


@pytest.mark.parametrize("who", ["admin", "manager", "rep"])
@pytest.mark.parametrize(
    "name", ["api-user-list", "api-team-list", "api-department-list", "api-token-list"]
)
def test_list_endpoints_use_a_bounded_number_of_queries(
    cast, api, django_assert_max_num_queries, who, name
):
    user = getattr(cast, who)
    client = api(user)
    client.get(reverse("api-me"))  # the token's first use records last_used_at; not counted
    _grow(cast, user, size=1)

    with django_assert_max_num_queries(6) as small:
        first = client.get(reverse(name))
    _grow(cast, user, size=8)
    with django_assert_max_num_queries(6) as large:
        second = client.get(reverse(name))

    assert first.status_code == second.status_code == 200
    grows = (
        who == "admin"
        or name == "api-token-list"
        or (who == "manager" and name != "api-department-list")
    )
    if grows:
        assert second.json()["count"] > first.json()["count"]
    assert len(large.captured_queries) == len(small.captured_queries)
