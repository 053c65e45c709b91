"""Stories: who may tell one (only about a contact they may see), what is stored (redacted,
within limits, audited), who reads which (every role's scope, including a manager who heads no
department), who may remove one, the digest read, the customer timeline and erasure."""

from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from contacts.erasure.services import customer_erase
from contacts.selectors import customer_timeline
from feedback.models import Story
from feedback.stories import selectors
from feedback.stories.services import (
    MAX_TEXT,
    MAX_TITLE,
    story_record,
    story_remove,
)
from tests.feedback import stories_fixtures
from tests.feedback.stories_fixtures import ingest, tell
from voc.core.errors import Conflict
from voc.core.models import AuditEntry

pytestmark = pytest.mark.django_db
world = stories_fixtures.world  # the fixture

# --- who may tell a story ----------------------------------------------------------------

# A story about Ann's team-B contact: whoever may see that contact.
MAY_TELL_B = {
    "rep": False,
    "teammate": False,
    "manager": False,  # heads department A, leads team A
    "deputy": False,
    "loner": False,
    "outsider": True,
    "other_manager": True,
    "executive": True,
    "admin": True,
    "inactive": False,
}


@pytest.mark.parametrize("who", MAY_TELL_B)
def test_a_story_is_told_only_about_a_contact_the_author_may_see(world, who):
    author = getattr(world, who)
    if MAY_TELL_B[who]:
        story = tell(world.contact_b, author)
        assert (story.author, story.contact, story.thumb) == (author, world.contact_b, "down")
    else:
        with pytest.raises(PermissionDenied):
            tell(world.contact_b, author)
        assert not Story.objects.exists()
        assert not AuditEntry.objects.filter(action="story.record").exists()


def test_a_card_number_in_the_story_and_title_is_redacted_before_it_is_stored(world):
    story = tell(
        world.contact_a,
        world.rep,
        title="Card 4111 1111 1111 1111 read out",
        text="She read her card 4111-1111-1111-1111 out on the call and we still sent it by post.",
    )
    story.refresh_from_db()
    for stored in (story.title, story.text):
        assert "4111" not in stored.replace("[", "")
        assert "1111" not in stored
    assert story.text.startswith("She read her card ")
    assert story.text.endswith(" out on the call and we still sent it by post.")
    assert story.title.startswith("Card ") and story.title.endswith(" read out")


def test_recording_is_audited_with_the_customer(world):
    story = tell(world.contact_a, world.rep, thumb="up")
    entry = AuditEntry.objects.get(action="story.record")
    assert (entry.actor_id, entry.target_id, entry.customer_id) == (
        world.rep.id, story.id, world.bob.id,
    )  # fmt: skip
    assert entry.changes == {"thumb": "up"}


@pytest.mark.parametrize(
    ("field", "value", "ok"),
    [
        ("title", "t" * MAX_TITLE, True),
        ("title", "t" * (MAX_TITLE + 1), False),
        ("title", "   ", False),
        ("text", "s" * MAX_TEXT, True),
        ("text", "s" * (MAX_TEXT + 1), False),
        ("text", "\n ", False),
        ("thumb", "sideways", False),
        ("thumb", "up", True),
    ],
)
def test_lengths_and_thumb_are_checked(world, field, value, ok):
    values = {"thumb": "down", "title": "Bad day", "text": "It went wrong.", field: value}
    if ok:
        story = story_record(contact=world.contact_a, by=world.rep, **values)
        assert getattr(story, field) == value
    else:
        with pytest.raises(ValidationError) as raised:
            story_record(contact=world.contact_a, by=world.rep, **values)
        assert set(raised.value.message_dict) == {field}
        assert not Story.objects.exists()


def test_no_story_about_an_erased_customer(world):
    customer_erase(customer=world.bob, by=world.admin)
    world.contact_a.refresh_from_db()
    with pytest.raises(Conflict):
        tell(world.contact_a, world.rep)


# --- who reads which ---------------------------------------------------------------------

# (sees the story on Bob's team-A contact, sees the story on Ann's team-B contact)
SEES = {
    "rep": (True, False),
    "teammate": (True, False),
    "manager": (True, False),
    "deputy": (True, False),  # a member of department A who heads nothing: its contacts
    "loner": (False, False),  # no department, no team: only their own stories
    "outsider": (False, True),
    "other_manager": (False, True),
    "executive": (True, True),
    "admin": (True, True),
    "inactive": (False, False),
}


@pytest.mark.parametrize("who", SEES)
def test_stories_are_read_within_the_contacts_scope(world, who):
    on_a = tell(world.contact_a, world.teammate)
    on_b = tell(world.contact_b, world.outsider)
    viewer = getattr(world, who)
    visible = set(selectors.story_list_visible(viewer=viewer))
    assert (on_a in visible, on_b in visible) == SEES[who]
    assert (selectors.story_get_visible(viewer=viewer, story_id=on_a.id) is not None) is SEES[who][
        0
    ]


def test_the_author_keeps_reading_their_story_after_moving_team(world):
    story = tell(world.contact_a, world.rep)
    world.rep.team = world.team_b
    world.rep.save()
    assert list(selectors.story_list_visible(viewer=world.rep)) == [story]
    assert list(selectors.story_list_visible(viewer=world.teammate)) == [story]


def test_the_wall_lists_the_latest_first_and_filters_by_thumb(world):
    up = tell(world.contact_a, world.rep, thumb="up")
    down = tell(world.contact_b, world.outsider, thumb="down")
    Story.objects.filter(id=up.id).update(created_at=timezone.now() - timedelta(hours=1))
    assert list(selectors.story_list_wall(viewer=world.executive)) == [down, up]
    assert list(selectors.story_list_wall(viewer=world.executive, thumb="up")) == [up]
    assert list(selectors.story_list_wall(viewer=world.executive, thumb="down")) == [down]
    assert list(selectors.story_list_wall(viewer=world.executive, thumb="junk")) == [down, up]


# --- removing ------------------------------------------------------------------------------

REMOVES = {
    "rep": True,  # the author
    "teammate": False,  # sees it, did not tell it
    "manager": False,
    "executive": False,
    "admin": True,
    "inactive": False,
}


@pytest.mark.parametrize("who", REMOVES)
def test_only_the_author_or_an_admin_removes_a_story(world, who):
    story = tell(world.contact_a, world.rep)
    remover = getattr(world, who)
    if REMOVES[who]:
        story_remove(story=story, by=remover)
        assert not Story.objects.exists()
        entry = AuditEntry.objects.get(action="story.remove")
        assert (entry.actor_id, entry.target_id, entry.customer_id) == (
            remover.id, story.id, world.bob.id,
        )  # fmt: skip
    else:
        with pytest.raises(PermissionDenied):
            story_remove(story=story, by=remover)
        assert Story.objects.filter(id=story.id).exists()
        assert not AuditEntry.objects.filter(action="story.remove").exists()


# --- digests -------------------------------------------------------------------------------


def test_stories_for_digest_are_the_latest_since_a_time_by_reason(world):
    now = timezone.now()
    old = tell(world.contact_a, world.rep, title="Old")
    Story.objects.filter(id=old.id).update(created_at=now - timedelta(days=2))
    on_billing = tell(world.contact_a, world.rep, title="Billing")
    on_outage = tell(world.contact_b, world.outsider, title="Outage")
    child = ingest(
        world, external_id="bob-2", team=world.team_a.name, reason=["Billing", "Double charge"],
        customer_ref="BOB",
    )  # fmt: skip
    on_child = tell(child, world.rep, title="Double charge")
    since = now - timedelta(days=1)
    assert selectors.stories_for_digest(since=since) == [on_child, on_outage, on_billing]
    assert selectors.stories_for_digest(since=since, limit=2) == [on_child, on_outage]
    assert selectors.stories_for_digest(since=since, reason_ids=[world.billing.id]) == [
        on_child,
        on_billing,
    ]
    assert selectors.stories_for_digest(since=since, reason_ids=[world.double_charge.id]) == [
        on_child
    ]
    assert selectors.stories_for_digest(since=since, reason_ids=[]) == []
    assert selectors.stories_for_digest(since=now - timedelta(days=3))[-1] == old


def test_erased_stories_stay_out_of_digests(world):
    tell(world.contact_b, world.outsider)
    customer_erase(customer=world.ann, by=world.admin)
    assert selectors.stories_for_digest(since=timezone.now() - timedelta(days=1)) == []


# --- the customer timeline and erasure ---------------------------------------------------


def test_the_timeline_shows_stories_and_restricts_what_the_viewer_may_not_read(world):
    on_b = tell(world.contact_b, world.outsider, thumb="down", title="No word during the outage")
    on_a = tell(world.ann_a, world.rep, thumb="up", title="Called her back")
    stories = {
        entry.url: entry
        for entry in customer_timeline(customer=world.ann, viewer=world.rep)
        if entry.kind == "story"
    }
    assert len(stories) == 2
    mine = stories[f"/contacts/{world.ann_a.id}/#story-{on_a.id}"]
    assert (mine.title, mine.restricted) == ("Thumbs up: Called her back", False)
    hidden = stories[""]
    assert (hidden.title, hidden.restricted, hidden.summary) == ("Thumbs down story", True, "")
    executive = [
        entry.title
        for entry in customer_timeline(customer=world.ann, viewer=world.executive)
        if entry.kind == "story"
    ]
    assert sorted(executive) == [
        "Thumbs down: No word during the outage",
        "Thumbs up: Called her back",
    ]
    assert on_b.id != on_a.id


def test_erasure_blanks_the_stories_on_the_customers_contacts(world):
    on_b = tell(world.contact_b, world.outsider, title="Ann Byrne waited", text="Ann said so.")
    on_a = tell(world.ann_a, world.rep)
    bobs = tell(world.contact_a, world.rep, title="Bob's", text="Kept.")
    erasure = customer_erase(customer=world.ann, by=world.admin)
    assert erasure.counts["feedback.stories.stories"] == 2
    for story in (on_a, on_b):
        story.refresh_from_db()
        assert (story.title, story.text, story.thumb) == ("", "", "down")
        assert story.erased_at is not None
    bobs.refresh_from_db()
    assert (bobs.title, bobs.text, bobs.erased_at) == ("Bob's", "Kept.", None)
    titles = [
        entry.title
        for entry in customer_timeline(customer=world.ann, viewer=world.executive)
        if entry.kind == "story"
    ]
    assert titles == ["Thumbs down: (erased)", "Thumbs down: (erased)"]


def test_deleting_a_contact_logged_by_mistake_takes_its_stories(world):
    story = tell(world.contact_a, world.rep)
    world.contact_a.delete()
    assert not Story.objects.filter(id=story.id).exists()


def test_the_demo_tells_a_dozen_stories_their_authors_may_read():
    from django.core.management import call_command

    call_command("seed_demo", customers=50, contacts=200, seed=3, verbosity=0)
    stories = list(Story.objects.select_related("author", "contact"))
    assert len(stories) == 12
    assert {story.thumb for story in stories} == {"up", "down"}
    for story in stories:
        assert story.author.role in ("rep", "executive")
        assert story in selectors.story_list_visible(viewer=story.author)
        assert story.created_at <= timezone.now()
