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
