"""My loops emails: each person switches the kinds of loops email they get on or off."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from loops.access import VIEW_ISSUES
from loops.notifications.forms import NotificationPreferencesForm
from loops.notifications.services import notification_preference_set, notification_preferences
from voc.core.capabilities import capability_required


@require_http_methods(["GET", "POST"])
@capability_required(VIEW_ISSUES)
def notifications_view(request):
    preferences = notification_preferences(user=request.user)
    form = NotificationPreferencesForm(request.POST or None, preferences=preferences)
    if request.method == "POST" and form.is_valid():
        changed = 0
        for kind, enabled in form.choices().items():
            changed += notification_preference_set(
                user=request.user, kind=kind, enabled=enabled, by=request.user
            )
        messages.success(request, "Saved." if changed else "Nothing changed.")
        return redirect("loops:notifications")
    return render(request, "loops/notifications/preferences.html", {"form": form})
