"""The survey link: a signed token (voc.core.links) naming one SurveyInvitation, nothing else.

The token's own lifetime is the longest an admin may set (``survey_link_days`` at most 60);
the invitation's ``expires_at``, fixed when it was sent from the setting then in force, is what
closes the survey. Single use: the first answer spends it (and the invitation is answered
once whatever the token, see services.survey_answer_record).
"""

from datetime import timedelta

from django.conf import settings
from django.urls import reverse

from contacts.budget.links import budget_opt_out_url
from contacts.models import BudgetPurpose
from feedback.models import SurveyInvitation
from voc.core.links import LinkPurpose, link_token

SURVEY_LINK = LinkPurpose("feedback.survey_answer", max_age=timedelta(days=60), single_use=True)


def survey_answer_path(invitation: SurveyInvitation) -> str:
    """A fresh link's path (each call signs a new token for the same invitation)."""
    token = link_token(purpose=SURVEY_LINK, target=invitation)
    return reverse("feedback:surveys:answer", args=[token])


def survey_opt_out_path(invitation: SurveyInvitation) -> str:
    """The customer's one-click opt-out of surveys (contacts.budget.links)."""
    return budget_opt_out_url(customer=invitation.customer, purpose=BudgetPurpose.SURVEY)


def absolute(path: str) -> str:
    return settings.VOC_BASE_URL + path
