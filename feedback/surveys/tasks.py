"""The invitation job (voc.core.jobs); imported by feedback.tasks, which beat's autodiscovery
finds."""

from datetime import timedelta

from feedback.surveys.services import survey_invitations_send
from voc.core.jobs import periodic_job


@periodic_job(
    "feedback.survey_invitations",
    every=timedelta(hours=1),
    description="Invites the sampled customers of contacts closed in the last day to a "
    "one-question survey (the contact budget decides; every no is recorded).",
)
def survey_invitations() -> int:
    return survey_invitations_send().touched
