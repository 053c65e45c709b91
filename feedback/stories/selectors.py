"""Who reads which stories, and the reads of the wall, the contact page, the home page, the
customer timeline and the digests.

Executives and admins read every story. Everyone else reads the stories they told and the
stories about contacts they may see (contacts.selectors: a rep their team's, a manager their
teams' and their department's).
"""

from datetime import datetime

from django.db.models import Q, QuerySet
from django.urls import reverse

from contacts.models import Contact, Customer
from contacts.registry import TimelineEntry
from contacts.selectors import CONTACT_SCOPE
from feedback.models import Story
from voc.core.capabilities import effective_role
from voc.people.access import scope_for
from voc.people.models import User

# The contact's fields, reached from a story.
STORY_SCOPE = {key: f"contact__{field}" for key, field in CONTACT_SCOPE.items()}
WALL_PAGE_SIZE = 20
HOME_LATEST = 5
DIGEST_LATEST = 10
THUMB_FILTERS = ("all", Story.Thumb.UP.value, Story.Thumb.DOWN.value)


def story_list_visible(*, viewer: User) -> QuerySet[Story]:
    if effective_role(viewer) is None:
        return Story.objects.none()
    scope = scope_for(viewer)
    if scope.everything:
        return Story.objects.all()
    return Story.objects.filter(Q(author=viewer) | scope.q(**STORY_SCOPE))


def story_get_visible(*, viewer: User, story_id: int) -> Story | None:
    return story_list_visible(viewer=viewer).filter(id=story_id).first()


def story_list_wall(*, viewer: User, thumb: str = "all") -> QuerySet[Story]:
    """The latest stories first, all or one thumb, with what a card shows."""
    stories = story_list_visible(viewer=viewer).select_related("author", "contact__customer")
    if thumb in Story.Thumb.values:
        stories = stories.filter(thumb=thumb)
    return stories.order_by("-created_at", "-id")


def story_list_latest(*, viewer: User, limit: int = HOME_LATEST) -> list[Story]:
    return list(story_list_wall(viewer=viewer)[:limit])


def story_list_for_contact(*, viewer: User, contact: Contact) -> list[Story]:
    return list(
        story_list_visible(viewer=viewer)
        .filter(contact=contact)
        .select_related("author")
        .order_by("-created_at", "-id")
    )


def stories_for_digest(
    *, since: datetime, reason_ids: list[int] | None = None, limit: int = DIGEST_LATEST
) -> list[Story]:
    """The latest stories told since ``since`` (erased ones left out), newest first, for the
    bcc digests. With ``reason_ids``, only stories about contacts with one of those reasons or
    a child of one (a subscription to "Billing" takes "Billing › Double charge").

    Not scoped to a viewer: the digest decides who receives what (its subscriptions' topics)."""
    stories = Story.objects.filter(created_at__gte=since, erased_at__isnull=True)
    if reason_ids is not None:
        stories = stories.filter(
            Q(contact__reason_id__in=reason_ids) | Q(contact__reason__parent_id__in=reason_ids)
        )
    return list(
        stories.select_related("author", "contact__customer", "contact__reason__parent").order_by(
            "-created_at", "-id"
        )[:limit]
    )


def story_timeline(*, customer: Customer, viewer: User, limit: int) -> list[TimelineEntry]:
    """The customer timeline's stories: the thumb and title with a link to the contact for the
    stories the viewer may read; the thumb alone, greyed, for the others."""
    stories = list(
        Story.objects.filter(contact__customer=customer).order_by("-created_at", "-id")[:limit]
    )
    visible = set(
        story_list_visible(viewer=viewer)
        .filter(id__in=[story.id for story in stories])
        .values_list("id", flat=True)
    )
    entries = []
    for story in stories:
        shown = story.id in visible
        if not shown:
            title = f"{story.get_thumb_display()} story"
        elif story.erased_at is not None:
            title = f"{story.get_thumb_display()}: (erased)"
        else:
            title = f"{story.get_thumb_display()}: {story.title}"
        entries.append(
            TimelineEntry(
                when=story.created_at,
                kind="story",
                title=title,
                url=_story_url(story) if shown else "",
                restricted=not shown,
            )
        )
    return entries


def _story_url(story: Story) -> str:
    """The story on its contact's page (the stories panel)."""
    return reverse("contacts:contact-detail", args=[story.contact_id]) + f"#story-{story.id}"
