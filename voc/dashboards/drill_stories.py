"""The stories behind the stories panel's counts: those told in the period (or days within
it) about contacts of the dashboard's channel, team and segment, of one thumb or both, newest
first, in keyset pages (voc/dashboards/drill.py's ``after``), exported with the same rows."""

from datetime import datetime, time, timedelta

from django.db.models import QuerySet

from contacts.rollups import reporting_tz
from feedback.models import Story
from feedback.stories.reporting import StoryFilters, stories_between
from voc.core.exports import Column
from voc.dashboards.drill import Drill
from voc.people.models import User


def drill_stories(*, viewer: User, drill: Drill, thumb: str) -> QuerySet[Story]:
    tz = reporting_tz()
    sets = drill.filters.rollup()
    stories = stories_between(
        viewer=viewer,
        filters=StoryFilters(
            since=datetime.combine(drill.start, time(), tzinfo=tz),
            until=datetime.combine(drill.end + timedelta(days=1), time(), tzinfo=tz),
            channels=sets.channels,
            team_ids=sets.team_ids,
            segments=sets.segments,
        ),
    )
    if thumb in Story.Thumb.values:
        stories = stories.filter(thumb=thumb)
    return stories.select_related("author", "contact__customer").order_by("-created_at", "-id")


STORY_COLUMNS = [
    Column("Told", lambda s: s.created_at),
    Column("Thumb", lambda s: s.get_thumb_display()),
    Column("Title", lambda s: s.title),
    Column("Story", lambda s: s.text),
    Column("Told by", lambda s: s.author.get_full_name() or s.author.get_username()),
    Column("Customer", lambda s: str(s.contact.customer) if s.contact.customer else ""),
    Column("Contact id", lambda s: s.contact_id),
    Column("Story id", lambda s: s.id),
]
