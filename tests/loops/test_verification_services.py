"""Verification of fixed issues from real rollups (contacts ingested through the ingest
service): exact window counts and their boundaries, the interim "too early", the final and
frozen check, the 30- and 90-day checkpoints, the signal, and the owner's answers."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import count

import pytest
from django.core.exceptions import ValidationError

from contacts.ingest.service import contacts_ingest
from contacts.models import ContactReason
from loops.models import Issue, Verification
from loops.services.issues import issue_open, issue_transition
from loops.statistics import WindowCounts, fix_verification
from loops.verification import receivers
from loops.verification.services import (
    checkpoint_windows,
    fix_day,
    verification_compute,
    verification_confirm,
    verification_refresh,
    verification_reopen,
    verification_sweep,
)
from voc.core.models import AuditEntry

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]
S = Issue.Status
C = Verification.Checkpoint

F = date(2026, 6, 3)  # the fix day, a Wednesday
FIXED_AT = datetime.combine(F, time(15), tzinfo=UTC)
_numbers = count(1)


def day(offset: int) -> date:
    return F + timedelta(days=offset)


def noon(offset: int) -> datetime:
    return datetime.combine(day(offset), time(12), tzinfo=UTC)


def ingest(reason: str, n: int, first: int, last: int, *, team=None) -> None:
    """``n`` contacts on reason path ``reason``, spread over days F+first .. F+last."""
    span = last - first + 1
    rows = [
        {
            "source": "verify",
            "external_id": f"v-{next(_numbers)}",
            "channel": "phone",
            "occurred_at": (noon(first + i % span) + timedelta(minutes=i % 300)).isoformat(),
            "reason": reason,
            "team": team.name if team else None,
        }
        for i in range(n)
    ]
    result = contacts_ingest(rows=rows)
    assert not result.rejected, result.rejected[:2]


@pytest.fixture
def world(cast):
    billing = ContactReason.objects.create(name="Billing", department=cast.dept_a)
    ContactReason.objects.create(name="Double charge", parent=billing, department=cast.dept_a)
    ContactReason.objects.create(name="Internet", department=cast.dept_b)
    # The at-fix windows: F-42 .. F-1 and F+1 .. F+42.
    ingest("Billing › Double charge", 300, -42, -1, team=cast.team_b)
    ingest("Billing", 5, -42, -1)  # the parent counts: the issue names it
    ingest("Billing › Double charge", 90, 1, 42)
    ingest("Internet", 800, -42, -1)
    ingest("Internet", 900, 1, 42)
    # Just outside: the day before the before-window, the fix day, the day after the after-window.
    for offset in (-43, 0, 43):
        ingest("Billing › Double charge", 7, offset, offset)
        ingest("Internet", 11, offset, offset)
    issue = issue_open(
        title="Double charge on renewal",
        reasons=[billing],
        owner=cast.manager,
        by=cast.manager,
        at=FIXED_AT - timedelta(days=60),
    )
    return fixed(issue, cast.manager)


def fixed(issue: Issue, by, *, when: datetime = FIXED_AT) -> Issue:
    for status in (S.ASSIGNED, S.IN_PROGRESS):
        issue = issue_transition(issue=issue, to=status, by=by)
    return issue_transition(issue=issue, to=S.FIXED, by=by, at=when)


def at(offset: int, hour: int = 9) -> datetime:
    return datetime.combine(day(offset), time(hour), tzinfo=UTC)


def test_at_fix_counts_exact_windows_with_children_and_boundaries(world):
    check = verification_compute(issue=world, checkpoint=C.AT_FIX, now=at(50))
    assert check is not None
    assert (check.before_count, check.before_total) == (305, 1105)
    assert (check.after_count, check.after_total) == (90, 990)
    assert check.window_days == 42 and check.fixed_at == FIXED_AT
    expected = fix_verification(WindowCounts(305, 1105, 42), WindowCounts(90, 990, 42))
    assert check.verdict == "worked" == expected.verdict
    assert check.rate_ratio == pytest.approx((90 / 990) / (305 / 1105))
    assert check.p_value == pytest.approx(expected.p_value)
    assert (check.ci_low, check.ci_high) == pytest.approx((expected.ci_low, expected.ci_high))
    assert check.test_name == expected.test_name
    assert check.explanation.startswith("The fall is shown")


def test_it_is_too_early_until_six_whole_weeks_have_passed(world):
    one_week = verification_compute(issue=world, checkpoint=C.AT_FIX, now=at(8))
    assert one_week is not None
    assert one_week.window_days == 7 and one_week.verdict == "too_early"
    # F-7 .. F-1: 7 a day of the 300 (the 6 left over fell on the first days), none of the
    # parent's 5, and 19 a day of the 800 others; F+1 .. F+7: 3, 3, 3, 3, 3, 3, 2 of the 90
    # and 22 a day of the 900 others.
    assert (one_week.before_count, one_week.before_total) == (49, 49 + 7 * 19)
    assert (one_week.after_count, one_week.after_total) == (20, 20 + 7 * 22)
    assert "1 of 6 weeks" in one_week.explanation and "16 Jul 2026" in one_week.explanation

    # Day F+42 is not over on F+42: five weeks. On F+43 the six weeks are complete.
    five = verification_compute(issue=world, checkpoint=C.AT_FIX, now=at(42, 23))
    assert five is not None and five.window_days == 35 and five.verdict == "too_early"
    final = verification_compute(issue=world, checkpoint=C.AT_FIX, now=at(43, 0))
    assert final is not None and final.window_days == 42 and final.verdict == "worked"
    assert Verification.objects.filter(issue=world).count() == 1  # updated, not added

    # Final means final: contacts ingested late do not move it.
    ingest("Billing › Double charge", 50, 1, 42)
    again = verification_compute(issue=world, checkpoint=C.AT_FIX, now=at(44))
    assert again is not None and again.after_count == 90 and again.computed_at == final.computed_at


def test_window_frames_at_their_boundaries():
    frame = checkpoint_windows(fixed_on=F, checkpoint=C.AT_FIX, today=day(7))
    assert frame.weeks_passed == 0 and frame.windows.days == 0
    frame = checkpoint_windows(fixed_on=F, checkpoint=C.AT_FIX, today=day(8))
    assert frame.weeks_passed == 1
    assert (frame.windows.before_start, frame.windows.after_end) == (day(-7), day(7))
    frame = checkpoint_windows(fixed_on=F, checkpoint=C.DAY_30, today=day(72))
    assert frame.final and frame.windows.after_start == day(30)
    assert frame.windows.after_end == day(71) and frame.windows.before_start == day(-42)
    assert not checkpoint_windows(fixed_on=F, checkpoint=C.DAY_30, today=day(71)).final
    assert checkpoint_windows(fixed_on=F, checkpoint=C.DAY_90, today=day(90)).final_on == day(132)


def test_the_fix_day_is_a_reporting_day(settings):
    settings.VOC_REPORTING_TIME_ZONE = "America/New_York"
    assert fix_day(datetime(2026, 6, 4, 2, 30, tzinfo=UTC)) == date(2026, 6, 3)
    assert fix_day(datetime(2026, 6, 4, 4, 30, tzinfo=UTC)) == date(2026, 6, 4)


def test_the_30_and_90_day_checks_say_whether_the_contacts_came_back(world):
    # After 30 days the contacts came back; after 90 they are down again.
    ingest("Billing › Double charge", 400, 44, 71)
    ingest("Internet", 1000, 44, 71)
    ingest("Billing › Double charge", 100, 90, 131)
    ingest("Internet", 1000, 90, 131)

    assert verification_refresh(issue_id=world.pk, now=at(29)) == 1  # at the fix only
    assert verification_refresh(issue_id=world.pk, now=at(30)) == 2  # the 30-day check starts
    started = Verification.objects.get(issue=world, checkpoint=C.DAY_30)
    assert started.window_days == 0 and started.verdict == "too_early"

    verification_sweep(now=at(72))
    at_fix = Verification.objects.get(issue=world, checkpoint=C.AT_FIX)
    day_30 = Verification.objects.get(issue=world, checkpoint=C.DAY_30)
    assert at_fix.verdict == "worked" and day_30.window_days == 42
    assert day_30.before_count == 305  # the six weeks before the fix, as at the fix
    # F+30 .. F+71: 2 a day of the at-fix 90 on F+30 .. F+42, the 7 of F+43, the 400 added.
    assert day_30.after_count == 13 * 2 + 7 + 400
    assert day_30.verdict == "not_shown"
    assert not Verification.objects.filter(issue=world, checkpoint=C.DAY_90).exists()

    assert verification_sweep(now=at(90)) == 1
    verification_sweep(now=at(132))
    day_90 = Verification.objects.get(issue=world, checkpoint=C.DAY_90)
    assert (day_90.after_count, day_90.window_days, day_90.verdict) == (100, 42, "worked")
    # Everything final: the sweep leaves the issue alone.
    assert verification_sweep(now=at(140)) == 0
    assert Verification.objects.filter(issue=world).count() == 3


def test_nothing_to_check_without_a_fix_reasons_or_when_reopened(world, cast):
    no_reasons = issue_open(title="Vague", owner=cast.manager, by=cast.manager)
    no_reasons = fixed(no_reasons, cast.manager)
    assert verification_compute(issue=no_reasons, checkpoint=C.AT_FIX, now=at(50)) is None
    reopened = issue_transition(issue=world, to=S.IN_PROGRESS, by=cast.manager, why="Back.")
    assert verification_refresh(issue_id=reopened.pk, now=at(50)) == 0
    assert verification_sweep(now=at(50)) == 0
    assert verification_refresh(issue_id=999_999, now=at(50)) == 0
    assert not Verification.objects.exists()


def test_a_second_fix_gets_checks_of_its_own(world, cast):
    verification_refresh(issue_id=world.pk, now=at(50))
    issue = issue_transition(issue=world, to=S.IN_PROGRESS, by=cast.manager, why="Back.")
    issue = issue_transition(
        issue=issue, to=S.FIXED, by=cast.manager, at=FIXED_AT + timedelta(days=60)
    )
    verification_refresh(issue_id=issue.pk, now=at(61))
    fixes = set(Verification.objects.filter(issue=issue).values_list("fixed_at", flat=True))
    assert fixes == {FIXED_AT, FIXED_AT + timedelta(days=60)}


def test_being_fixed_queues_the_first_check(cast, django_capture_on_commit_callbacks, monkeypatch):
    queued = []
    monkeypatch.setattr(
        receivers, "enqueue", lambda name, *args, catch_up: queued.append((name, args, catch_up))
    )
    issue = issue_open(title="Queued", owner=cast.manager, by=cast.manager)
    with django_capture_on_commit_callbacks(execute=True):
        issue = issue_transition(issue=issue, to=S.ASSIGNED, by=cast.manager)
        issue = issue_transition(issue=issue, to=S.IN_PROGRESS, by=cast.manager)
    assert queued == []
    with django_capture_on_commit_callbacks(execute=True):
        issue_transition(issue=issue, to=S.FIXED, by=cast.manager)
    assert queued == [("loops.verification_compute", (issue.pk,), "loops.verification_sweep")]


def test_the_task_and_the_job_are_registered():
    from celery import current_app

    from voc.core.jobs import registered_jobs

    assert "loops.verification_compute" in current_app.tasks
    assert "loops.verification_sweep" in registered_jobs()


# --- The owner's answer -----------------------------------------------------------------------


def test_the_owner_confirms_a_fix_that_worked_without_a_word(world, cast):
    verification_refresh(issue_id=world.pk, now=at(50))
    issue = verification_confirm(issue=world, by=cast.manager)
    assert issue.status == S.VERIFIED and issue.verified_at is not None
    entry = AuditEntry.objects.filter(action="issue.status", target_id=issue.pk).first()
    assert entry is not None and entry.changes == {"status": ["fixed", "verified"]}
    with pytest.raises(ValidationError, match="Only a fixed issue"):
        verification_confirm(issue=issue, by=cast.manager)


def test_confirming_what_the_numbers_do_not_show_needs_a_reason(world, cast):
    verification_refresh(issue_id=world.pk, now=at(20))  # too early
    with pytest.raises(ValidationError, match="say why you confirm it"):
        verification_confirm(issue=world, by=cast.manager, why="   ")
    issue = verification_confirm(issue=world, by=cast.manager, why="Engineering log shows it.")
    assert issue.status == S.VERIFIED
    entry = AuditEntry.objects.filter(action="issue.status", target_id=issue.pk).first()
    assert entry is not None and entry.why == "Engineering log shows it."


def test_only_the_owner_answers(world, cast):
    verification_refresh(issue_id=world.pk, now=at(50))
    for user in (cast.other_manager, cast.executive, cast.rep):
        with pytest.raises(ValidationError, match="Only the issue's owner"):
            verification_confirm(issue=world, by=user)
        with pytest.raises(ValidationError, match="Only the issue's owner"):
            verification_reopen(issue=world, by=user, why="No.")
    assert Issue.objects.get(pk=world.pk).status == S.FIXED


def test_the_owner_reopens_with_a_reason(world, cast):
    with pytest.raises(ValidationError, match="Say why"):
        verification_reopen(issue=world, by=cast.manager, why="")
    issue = verification_reopen(issue=world, by=cast.manager, why="Contacts came back.")
    assert issue.status == S.IN_PROGRESS and issue.fixed_at is None
    with pytest.raises(ValidationError, match="fixed or verified"):
        verification_reopen(issue=issue, by=cast.manager, why="Again.")


def test_the_queries_do_not_grow_with_the_window_or_the_contacts(world):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    verification_compute(issue=world, checkpoint=C.AT_FIX, now=at(8))  # the row exists
    with CaptureQueriesContext(connection) as one_week:
        verification_compute(issue=world, checkpoint=C.AT_FIX, now=at(9))
    ingest("Billing › Double charge", 300, 2, 40)
    with CaptureQueriesContext(connection) as six_weeks:
        verification_compute(issue=world, checkpoint=C.AT_FIX, now=at(50))
    # Two rollup reads grouped by day, whatever the number of days or contacts.
    assert len(six_weeks.captured_queries) == len(one_week.captured_queries)
    rollup_reads = [q for q in six_weeks.captured_queries if "contacts_contactrollup" in q["sql"]]
    assert len(rollup_reads) == 2
