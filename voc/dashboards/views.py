from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render

from voc.core.capabilities import Capability, capability_required, has_capability
from voc.core.db_routers import read_from_replica
from voc.core.exports import EXPORT_FORMATS, export_response
from voc.core.home import home_widgets_shown
from voc.core.selectors import last_heartbeat
from voc.dashboards.access import VIEW_DASHBOARD
from voc.dashboards.drill import (
    CONTACT_COLUMNS,
    FEEDBACK_COLUMNS,
    drill_contacts,
    drill_feedback,
    drill_from,
    drill_title,
    export_name,
    keyset_page,
)
from voc.dashboards.filters import filters_from
from voc.dashboards.panels import PANELS
from voc.people.access import request_viewer


@capability_required(Capability.VIEW_HOME)
def home_view(request):
    show_platform = has_capability(request.user, Capability.VIEW_JOB_RUNS)
    context = {
        "show_platform": show_platform,
        "heartbeat": last_heartbeat() if show_platform else None,
        "widgets": home_widgets_shown(request),
    }
    return render(request, "dashboards/home.html", context)


@capability_required(VIEW_DASHBOARD)
@read_from_replica
def executive_view(request):
    """The page: the filter form and one placeholder per panel, each of which loads its
    fragment on its own (HTMX), so a slow panel never holds up the others."""
    filters, form = filters_from(request.GET, viewer=request_viewer(request))
    context = {"filters": filters, "form": form, "panels": list(PANELS.values())}
    return render(request, "dashboards/executive.html", context)


@capability_required(VIEW_DASHBOARD)
@read_from_replica
def panel_view(request, panel: str):
    """One panel's fragment for HTMX, or the panel on a page of its own without scripts."""
    chosen = PANELS.get(panel)
    if chosen is None:
        raise Http404
    viewer = request_viewer(request)
    filters, _form = filters_from(request.GET, viewer=viewer)
    context = {"panel": chosen, "filters": filters, **chosen.compute(viewer, filters)}
    template = chosen.template if request.htmx else "dashboards/panel_page.html"
    return render(request, template, context)


def _drill(request, *, feedback: bool):
    viewer = request_viewer(request)
    filters, _form = filters_from(request.GET, viewer=viewer)
    drill, form = drill_from(request.GET, filters=filters)
    if drill is None:
        return HttpResponseBadRequest(f"Not a drill-down: {form.errors.as_text()}")
    rows = (
        drill_feedback(viewer=viewer, drill=drill)
        if feedback
        else drill_contacts(viewer=viewer, drill=drill)
    )
    file_format = request.GET.get("format")
    if file_format:
        if file_format not in EXPORT_FORMATS:
            return HttpResponseBadRequest("format is csv or xlsx")
        return export_response(
            rows=rows.iterator(chunk_size=2000),
            columns=FEEDBACK_COLUMNS if feedback else CONTACT_COLUMNS,
            filename=export_name("feedback" if feedback else "contacts", drill),
            file_format=file_format,
        )
    page, next_after = keyset_page(
        rows, time_field="received_at" if feedback else "occurred_at", after=drill.after
    )
    params = drill.params()
    context = {
        "drill": drill,
        "filters": filters,
        "title": drill_title(drill, feedback=feedback),
        "rows": page,
        "params": params,
        "next_params": params | {"after": next_after} if next_after else None,
        "first_page": drill.after is not None,
        "feedback": feedback,
    }
    return render(request, "dashboards/drill.html", context)


@capability_required(VIEW_DASHBOARD)
@read_from_replica
def drill_contacts_view(request):
    return _drill(request, feedback=False)


@capability_required(VIEW_DASHBOARD)
@read_from_replica
def drill_feedback_view(request):
    return _drill(request, feedback=True)
