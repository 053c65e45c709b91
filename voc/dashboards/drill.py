"""Drill-downs: the contacts or feedback items behind a dashboard figure, with the dashboard's
filters and the figure's own (a reason, a measure, a survey kind and band, days within the
period), listed newest first and paginated by keyset (``after=<time>~<id>`` of the last row
shown), so page 1,000 costs what page 1 does; the same rows export to CSV and Excel.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django import forms
from django.db.models import Q, QuerySet
from django.http import HttpResponseBadRequest, HttpResponseBase

from contacts.models import Contact
from contacts.reporting import CONTACT_MEASURES, reason_paths, rollup_contacts, with_verbatim
from feedback.items.reporting import rollup_feedback_items
from feedback.models import FeedbackItem
from voc.core.exports import EXPORT_FORMATS, Column, export_response
from voc.dashboards.filters import MAX_DAYS, DashboardFilters
from voc.people.models import User

PAGE_SIZE = 50
KINDS = [(kind, label) for kind, label in FeedbackItem.Kind.choices]
BANDS = [(band, label) for band, label in FeedbackItem.Band.choices]


class DrillForm(forms.Form):
    """The figure's own narrowing, on top of the dashboard filters."""

    reason = forms.IntegerField(required=False, min_value=0)
    measure = forms.ChoiceField(required=False, choices=[(m, m) for m in CONTACT_MEASURES])
    avoidable = forms.BooleanField(required=False)
    kind = forms.ChoiceField(required=False, choices=KINDS)
    band = forms.ChoiceField(required=False, choices=BANDS)
    day_from = forms.DateField(required=False)
    day_to = forms.DateField(required=False)
    after = forms.RegexField(required=False, regex=r"^[0-9T:.+\- ]{10,40}~[0-9]{1,19}$")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("day_from"), data.get("day_to")
        if (start is None) != (end is None):
            raise forms.ValidationError("Give both day_from and day_to, or neither.")
        if start and end and (end < start or (end - start).days + 1 > MAX_DAYS):
            raise forms.ValidationError(f"day_to is on or after day_from, at most {MAX_DAYS} days.")
        return data


@dataclass(frozen=True)
class Drill:
    """One drill-down: the dashboard filters, the days and the figure's narrowing."""

    filters: DashboardFilters
    start: date
    end: date
    reason: int | None
    measure: str
    avoidable: bool
    kind: str
    band: str
    after: tuple[datetime, int] | None

    def params(self) -> dict[str, str]:
        params = self.filters.params() | {
            "day_from": self.start.isoformat(), "day_to": self.end.isoformat()
        }  # fmt: skip
        for name, value in (
            ("reason", self.reason), ("measure", self.measure if self.measure != "contacts" else ""),
            ("avoidable", "1" if self.avoidable else ""), ("kind", self.kind), ("band", self.band),
        ):  # fmt: skip
            if value not in (None, ""):
                params[name] = str(value)
        return params


def drill_from(data: Any, *, filters: DashboardFilters) -> tuple[Drill | None, DrillForm]:
    form = DrillForm(data)
    if not form.is_valid():
        return None, form
    clean = form.cleaned_data
    after = None
    if clean["after"]:
        moment, _, row_id = clean["after"].rpartition("~")
        try:
            after = (datetime.fromisoformat(moment), int(row_id))
        except ValueError:
            form.add_error("after", "Not a position in this list.")
            return None, form
        if after[0].tzinfo is None:
            form.add_error("after", "Not a position in this list.")
            return None, form
    drill = Drill(
        filters=filters,
        start=clean["day_from"] or filters.start,
        end=clean["day_to"] or filters.end,
        reason=clean["reason"],
        measure=clean["measure"] or "contacts",
        avoidable=clean["avoidable"],
        kind=clean["kind"] or "",
        band=clean["band"] or "",
        after=after,
    )
    return drill, form


def drill_contacts(*, viewer: User, drill: Drill) -> QuerySet[Contact]:
    """Every contact behind the figure, newest first (the export's rows)."""
    reasons = frozenset() if drill.reason is None else frozenset({drill.reason})
    rollup = drill.filters.rollup(
        start=drill.start, end=drill.end, reason_ids=reasons, avoidable_only=drill.avoidable
    )
    contacts = rollup_contacts(viewer=viewer, filters=rollup, measure=drill.measure)
    if drill.reason is not None:
        # A panel's row is one reason of the rollups, not the reason and its sub-reasons.
        contacts = contacts.filter(
            **({"reason__isnull": True} if drill.reason == 0 else {"reason_id": drill.reason})
        )
    return with_verbatim(contacts)


def drill_feedback(*, viewer: User, drill: Drill) -> QuerySet[FeedbackItem]:
    reasons = frozenset() if drill.reason is None else frozenset({drill.reason})
    filters = drill.filters.feedback(
        start=drill.start,
        end=drill.end,
        reason_ids=reasons,
        kinds=frozenset({drill.kind}) if drill.kind else frozenset(),
        bands=frozenset({drill.band}) if drill.band else frozenset(),
    )
    items = rollup_feedback_items(viewer=viewer, filters=filters)
    if drill.reason is not None:
        items = items.filter(
            **({"reason__isnull": True} if drill.reason == 0 else {"reason_id": drill.reason})
        )
    return items.select_related("reason__parent", "team", "customer")


def keyset_page(rows: QuerySet[Any], *, time_field: str, after: tuple[datetime, int] | None):
    """One page of ``rows`` (ordered newest first by ``time_field`` then id) after the
    position ``after``, and the position after its last row (None on the last page)."""
    if after is not None:
        moment, row_id = after
        rows = rows.filter(
            Q(**{f"{time_field}__lt": moment}) | Q(**{time_field: moment, "id__lt": row_id})
        )
    page = list(rows[: PAGE_SIZE + 1])
    if len(page) <= PAGE_SIZE:
        return page, None
    page = page[:PAGE_SIZE]
    last = page[-1]
    return page, f"{getattr(last, time_field).isoformat()}~{last.id}"


def drill_title(drill: Drill, *, feedback: bool) -> str:
    parts = []
    if drill.reason is not None:
        parts.append(reason_paths([drill.reason]).get(drill.reason, "an unknown reason"))
    if drill.avoidable:
        parts.append("avoidable reasons")
    if not feedback and drill.measure != "contacts":
        parts.append(MEASURE_LABELS[drill.measure])
    if feedback and drill.kind:
        parts.append(dict(KINDS)[drill.kind])
    if feedback and drill.band:
        parts.append(str(dict(BANDS)[drill.band]))
    return ", ".join(parts)


MEASURE_LABELS = {
    "contacts": "all contacts",
    "repeat_contacts": "repeat contacts",
    "road_1": "road 1 (learn)",
    "road_2": "road 2 (empathy)",
    "road_3": "road 3 (teach)",
    "road_4": "road 4 (go away)",
    "fcr_yes": "resolved at first contact",
    "fcr_no": "not resolved at first contact",
    "handled_contacts": "with a handle time",
    "waited_contacts": "with a wait time",
}


CONTACT_COLUMNS = [
    Column("When", lambda c: c.occurred_at.date() if c.occurred_date_only else c.occurred_at),
    Column("Channel", lambda c: c.get_channel_display()),
    Column("Team", lambda c: c.team.name if c.team else ""),
    Column("Reason", lambda c: c.reason.path if c.reason else ""),
    Column("Segment", lambda c: c.customer_segment),
    Column("Customer", lambda c: c.customer.name if c.customer else ""),
    Column("Subject", lambda c: c.subject),
    Column("Verbatim", lambda c: c.verbatim or ""),
    Column("Road", lambda c: c.road),
    Column("Repeat", lambda c: "yes" if c.repeat_of_id else ""),
    Column("Resolved at first contact", lambda c: {True: "yes", False: "no"}.get(c.first_contact_resolution, "")),
    Column("Handle seconds", lambda c: c.handle_seconds),
    Column("Wait seconds", lambda c: c.wait_seconds),
    Column("Contact id", lambda c: c.id),
]  # fmt: skip

FEEDBACK_COLUMNS = [
    Column("Received", lambda i: i.received_at),
    Column("Kind", lambda i: i.get_kind_display()),
    Column("Score", lambda i: i.score),
    Column("Band", lambda i: i.get_band_display() if i.band else ""),
    Column("Channel", lambda i: i.channel),
    Column("Team", lambda i: i.team.name if i.team else ""),
    Column("Topic", lambda i: i.reason.path if i.reason else ""),
    Column("Segment", lambda i: i.customer_segment),
    Column("Customer", lambda i: i.customer.name if i.customer else ""),
    Column("Verbatim", lambda i: i.verbatim),
    Column("Item id", lambda i: i.id),
]


def export_name(kind: str, drill: Drill) -> str:
    return f"{kind}-{drill.start.isoformat()}-{drill.end.isoformat()}"


def exported_if_asked(request, *, rows, columns, filename: str) -> HttpResponseBase | None:
    """A drill-down's CSV or Excel file when ``format`` asks for one (400 for a format we do
    not write), None for the page itself."""
    file_format = request.GET.get("format")
    if not file_format:
        return None
    if file_format not in EXPORT_FORMATS:
        return HttpResponseBadRequest("format is csv or xlsx")
    return export_response(rows=rows, columns=columns, filename=filename, file_format=file_format)
