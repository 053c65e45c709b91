"""Which closed contacts are sampled, and on which scale: pure functions of the settings
(feedback.surveys.settings.SamplingRules), so a re-run picks the same contacts.

A contact is in the sample when its bucket, a number 0-9999 drawn from a hash of its id, is
below its share × 100: 0 % samples none, 100 % all, and raising a share only adds contacts.
"""

import hashlib

from feedback.surveys.settings import SamplingRules


def share_for(
    rules: SamplingRules, *, channel: str, reason_id: int | None, parent_reason_id: int | None
) -> int:
    """The percentage for a contact: its reason's override, else its parent reason's, else its
    channel's, else the share for everyone."""
    for reason in (reason_id, parent_reason_id):
        if reason is not None and reason in rules.by_reason:
            return rules.by_reason[reason]
    return rules.by_channel.get(channel, rules.share)


def bucket(contact_id: int) -> int:
    """0-9999, the same for a contact on every run and every machine."""
    digest = hashlib.sha256(f"voc.survey-sample:{contact_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 10_000


def is_sampled(contact_id: int, share: int) -> bool:
    return bucket(contact_id) < share * 100


def scale_for(rules: SamplingRules, *, channel: str) -> str:
    return rules.scale_by_channel.get(channel, rules.scale)
