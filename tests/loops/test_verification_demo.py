"""The demo's verified fix: its contacts visibly fell, the check at the fix says so, the owner
confirmed it, and the 30-day check is under way."""

import pytest
from django.core.management import call_command

from loops.models import Issue, Verification
from loops.verification import receivers

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]


def test_the_demo_has_a_verified_fix_whose_contacts_fell(monkeypatch):
    monkeypatch.setattr(receivers, "enqueue", lambda *args, **kwargs: True)
    call_command("seed_demo", customers=100, contacts=600, seed=3)
    issue = Issue.objects.get(title="Autopay takes the monthly payment twice")
    assert issue.status == Issue.Status.VERIFIED and issue.owner.username == "head.billing"
    at_fix = Verification.objects.get(issue=issue, checkpoint="at_fix")
    assert at_fix.verdict == "worked" and at_fix.window_days == 42
    before = at_fix.before_count / at_fix.before_total
    after = at_fix.after_count / at_fix.after_total
    assert after < 0.6 * before  # visibly fewer per 1,000 contacts
    assert at_fix.ci_high is not None and at_fix.ci_high < 1
    day_30 = Verification.objects.get(issue=issue, checkpoint="day_30")
    assert day_30.verdict == "too_early" and day_30.window_days == 14
    assert issue.evidence_count == 5
