from django.http import Http404, HttpResponseBadRequest
from django.shortcuts import render

from feedback.listening import listening_entries, listening_totals
from voc.core.capabilities import Capability, capability_required, has_capability
from voc.core.db_routers import read_from_replica
from voc.core.home import home_widgets_shown
from voc.core.selectors import last_heartbeat
from voc.dashboards.access import VIEW_DASHBOARD
from voc.dashboards.cache import cache_enabled, panel_context
from voc.dashboards.drill import (
    CONTACT_COLUMNS,
    FEEDBACK_COLUMNS,
    drill_contacts,
    drill_feedback,
    drill_from,
    drill_title,
    export_name,
    exported_if_asked,
    keyset_page,
)
from voc.dashboards.drill_customers import (
    CUSTOMER_EVENT_COLUMNS,
    customer_drill_from,
    customer_export_name,
    drill_customer_events,
)
from voc.dashboards.drill_gestures import GESTURE_COLUMNS, drill_gestures
from voc.dashboards.drill_listening import (
    KIND_LABELS,
    LISTENING_COLUMNS,
    listening_export_name,
    listening_page,
    listening_position,
)
from voc.dashboards.drill_stories import STORY_COLUMNS, drill_stories
from voc.dashboards.drill_threads import drill_threads
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
    figures = panel_context(chosen, viewer, filters, use_cache=cache_enabled(request))
    context = {"panel": chosen, "filters": filters, "ignored": chosen.ignored(filters), **figures}
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
    exported = exported_if_asked(
        request,
        rows=rows.iterator(chunk_size=2000),
        columns=FEEDBACK_COLUMNS if feedback else CONTACT_COLUMNS,
        filename=export_name("feedback" if feedback else "contacts", drill),
    )
    if exported is not None:
        return exported
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


@capability_required(VIEW_DASHBOARD)
@read_from_replica
def drill_customers_view(request):
    """The lifecycle events behind customer math, by keyset pages or exported."""
    viewer = request_viewer(request)
    filters, _form = filters_from(request.GET, viewer=viewer)
    drill, form = customer_drill_from(request.GET, filters=filters)
    if drill is None:
        return HttpResponseBadRequest(f"Not a drill-down: {form.errors.as_text()}")
    rows = drill_customer_events(viewer=viewer, drill=drill)
    exported = exported_if_asked(
        request,
        rows=rows.iterator(chunk_size=2000),
        columns=CUSTOMER_EVENT_COLUMNS,
        filename=customer_export_name(drill),
    )
    if exported is not None:
        return exported
    page, next_after = keyset_page(rows, time_field="occurred_on", after=drill.after)
    context = {
        "drill": drill,
        "filters": filters,
        "rows": page,
        "next_after": next_after,
        "first_page": drill.after is not None,
    }
    return render(request, "dashboards/drill_customers.html", context)


@capability_required(VIEW_DASHBOARD)
@read_from_replica
def drill_threads_view(request):
    """The email ping-pong threads behind the panel (``waiting=1``: those still waiting for a
    call), as the contacts drill-down lists and exports them."""
    viewer = request_viewer(request)
    filters, _form = filters_from(request.GET, viewer=viewer)
    drill, form = drill_from(request.GET, filters=filters)
    if drill is None:
        return HttpResponseBadRequest(f"Not a drill-down: {form.errors.as_text()}")
    waiting = request.GET.get("waiting") == "1"
    rows = drill_threads(viewer=viewer, drill=drill, waiting=waiting)
    exported = exported_if_asked(
        request,
        rows=rows.iterator(chunk_size=2000),
        columns=CONTACT_COLUMNS,
        filename=export_name("email-threads", drill),
    )
    if exported is not None:
        return exported
    page, next_after = keyset_page(rows, time_field="occurred_at", after=drill.after)
    params = drill.params()
    context = {
        "drill": drill,
        "filters": filters,
        "title": "email threads still waiting for a call" if waiting else "email ping-pong",
        "rows": page,
        "params": params,
        "next_params": params | {"after": next_after} if next_after else None,
        "first_page": drill.after is not None,
        "feedback": False,
    }
    return render(request, "dashboards/drill.html", context)


@capability_required(VIEW_DASHBOARD)
@read_from_replica
def drill_listening_view(request):
    """One executive's listening in the period (``executive=<id>``), by keyset pages or
    exported: 404 for an executive whose listening the viewer may not read."""
    viewer = request_viewer(request)
    filters, _form = filters_from(request.GET, viewer=viewer)
    try:
        executive_id = int(request.GET.get("executive", ""))
    except ValueError:
        return HttpResponseBadRequest("Not a drill-down: executive=<id>")
    after = None
    if request.GET.get("after"):
        after = listening_position(request.GET["after"])
        if after is None:
            return HttpResponseBadRequest("Not a drill-down: after is not a position in this list")
    totals = listening_totals(
        viewer=viewer, executive_id=executive_id, start=filters.start, end=filters.end
    )
    if totals is None:
        raise Http404
    if request.GET.get("format"):
        entries = listening_entries(
            viewer=viewer, executive_id=executive_id, start=filters.start, end=filters.end
        )
        exported = exported_if_asked(
            request,
            rows=entries or [],
            columns=LISTENING_COLUMNS,
            filename=listening_export_name(executive_id, filters.start, filters.end),
        )
        if exported is not None:
            return exported
    page, next_after = listening_page(
        viewer=viewer, executive_id=executive_id, start=filters.start, end=filters.end,
        after=after,
    )  # fmt: skip
    context = {
        "filters": filters,
        "executive": totals.executive,
        "totals": totals,
        "entries": page,
        "kinds": KIND_LABELS,
        "next_after": next_after,
        "first_page": after is not None,
    }
    return render(request, "dashboards/drill_listening.html", context)


@capability_required(VIEW_DASHBOARD)
@read_from_replica
def drill_stories_view(request):
    """The stories behind the panel's counts (``thumb=up|down``), by keyset pages or
    exported."""
    viewer = request_viewer(request)
    filters, _form = filters_from(request.GET, viewer=viewer)
    drill, form = drill_from(request.GET, filters=filters)
    if drill is None:
        return HttpResponseBadRequest(f"Not a drill-down: {form.errors.as_text()}")
    thumb = request.GET.get("thumb", "")
    rows = drill_stories(viewer=viewer, drill=drill, thumb=thumb)
    exported = exported_if_asked(
        request,
        rows=rows.iterator(chunk_size=2000),
        columns=STORY_COLUMNS,
        filename=export_name(f"stories-{thumb or 'all'}", drill),
    )
    if exported is not None:
        return exported
    page, next_after = keyset_page(rows, time_field="created_at", after=drill.after)
    context = {
        "drill": drill,
        "filters": filters,
        "thumb": thumb,
        "rows": page,
        "next_after": next_after,
        "first_page": drill.after is not None,
    }
    return render(request, "dashboards/drill_stories.html", context)


@capability_required(VIEW_DASHBOARD)
@read_from_replica
def drill_gestures_view(request):
    """The gestures behind make it right's spend, by keyset pages or exported."""
    viewer = request_viewer(request)
    filters, _form = filters_from(request.GET, viewer=viewer)
    drill, form = drill_from(request.GET, filters=filters)
    if drill is None:
        return HttpResponseBadRequest(f"Not a drill-down: {form.errors.as_text()}")
    rows = drill_gestures(viewer=viewer, drill=drill)
    exported = exported_if_asked(
        request,
        rows=rows.iterator(chunk_size=2000),
        columns=GESTURE_COLUMNS,
        filename=export_name("gestures", drill),
    )
    if exported is not None:
        return exported
    page, next_after = keyset_page(rows, time_field="given_at", after=drill.after)
    context = {
        "drill": drill,
        "filters": filters,
        "rows": page,
        "next_after": next_after,
        "first_page": drill.after is not None,
    }
    return render(request, "dashboards/drill_gestures.html", context)
