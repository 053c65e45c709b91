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


# --- reads of the feedback pages (feedback/items/views.py, pages.py) -------------------------

LIST_RELATED = ("customer", "contact", "reason__parent", "team")
PANEL_ROWS = 20


def feedback_list_page(*, viewer: User) -> QuerySet[FeedbackItem]:
    """The viewer's items as the list page shows them: newest first, with what a row names."""
    return (
        feedback_list_visible(viewer=viewer)
        .select_related(*LIST_RELATED)
        .order_by("-received_at", "-id")
    )


def feedback_list_for_contact(*, viewer: User, contact_id: int) -> list[FeedbackItem]:
    """The items of one contact the viewer may see, newest first (the contact page's panel)."""
    return list(feedback_list_page(viewer=viewer).filter(contact_id=contact_id)[:PANEL_ROWS])


def feedback_list_for_customer(*, viewer: User, customer_id: int) -> list[FeedbackItem]:
    """The items of one customer the viewer may see, newest first (the customer page's panel)."""
    return list(feedback_list_page(viewer=viewer).filter(customer_id=customer_id)[:PANEL_ROWS])


def feedback_ids_visible(*, viewer: User, item_ids: list[int]) -> set[int]:
    """Which of ``item_ids`` the viewer may see, in one query."""
    return set(
        feedback_list_visible(viewer=viewer).filter(id__in=item_ids).values_list("id", flat=True)
    )
