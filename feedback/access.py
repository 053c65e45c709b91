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


# --- feedback items' pages (feedback/items/views.py, feedback/complaints/) -------------------
# Everyone with a role reads the feedback in their row scope (feedback.items.selectors); reps
# and managers log a complaint or compliment by hand; managers, executives and admins correct
# an item's topic; managers and executives thank a complaining customer (an email to a
# customer: admins configure, they do not write to customers).
VIEW_FEEDBACK_ITEMS = "feedback.items_view"
LOG_FEEDBACK_ITEMS = "feedback.items_log"
SET_FEEDBACK_TOPIC = "feedback.items_set_topic"
THANK_COMPLAINTS = "feedback.complaints_thank"

ITEM_PAGE_GRANTS: dict[str, tuple[str, ...]] = {
    Role.REP: (VIEW_FEEDBACK_ITEMS, LOG_FEEDBACK_ITEMS),
    Role.MANAGER: (VIEW_FEEDBACK_ITEMS, LOG_FEEDBACK_ITEMS, SET_FEEDBACK_TOPIC, THANK_COMPLAINTS),
    Role.EXECUTIVE: (VIEW_FEEDBACK_ITEMS, SET_FEEDBACK_TOPIC, THANK_COMPLAINTS),
    Role.ADMIN: (VIEW_FEEDBACK_ITEMS, SET_FEEDBACK_TOPIC),
}


def register_feedback_item_page_capabilities() -> None:
    for role, capabilities in ITEM_PAGE_GRANTS.items():
        register_capabilities(role, *capabilities)


# --- outreach programs (feedback/outreach/) --------------------------------------------------
# Executives keep call lists, log calls and exercises; the CEO and admins read every
# executive's (row scope: feedback/outreach/selectors.py). Reps and executives meet in frontline
# forums; managers see none of it.
VIEW_OUTREACH = "feedback.outreach_view"  # the hub, program and summary pages
RUN_OUTREACH = "feedback.outreach_run"  # own call lists, calls, exercises
VIEW_FORUMS = "feedback.forums_view"
RUN_FORUMS = "feedback.forums_run"  # hold a forum, add topics

OUTREACH_GRANTS: dict[str, tuple[str, ...]] = {
    Role.REP: (VIEW_FORUMS,),
    Role.EXECUTIVE: (VIEW_OUTREACH, RUN_OUTREACH, VIEW_FORUMS, RUN_FORUMS),
    Role.ADMIN: (VIEW_OUTREACH, VIEW_FORUMS),
}


def register_outreach_capabilities() -> None:
    for role, capabilities in OUTREACH_GRANTS.items():
        register_capabilities(role, *capabilities)


# --- feedback items: who sends them through the API and imports them ---------------------------
# As contacts' bulk ingest: admins (and systems with an ingest token, checked in the API
# itself). Reading follows the row scope of feedback_list_visible for every signed-in role.
INGEST_ITEMS = "feedback.items_ingest"


def register_item_capabilities() -> None:
    register_capabilities(Role.ADMIN, INGEST_ITEMS)


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


# --- Post-contact surveys (feedback/surveys/): the report. Answering needs no login (a signed
# link). Reps do not get the report: it is about how customers rate the service, not a rep's.
VIEW_SURVEY_REPORT = "feedback.survey_report_view"

SURVEY_GRANTS: dict[str, tuple[str, ...]] = {
    Role.MANAGER: (VIEW_SURVEY_REPORT,),
    Role.EXECUTIVE: (VIEW_SURVEY_REPORT,),
    Role.ADMIN: (VIEW_SURVEY_REPORT,),
}


def register_survey_capabilities() -> None:
    for role, capabilities in SURVEY_GRANTS.items():
        register_capabilities(role, *capabilities)
