"""What make it right shows on other pages: the contact page's panel, the approvers' home
widget and the customer timeline's entries (registered from ContactsConfig.ready())."""

from django.urls import reverse

from contacts.gestures import selectors
from contacts.gestures.access import DECIDE_GESTURES, GIVE_GESTURES, VIEW_GESTURE_REPORT
from contacts.gestures.forms import GestureForm
from contacts.models import Contact, Customer, Gesture
from contacts.registry import TimelineEntry
from voc.core.capabilities import has_capability
from voc.core.home import Fragment
from voc.people.models import User

WAITING_SHOWN = 10
GESTURE_PANEL = "contacts.gestures"  # the contact-page panel's key in contacts.registry


def contact_gestures_panel(
    contact: Contact, viewer: User, *, form: GestureForm | None = None
) -> Fragment:
    """The contact's gestures with their state, one-click decisions for those the viewer may
    decide, and (for givers) the form with what is left of their allowance: ``form`` is one
    just posted and refused, shown again with its errors and what was typed."""
    gestures = selectors.gestures_of_contact(contact=contact)
    may_decide = has_capability(viewer, DECIDE_GESTURES)
    rows = [
        (
            gesture,
            may_decide
            and gesture.state == Gesture.State.PENDING
            and selectors.gesture_may_decide(gesture=gesture, viewer=viewer),
        )
        for gesture in gestures
    ]
    can_give = has_capability(viewer, GIVE_GESTURES) and contact.customer_id is not None
    context = {
        "contact": contact,
        "rows": rows,
        "can_give": can_give,
        "no_customer": contact.customer_id is None,
        "form": (form or GestureForm(contact_id=contact.pk)) if can_give else None,
        "allowance": selectors.allowance_left(user=viewer) if can_give else None,
        "next": reverse("contacts:contact-detail", args=[contact.pk]),
        "can_report": has_capability(viewer, VIEW_GESTURE_REPORT),
    }
    return Fragment("contacts/gestures/_panel.html", context)


def waiting_gestures_widget(viewer: User) -> Fragment | None:
    """ "Gestures waiting for you": the oldest first, each with Approve and Decline; nothing
    when none waits."""
    waiting = selectors.gestures_awaiting(viewer=viewer)
    listed = list(
        waiting.select_related("contact__customer", "contact__reason__parent", "given_by")[
            :WAITING_SHOWN
        ]
    )
    if not listed:
        return None
    # Fewer than a full list means the list is all of them: no need to count.
    count = len(listed) if len(listed) < WAITING_SHOWN else waiting.count()
    return Fragment(
        "contacts/gestures/_home_waiting.html",
        {"count": count, "gestures": listed, "next": reverse("home")},
    )


def gesture_timeline(*, customer: Customer, viewer: User, limit: int) -> list[TimelineEntry]:
    """The customer's gestures the viewer may see, as timeline entries."""
    gestures = (
        selectors.gesture_list_visible(viewer=viewer)
        .filter(contact__customer=customer)
        .order_by("-given_at", "-id")[:limit]
    )
    return [
        TimelineEntry(
            when=gesture.given_at,
            kind="gesture",
            title=f"{gesture.get_kind_display()} · {gesture.value:.2f} {gesture.currency} · "
            f"{gesture.get_state_display().lower()}",
            summary=gesture.note,
            url=reverse("contacts:contact-detail", args=[gesture.contact_id]),
        )
        for gesture in gestures
    ]
