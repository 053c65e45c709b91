"""The email ping-pong threads behind the dashboard's panel, for the contacts drill-down page
(voc/dashboards/drill.py's form, keyset pages and export columns)."""

from django.db.models import QuerySet

from contacts.models import Contact
from contacts.reporting import with_verbatim
from contacts.threads import pingpong_threads
from voc.dashboards.drill import Drill
from voc.people.models import User


def drill_threads(*, viewer: User, drill: Drill, waiting: bool) -> QuerySet[Contact]:
    """Every thread behind the figure, newest first (the export's rows). The figure's own
    narrowing is the days and ``waiting``; a reason or measure in the URL is not applied."""
    rows = pingpong_threads(
        viewer=viewer,
        filters=drill.filters.rollup(start=drill.start, end=drill.end),
        waiting=waiting,
    )
    return with_verbatim(rows)
