"""What stories put on other apps' pages: the executives' home widget and the contact page's
panel (registered from FeedbackConfig.ready())."""

from contacts.models import Contact
from feedback.stories import selectors
from feedback.stories.forms import StoryForm
from feedback.stories.services import story_may_remove
from voc.core.home import Fragment
from voc.people.models import User


def latest_stories_widget(viewer: User) -> Fragment | None:
    stories = selectors.story_list_latest(viewer=viewer)
    if not stories:
        return None
    return Fragment("feedback/stories/_home_latest.html", {"stories": stories})


def contact_stories_panel(contact: Contact, viewer: User) -> Fragment:
    """This contact's stories and the form to tell one (shown to whoever sees the contact:
    the contact page only opens for them)."""
    stories = selectors.story_list_for_contact(viewer=viewer, contact=contact)
    erased = contact.customer is not None and contact.customer.erased_at is not None
    context = {
        "contact": contact,
        "stories": stories,
        "removable": {story.id for story in stories if story_may_remove(story=story, user=viewer)},
        "can_tell": not erased,
        "form": StoryForm(auto_id="story-form-%s"),  # ids of its own on the contact page
    }
    return Fragment("feedback/stories/_panel.html", context)
