"""The stories API: read within scope, tell a story (redacted, escaped as data), take it back."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from feedback.models import Story
from tests.feedback import stories_fixtures
from voc.core.models import AuditEntry

pytestmark = pytest.mark.django_db
world = stories_fixtures.world  # the fixture
CARD = "4111 1111 1111 1111"


def api(user) -> APIClient:
    client = APIClient()
    client.force_login(user)
    return client


def tell(user, about, **fields):
    body = {"contact": about.id, "thumb": "up", "title": "Kind", "text": "Helped", **fields}
    return api(user).post(reverse("api-story-list"), body, format="json")


def test_a_rep_tells_a_story_about_a_contact_of_their_team_redacted(cast, world):
    response = tell(cast.rep, cast.contact_a, title=f"Card {CARD}", text="<b>Thanks</b>")
    assert response.status_code == 201, response.json()
    story = Story.objects.get()
    assert response.json() == {
        "id": story.id,
        "thumb": "up",
        "title": "Card [card number redacted]",
        "text": "<b>Thanks</b>",  # JSON carries text as text; pages escape it
        "contact": cast.contact_a.id,
        "author": cast.rep.id,
        "author_name": cast.rep.get_full_name(),
        "created_at": response.json()["created_at"],
    }
    assert AuditEntry.objects.filter(action="story.record", target_id=str(story.id)).exists()


def test_a_contact_outside_the_tellers_scope_is_a_404_and_nothing_stored(cast, world):
    assert tell(cast.rep, cast.contact_b).status_code == 404
    assert tell(cast.deputy, cast.contact_b).status_code == 404  # a manager heading nothing
    assert not Story.objects.exists()


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"title": "   "}, "title"), ({"text": ""}, "text"), ({"thumb": "sideways"}, "thumb"),
     ({"title": "x" * 121}, "title"), ({"contact": "1"}, "contact")],
)  # fmt: skip
def test_bad_input_is_a_400_naming_the_field(cast, world, fields, field):
    response = tell(cast.rep, cast.contact_a, **fields)
    assert response.status_code == 400
    assert field in response.json()
    assert not Story.objects.exists()


def test_exactly_120_characters_of_title_is_kept(cast, world):
    assert tell(cast.rep, cast.contact_a, title="x" * 120).status_code == 201


def test_each_role_lists_the_stories_in_its_scope(cast, world):
    mine = Story.objects.get(id=tell(cast.rep, cast.contact_a, title="A").json()["id"])
    theirs = Story.objects.get(id=tell(cast.outsider, cast.contact_b, title="B").json()["id"])
    seen = {
        name: [row["id"] for row in api(getattr(cast, name)).get(reverse("api-story-list")).json()["results"]]
        for name in ("rep", "outsider", "manager", "deputy", "executive", "admin")
    }  # fmt: skip
    assert seen["rep"] == [mine.id]
    assert seen["outsider"] == [theirs.id]
    assert seen["manager"] == [mine.id]  # heads department A
    assert seen["executive"] == seen["admin"] == [theirs.id, mine.id]
    down = api(cast.executive).get(reverse("api-story-list"), {"thumb": "down"}).json()
    assert down["results"] == []


def test_the_author_or_an_admin_takes_a_story_back(cast, world):
    story_id = tell(cast.rep, cast.contact_a).json()["id"]
    url = reverse("api-story-detail", args=[story_id])
    assert api(cast.teammate).delete(url).status_code == 403
    assert api(cast.outsider).delete(url).status_code == 404
    assert api(cast.rep).delete(url).status_code == 204
    assert not Story.objects.filter(id=story_id).exists()
    story_id = tell(cast.rep, cast.contact_a).json()["id"]
    assert api(cast.admin).delete(reverse("api-story-detail", args=[story_id])).status_code == 204
