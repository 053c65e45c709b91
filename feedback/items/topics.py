"""Topics by keyword rules: an item's verbatim is matched against the enabled ``TopicRule``s
(by priority, then id) and the first rule with a keyword or phrase in the text gives the topic.

``topic_for`` is pure (no database): the write paths load the rules once with
``topic_rules_active`` and match every item of a batch against them.
"""

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction

from feedback.models import TopicRule
from voc.core.audit import Actor, audit_record


@dataclass(frozen=True)
class RuleSpec:
    """A rule as the matcher needs it."""

    reason_id: int
    keywords: tuple[str, ...]
    priority: int = 100
    rule_id: int = 0

    @property
    def pattern(self) -> re.Pattern[str] | None:
        return keyword_pattern(self.keywords)


def keyword_pattern(keywords: Iterable[str]) -> re.Pattern[str] | None:
    """One pattern for all the keywords: whole words, any case, any run of spaces between the
    words of a phrase. None when there are no keywords."""
    parts = []
    for keyword in keywords:
        words = keyword.split()
        if words:
            parts.append(r"\s+".join(re.escape(word) for word in words))
    if not parts:
        return None
    # Longest first, so "late delivery" is tried before "late" (the result is the same rule,
    # but the match is the phrase).
    parts.sort(key=len, reverse=True)
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)", re.IGNORECASE)


class TopicMatcher:
    """Compiled rules, in the order they are tried."""

    def __init__(self, rules: Sequence[RuleSpec]) -> None:
        ordered = sorted(rules, key=lambda rule: (rule.priority, rule.rule_id))
        self._rules = [
            (rule.reason_id, pattern) for rule in ordered if (pattern := rule.pattern) is not None
        ]

    def __bool__(self) -> bool:
        return bool(self._rules)

    def reason_id(self, text: str) -> int | None:
        if not text:
            return None
        for reason_id, pattern in self._rules:
            if pattern.search(text):
                return reason_id
        return None


def topic_for(text: str, rules: Sequence[RuleSpec]) -> int | None:
    """The reason id of the first rule (by priority, then id) with a keyword in ``text``."""
    return TopicMatcher(rules).reason_id(text)


def topic_rules_active() -> TopicMatcher:
    """The enabled rules, in one query. Rules of a merged reason give the surviving reason."""
    specs = []
    for rule in TopicRule.objects.filter(enabled=True).select_related("reason"):
        reason = rule.reason
        reason_id = reason.merged_into_id or reason.id
        specs.append(RuleSpec(reason_id, tuple(rule.keyword_list), rule.priority, rule.id))
    return TopicMatcher(specs)


# --- admins edit the rules (the Django admin) ------------------------------------------------

AUDIT_LABELS = {
    "feedback.topic_rule_save": "changed the topic rule",
    "feedback.topic_rule_delete": "deleted the topic rule",
}
MAX_KEYWORDS = 200


def topic_rule_check(rule: TopicRule) -> None:
    """ValidationError for a rule that could never match or points at a retired reason."""
    keywords = rule.keyword_list
    if not keywords:
        raise ValidationError({"keywords": "Give at least one keyword or phrase, one a line."})
    if len(keywords) > MAX_KEYWORDS:
        raise ValidationError({"keywords": f"Give at most {MAX_KEYWORDS} keywords a rule."})
    if any(len(keyword) > 200 for keyword in keywords):
        raise ValidationError({"keywords": "Keep each keyword under 200 characters."})
    if rule.reason_id is not None and not rule.reason.is_active:
        raise ValidationError(
            {"reason": "Choose an active reason (this one is retired or merged)."}
        )


def topic_rule_save(*, rule: TopicRule, by: Actor) -> TopicRule:
    """Create or change a rule; it applies to items recorded from then on."""
    topic_rule_check(rule)
    before = (
        TopicRule.objects.filter(pk=rule.pk)
        .values("keywords", "reason_id", "enabled", "priority")
        .first()
        if rule.pk
        else None
    )
    with transaction.atomic():
        rule.save()
        after = {
            "keywords": rule.keywords,
            "reason_id": rule.reason_id,
            "enabled": rule.enabled,
            "priority": rule.priority,
        }
        changes = {
            name: [before.get(name) if before else None, value]
            for name, value in after.items()
            if before is None or before.get(name) != value
        }
        audit_record(by=by, action="feedback.topic_rule_save", target=rule, changes=changes)
    return rule


def topic_rule_delete(*, rule: TopicRule, by: Actor) -> None:
    with transaction.atomic():
        audit_record(
            by=by, action="feedback.topic_rule_delete", target=rule,
            changes={"keywords": [rule.keywords, None]},
        )  # fmt: skip
        rule.delete()
