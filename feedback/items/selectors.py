"""Who may read which feedback items: the contacts rule applied to feedback. Executives and
admins read everything; a manager reads the items of the teams they lead or that belong to
their department (or departments they head) and the items whose topic is such a department's
reason; a rep reads their own team's. An item without a team (a review, a social post) is
read by executives and admins only."""

from django.db.models import QuerySet

from feedback.models import FeedbackItem
from voc.people.access import scope_for
from voc.people.models import User

FEEDBACK_SCOPE = {"team_field": "team_id", "department_field": "reason__department_id"}


def feedback_list_visible(*, viewer: User) -> QuerySet[FeedbackItem]:
    return FeedbackItem.objects.filter(scope_for(viewer).q(**FEEDBACK_SCOPE))


def feedback_get_visible(*, viewer: User, item_id: int) -> FeedbackItem | None:
    return (
        feedback_list_visible(viewer=viewer)
        .select_related("customer", "contact", "reason__parent", "team")
        .filter(id=item_id)
        .first()
    )
