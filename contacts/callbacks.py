"""Callbacks a rep promised: their worklist's follow-ups.

A contact whose outcome is *callback promised* is the rep's own follow-up: the rep who
handled it (``Contact.rep``) said someone would call the customer back. The promise was made
when the outcome was set (``outcome_set_at``; ``occurred_at`` for an ingested contact) and is
due within the business setting ``follow_up_callback_hours``, the same time a detractor's call
back gets. It is kept, and leaves the list, when a call with the customer (the ping-pong rule's
call: phone, either direction, not abandoned) happens after the promise, or when the contact's
outcome changes. A contact without a customer, or whose customer was erased, has nobody to call
and is left out.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Exists, F, OuterRef, QuerySet
from django.db.models.functions import Coalesce

from contacts.models import Contact
from contacts.pingpong import calls
from contacts.selectors import contact_list_visible
from voc.core.business import business_setting
from voc.people.models import User


def callbacks_promised(*, viewer: User) -> QuerySet[Contact]:
    """The viewer's own open callback promises within their row scope, the oldest first,
    each annotated with ``promised_at``."""
    later_call = (
        calls()
        .filter(customer_id=OuterRef("customer_id"), occurred_at__gt=OuterRef("promised_at"))
        .exclude(id=OuterRef("id"))
    )
    return (
        contact_list_visible(viewer=viewer)
        .filter(
            rep=viewer,
            outcome=Contact.Outcome.CALLBACK,
            customer__isnull=False,
            customer__erased_at__isnull=True,
        )
        .annotate(promised_at=Coalesce("outcome_set_at", "occurred_at"))
        .filter(~Exists(later_call))
        .order_by(F("promised_at").asc(), "id")
    )


@dataclass(frozen=True)
class Callback:
    contact: Contact
    promised_at: datetime
    due_at: datetime

    def overdue(self, now: datetime) -> bool:
        return self.due_at < now


def callbacks_due(*, viewer: User, limit: int) -> tuple[list[Callback], int]:
    """The first ``limit`` promises with their deadlines, and how many there are (two queries
    at most, and the settings read)."""
    hours = timedelta(hours=int(business_setting("follow_up_callback_hours")))
    promises = callbacks_promised(viewer=viewer)
    listed = list(promises.select_related("customer", "reason__parent")[:limit])
    count = len(listed) if len(listed) < limit else promises.count()
    return [
        Callback(c, c.promised_at, c.promised_at + hours)  # type: ignore[attr-defined]
        for c in listed
    ], count
