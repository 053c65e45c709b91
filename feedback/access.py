"""Capabilities of the listening pages, granted to roles from FeedbackConfig.ready().

Executives and reps run side-by-side sessions (either may schedule one with the other); admins
read them. Managers get none of it: a session is not a performance review of the rep, so the
rep's manager neither sees the sessions nor their notes.
"""

from voc.core.capabilities import register_capabilities
from voc.people.roles import Role

VIEW_SESSIONS = "feedback.sessions_view"
RUN_SESSIONS = "feedback.sessions_run"  # schedule, start, end, take notes
VIEW_TRACKER = "feedback.tracker_view"  # the 5% tracker

ROLE_GRANTS: dict[str, tuple[str, ...]] = {
    Role.REP: (VIEW_SESSIONS, RUN_SESSIONS),
    Role.EXECUTIVE: (VIEW_SESSIONS, RUN_SESSIONS, VIEW_TRACKER),
    Role.ADMIN: (VIEW_SESSIONS, VIEW_TRACKER),
}


def register_feedback_capabilities() -> None:
    for role, capabilities in ROLE_GRANTS.items():
        register_capabilities(role, *capabilities)


# --- feedback items: who sends them through the API and imports them ---------------------------
# As contacts' bulk ingest: admins (and systems with an ingest token, checked in the API
# itself). Reading follows the row scope of feedback_list_visible for every signed-in role.
INGEST_ITEMS = "feedback.items_ingest"


def register_item_capabilities() -> None:
    register_capabilities(Role.ADMIN, INGEST_ITEMS)
