"""The one-click unsubscribe link of a digest: signed for one subscription (voc.core.links), so
it cannot be turned into a link for another subscription or another person, and works without
signing in. It may be followed again (leaving twice changes nothing)."""

from datetime import timedelta

from django.urls import reverse

from loops.models import DigestSubscription
from voc.core.links import LinkPurpose, link_token

UNSUBSCRIBE = LinkPurpose("loops.digest_unsubscribe", max_age=timedelta(days=365))


def digest_unsubscribe_path(subscription: DigestSubscription) -> str:
    token = link_token(purpose=UNSUBSCRIBE, target=subscription)
    return reverse("loops:digest-unsubscribe", args=[token])
