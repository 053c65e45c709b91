"""Full-text search of message texts: the selector, the page and the API.

Runs on PostgreSQL (full-text search, GIN index, ts_headline) and on the SQLite fallback
(substring matching); tests of what only one of them does say so and skip on the other.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from contacts import search
from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason, Message
from contacts.search import (
    EMPTY_QUERY_NOTICE,
    MAX_OFFSET,
    MAX_QUERY_LENGTH,
    SearchFilters,
    SearchQueryError,
    day_bounds,
    message_search,
)
from contacts.search_views import total_text

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


def postgres_only():
    if connection.vendor != "postgresql":
        pytest.skip("full-text search is PostgreSQL's; other databases match substrings")


def fallback_only():
    if connection.vendor == "postgresql":
        pytest.skip("the substring fallback is for databases other than PostgreSQL")


@pytest.fixture
def reasons(cast):
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a)
    return {
        "billing": billing,
        "double": ContactReason.objects.create(
            name="Double charge", parent=billing, department=cast.dept_a
        ),
        "outage": ContactReason.objects.create(name="Outage", department=cast.dept_b),
    }


def ingest(n: int, *texts: str, hours: float | None = None, **fields) -> Contact:
    """A contact ``n`` with the texts as messages, incoming and outgoing in turn."""
    row = {
        "source": "search",
        "external_id": f"s-{n}",
        "channel": "phone",
        "occurred_at": (T0 + timedelta(hours=n if hours is None else hours)).isoformat(),
        "messages": [
            {"direction": "incoming" if i % 2 == 0 else "outgoing", "text": text}
            for i, text in enumerate(texts)
        ],
        **fields,
    }
    result = contacts_ingest(rows=[row])
    assert not result.rejected, result.rejected
    return Contact.objects.get(id=result.written_contact_ids[0])


@pytest.fixture(params=["walk", "gather"], autouse=True)
def plan(request, monkeypatch):
    """On PostgreSQL, every test runs both ways of finding the newest matches: walking the
    contacts newest first (common words), and gathering every match through the GIN index
    (rare ones); which one a search takes depends on the table's statistics."""
    if request.param == "gather" and connection.vendor != "postgresql":
        pytest.skip("one way only without PostgreSQL")
    monkeypatch.setattr(search, "RARE_SHARE", 0.0 if request.param == "walk" else 1e12)
    return request.param


def texts(result) -> list[str]:
    return [hit.message.text for hit in result.rows]


@pytest.fixture
def world(cast, reasons):
    """Team A (the rep's) about billing, team B about an outage, one contact of team B about
    a billing reason (the billing manager's department)."""
    return {
        "a1": ingest(1, "My router keeps restarting", "Try a reset of the router",
                     team=cast.team_a.name, reason="Billing › Double charge", channel="phone"),
        "a2": ingest(2, "Router light is red again", team=cast.team_a.name, channel="chat",
                     reason="Billing"),
        "b1": ingest(3, "The router in the street cabinet failed", team=cast.team_b.name,
                     reason="Outage", channel="email"),
        "b2": ingest(4, "Billed twice for the router rental", team=cast.team_b.name,
                     reason="Billing › Double charge", channel="phone"),
    }  # fmt: skip


# --- matching, order, scope, filters -------------------------------------------------------


def test_finds_matching_messages_newest_contact_first_in_conversation_order(cast, world):
    result = message_search(user=cast.admin, query="router")
    assert texts(result) == [
        "Billed twice for the router rental",
        "The router in the street cabinet failed",
        "Router light is red again",
        "My router keeps restarting",
        "Try a reset of the router",
    ]
    assert (result.total, result.total_is_estimate, result.has_more) == (5, False, False)
    assert message_search(user=cast.admin, query="restarting cabinet").rows == []


def test_each_role_searches_only_its_scope(cast, world):
    def found(user):
        return {hit.message.contact_id for hit in message_search(user=user, query="router").rows}

    a1, a2, b1, b2 = (world[key].id for key in ("a1", "a2", "b1", "b2"))
    assert found(cast.rep) == {a1, a2}
    assert found(cast.outsider) == {b1, b2}
    # The billing manager: their team, and their department's reason in team B.
    assert found(cast.manager) == {a1, a2, b2}
    assert found(cast.executive) == found(cast.admin) == {a1, a2, b1, b2}
    assert message_search(user=cast.rep, query="cabinet").total == 0
    assert message_search(user=cast.inactive, query="router").rows == []


def test_filters(cast, world, reasons):
    def found(**filters):
        result = message_search(user=cast.admin, query="router", filters=SearchFilters(**filters))
        return sorted({hit.message.contact.external_id for hit in result.rows})

    assert found(channel="phone") == ["s-1", "s-4"]
    assert found(team_id=cast.team_a.id) == ["s-1", "s-2"]
    # A parent reason finds its children's contacts too; a child only its own.
    assert found(reason_id=reasons["billing"].id) == ["s-1", "s-2", "s-4"]
    assert found(reason_id=reasons["double"].id) == ["s-1", "s-4"]
    assert found(reason_id=reasons["outage"].id, channel="phone") == []
    assert found(direction="outgoing") == ["s-1"]
    since, until = T0 + timedelta(hours=2), T0 + timedelta(hours=4)
    assert found(since=since, until=until) == ["s-2", "s-3"]
    assert found(team_id=987654) == []


def test_day_bounds_cover_whole_days_and_any_date(settings):
    settings.VOC_REPORTING_TIME_ZONE = "Europe/Amsterdam"
    since, until = day_bounds(date(2026, 11, 2), date(2026, 11, 2))
    assert since.isoformat() == "2026-11-02T00:00:00+01:00"
    assert until - since == timedelta(days=1)
    since, until = day_bounds(date.min, date.max)  # clamped just outside the years contacts have
    assert (since.year, until.year) == (1899, 2200)
    assert day_bounds(None, None) == (None, None)


def test_paging_and_exact_totals_past_the_page(cast, world):
    first = message_search(user=cast.admin, query="router", limit=2)
    assert len(first.rows) == 2 and first.has_more
    assert (first.total, first.total_is_estimate) == (5, False)
    rest = message_search(user=cast.admin, query="router", limit=2, offset=4)
    assert texts(rest) == ["Try a reset of the router"] and not rest.has_more
    assert rest.total == 5
    beyond = message_search(user=cast.admin, query="router", limit=2, offset=10)
    assert beyond.rows == [] and beyond.total == 5
    with pytest.raises(SearchQueryError):
        message_search(user=cast.admin, query="router", offset=MAX_OFFSET + 1)


def test_past_the_cap_the_total_is_an_estimate(cast, world, monkeypatch, plan):
    monkeypatch.setattr(search, "EXACT_TOTAL_UP_TO", 3)
    result = message_search(user=cast.admin, query="router", limit=2)
    if plan == "gather":  # every match was gathered anyway: the total is exact
        assert (result.total, result.total_is_estimate) == (5, False)
    else:
        assert result.total_is_estimate and result.total >= 4
    assert len(result.rows) == 2 and result.has_more
    # Under the cap it is still counted exactly; the last page counts itself.
    assert message_search(user=cast.rep, query="router", limit=1).total == 3
    assert not message_search(user=cast.rep, query="router", limit=1).total_is_estimate
    assert not message_search(user=cast.admin, query="router").total_is_estimate


def test_total_text():
    assert total_text(search.SearchResult(total=1)) == "1 message"
    assert total_text(search.SearchResult(total=2345)) == "2,345 messages"
    assert total_text(search.SearchResult(total=10_001, total_is_estimate=True)) == (
        "more than 10,000 messages"
    )
    assert total_text(search.SearchResult(total=1_234_567, total_is_estimate=True)) == (
        "about 1,200,000 messages"
    )


def test_queries_are_few_whatever_the_page_size(cast, world, django_assert_max_num_queries):
    # The manager's scope (departments, teams), the parse (with the transaction's settings),
    # the planner's estimate for the word, the page's ids and the capped count (or the join
    # settings and the gathered page with its total), the page's rows with highlights and
    # relations, and the savepoint of the search's transaction around them.
    for limit in (1, 50):
        with django_assert_max_num_queries(9):
            result = message_search(user=cast.manager, query="router", limit=limit)
        assert result.rows and all(hit.message.contact.team for hit in result.rows)


def test_an_empty_or_unsearchable_query_says_so(cast, world):
    for query in ("", "   ", '""', "-router", '-"router rental"'):
        result = message_search(user=cast.admin, query=query)
        assert result.notice == EMPTY_QUERY_NOTICE and result.rows == [], query
    with pytest.raises(SearchQueryError):
        message_search(user=cast.admin, query="x" * (MAX_QUERY_LENGTH + 1))
    with pytest.raises(SearchQueryError):
        message_search(user=cast.admin, query="router\x00")


def test_postgres_matches_word_forms_phrases_or_and_not(cast, world):
    postgres_only()
    assert texts(message_search(user=cast.admin, query="restarted")) == [
        "My router keeps restarting"
    ]
    assert texts(message_search(user=cast.admin, query='"router rental"')) == [
        "Billed twice for the router rental"
    ]
    assert texts(message_search(user=cast.admin, query='"rental router"')) == []
    assert texts(message_search(user=cast.admin, query="cabinet or light")) == [
        "The router in the street cabinet failed",
        "Router light is red again",
    ]
    assert len(message_search(user=cast.admin, query="router -red").rows) == 4
    for query in ("the and of", "!!! ???", "a"):
        assert message_search(user=cast.admin, query=query).notice == EMPTY_QUERY_NOTICE


def test_fallback_matches_substrings_phrases_and_not(cast, world):
    fallback_only()
    assert texts(message_search(user=cast.admin, query="RESTART")) == ["My router keeps restarting"]
    assert texts(message_search(user=cast.admin, query='"router rental"')) == [
        "Billed twice for the router rental"
    ]
    assert len(message_search(user=cast.admin, query="router -red or").rows) == 4


def test_messages_added_later_and_edited_are_found(cast, world):
    # Ingestion on PostgreSQL writes with COPY, naming its columns: the vector is still made.
    contact = ingest(9, "Modem overheating", team=cast.team_a.name)
    assert [
        hit.message.contact_id for hit in message_search(user=cast.rep, query="modem").rows
    ] == [contact.id]
    Message.objects.filter(contact=contact).update(text="Fan is noisy")
    assert message_search(user=cast.rep, query="modem").rows == []
    assert message_search(user=cast.rep, query="noisy").total == 1


# --- highlights ----------------------------------------------------------------------------


def test_highlights_mark_the_matches(cast, world):
    [hit] = message_search(user=cast.admin, query="cabinet").rows
    assert ("cabinet", True) in hit.fragments
    assert "".join(text for text, _ in hit.fragments) == hit.message.text
    assert hit.highlight_html == "The router in the street <mark>cabinet</mark> failed"


def test_highlights_escape_the_text_and_cannot_be_forged(cast, reasons):
    ingest(
        1,
        '<script>alert("router")</script> <mark>fake</mark> vocmatchstart0 router &amp; '
        "<img src=x onerror=alert(1)>",
        team=cast.team_a.name,
    )
    [hit] = message_search(user=cast.rep, query="router").rows
    html = hit.highlight_html
    assert "<script" not in html and "<img" not in html and "<mark>fake" not in html
    assert "&lt;" in html and "&amp;amp;" in html
    assert html.count("<mark>") == html.count("</mark>") >= 1
    assert {text.lower() for text, matched in hit.fragments if matched} == {"router"}
    assert "vocmatchstart0" in html  # shown as written, not taken for a marker


def test_fallback_highlights_an_excerpt_of_a_long_text(cast, reasons):
    fallback_only()
    ingest(1, "word " * 200 + "needle " + "word " * 200, team=cast.team_a.name)
    [hit] = message_search(user=cast.rep, query="Needle").rows
    assert hit.fragments[0] == ("…", False) and hit.fragments[-1] == ("…", False)
    assert ("needle", True) in hit.fragments
    assert len("".join(text for text, _ in hit.fragments)) < 300


def test_postgres_highlights_an_excerpt_of_a_long_text(cast, reasons):
    postgres_only()
    ingest(1, "filler " * 300 + "needle in the haystack " + "filler " * 300, team=cast.team_a.name)
    [hit] = message_search(user=cast.rep, query="needle").rows
    assert ("needle", True) in hit.fragments
    assert len("".join(text for text, _ in hit.fragments)) < 400


# --- the page ------------------------------------------------------------------------------


def test_the_page_shows_highlighted_hits_in_scope(client, cast, world):
    client.force_login(cast.rep)
    url = reverse("contacts:message-search")
    assert client.get(url).status_code == 200  # the empty form
    response = client.get(url, {"q": "router"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "3 messages, newest first." in html
    assert "<mark>router</mark>" in html.lower()
    assert "cabinet" not in html  # team B's
    assert reverse("contacts:contact-detail", args=[world["a1"].id]) in html


def test_the_page_filters_and_pages(client, cast, world, reasons, monkeypatch):
    monkeypatch.setattr("contacts.search_views.PAGE_SIZE", 2)
    client.force_login(cast.admin)
    url = reverse("contacts:message-search")
    response = client.get(url, {"q": "router"})
    assert [hit.message.text for hit in response.context["result"].rows] == [
        "Billed twice for the router rental",
        "The router in the street cabinet failed",
    ]
    assert response.context["next_page"] == 2 and 'rel="next"' in response.content.decode()
    response = client.get(url, {"q": "router", "page": 3})
    assert [hit.message.text for hit in response.context["result"].rows] == [
        "Try a reset of the router"
    ]
    assert response.context["next_page"] is None and response.context["previous_page"] == 2
    response = client.get(
        url, {"q": "router", "reason": reasons["outage"].id, "since": "2026-11-02"}
    )
    assert [hit.message.contact_id for hit in response.context["result"].rows] == [world["b1"].id]


def test_the_page_explains_unsearchable_and_refuses_bad_input(client, cast, world):
    client.force_login(cast.rep)
    url = reverse("contacts:message-search")
    response = client.get(url, {"q": "-"})
    assert response.status_code == 200 and "Type one or more words" in response.content.decode()
    for params in ({"q": "x" * (MAX_QUERY_LENGTH + 1)}, {"q": "router", "since": "someday"},
                   {"q": "router", "page": "0"}, {"q": "router", "team": cast.team_b.id}):  # fmt: skip
        response = client.get(url, params)
        assert response.status_code == 400, params
        assert response.context["result"] is None


def test_the_page_says_when_the_total_is_an_estimate(client, cast, world, monkeypatch, plan):
    if plan == "gather":
        pytest.skip("a gathered total is exact")
    monkeypatch.setattr(search, "EXACT_TOTAL_UP_TO", 3)
    client.force_login(cast.admin)
    monkeypatch.setattr("contacts.search_views.PAGE_SIZE", 2)
    response = client.get(reverse("contacts:message-search"), {"q": "router"})
    result = response.context["result"]
    assert result.total_is_estimate
    expected = total_text(result)
    assert expected.startswith(("more than 3 ", "about ")) and expected in response.content.decode()


# --- the API -------------------------------------------------------------------------------


def api(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


URL = "/api/v1/messages/search/"


def test_the_api_returns_highlighted_hits_newest_first(cast, world, reasons):
    response = api(cast.admin).get(URL, {"q": "router", "limit": 2})
    assert response.status_code == 200
    body = response.json()
    assert (body["count"], body["count_is_estimate"], body["notice"]) == (5, False, "")
    assert body["previous"] is None and "offset=2" in body["next"]
    first = body["results"][0]
    assert first["contact"] == world["b2"].id and first["channel"] == "phone"
    assert first["reason_path"] == "Billing › Double charge"
    assert first["team"] == cast.team_b.id and first["direction"] == "incoming"
    assert "<mark>" in first["highlight"].lower()
    last = api(cast.admin).get(body["next"].replace("offset=2", "offset=4")).json()
    assert [hit["contact"] for hit in last["results"]] == [world["a1"].id]
    assert last["next"] is None and "offset=2" in last["previous"]


def test_the_api_applies_scope_and_filters(cast, world, reasons):
    def contacts(user, **params):
        response = api(user).get(URL, {"q": "router", **params})
        assert response.status_code == 200, response.content
        return {hit["contact"] for hit in response.json()["results"]}

    assert contacts(cast.rep) == {world["a1"].id, world["a2"].id}
    assert contacts(cast.rep, team=cast.team_b.id) == set()
    assert contacts(cast.admin, reason=reasons["billing"].id, channel="phone") == {
        world["a1"].id,
        world["b2"].id,
    }
    assert contacts(cast.admin, direction="outgoing") == {world["a1"].id}
    assert contacts(cast.admin, since="2026-11-02", until="2026-11-02") == {
        world[key].id for key in ("a1", "a2", "b1", "b2")
    }
    assert contacts(cast.admin, since="2026-11-03") == set()
    assert contacts(cast.admin, reason="99999999999999999999999") == set()


@pytest.mark.parametrize(
    "params, field",
    [
        ({}, "q"),
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * (MAX_QUERY_LENGTH + 1)}, "q"),
        ({"q": "router\x00"}, "q"),
        ({"q": "router", "channel": "pigeon"}, "channel"),
        ({"q": "router", "until": ""}, "until"),
        ({"q": "router", "team": " "}, "team"),
        ({"q": "router", "team": "1.0"}, "team"),
        ({"q": "router", "since": "2026-13-01"}, "since"),
        ({"q": "router", "limit": "0"}, "limit"),
        ({"q": "router", "offset": str(MAX_OFFSET + 1)}, "offset"),
    ],
)
def test_the_api_refuses_bad_input(cast, world, params, field):
    response = api(cast.rep).get(URL, params)
    assert response.status_code == 400, response.content
    assert field in response.json()


def test_the_api_explains_an_unsearchable_query(cast, world):
    body = api(cast.rep).get(URL, {"q": "-router"}).json()
    assert body["notice"] == EMPTY_QUERY_NOTICE and body["results"] == []
    assert body["count"] == 0


def test_the_api_needs_credentials(world):
    assert api().get(URL, {"q": "router"}).status_code == 401


def test_the_api_flags_an_estimated_total(cast, world, monkeypatch, plan):
    monkeypatch.setattr(search, "EXACT_TOTAL_UP_TO", 3)
    body = api(cast.admin).get(URL, {"q": "router", "limit": 1}).json()
    if plan == "gather":
        assert (body["count"], body["count_is_estimate"]) == (5, False)
    else:
        assert body["count_is_estimate"] is True and body["count"] >= 4
