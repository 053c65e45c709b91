from django.shortcuts import render

from voc.core.capabilities import Capability, capability_required, has_capability
from voc.core.home import home_widgets_shown
from voc.core.selectors import last_heartbeat


@capability_required(Capability.VIEW_HOME)
def home_view(request):
    show_platform = has_capability(request.user, Capability.VIEW_JOB_RUNS)
    context = {
        "show_platform": show_platform,
        "heartbeat": last_heartbeat() if show_platform else None,
        "widgets": home_widgets_shown(request),
    }
    return render(request, "dashboards/home.html", context)
