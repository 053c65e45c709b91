"""Stories told in a period, for the dashboard: how many thumbs up and down, and the latest of
each, within the viewer's story scope (feedback.stories.selectors) and the dashboard's
channel, team and segment (those of the story's contact). Erased stories are left out: their
words are gone."""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q, QuerySet

from feedback.models import Story
from feedback.stories.selectors import story_list_visible
from voc.people.models import User


@dataclass(frozen=True)
class StoryFilters:
    since: datetime  # inclusive
    until: datetime  # exclusive
    channels: Collection[str] = ()
    team_ids: Collection[int] = ()
    segments: Collection[str] = ()  # "" is a contact without a customer


def stories_between(*, viewer: User, filters: StoryFilters) -> QuerySet[Story]:
    stories = story_list_visible(viewer=viewer).filter(
        created_at__gte=filters.since, created_at__lt=filters.until, erased_at__isnull=True
    )
    if filters.channels:
        stories = stories.filter(contact__channel__in=filters.channels)
    if filters.team_ids:
        stories = stories.filter(contact__team_id__in=filters.team_ids)
    if filters.segments:
        stories = stories.filter(contact__customer_segment__in=filters.segments)
    return stories


def story_counts(*, viewer: User, filters: StoryFilters) -> dict[str, int]:
    """Stories per thumb ("up", "down"), both always present. One query."""
    return stories_between(viewer=viewer, filters=filters).aggregate(
        up=Count("id", filter=Q(thumb=Story.Thumb.UP)),
        down=Count("id", filter=Q(thumb=Story.Thumb.DOWN)),
    )


def stories_latest(*, viewer: User, filters: StoryFilters, thumb: str, limit: int) -> list[Story]:
    """The newest stories of one thumb, with their author and contact's customer. One query."""
    return list(
        stories_between(viewer=viewer, filters=filters)
        .filter(thumb=thumb)
        .select_related("author", "contact__customer")
        .order_by("-created_at", "-id")[:limit]
    )
