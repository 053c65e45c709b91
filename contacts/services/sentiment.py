"""Sentiment: scoring contacts after their text arrived or changed (VoC itself acting)."""

from collections import defaultdict
from collections.abc import Iterable

from django.db import connection

from contacts.changes import contact_change
from contacts.models import Contact, Message
from contacts.sentiment import sentiment_score
from voc.core.audit import SENTIMENT, Actor
from voc.core.pg import update_from_values


def contact_sentiment_update(*, contact_ids: Iterable[int], by: Actor = SENTIMENT) -> int:
    """Score the contacts that have no sentiment yet and move their rollup counts. Returns how
    many were scored. Incoming messages carry the customer's tone; a contact with none is
    scored on all its messages. Machine work: no audit entry."""
    ids = list(
        Contact.objects.filter(id__in=sorted(set(contact_ids)), sentiment__isnull=True)
        .order_by("id")
        .values_list("id", flat=True)
    )
    if not ids:
        return 0
    with contact_change(ids, by=by) as change:
        unscored = [i for i, row in change.before.items() if row["sentiment"] is None]
        texts: dict[int, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for contact_id, direction, text in (
            Message.objects.filter(contact_id__in=unscored)
            .order_by("contact_id", "position")
            .values_list("contact_id", "direction", "text")
        ):
            texts[contact_id][direction].append(text)
        scored = []
        for contact_id in unscored:
            by_direction = texts.get(contact_id)
            if not by_direction:
                continue
            parts = by_direction.get(Message.Direction.INCOMING) or [
                text for part in by_direction.values() for text in part
            ]
            score = sentiment_score("\n".join(parts))
            if score is not None:
                scored.append((contact_id, score))
        if connection.vendor == "postgresql":  # one UPDATE … FROM (VALUES …), not CASE WHEN
            update_from_values(Contact._meta.db_table, ["sentiment"], ["double precision"], scored)
        elif scored:
            Contact.objects.bulk_update(
                [Contact(id=contact_id, sentiment=score) for contact_id, score in scored],
                ["sentiment"],
                batch_size=1000,
            )
    return len(scored)
