"""A deactivated owner's issues go to their department head. voc.people knows nothing of
loops: deactivation is a save of the user with ``is_active`` false (the admin, the people
pages, a script), so loops listens to the user's post_save (connected in LoopsConfig.ready())."""

from typing import Any

from loops.models import OPEN_EXCLUDED, Issue
from loops.services.issues import issues_hand_over
from voc.people.models import User


def on_user_saved(sender: Any, *, instance: User, created: bool, **kwargs: Any) -> None:
    if created or instance.is_active:
        return
    # Cheap when there is nothing to hand over: one indexed look-up (owner, status).
    owns_open = (
        Issue.objects.filter(owner=instance, merged_into__isnull=True)
        .exclude(status__in=OPEN_EXCLUDED)
        .exists()
    )
    if owns_open:
        issues_hand_over(former_owner=instance)
