"""Keyword topic rules: the pure matcher (no database) and the admin that edits them."""

import pytest
from django.urls import reverse

from contacts.models import ContactReason
from feedback.items.topics import RuleSpec, keyword_pattern, topic_for
from feedback.models import TopicRule
from voc.core.models import AuditEntry

RULES = [
    RuleSpec(reason_id=1, keywords=("refund", "money back"), priority=20, rule_id=1),
    RuleSpec(reason_id=2, keywords=("late delivery", "late"), priority=10, rule_id=2),
    RuleSpec(reason_id=3, keywords=("app",), priority=10, rule_id=3),
]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I want a REFUND now", 1),
        ("Give me my money   back please", 1),  # a phrase across several spaces
        ("moneyback", None),  # whole words only
        ("refunded", None),
        ("The parcel was late and I want a refund", 2),  # priority 10 beats 20
        ("late and the app crashed", 2),  # same priority: the lower id first
        ("the app crashed", 3),
        ("", None),
        ("nothing to see", None),
    ],
)
def test_topic_for(text, expected):
    assert topic_for(text, RULES) == expected


def test_a_rule_without_keywords_never_matches():
    assert keyword_pattern(["", "   "]) is None
    assert topic_for("anything", [RuleSpec(reason_id=9, keywords=("  ",))]) is None


def test_keywords_are_literal_text_not_patterns():
    assert topic_for("costs 5.00 dollars", [RuleSpec(reason_id=4, keywords=("5.00",))]) == 4
    assert topic_for("costs 5x00 dollars", [RuleSpec(reason_id=4, keywords=("5.00",))]) is None
    assert topic_for("a (b", [RuleSpec(reason_id=5, keywords=("(b",))]) == 5


@pytest.mark.django_db
def test_admins_edit_rules_in_the_django_admin_and_each_change_is_audited(client, cast):
    reason = ContactReason.objects.create(name="Refunds")
    client.force_login(cast.admin)
    add = reverse("admin:feedback_topicrule_add")
    assert client.get(add).status_code == 200
    response = client.post(
        add, {"name": "Refunds", "keywords": "refund\nmoney back", "reason": reason.id,
              "priority": 5, "enabled": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    rule = TopicRule.objects.get()
    assert rule.keyword_list == ["refund", "money back"]
    assert AuditEntry.objects.filter(action="feedback.topic_rule_save").count() == 1
    blank = client.post(
        add, {"name": "Empty", "keywords": "  \n ", "reason": reason.id, "priority": 5}
    )
    assert blank.status_code == 200  # the form again, with the message
    assert "at least one keyword" in blank.content.decode()
    assert TopicRule.objects.count() == 1
    client.force_login(cast.manager)
    assert client.get(reverse("admin:feedback_topicrule_changelist")).status_code == 403
