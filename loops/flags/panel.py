"""What flags add to other pages: the "Flag a recurring issue" panel on the contact page
(contacts' panel registry), the "Flags" panel on the issue page (loops' issue panel registry)
and "What I flagged" on the home page (voc.core.home). Registered from flags_ready()."""

from django.utils import timezone

from contacts.models import Contact
from loops.flags.forms import ProposeForm
from loops.flags.selectors import (
    PER_DAY_DAYS,
    contacts_per_day,
    flag_counts,
    flag_suggestions,
    flags_of,
)
from loops.models import Issue
from loops.promote.rules import title_from_text
from voc.core.home import Fragment
from voc.people.models import User

HOME_FLAGS = 5


def suggested_title(contact: Contact) -> str:
    """A new issue's title from the contact: its subject, else its notes' first sentence,
    else its reason."""
    return (
        title_from_text(contact.subject)
        or title_from_text(contact.notes)
        or (f"{contact.reason.path}" if contact.reason else "")
    )


def contact_flag_panel(contact: Contact, viewer: User) -> Fragment:
    return Fragment(
        "loops/flags/_panel.html",
        {
            "contact": contact,
            "suggestions": flag_suggestions(viewer=viewer, contact=contact),
            # Its own ids: other panels on the contact page have a "Title" too (stories).
            "propose_form": ProposeForm(
                initial={"title": suggested_title(contact)}, auto_id="flag-propose-%s"
            ),
            "days": PER_DAY_DAYS,
        },
    )


def issue_flags_panel(issue: Issue, viewer: User) -> Fragment:
    per_day = contacts_per_day(issue_ids=[issue.pk])[issue.pk]
    return Fragment(
        "loops/flags/_issue_panel.html",
        {"issue": issue, "per_day": per_day, "days": PER_DAY_DAYS, **flag_counts(issue=issue)},
    )


def my_flags_widget(viewer: User) -> Fragment | None:
    flags = list(flags_of(user=viewer)[:HOME_FLAGS])
    if not flags:
        return None
    return Fragment("loops/flags/_home.html", {"flags": flags, "now": timezone.now()})
