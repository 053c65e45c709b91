"""The gestures behind make it right's spend: given (granted or approved) in the period, on
contacts of the dashboard's channel and segment, by the team, in the viewer's scope; newest
first in keyset pages (voc/dashboards/drill.py's ``after``), exported with the same rows. Each
row says whether the customer came back about the contact and whether they were lost after."""

from django.db.models import QuerySet

from contacts.gestures.selectors import gestures_given
from contacts.models import Gesture
from voc.core.exports import Column
from voc.dashboards.drill import Drill
from voc.people.models import User


def drill_gestures(*, viewer: User, drill: Drill) -> QuerySet[Gesture]:
    sets = drill.filters.rollup()
    return gestures_given(
        viewer=viewer,
        since=drill.start,
        until=drill.end,
        channels=sets.channels,
        team_ids=sets.team_ids,
        segments=sets.segments,
    )


GESTURE_COLUMNS = [
    Column("Given", lambda g: g.given_at),
    Column("Kind", lambda g: g.get_kind_display()),
    Column("Value", lambda g: g.value),
    Column("Currency", lambda g: g.currency),
    Column("State", lambda g: g.get_state_display()),
    Column("Team", lambda g: g.team.name if g.team else ""),
    Column("Reason", lambda g: g.contact.reason.path if g.contact.reason else ""),
    Column("Customer", lambda g: str(g.contact.customer) if g.contact.customer else ""),
    Column("Came back", lambda g: "yes" if g.followed else ""),
    Column("Lost after", lambda g: "yes" if g.lost else ""),
    Column("Contact id", lambda g: g.contact_id),
    Column("Gesture id", lambda g: g.id),
]
