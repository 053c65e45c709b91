"""The demo's flags: reps propose issues from the most common worded reasons and others say
"me too"; one proposal is turned down with a reason the reps read."""

import random

import pytest

from loops.flags.demo import ME_TOO_EACH, WONT_FIX, seed_flags
from loops.models import Flag, Issue, IssueEvidence
from tests.loops.world import contact_of, reason
from voc.core.demo import DemoContext

pytestmark = pytest.mark.django_db


def test_the_demo_flags_contacts_and_turns_one_proposal_down(cast):
    billing = reason("Billing", department=cast.dept_a)
    outage = reason("Outage", department=cast.dept_a)
    for n in range(ME_TOO_EACH + 3):
        contact_of(cast.team_a, reason=billing, notes=f"Charged twice, {n}")
    for n in range(3):
        contact_of(cast.team_a, reason=outage, notes=f"No internet, {n}")
    contact_of(cast.team_a, reason=billing)  # no words: never chosen
    lines: list[str] = []
    seed_flags(DemoContext(rng=random.Random(1), customers=0, stdout=lines.append))
    issues = list(Issue.objects.order_by("id"))
    assert len(issues) == 2
    assert Flag.objects.filter(proposed=True).count() == 2
    assert Flag.objects.filter(issue=issues[0]).count() == ME_TOO_EACH + 1
    assert IssueEvidence.objects.filter(issue=issues[0]).count() == ME_TOO_EACH + 1
    assert (issues[1].status, issues[1].wont_fix_reason) == ("wont_fix", WONT_FIX)
    assert lines == [f"  loops.flags: 2 issues proposed by reps, {ME_TOO_EACH + 4} flags"]
