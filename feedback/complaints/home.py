"""The "Complaints to thank" home widget: complaints in the viewer's scope from the last 14
days whose customer was not thanked yet."""

from feedback.complaints import selectors
from voc.core.home import Fragment
from voc.people.models import User


def complaints_to_thank_widget(viewer: User) -> Fragment | None:
    complaints = selectors.complaints_to_thank(viewer=viewer)
    shown = list(complaints[: selectors.TO_THANK_SHOWN])
    if not shown:
        return None
    total = len(shown) if len(shown) < selectors.TO_THANK_SHOWN else complaints.count()
    return Fragment(
        "feedback/complaints/_home_to_thank.html",
        {"complaints": shown, "total": total, "days": selectors.TO_THANK_DAYS},
    )
