"""What contacts puts on the home page (voc.core.home): the repeat contacts of the last days,
within the viewer's scope (a rep's team, a manager's departments and teams, everything for
executives and admins). A customer who had to come back is the first sign of a fix to make."""

from datetime import timedelta

from django.utils import timezone

from contacts import selectors
from voc.core.home import Fragment
from voc.people.models import User

REPEATS_DAYS = 7
REPEATS_SHOWN = 5


def repeat_contacts_widget(viewer: User) -> Fragment:
    repeats = selectors.contact_list_visible(viewer=viewer).filter(
        repeat_of__isnull=False,
        occurred_at__gte=timezone.now() - timedelta(days=REPEATS_DAYS),
    )
    latest = list(
        repeats.select_related("customer", "reason__parent").order_by("-occurred_at", "-id")[
            :REPEATS_SHOWN
        ]
    )
    # Fewer than a full list means the list is all of them: no need to count.
    count = len(latest) if len(latest) < REPEATS_SHOWN else repeats.count()
    context = {"count": count, "latest": latest, "days": REPEATS_DAYS}
    return Fragment("contacts/_home_repeats.html", context)
