"""The customers behind customer math: those with a lifecycle event (gained, lost, won back)
of one kind, and optionally one reason, in the period or days within it, with the dashboard's
segment; each customer once, at their latest such event (contacts.customer_math's
``customers_counted``), newest day first, paginated by keyset (``after=<day>~<event id>``),
exported to CSV and Excel with the same rows. A figure on the panel is the number of rows
listed here."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from django import forms
from django.db.models import QuerySet

from contacts.customer_math import customers_counted
from contacts.models import CustomerEvent
from contacts.reporting import reason_paths
from voc.core.exports import Column
from voc.dashboards.filters import MAX_DAYS, DashboardFilters
from voc.people.models import User

NO_LISTED_REASON = "No reason from the list"


class CustomerDrillForm(forms.Form):
    kind = forms.ChoiceField(choices=CustomerEvent.Kind.choices)
    reason = forms.IntegerField(required=False, min_value=0)
    day_from = forms.DateField(required=False)
    day_to = forms.DateField(required=False)
    after = forms.RegexField(required=False, regex=r"^\d{4}-\d{2}-\d{2}~[0-9]{1,19}$")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("day_from"), data.get("day_to")
        if (start is None) != (end is None):
            raise forms.ValidationError("Give both day_from and day_to, or neither.")
        if start and end and (end < start or (end - start).days + 1 > MAX_DAYS):
            raise forms.ValidationError(f"day_to is on or after day_from, at most {MAX_DAYS} days.")
        return data


@dataclass(frozen=True)
class CustomerDrill:
    filters: DashboardFilters
    start: date
    end: date
    kind: str
    reason: int | None  # 0: no reason from the taxonomy
    after: tuple[date, int] | None

    def params(self) -> dict[str, str]:
        params = self.filters.params() | {
            "kind": self.kind, "day_from": self.start.isoformat(), "day_to": self.end.isoformat()
        }  # fmt: skip
        if self.reason is not None:
            params["reason"] = str(self.reason)
        return params

    @property
    def title(self) -> str:
        label = str(CustomerEvent.Kind(self.kind).label).lower()
        if self.reason is None:
            return f"customers {label}"
        if self.reason == 0:
            return f"customers {label}, {NO_LISTED_REASON.lower()}"
        reason = reason_paths([self.reason]).get(self.reason, "an unknown reason")
        return f"customers {label}, {reason}"


def customer_drill_from(
    data: Any, *, filters: DashboardFilters
) -> tuple[CustomerDrill | None, CustomerDrillForm]:
    form = CustomerDrillForm(data)
    if not form.is_valid():
        return None, form
    clean = form.cleaned_data
    after = None
    if clean["after"]:
        day, _, event_id = clean["after"].partition("~")
        try:
            after = (date.fromisoformat(day), int(event_id))
        except ValueError:
            form.add_error("after", "Not a position in this list.")
            return None, form
    drill = CustomerDrill(
        filters=filters,
        start=clean["day_from"] or filters.start,
        end=clean["day_to"] or filters.end,
        kind=clean["kind"],
        reason=clean["reason"],
        after=after,
    )
    return drill, form


def drill_customer_events(*, viewer: User, drill: CustomerDrill) -> QuerySet[CustomerEvent]:
    """Every customer behind the figure as their latest event of it, newest day first (the
    export's rows)."""
    events = customers_counted(
        viewer=viewer,
        start=drill.start,
        end=drill.end,
        kind=drill.kind,
        segments=drill.filters.rollup().segments,
        reason_id=drill.reason,
    )
    return events.select_related("customer", "reason__parent").order_by("-occurred_on", "-id")


CUSTOMER_EVENT_COLUMNS = [
    Column("Day", lambda e: e.occurred_on),
    Column("Event", lambda e: e.get_kind_display()),
    Column("Customer", lambda e: str(e.customer)),
    Column("Customer ref", lambda e: "" if e.customer.erased_at else e.customer.external_ref or ""),
    Column("Segment", lambda e: e.customer.get_segment_display()),
    Column("Reason", lambda e: e.reason.path if e.reason else ""),
    Column("In their words", lambda e: e.reason_text),
    Column("Customer id", lambda e: e.customer_id),
    Column("Event id", lambda e: e.id),
]


def customer_export_name(drill: CustomerDrill) -> str:
    return f"customers-{drill.kind}-{drill.start.isoformat()}-{drill.end.isoformat()}"
