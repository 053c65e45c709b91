"""Downloads of the contact pages' tables, through the one writer in voc.core.exports: the
same selector, role scope and filters as the page they come from."""

from django.http import HttpResponseBadRequest
from django.utils import timezone

from contacts import selectors
from contacts.access import VIEW_CONTACTS
from contacts.forms import ContactFilterForm
from contacts.views import LIST_RELATED
from voc.core.capabilities import capability_required
from voc.core.exports import Column, ExportFormatError, export_response

# The columns of the contact list, for its CSV and Excel export.
CONTACT_EXPORT_COLUMNS = [
    Column("When", lambda c: c.occurred_at),
    Column("Customer", lambda c: str(c.customer) if c.customer_id else ""),
    Column("Channel", lambda c: c.get_channel_display()),
    Column("Direction", lambda c: c.get_direction_display()),
    Column("Reason", lambda c: c.reason.path if c.reason_id else ""),
    Column("Subject", lambda c: c.subject),
    Column("Tags", lambda c: ", ".join(c.tags)),
    Column("Team", lambda c: str(c.team) if c.team_id else ""),
    Column("Rep", lambda c: str(c.rep) if c.rep_id else ""),
    Column("Outcome", lambda c: c.get_outcome_display()),
    Column("Road", lambda c: c.road),
    Column("Handle seconds", lambda c: c.handle_seconds),
]


@capability_required(VIEW_CONTACTS)
def contact_export_view(request):
    """The contact list as it is filtered, every page of it, as CSV or Excel."""
    form = ContactFilterForm(request.GET, viewer=request.user)
    contacts = form.apply(
        selectors.contact_list_visible(viewer=request.user)
        .select_related(*LIST_RELATED)
        .order_by("-occurred_at", "-id")
    )
    try:
        return export_response(
            rows=contacts.iterator(chunk_size=2000),
            columns=CONTACT_EXPORT_COLUMNS,
            filename=f"contacts-{timezone.localdate():%Y-%m-%d}",
            file_format=request.GET.get("format", "csv"),
        )
    except ExportFormatError as exc:
        return HttpResponseBadRequest(str(exc))
