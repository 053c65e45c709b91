"""The SLA policies page (admins: EDIT_SLA): each severity's response and resolution hours,
one form per severity, every change audited through the service."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from loops.access import EDIT_SLA
from loops.models import Severity
from loops.sla.forms import SlaPolicyForm
from loops.sla.selectors import sla_policies
from loops.sla.services import sla_policy_set
from voc.core.business import business_setting
from voc.core.capabilities import capability_required


@require_http_methods(["GET", "POST"])
@capability_required(EDIT_SLA)
def sla_policies_view(request):
    rows = sla_policies()
    forms = {
        row.severity: SlaPolicyForm(
            prefix=row.severity,
            initial={
                "response_hours": row.response_hours,
                "resolution_hours": row.resolution_hours,
            },
        )
        for row in rows
    }
    status = 200
    if request.method == "POST":
        severity = request.POST.get("severity", "")
        if severity not in Severity.values:
            raise Http404("No such severity.")
        form = SlaPolicyForm(request.POST, prefix=severity)
        forms[severity] = form
        if form.is_valid():
            try:
                sla_policy_set(
                    severity=severity,
                    response_hours=form.cleaned_data["response_hours"],
                    resolution_hours=form.cleaned_data["resolution_hours"],
                    why=form.cleaned_data["why"],
                    by=request.user,
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, f"{Severity(severity).label}: saved.")
                return redirect("loops:sla-policies")
        status = 400
    context = {
        "rows": [(row, forms[row.severity]) for row in rows],
        "step_hours": business_setting("sla_escalation_step_hours"),
    }
    return render(request, "loops/sla/policies.html", context, status=status)
