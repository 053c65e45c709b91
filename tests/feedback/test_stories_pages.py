"""The stories pages: the wall (executives and admins only, filter, paging, escaped cards), the
contact page's panel and its form, removing from a page, and the executives' home widget."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from feedback.models import Story
from feedback.stories.selectors import WALL_PAGE_SIZE
from tests.feedback import stories_fixtures
from tests.feedback.stories_fixtures import tell

pytestmark = pytest.mark.django_db
world = stories_fixtures.world  # the fixture

WALL = reverse("feedback:story-wall")
EVIL = "<script>alert('x')</script>"


def page_of(client, user, url, **params) -> str:
    client.force_login(user)
    response = client.get(url, params)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


@pytest.mark.parametrize(
    ("who", "status"),
    [("rep", 403), ("manager", 403), ("deputy", 403), ("executive", 200), ("admin", 200)],
)
def test_the_wall_is_for_executives_and_admins(client, world, who, status):
    client.force_login(getattr(world, who))
    assert client.get(WALL).status_code == status


def test_the_wall_needs_signing_in(client, world):
    response = client.get(WALL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_a_card_shows_thumb_title_text_author_time_and_the_contact(client, world):
    story = tell(world.contact_b, world.outsider, thumb="down", title=EVIL, text=f"Said {EVIL}")
    html = page_of(client, world.executive, WALL)
    assert EVIL not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "Thumbs down" in html
    assert f"Told by {world.outsider}" in html
    assert f'href="/contacts/{world.contact_b.id}/#story-{story.id}"' in html
    assert "the contact with Ann Byrne" in html
    assert f'datetime="{story.created_at.isoformat()}"' in html


def test_the_wall_filters_by_thumb(client, world):
    tell(world.contact_a, world.rep, thumb="up", title="Sorted the PIN")
    tell(world.contact_b, world.outsider, thumb="down", title="Three emails")
    everything = page_of(client, world.executive, WALL)
    assert "Sorted the PIN" in everything and "Three emails" in everything
    ups = page_of(client, world.executive, WALL, thumb="up")
    assert "Sorted the PIN" in ups and "Three emails" not in ups
    downs = page_of(client, world.executive, WALL, thumb="down")
    assert "Sorted the PIN" not in downs and "Three emails" in downs
    assert "Sorted the PIN" in page_of(client, world.executive, WALL, thumb="sideways")


def test_the_wall_pages_the_latest_first(client, world, django_assert_max_num_queries):
    now = timezone.now()
    stories = Story.objects.bulk_create(
        Story(contact=world.contact_a, author=world.rep, thumb="up", title=f"Story {n:02d}",
              text="x", created_at=now - timedelta(minutes=n))
        for n in range(WALL_PAGE_SIZE + 1)
    )  # fmt: skip
    client.force_login(world.executive)
    # Author and contact's customer come with the stories: no query per card.
    with django_assert_max_num_queries(8):
        first = client.get(WALL).content.decode()
    assert "Story 00" in first and f"Story {WALL_PAGE_SIZE - 1:02d}" in first
    assert f"Story {WALL_PAGE_SIZE:02d}" not in first
    second = page_of(client, world.executive, WALL, page=2)
    assert second.count('data-testid="story-card"') == 1
    assert f"Story {WALL_PAGE_SIZE:02d}" in second
    assert len(stories) == WALL_PAGE_SIZE + 1


def test_the_contact_page_panel_lists_its_stories_and_the_form(client, world):
    mine = tell(world.contact_a, world.rep, title=EVIL, text="Kept waiting")
    tell(world.ann_a, world.rep, title="Another contact's story")
    html = page_of(
        client, world.teammate, reverse("contacts:contact-detail", args=[world.contact_a.id])
    )
    assert 'data-panel="feedback.stories"' in html
    assert f'id="story-{mine.id}"' in html
    assert "Kept waiting" in html
    assert EVIL not in html and "&lt;script&gt;" in html
    assert "Another contact&#x27;s story" not in html
    assert f'action="{reverse("feedback:story-record", args=[world.contact_a.id])}"' in html
    # The teammate did not tell it: no remove button for them; the author has one.
    assert reverse("feedback:story-remove", args=[mine.id]) not in html
    html = page_of(client, world.rep, reverse("contacts:contact-detail", args=[world.contact_a.id]))
    assert reverse("feedback:story-remove", args=[mine.id]) in html


def test_the_panel_has_no_form_once_the_customer_is_erased(client, world):
    from contacts.erasure.services import customer_erase

    tell(world.contact_a, world.rep)
    customer_erase(customer=world.bob, by=world.admin)
    html = page_of(
        client, world.admin, reverse("contacts:contact-detail", args=[world.contact_a.id])
    )
    assert "(erased with the customer)" in html
    assert 'data-testid="story-form"' not in html


def test_a_story_told_from_the_contact_page_goes_back_to_it(client, world):
    client.force_login(world.rep)
    response = client.post(
        reverse("feedback:story-record", args=[world.contact_a.id]),
        {"thumb": "down", "title": "Asked four times", "text": "Card 4111 1111 1111 1111 given."},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("contacts:contact-detail", args=[world.contact_a.id])
    story = Story.objects.get()
    assert (story.thumb, story.title, story.author) == ("down", "Asked four times", world.rep)
    assert "4111" not in story.text
    html = client.get(response["Location"]).content.decode()
    assert "Story saved" in html and "Asked four times" in html


def test_a_story_with_mistakes_comes_back_filled_in(client, world):
    client.force_login(world.rep)
    response = client.post(
        reverse("feedback:story-record", args=[world.contact_a.id]),
        {"thumb": "down", "title": "t" * 121, "text": "Kept"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "at most 120 characters" in html
    assert "Kept</textarea>" in html
    assert not Story.objects.exists()


def test_a_story_about_a_contact_outside_the_scope_is_not_found(client, world):
    client.force_login(world.rep)
    url = reverse("feedback:story-record", args=[world.contact_b.id])
    assert client.get(url).status_code == 404
    assert client.post(url, {"thumb": "up", "title": "x", "text": "y"}).status_code == 404
    assert not Story.objects.exists()


def test_removing_from_the_wall_returns_to_it_and_refuses_others(client, world):
    story = tell(world.contact_a, world.rep)
    url = reverse("feedback:story-remove", args=[story.id])
    client.force_login(world.executive)
    assert client.post(url).status_code == 403
    client.force_login(world.admin)
    response = client.post(url, {"next": f"{WALL}?thumb=down"})
    assert response["Location"] == f"{WALL}?thumb=down"
    assert not Story.objects.exists()


def test_removing_ignores_a_next_on_another_site(client, world):
    story = tell(world.contact_a, world.rep)
    client.force_login(world.rep)
    response = client.post(
        reverse("feedback:story-remove", args=[story.id]), {"next": "https://evil.example/"}
    )
    assert response["Location"] == reverse("contacts:contact-detail", args=[world.contact_a.id])


def test_the_home_widget_shows_executives_the_latest_five(client, world):
    now = timezone.now()
    Story.objects.bulk_create(
        Story(contact=world.contact_a, author=world.rep, thumb="up" if n % 2 else "down",
              title=f"Home story {n}", text="x", created_at=now - timedelta(hours=n))
        for n in range(6)
    )  # fmt: skip
    html = page_of(client, world.executive, reverse("home"))
    assert 'data-testid="home-stories"' in html
    assert [f"Home story {n}" in html for n in range(6)] == [True] * 5 + [False]
    assert html.index("Home story 0") < html.index("Home story 4")
    assert f'href="{WALL}"' in html


@pytest.mark.parametrize("who", ["rep", "manager"])
def test_the_home_widget_is_not_for_reps_or_managers(client, world, who):
    tell(world.contact_a, world.rep, title="Not on their home")
    html = page_of(client, getattr(world, who), reverse("home"))
    assert "Not on their home" not in html
    assert 'data-testid="home-stories"' not in html


def test_no_widget_without_stories(client, world):
    html = page_of(client, world.executive, reverse("home"))
    assert 'data-testid="home-stories"' not in html
