"""The send-once builders of the loops emails (registered from LoopsConfig.ready()): each runs
in the worker and reads fresh rows from the ids its email was asked for with, so an email says
what is true when it leaves. The templates (``templates/emails/loops-*``) escape every value
in the HTML part; the plain-text part is plain text."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from loops.models import Escalation, FollowUp, Issue
from loops.sla.rules import age_days_text
from voc.people.models import User


def absolute(path: str) -> str:
    return settings.VOC_BASE_URL + path


def _name(user: User | None) -> str:
    if user is None:
        return "nobody"
    return user.get_full_name() or user.get_username()


def _issue_facts(issue: Issue) -> dict[str, Any]:
    return {
        "kind": "issue",
        "title": f"#{issue.pk} {issue.title}",
        "url": absolute(reverse("loops:issue-detail", args=[issue.pk])),
        "severity": issue.get_severity_display(),
        "status": issue.get_status_display(),
        "owner": _name(issue.owner),
        "age": age_days_text(opened_at=issue.created_at, now=timezone.now()),
    }


def _follow_up_facts(follow_up: FollowUp) -> dict[str, Any]:
    customer = follow_up.customer.name if follow_up.customer else "a customer"
    return {
        "kind": "follow-up",
        "title": f"Call back #{follow_up.pk} to {customer} ({follow_up.get_trigger_display()})",
        "url": absolute(reverse("loops:follow-up-detail", args=[follow_up.pk])),
        "owner": _name(follow_up.assignee),
    }


def _common(user: User) -> dict[str, Any]:
    return {
        "name": _name(user),
        "site_name": settings.SITE_NAME,
        "preferences_url": absolute(reverse("loops:notifications")),
    }


SHOWN = 50  # escalations listed in one email; the rest are counted


def escalation_email_context(context: dict[str, Any]) -> dict[str, Any]:
    """What one sweep escalated to one person: each item's target, the deadline it missed and
    why it reached them (their level)."""
    user = User.objects.get(pk=int(context["user_id"]))
    ids = [int(i) for i in context["escalation_ids"]]
    rows = list(
        Escalation.objects.filter(id__in=ids[:SHOWN])
        .select_related("issue__owner", "follow_up__customer", "follow_up__assignee")
        .order_by("id")
    )
    now = timezone.now()
    items = []
    for escalation in rows:
        if escalation.issue is not None:
            target = _issue_facts(escalation.issue)
        else:
            assert escalation.follow_up is not None
            target = _follow_up_facts(escalation.follow_up)
        items.append(
            {
                **target,
                "clock": escalation.get_clock_display().lower(),
                "level": escalation.level,
                "level_label": LEVEL_LABELS[escalation.follow_up_id is not None][escalation.level],
                "due_at": escalation.due_at,
                "overdue_days": max(0, (now - escalation.due_at).days),
            }
        )
    first = items[0] if items else None
    if len(ids) == 1 and first is not None:
        subject = f"Overdue ({first['clock']}): {first['title']}"
    else:
        subject = f"{len(ids)} overdue issues and call backs escalated to you"
    return {
        **_common(user),
        "subject": subject,
        "items": items,
        "more": max(0, len(ids) - len(items)),
        "home_url": absolute(reverse("home")),
    }


LEVEL_LABELS = {
    False: {1: "you own it", 2: "you manage its owner", 3: "you sponsor it"},
    True: {
        1: "it is yours to make",
        2: "you manage the person it is assigned to",
        3: "you head its department",
    },
}


def assignment_email_context(context: dict[str, Any]) -> dict[str, Any]:
    user = User.objects.get(pk=int(context["user_id"]))
    if "issue_id" in context:
        issue = Issue.objects.select_related("owner").get(pk=int(context["issue_id"]))
        target = _issue_facts(issue)
        target["due_at"] = issue.resolution_due_at
    else:
        follow_up = FollowUp.objects.select_related("customer", "assignee").get(
            pk=int(context["follow_up_id"])
        )
        target = _follow_up_facts(follow_up)
        target["due_at"] = follow_up.due_at
    return {**_common(user), **target}


def due_email_context(context: dict[str, Any]) -> dict[str, Any]:
    user = User.objects.get(pk=int(context["user_id"]))
    if "issue_id" in context:
        issue = Issue.objects.select_related("owner").get(pk=int(context["issue_id"]))
        target = _issue_facts(issue)
    else:
        follow_up = FollowUp.objects.select_related("customer", "assignee").get(
            pk=int(context["follow_up_id"])
        )
        target = _follow_up_facts(follow_up)
    return {**_common(user), **target, "due_at": datetime.fromisoformat(context["due_at"])}
