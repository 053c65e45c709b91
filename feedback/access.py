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


# --- stories (feedback/stories/) --------------------------------------------------------------
# Anyone signed in tells a story about a contact they may see; the wall of the latest stories
# is for executives and admins (the people the stories are told to).
RECORD_STORIES = "feedback.stories_record"
VIEW_STORY_WALL = "feedback.stories_wall"

STORY_GRANTS: dict[str, tuple[str, ...]] = {
    Role.REP: (RECORD_STORIES,),
    Role.MANAGER: (RECORD_STORIES,),
    Role.EXECUTIVE: (RECORD_STORIES, VIEW_STORY_WALL),
    Role.ADMIN: (RECORD_STORIES, VIEW_STORY_WALL),
}


def register_story_capabilities() -> None:
    for role, capabilities in STORY_GRANTS.items():
        register_capabilities(role, *capabilities)
