"""Erasure (docs/erasure.md): what the feedback items keep about an erased customer goes.

The items stay, with their kind, score, band, topic, channel, team, segment and sentiment
(what the NPS/CSAT/CES counts are made of), linked to the anonymised customer row as contacts
are. What the customer wrote goes, and so do the identifiers that came with it: an external
id may be a survey platform's respondent id or a post's handle."""

from django.db.models import Q

from contacts.erasure.services import erased_external_id
from feedback.models import FeedbackItem


def feedback_items_erase(*, customer_ids: list[int], erasure: object) -> dict[str, int]:
    """Blank the verbatims of the customers' items (and of items linked to their contacts)
    and replace their external ids by a keyed hash, as contacts do. Returns the non-zero
    counts."""
    items = FeedbackItem.objects.filter(
        Q(customer_id__in=customer_ids) | Q(contact__customer_id__in=customer_ids)
    )
    verbatims = items.exclude(verbatim="").update(verbatim="")
    renamed = [
        FeedbackItem(id=item_id, external_id=erased_external_id(f"feedback:{source}", external_id))
        for item_id, source, external_id in items.exclude(external_id="")
        .exclude(external_id__startswith="erased-")
        .values_list("id", "source", "external_id")
    ]
    FeedbackItem.objects.bulk_update(renamed, ["external_id"], batch_size=1000)
    # Only what was touched, as the other handlers do: a customer without feedback leaves no
    # trace of this app in the erasure's counts.
    counts = {"verbatims": verbatims, "external_ids": len(renamed)}
    return {kind: number for kind, number in counts.items() if number}
