"""The demo's issues (loops/issues/demo.py): one in every status, won't fix with its reason,
a merged duplicate and an old code red; nothing without the demo's managers and reasons."""

import random
from datetime import timedelta

import pytest
from django.utils import timezone

from loops.issues.demo import ISSUES, seed_issues
from loops.models import Issue
from loops.selectors import issue_ageing
from tests.factories import DepartmentFactory, TeamFactory, UserFactory
from tests.loops.world import contact_of, reason
from voc.core.demo import DemoContext
from voc.people.roles import Role

pytestmark = pytest.mark.django_db


def ctx(lines: list[str], **data) -> DemoContext:
    return DemoContext(rng=random.Random(1), customers=0, stdout=lines.append, data=data)


def test_issues_in_every_state_a_merged_duplicate_and_an_old_code_red(db):
    managers = []
    for head in sorted({spec[2] for spec in ISSUES}):
        department = DepartmentFactory(name=head)
        manager = UserFactory(username=head, role=Role.MANAGER, department=department)
        department.head = manager
        department.save()
        managers.append(manager)
        team = TeamFactory(name=f"{head} team", department=department, lead=manager)
        for spec in ISSUES:
            if spec[2] == head:
                on = reason(spec[1], department=department)
                for days in range(8):
                    contact_of(team, reason=on, at=timezone.now() - timedelta(days=days))
    executive = UserFactory(username="ceo", role=Role.EXECUTIVE)
    lines: list[str] = []
    seed_issues(ctx(lines, managers=managers, executives=[executive]))
    assert lines == ["  loops.issues: 9 issues on the board"]
    assert set(Issue.objects.values_list("status", flat=True)) == set(Issue.Status.values)
    wont = Issue.objects.get(status="wont_fix")
    assert wont.wont_fix_reason.startswith("Cancelling needs a confirmed identity")
    duplicate = Issue.objects.get(title="Modem loses the connection overnight")
    red = Issue.objects.get(severity="code_red")
    assert duplicate.merged_into_id == red.pk and duplicate.evidence_count == 0
    assert red.evidence_count == 8  # its six, and the two of the duplicate's five it lacked
    assert red.sponsor == executive
    assert issue_ageing(red, now=timezone.now()) == "Code red for 95 days"
    seed_issues(ctx(lines, managers=managers, executives=[executive]))  # again: nothing new
    assert Issue.objects.count() == 9


def test_without_the_demo_s_people_nothing_is_made(db):
    lines: list[str] = []
    seed_issues(ctx(lines))
    assert Issue.objects.count() == 0 and lines == ["  loops.issues: 0 issues on the board"]
