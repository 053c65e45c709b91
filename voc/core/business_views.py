"""The business settings pages: admins read every setting by group, and edit one at a time with
its history. Writes go through voc.core.business, which validates and audits."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from voc.core.business import (
    BusinessSetting,
    business_setting_declaration,
    business_setting_groups,
    business_setting_history,
    business_setting_reset,
    business_setting_rows,
    business_setting_set,
    team_model,
)
from voc.core.capabilities import Capability, capability_required, signed_in_user
from voc.core.forms import NEW_TEAM_SCOPE, BusinessSettingForm
from voc.core.navigation import SETTINGS, nav_items_for


@capability_required(Capability.MANAGE_BUSINESS_SETTINGS)
def business_settings_view(request: HttpRequest) -> HttpResponse:
    more = [item for item in nav_items_for(request.user) if item["menu"] == SETTINGS]
    context = {"groups": business_setting_groups(), "more_settings": more}
    return render(request, "core/business_settings.html", context)


@capability_required(Capability.MANAGE_BUSINESS_SETTINGS)
def business_setting_view(request: HttpRequest, key: str) -> HttpResponse:
    setting = _setting_or_404(key)
    failed: BusinessSettingForm | None = None
    if request.method == "POST":
        scope = request.POST.get("scope", "")
        labels = {item.scope: item.label for item in business_setting_rows([key])[0].values}
        label = _value_label(setting, scope, labels.get(scope, ""))
        form = BusinessSettingForm(request.POST, setting=setting, scope=scope, label=label)
        if form.is_valid():
            try:
                target = _scope_args(scope, team=form.cleaned_data.get("team"))
                business_setting_set(
                    key=key,
                    value=form.cleaned_data["value"],
                    why=form.cleaned_data["why"],
                    by=signed_in_user(request),
                    **target,
                )
            except ValidationError as exc:
                form.add_error(None, exc)  # {"value": ...} lands next to the field
            else:
                messages.success(request, f"{setting.label} saved.")
                return redirect("core:business-setting", key)
        failed = form
    return _render_setting(request, setting, failed=failed)


@require_POST
@capability_required(Capability.MANAGE_BUSINESS_SETTINGS)
def business_setting_reset_view(request: HttpRequest, key: str) -> HttpResponse:
    setting = _setting_or_404(key)
    try:
        target = _scope_args(request.POST.get("scope", ""))
        business_setting_reset(
            key=key, by=signed_in_user(request), why=request.POST.get("why", "")[:500], **target
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return _render_setting(request, setting, status=400)
    messages.success(request, f"{setting.label}: back to the default.")
    return redirect("core:business-setting", key)


def _setting_or_404(key: str) -> BusinessSetting:
    try:
        return business_setting_declaration(key)
    except LookupError:
        raise Http404("No such setting.") from None


def _scope_args(scope: str, *, team: Any = None) -> dict[str, Any]:
    """The service's role=/team= for a scope the page posted back: "", "role:rep", "team:12",
    or "team:new" with the team chosen in the form."""
    if scope == "":
        return {}
    kind, _, rest = scope.partition(":")
    if kind == "role" and rest:
        return {"role": rest}
    if scope == NEW_TEAM_SCOPE and team is not None:
        return {"team": team}
    if kind == "team" and rest.isdigit():
        found = team_model()._default_manager.filter(pk=int(rest)).first()
        if found is not None:
            return {"team": found}
        raise ValidationError("That team does not exist any more.")
    raise ValidationError("Choose which value to change.")


def _value_label(setting: BusinessSetting, scope: str, label: str = "") -> str:
    if scope == NEW_TEAM_SCOPE:
        return "Value"
    return f"{setting.label} for {label}" if label and scope else setting.label


def _render_setting(
    request: HttpRequest,
    setting: BusinessSetting,
    *,
    failed: BusinessSettingForm | None = None,
    status: int | None = None,
) -> HttpResponse:
    row = business_setting_rows([setting.key])[0]
    forms = []
    for item in row.values:
        if failed is not None and failed.scope == item.scope:
            form = failed
        else:
            form = BusinessSettingForm(
                setting=setting,
                scope=item.scope,
                label=_value_label(setting, item.scope, item.label),
                initial={"value": item.value},
            )
        forms.append((item, form))
    new_team = None
    if setting.per_role:
        new_team = (
            failed
            if failed is not None and failed.scope == NEW_TEAM_SCOPE
            else BusinessSettingForm(setting=setting, scope=NEW_TEAM_SCOPE, label="Value")
        )
    shown = {item.scope for item, _ in forms} | {NEW_TEAM_SCOPE}
    context = {
        "setting": setting,
        "row": row,
        "forms": forms,
        "new_team_form": new_team,
        # a post for a scope the page no longer shows (an override removed meanwhile)
        "stray_errors": failed.errors if failed is not None and failed.scope not in shown else None,
        "history": business_setting_history(setting.key),
    }
    if status is None:
        status = 400 if failed is not None else 200
    return render(request, "core/business_setting.html", context, status=status)
