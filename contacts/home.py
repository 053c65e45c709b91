"""What contacts puts on the home page (voc.core.home), within the viewer's scope (a rep's
team, a manager's departments and teams, everything for executives and admins):

- the repeat contacts of the last days: a customer who had to come back is the first sign of
  a fix to make;
- the email threads to call about (contacts.pingpong): customers who have written three times
  without a resolution, until someone calls them or resolves the contact.
"""

from datetime import timedelta

from django.utils import timezone

from contacts import selectors
from contacts.callbacks import callbacks_due
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


CALLS_SHOWN = 10


def call_worklist_widget(viewer: User) -> Fragment | None:
    """The email threads that need a call, the longest waiting first; nothing when none."""
    threads = selectors.email_threads_needing_call(viewer=viewer)
    listed = list(threads.select_related("customer", "team")[:CALLS_SHOWN])
    if not listed:
        return None
    # Fewer than a full list means the list is all of them: no need to count.
    count = len(listed) if len(listed) < CALLS_SHOWN else threads.count()
    return Fragment("contacts/_home_calls.html", {"count": count, "threads": listed})


CALLBACKS_SHOWN = 10


def callbacks_widget(viewer: User) -> Fragment | None:
    """ "Callbacks I promised" (contacts.callbacks): the oldest promise first; nothing when
    every promise is kept."""
    callbacks, count = callbacks_due(viewer=viewer, limit=CALLBACKS_SHOWN)
    if not callbacks:
        return None
    context = {"callbacks": callbacks, "count": count, "now": timezone.now()}
    return Fragment("contacts/_home_callbacks.html", context)
