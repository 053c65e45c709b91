"""The stories pages: the wall (executives and admins), telling a story about a contact (from
the contact page's panel), and removing one."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from contacts.selectors import contact_get_visible
from feedback.access import RECORD_STORIES, VIEW_STORY_WALL
from feedback.stories import selectors
from feedback.stories.forms import StoryForm, WallFilterForm
from feedback.stories.services import story_may_remove, story_record, story_remove
from voc.core.capabilities import capability_required


@capability_required(VIEW_STORY_WALL)
def story_wall_view(request):
    form = WallFilterForm(request.GET or None)
    thumb = form.thumb_value()
    stories = selectors.story_list_wall(viewer=request.user, thumb=thumb)
    page = Paginator(stories, selectors.WALL_PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "form": form,
        "thumb": thumb,
        "thumbs": [("all", "All"), ("up", "Thumbs up"), ("down", "Thumbs down")],
        "page": page,
        "keep_params": [("thumb", thumb)] if thumb != "all" else [],
        "removable": {
            story.id
            for story in page.object_list
            if story_may_remove(story=story, user=request.user)
        },
    }
    return render(request, "feedback/stories/wall.html", context)


@capability_required(RECORD_STORIES)
def story_record_view(request, contact_id: int):
    """GET: the form on a page of its own; POST: record, then back to the contact page (or
    the form again, filled in, with what to fix)."""
    contact = contact_get_visible(viewer=request.user, contact_id=contact_id)
    if contact is None:
        raise Http404
    form = StoryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            story_record(
                contact=contact,
                thumb=data["thumb"],
                title=data["title"],
                text=data["text"],
                by=request.user,
            )
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Story saved: executives will read it on the stories wall.")
            return redirect("contacts:contact-detail", contact.id)
    status = 400 if request.method == "POST" else 200
    return render(
        request, "feedback/stories/record.html", {"form": form, "contact": contact}, status=status
    )


@require_POST
@capability_required(RECORD_STORIES)
def story_remove_view(request, story_id: int):
    story = selectors.story_get_visible(viewer=request.user, story_id=story_id)
    if story is None:
        raise Http404
    story_remove(story=story, by=request.user)  # PermissionDenied: 403
    messages.success(request, "Story removed.")
    back = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(back)
    return redirect("contacts:contact-detail", story.contact_id)
