"""The drill-downs of the loops panels: the issues or follow-ups behind a figure, as keyset
pages or a CSV / Excel export. Same access as the dashboard; rows within the viewer's scope."""

from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.utils import timezone

from loops import reporting
from loops.rules import age_days
from voc.core.capabilities import capability_required
from voc.core.db_routers import read_from_replica
from voc.dashboards.access import VIEW_DASHBOARD
from voc.dashboards.drill import exported_if_asked, keyset_page
from voc.dashboards.filters import filters_from
from voc.dashboards.loop_drill import (
    FOLLOW_UP_COLUMNS,
    issue_columns,
    loop_drill_from,
    loop_export_name,
    sla_label,
)
from voc.dashboards.loop_panels import period_instants
from voc.people.access import request_viewer


def _loop_drill(request, *, issues: bool):
    viewer = request_viewer(request)
    filters, _form = filters_from(request.GET, viewer=viewer)
    drill, form = loop_drill_from(request.GET, filters=filters, issues=issues)
    if drill is None:
        return HttpResponseBadRequest(f"Not a drill-down: {form.errors.as_text()}")
    now = timezone.now()
    since, until = period_instants(filters)
    rows: QuerySet[Any]
    if issues:
        rows = reporting.issues_behind(
            viewer=viewer, show=drill.show, now=now, since=since, until=until,
            age=drill.age, sla=drill.sla,
        )  # fmt: skip
        columns = issue_columns(now)
    else:
        team_ids = frozenset({filters.team_id}) if filters.team_id else frozenset()
        rows = reporting.follow_ups_behind(
            viewer=viewer, show=drill.show, since=since, until=until, team_ids=team_ids
        ).select_related("team", "assignee", "customer", "feedback_item")
        columns = FOLLOW_UP_COLUMNS
    exported = exported_if_asked(
        request,
        rows=rows.iterator(chunk_size=2000),
        columns=columns,
        filename=loop_export_name("issues" if issues else "follow-ups", drill),
    )
    if exported is not None:
        return exported
    page, next_after = keyset_page(rows, time_field="created_at", after=drill.after)
    params = drill.params()
    context = {
        "drill": drill,
        "filters": filters,
        "title": drill.title(issues=issues),
        "rows": [
            (row, sla_label(row, now), age_days(opened_at=row.created_at, now=now)) for row in page
        ]
        if issues
        else page,
        "now": now,
        "next_params": params | {"after": next_after} if next_after else None,
        "first_page": drill.after is not None,
    }
    template = "dashboards/drill_issues.html" if issues else "dashboards/drill_follow_ups.html"
    return render(request, template, context)


@capability_required(VIEW_DASHBOARD)
@read_from_replica
def drill_issues_view(request):
    return _loop_drill(request, issues=True)


@capability_required(VIEW_DASHBOARD)
@read_from_replica
def drill_follow_ups_view(request):
    return _loop_drill(request, issues=False)
