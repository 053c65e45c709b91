"""Recording and removing stories, and the erasure handler that blanks them.

Every write takes ``by=`` and records one audit entry in its transaction. Refusals raise
``PermissionDenied`` (a contact the author may not see, removing someone else's story),
``ValidationError`` (bad input) or ``Conflict`` (the customer was erased), each with a message a
person can act on. The title and the story are customer text: they go through the one
redaction entry point before they are stored.
"""

from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from contacts.models import Contact
from contacts.redaction_rules import redactor
from contacts.selectors import contact_get_visible
from feedback.access import RECORD_STORIES
from feedback.models import Story
from voc.core.audit import audit_record
from voc.core.capabilities import ADMIN_ROLE, effective_role, has_capability
from voc.core.errors import Conflict
from voc.people.models import User

MAX_TITLE = 120
MAX_TEXT = 4000

AUDIT_LABELS = {
    "story.record": "told the story",
    "story.remove": "removed the story",
}

Thumb = Story.Thumb


def _clean(*, thumb: str, title: str, text: str) -> tuple[str, str]:
    errors: dict[str, str] = {}
    if thumb not in Thumb.values:
        errors["thumb"] = "Choose thumbs up or thumbs down."
    title, text = title.strip(), text.strip()
    if not title:
        errors["title"] = "Give the story a short title."
    elif len(title) > MAX_TITLE:
        errors["title"] = f"Keep the title to {MAX_TITLE} characters (it has {len(title)})."
    if not text:
        errors["text"] = "Tell the story: what happened, and what the customer said."
    elif len(text) > MAX_TEXT:
        errors["text"] = f"Keep the story to {MAX_TEXT} characters (it has {len(text)})."
    if errors:
        raise ValidationError(errors)
    return title, text


def story_record(*, contact: Contact, thumb: str, title: str, text: str, by: User) -> Story:
    """Record a story about ``contact``, told by ``by``, who must be allowed to see it."""
    if not has_capability(by, RECORD_STORIES):
        raise PermissionDenied("Sign in with an active account to tell a story.")
    if contact_get_visible(viewer=by, contact_id=contact.pk) is None:
        raise PermissionDenied("You can only tell a story about a contact you can see.")
    title, text = _clean(thumb=thumb, title=title, text=text)
    customer = contact.customer
    if customer is not None and customer.erased_at is not None:
        raise Conflict("This customer was erased: no new stories can be told about them.")
    redact = redactor()
    with transaction.atomic():
        story = Story.objects.create(
            contact=contact,
            thumb=thumb,
            # A card number is shorter than what replaces it only in theory: keep the limit.
            title=redact.text(title)[:MAX_TITLE],
            text=redact.text(text),
            author=by,
        )
        audit_record(
            by=by,
            action="story.record",
            target=story,
            changes={"thumb": thumb},
            customer_id=contact.customer_id,
        )
    return story


def story_may_remove(*, story: Story, user: User) -> bool:
    """The author takes back their own story; an admin removes any."""
    role = effective_role(user)
    if role is None:
        return False
    return role == ADMIN_ROLE or story.author_id == user.pk


def story_remove(*, story: Story, by: User) -> None:
    if not story_may_remove(story=story, user=by):
        raise PermissionDenied("Only the person who told a story, or an admin, can remove it.")
    customer_id = (
        Contact.objects.filter(pk=story.contact_id).values_list("customer_id", flat=True).first()
    )
    with transaction.atomic():
        # Recorded first: a deleted row has no primary key left to name.
        audit_record(
            by=by,
            action="story.remove",
            target=story,
            changes={"thumb": story.thumb, "author": story.author_id},
            customer_id=customer_id,
        )
        Story.objects.filter(pk=story.pk).delete()


def stories_erase(*, customer_ids: Iterable[int], erasure: object = None) -> dict[str, int]:
    """The erasure handler (contacts.registry): a story about an erased customer's contact
    quotes and describes them, so its title and text go; the thumb, who told it and when
    stay (the counts of good and bad stories do not change)."""
    ids = list(customer_ids)
    stories = Story.objects.filter(contact__customer_id__in=ids)
    erased = Story.objects.filter(id__in=list(stories.values_list("id", flat=True))).update(
        title="", text="", erased_at=timezone.now()
    )
    return {"stories": erased} if erased else {}
