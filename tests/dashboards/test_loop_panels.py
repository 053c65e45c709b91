"""The loops panels ("Open issues", "Closing the loop") and their drill-downs: every figure
equals a direct count of the same rows (read one by one, in Python, with the pure rules the
issue page uses), at the boundaries (an issue exactly at an age-band limit, a clock exactly at
its deadline or an hour past it, a call back made on the period's last day or the day after),
within each role's scope; the drill-downs list each row once across keyset pages and export
the same rows.

The world: New York reporting time, the period 26 October - 22 November 2026 (its last day
ends at 05:00 UTC on 23 November, after the clocks went back), now 23 November 15:00 UTC.
"""

import csv
import io
from collections import Counter
from datetime import UTC, datetime, timedelta
from statistics import median
from types import SimpleNamespace

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact
from feedback.items.services import feedback_item_record
from loops.followups.selectors import follow_up_list_visible
from loops.models import (
    Escalation,
    FixNotice,
    FollowUp,
    Issue,
    NoticeRecipient,
    Verification,
)
from loops.rules import age_days
from loops.selectors import issue_list_visible, issue_next_deadline
from tests.dashboards import world
from tests.dashboards.test_pages import FRAGMENT_QUERIES
from tests.factories import CustomerFactory, UserFactory
from voc.core.audit import INGEST
from voc.core.models import SendOnce
from voc.dashboards import drill as drill_module
from voc.dashboards.loop_panels import closing_the_loop, open_issues
from voc.people.roles import Role

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}
NOW = world.TODAY
SINCE = datetime(2026, 10, 26, 4, 0, tzinfo=UTC)  # 26 October 00:00 EDT
UNTIL = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 23 November 00:00 EST
XSS_TITLE = "<script>alert('issue')</script> Refund loop"
XSS_VERBATIM = "Nobody called <script>alert('call')</script>"
BANDS = [("week", 0, 7), ("month", 7, 30), ("quarter", 30, 90), ("old", 90, None)]
STATES = ("on_time", "due_soon", "overdue", "none")
VIEWERS = ["executive", "admin", "manager", "other_manager", "member", "bystander"]


def ago(days: float = 0, **more) -> datetime:
    return NOW - timedelta(days=days, **more)


def make_issue(title, department, *, created, severity="medium", status="assigned", **fields):
    fields.setdefault("responded_at", created + timedelta(hours=1))
    if status == "wont_fix":
        fields["wont_fix_reason"] = "Not ours"
    return Issue.objects.create(
        title=title, department=department, created_at=created, severity=severity,
        status=status, status_changed_at=created, **fields,
    )  # fmt: skip


def make_issues(cast) -> SimpleNamespace:
    a, b = cast.dept_a, cast.dept_b
    i = SimpleNamespace()
    i.fresh = make_issue(
        "Card declined", a, created=ago(hours=2), status="new", responded_at=None,
        response_due_at=ago(hours=-2),
    )  # fmt: skip
    i.at_7 = make_issue("Seven days", a, created=ago(7), resolution_due_at=ago(-10))
    # 29 days and 23:59:59 old; its resolution clock ran out an hour ago: breached.
    i.under_30 = make_issue(
        "Just under thirty", a, created=ago(30, seconds=-1), status="in_progress",
        resolution_due_at=ago(hours=1),
    )  # fmt: skip
    # Exactly 30 days old, its response due exactly now: due soon, not yet breached.
    i.at_30 = make_issue(
        "Exactly thirty", a, created=ago(30), responded_at=None, response_due_at=NOW
    )
    i.at_90 = make_issue(
        "Exactly ninety", a, created=ago(90), severity="code_red", status="in_progress",
        resolution_due_at=ago(60), owner=cast.manager,
    )  # fmt: skip
    i.fixed = make_issue(
        "Fixed, awaiting verification", a, created=ago(40), severity="code_red",
        status="fixed", fixed_at=ago(10), resolution_due_at=ago(37),
    )  # fmt: skip
    i.closed = make_issue("Closed", a, created=ago(100), severity="code_red", status="closed")
    i.xss = make_issue(
        XSS_TITLE, a, created=ago(20), severity="code_red", status="triaged", responded_at=None,
        response_due_at=ago(hours=-30),
    )  # fmt: skip
    i.merged = make_issue("Duplicate", a, created=ago(5), status="new", merged_into=i.fresh)
    i.old_b = make_issue(
        "Outage every Monday", b, created=ago(50), responded_at=None,
        response_due_at=ago(49), severity="code_red", owner=cast.other_manager,
    )  # fmt: skip
    i.wont_b = make_issue("Won't fix", b, created=ago(10), status="wont_fix")
    i.quiet_b = make_issue("No clocks", b, created=ago(3), severity="low", status="triaged")
    # Reopened after a fix that did not work; resolution due exactly 24 hours from now.
    i.reopened_b = make_issue(
        "Login loop", b, created=ago(200), severity="high", status="in_progress",
        resolution_due_at=ago(-1),
    )  # fmt: skip
    return i


def escalate(issue, clock, level, at, notified):
    return Escalation.objects.create(
        issue=issue, clock=clock, level=level, at=at, notified=notified, due_at=at
    )


def verdict(issue, verdict, computed_at, *, checkpoint="at_fix", window_days=42):
    return Verification.objects.create(
        issue=issue, checkpoint=checkpoint, fixed_at=issue.created_at + timedelta(days=1),
        computed_at=computed_at, window_days=window_days, before_count=10, before_total=1000,
        after_count=5, after_total=1000, test_name="exact", verdict=verdict,
    )  # fmt: skip


def notify(notice, *, sent_at, status=SendOnce.Status.SENT, recipient_status="sent"):
    customer = CustomerFactory()
    once = None
    if status is not None:
        once = SendOnce.objects.create(
            purpose="loops.fix_notice", key=f"issue:{notice.issue_id}:customer:{customer.id}",
            status=status, to=["c@example.com"], template="fix-notice",
            message_id=f"<{notice.id}.{customer.id}@voc>", requested_by="owner",
            queued_at=sent_at or NOW, sent_at=sent_at,
        )  # fmt: skip
    return NoticeRecipient.objects.create(
        notice=notice, customer=customer, reporter=True, status=recipient_status, send_once=once
    )


CONTACTS = iter(range(10_000))


def contact(team) -> Contact:
    number = next(CONTACTS)
    contacts_ingest(
        rows=[
            {"source": "loopdash", "external_id": str(number), "channel": "phone",
             "occurred_at": "2026-10-20T12:00:00Z", "team": team.name}
        ]
    )  # fmt: skip
    return Contact.objects.get(source="loopdash", external_id=str(number))


def follow_up(team, *, created, closed=None, status=None, outcome="", item=None):
    status = status or ("done" if closed else "open")
    if status == "done" and not outcome:
        outcome = "resolved"
    return FollowUp.objects.create(
        trigger="complaint" if item else "complaint_contact",
        feedback_item=item, contact=None if item else contact(team), team=team,
        department=team.department, assignee=team.lead, created_at=created,
        due_at=created + timedelta(hours=48), closed_at=closed, status=status, outcome=outcome,
    )  # fmt: skip


def make_world(cast) -> SimpleNamespace:
    i = make_issues(cast)
    escalate(i.under_30, "resolution", 1, SINCE, cast.manager)  # the period's first instant
    escalate(i.under_30, "resolution", 2, SINCE - timedelta(seconds=1), cast.manager)  # before
    escalate(i.at_90, "resolution", 1, UNTIL - timedelta(seconds=1), cast.manager)  # last second
    escalate(i.at_90, "resolution", 2, UNTIL, cast.manager)  # the day after
    escalate(i.old_b, "response", 1, ago(20), cast.other_manager)
    escalate(i.old_b, "response", 2, ago(19), cast.other_manager)
    verdict(i.fixed, "worked", ago(3))
    verdict(i.closed, "worked", ago(60))  # judged before the period
    verdict(i.reopened_b, "not_shown", ago(5))
    verdict(i.at_7, "too_early", ago(1), window_days=21)  # not final yet
    verdict(i.at_90, "not_shown", ago(2), checkpoint="day_30")  # a later re-check
    verdict(i.quiet_b, "too_early", UNTIL - timedelta(seconds=1))  # final, too few contacts
    notice_a = FixNotice.objects.create(issue=i.fixed, subject="Fixed", body="b", status="sent")
    notify(notice_a, sent_at=ago(2))
    notify(notice_a, sent_at=SINCE - timedelta(hours=1))  # before the period
    notify(notice_a, sent_at=None, status=SendOnce.Status.FAILED, recipient_status="failed")
    notify(notice_a, sent_at=None, status=None, recipient_status="skipped")
    notice_b = FixNotice.objects.create(
        issue=i.reopened_b, subject="Fixed", body="b", status="sent"
    )
    notify(notice_b, sent_at=ago(10))
    a, b = cast.team_a, cast.team_b
    item = feedback_item_record(
        kind="complaint", source="loopdash", by=INGEST, verbatim=XSS_VERBATIM, team=a,
        received_at=ago(1),
    ).item  # fmt: skip
    f = SimpleNamespace(
        quick=follow_up(a, created=ago(20), closed=ago(20) + timedelta(hours=2)),
        # Closed at 23:30 EST on 22 November, the period's last day; and at 00:30 on the 23rd.
        last_day=follow_up(a, created=ago(10), closed=UNTIL - timedelta(minutes=30)),
        day_after=follow_up(a, created=ago(5), closed=UNTIL + timedelta(minutes=30)),
        team_b=follow_up(b, created=ago(15), closed=ago(15) + timedelta(hours=10)),
        waiting=follow_up(a, created=ago(3)),
        not_allowed=follow_up(a, created=ago(8), closed=ago(8), status="cancelled",
                              outcome="not_allowed"),
        before=follow_up(a, created=datetime(2026, 10, 20, tzinfo=UTC),
                         closed=datetime(2026, 10, 27, tzinfo=UTC)),
        first_instant=follow_up(b, created=SINCE, closed=SINCE + timedelta(hours=30)),
        xss=follow_up(a, created=ago(1), item=item),
    )  # fmt: skip
    return SimpleNamespace(issues=i, follow_ups=f)


@pytest.fixture
def loops_world(cast, settings):
    settings.VOC_REPORTING_TIME_ZONE = world.TZ
    with time_machine.travel(NOW, tick=False):
        cast.member = UserFactory(username="member", role=Role.MANAGER, department=cast.dept_b)
        cast.bystander = world.manager_heading_nothing(cast)
        built = make_world(cast)
        yield built


# --- the reference: the same rows read one by one ---------------------------------------------


def band_of(issue) -> str:
    days = age_days(opened_at=issue.created_at, now=NOW)
    return next(key for key, low, high in BANDS if days >= low and (high is None or days < high))


def state_of(issue) -> str:
    deadline = issue_next_deadline(issue, now=NOW)
    return "none" if deadline is None else deadline.state


def open_now(viewer) -> list[Issue]:
    return [issue for issue in issue_list_visible(viewer=viewer) if issue.is_open]


def direct_cells(viewer) -> Counter:
    return Counter((band_of(issue), state_of(issue)) for issue in open_now(viewer))


def within(moment) -> bool:
    return moment is not None and SINCE <= moment < UNTIL


def visible_ids(viewer) -> set[int]:
    return set(issue_list_visible(viewer=viewer).values_list("id", flat=True))


def direct_escalations(viewer) -> tuple[int, int]:
    rows = [
        e for e in Escalation.objects.all() if within(e.at) and e.issue_id in visible_ids(viewer)
    ]
    return len(rows), len({e.issue_id for e in rows})


def direct_verdicts(viewer) -> dict[str, int]:
    rows = [
        v for v in Verification.objects.all()
        if v.checkpoint == "at_fix" and v.window_days >= 42 and within(v.computed_at)
        and v.issue_id in visible_ids(viewer)
    ]  # fmt: skip
    return {key: len({v.issue_id for v in rows if v.verdict == key}) for key in
            ("worked", "not_shown", "too_early")}  # fmt: skip


def direct_notices(viewer) -> tuple[int, int]:
    rows = [
        r for r in NoticeRecipient.objects.select_related("send_once", "notice")
        if r.send_once and r.send_once.status == "sent" and within(r.send_once.sent_at)
        and r.notice.issue_id in visible_ids(viewer)
    ]  # fmt: skip
    return len(rows), len({r.notice.issue_id for r in rows})


def direct_follow_ups(viewer, team=None) -> tuple[list[FollowUp], list[FollowUp]]:
    opened = [
        f for f in follow_up_list_visible(viewer=viewer)
        if within(f.created_at) and f.outcome != "not_allowed" and (team is None or f.team == team)
    ]  # fmt: skip
    closed = [f for f in opened if f.status == "done" and f.closed_at < UNTIL]
    return opened, closed


# --- figures ------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", VIEWERS)
def test_open_issues_by_age_and_sla_state_equal_direct_counts(cast, loops_world, role):
    viewer = getattr(cast, role)
    with time_machine.travel(NOW, tick=False):
        result = open_issues(viewer, world.filters())
    cells = {
        (band["key"], state): cell["count"]
        for band in result["bands"]
        for state, cell in zip(STATES, band["cells"], strict=True)
    }
    direct = direct_cells(viewer)
    assert cells == {(band, state): direct[band, state] for band, *_ in BANDS for state in STATES}
    assert result["total"] == len(open_now(viewer))
    assert [s["total"] for s in result["states"]] == [
        sum(n for (_b, s), n in direct.items() if s == state) for state in STATES
    ]
    assert (result["escalations"].escalations, result["escalations"].issues) == (
        direct_escalations(viewer)
    )
    assert {v["key"]: v["issues"] for v in result["verdicts"]} == direct_verdicts(viewer)
    ageing = sorted(
        (i for i in open_now(viewer) if i.severity == "code_red" and i.fixed_at is None),
        key=lambda i: i.created_at,
    )
    assert result["code_red_total"] == len(ageing)
    assert [row["issue"].id for row in result["code_reds"]] == [i.id for i in ageing][:5]


def test_the_executives_figures_read_as_the_world_was_built(cast, loops_world):
    i = loops_world.issues
    with time_machine.travel(NOW, tick=False):
        result = open_issues(cast.executive, world.filters())
    cells = {
        (band["key"], state): cell["count"]
        for band in result["bands"]
        for state, cell in zip(STATES, band["cells"], strict=True)
        if cell["count"]
    }
    assert cells == {
        ("week", "due_soon"): 1,  # the fresh one
        ("week", "none"): 1,  # no clocks
        ("month", "on_time"): 2,  # exactly 7 days old; the code red due in 30 hours
        ("month", "overdue"): 1,  # just under 30 days, an hour past its deadline
        ("quarter", "due_soon"): 1,  # exactly 30 days, due exactly now
        ("quarter", "none"): 1,  # fixed, awaiting verification
        ("quarter", "overdue"): 1,  # department B's code red
        ("old", "overdue"): 1,  # exactly 90 days
        ("old", "due_soon"): 1,  # due exactly 24 hours from now
    }
    assert result["total"] == 10 and result["breached"] == 3  # closed, won't fix, merged out
    assert [row["issue"] for row in result["code_reds"]] == [i.at_90, i.old_b, i.xss]
    assert [row["age_days"] for row in result["code_reds"]] == [90, 50, 20]
    assert (result["escalations"].escalations, result["escalations"].issues) == (4, 3)
    assert {v["key"]: v["issues"] for v in result["verdicts"]} == {
        "worked": 1, "not_shown": 1, "too_early": 1,
    }  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        loop = closing_the_loop(cast.executive, world.filters())
    assert (loop["notices"].emails, loop["notices"].issues) == (2, 2)


def _drill_ids(client, url, params) -> list[int]:
    ids = []
    while True:
        response = client.get(url, params)
        assert response.status_code == 200, response.content
        rows = response.context["rows"]
        ids += [row[0].id if isinstance(row, tuple) else row.id for row in rows]
        if response.context["next_params"] is None:
            return ids
        params = response.context["next_params"]


def test_the_age_band_and_deadline_boundaries(cast, client, loops_world):
    """Opened exactly 30 days ago is 30 days old (30-89), a second later 29 (7-29); a clock
    exactly at its deadline is due soon, an hour past it breached; exactly 24 hours ahead is
    due soon."""
    i = loops_world.issues
    client.force_login(cast.executive)
    url = reverse("dashboards:drill-issues")
    with time_machine.travel(NOW, tick=False):
        quarter = _drill_ids(client, url, world.query() | {"show": "open", "age": "quarter"})
        month = _drill_ids(client, url, world.query() | {"show": "open", "age": "month"})
        old = _drill_ids(client, url, world.query() | {"show": "open", "age": "old"})
        soon = _drill_ids(client, url, world.query() | {"show": "open", "sla": "due_soon"})
        breached = _drill_ids(client, url, world.query() | {"show": "open", "sla": "overdue"})
    assert i.at_30.id in quarter and i.at_30.id not in month
    assert i.under_30.id in month and i.under_30.id not in quarter
    assert i.at_90.id in old and i.at_7.id in month
    assert i.at_30.id in soon and i.at_30.id not in breached
    assert i.under_30.id in breached and i.reopened_b.id in soon
    assert sorted(breached) == sorted([i.under_30.id, i.at_90.id, i.old_b.id])
    with time_machine.travel(NOW, tick=False):
        page = client.get(url, world.query() | {"show": "open", "age": "quarter"})
    shown = {issue.id: (sla, days) for issue, sla, days in page.context["rows"]}
    assert shown[i.at_30.id] == ("Due soon (response)", 30)
    assert shown[i.old_b.id] == ("Overdue (response)", 50)


def test_the_period_edges_of_escalations_verdicts_and_notices(cast, loops_world):
    """The period's first instant and last second count; the instant it ends does not."""
    with time_machine.travel(NOW, tick=False):
        manager = open_issues(cast.manager, world.filters())
        loop = closing_the_loop(cast.manager, world.filters())
    assert (manager["escalations"].escalations, manager["escalations"].issues) == (2, 2)
    assert {v["key"]: v["issues"] for v in manager["verdicts"]} == {
        "worked": 1, "not_shown": 0, "too_early": 0,
    }  # fmt: skip
    assert (loop["notices"].emails, loop["notices"].issues) == (1, 1)
    assert direct_notices(cast.manager) == (1, 1)


@pytest.mark.parametrize("role", VIEWERS)
def test_closed_loop_figures_equal_direct_counts(cast, loops_world, role):
    viewer = getattr(cast, role)
    for team in (None, cast.team_a, cast.team_b):
        f = world.filters(team_id=team.id if team else None)
        with time_machine.travel(NOW, tick=False):
            result = closing_the_loop(viewer, f)
        opened, closed = direct_follow_ups(viewer, team)
        hours = [(x.closed_at - x.created_at).total_seconds() / 3600 for x in closed]
        loop = result["loop"]
        assert (loop.opened, loop.closed) == (len(opened), len(closed))
        assert loop.median_hours == (round(median(hours), 1) if hours else None)
        assert loop.rate == (round(100 * len(closed) / len(opened), 1) if opened else None)
        assert (result["notices"].emails, result["notices"].issues) == direct_notices(viewer)


def test_a_call_back_on_the_last_day_closes_the_loop_the_day_after_does_not(cast, loops_world):
    f = loops_world.follow_ups
    with time_machine.travel(NOW, tick=False):
        loop = closing_the_loop(cast.executive, world.filters())["loop"]
    # Opened: quick, last_day, day_after, team_b, waiting, first_instant, xss (not the one the
    # budget refused, nor the one opened before the period). Closed in time: 2, 229.5, 10, 30 h.
    assert (loop.opened, loop.closed, loop.rate) == (7, 4, 57.1)
    assert loop.median_hours == 20.0
    opened, closed = direct_follow_ups(cast.executive)
    assert f.last_day in closed and f.day_after in opened and f.day_after not in closed


# --- scope ----------------------------------------------------------------------------------------


def test_a_manager_sees_only_their_departments_issues(cast, client, loops_world):
    client.force_login(cast.manager)
    url = reverse("dashboards:drill-issues")
    with time_machine.travel(NOW, tick=False):
        ids = _drill_ids(client, url, world.query() | {"show": "open"})
        body = client.get(
            reverse("dashboards:panel", args=["open-issues"]), world.query(), headers=HTMX
        ).content.decode()
    departments = set(Issue.objects.filter(id__in=ids).values_list("department", flat=True))
    assert departments == {cast.dept_a.id} and len(ids) == 7
    assert "Outage every Monday" not in body and "Exactly ninety" in body
    with time_machine.travel(NOW, tick=False):
        other = open_issues(cast.other_manager, world.filters())
    assert other["total"] == 3 and [r["issue"].title for r in other["code_reds"]] == [
        "Outage every Monday"
    ]


def test_a_rep_is_refused_and_a_manager_who_heads_nothing_sees_their_scope(
    cast, client, loops_world
):
    """Reps are refused, as on every panel. A manager who belongs to department B without
    heading it sees department B's issues and call backs (its head does too), as the contact
    panels scope them; a manager in no department sees nothing."""
    urls = [
        reverse("dashboards:panel", args=["open-issues"]),
        reverse("dashboards:panel", args=["closing-the-loop"]),
        reverse("dashboards:drill-issues") + "?show=open",
        reverse("dashboards:drill-follow-ups") + "?show=opened",
    ]
    client.force_login(cast.rep)
    assert [client.get(url, headers=HTMX).status_code for url in urls] == [403] * 4
    f = world.filters()
    with time_machine.travel(NOW, tick=False):
        member, head = open_issues(cast.member, f), open_issues(cast.other_manager, f)
        member_loop = closing_the_loop(cast.member, f)["loop"]
        nobody, nobody_loop = open_issues(cast.bystander, f), closing_the_loop(cast.bystander, f)
    assert member["total"] == head["total"] == 3
    assert (member_loop.opened, member_loop.closed) == (2, 2)
    assert nobody["total"] == nobody["code_red_total"] == nobody["escalations"].escalations == 0
    assert nobody_loop["loop"].opened == nobody_loop["notices"].emails == 0


# --- pages: escaping, keyset pages, exports, queries -----------------------------------------------


def test_issue_titles_and_verbatims_are_escaped(cast, client, loops_world):
    client.force_login(cast.executive)
    with time_machine.travel(NOW, tick=False):
        panel = client.get(
            reverse("dashboards:panel", args=["open-issues"]), world.query(), headers=HTMX
        ).content.decode()
        issues = client.get(
            reverse("dashboards:drill-issues"), world.query() | {"show": "code_red"}
        ).content.decode()
        calls = client.get(
            reverse("dashboards:drill-follow-ups"), world.query() | {"show": "opened"}
        ).content.decode()
    escaped = "&lt;script&gt;alert(&#x27;issue&#x27;)&lt;/script&gt; Refund loop"
    assert escaped in panel and escaped in issues
    assert "<script>alert" not in panel + issues + calls
    assert "Nobody called &lt;script&gt;alert(&#x27;call&#x27;)" in calls
    detail = reverse("loops:issue-detail", args=[loops_world.issues.xss.id])
    assert f'href="{detail}"' in panel


@pytest.mark.parametrize(
    "url, params",
    [
        ("dashboards:drill-issues", {"show": "open"}),
        ("dashboards:drill-issues", {"show": "escalated"}),
        ("dashboards:drill-follow-ups", {"show": "opened"}),
    ],
)
def test_keyset_pages_list_each_row_once_newest_first(
    cast, client, loops_world, monkeypatch, url, params
):
    monkeypatch.setattr(drill_module, "PAGE_SIZE", 2)
    client.force_login(cast.executive)
    with time_machine.travel(NOW, tick=False):
        ids = _drill_ids(client, reverse(url), world.query() | params)
        first = client.get(reverse(url), world.query() | params)
    model = Issue if "issues" in url else FollowUp
    rows = sorted(
        model.objects.filter(id__in=ids), key=lambda r: (r.created_at, r.id), reverse=True
    )
    assert ids == [row.id for row in rows] and len(ids) == len(set(ids)) > 2
    assert first.context["next_params"]["show"] == params["show"]  # the filters are kept
    assert first.context["next_params"]["period"] == "custom"


def _csv_ids(response) -> list[int]:
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    return sorted(int(row[-1]) for row in rows[1:])


def test_exports_hold_the_rows_behind_the_figure(cast, client, loops_world):
    i, f = loops_world.issues, loops_world.follow_ups
    client.force_login(cast.manager)
    with time_machine.travel(NOW, tick=False):
        breached = client.get(
            reverse("dashboards:drill-issues"),
            world.query() | {"show": "open", "sla": "overdue", "format": "csv"},
        )
        closed = client.get(
            reverse("dashboards:drill-follow-ups"),
            world.query() | {"show": "closed", "format": "xlsx"},
        )
        escalated = client.get(
            reverse("dashboards:drill-issues"),
            world.query() | {"show": "escalated", "format": "xlsx"},
        )
    assert _csv_ids(breached) == sorted([i.under_30.id, i.at_90.id])
    sheet = load_workbook(io.BytesIO(b"".join(closed.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "Opened" and sorted(r[-1] for r in rows[1:]) == sorted(
        [f.quick.id, f.last_day.id]
    )
    sheet = load_workbook(io.BytesIO(b"".join(escalated.streaming_content))).active
    assert sorted(r[-1] for r in sheet.iter_rows(min_row=2, values_only=True)) == sorted(
        [i.under_30.id, i.at_90.id]
    )


def test_every_figure_links_to_a_drill_down_that_lists_as_many_rows(cast, client, loops_world):
    client.force_login(cast.executive)
    f = world.filters()
    with time_machine.travel(NOW, tick=False):
        issues, loop = open_issues(cast.executive, f), closing_the_loop(cast.executive, f)
        pairs = [(issues["total_query"], issues["total"]),
                 (issues["breached_query"], issues["breached"]),
                 (issues["code_red_query"], issues["code_red_total"]),
                 (issues["escalated_query"], issues["escalations"].issues),
                 (loop["noticed_query"], loop["notices"].issues)]  # fmt: skip
        pairs += [(v["query"], v["issues"]) for v in issues["verdicts"]]
        pairs += [(c["query"], c["count"]) for b in issues["bands"] for c in b["cells"]]
        for query, expected in pairs:
            got = client.get(reverse("dashboards:drill-issues") + "?" + query)
            assert len(got.context["rows"]) == expected, query
        for query, expected in ((loop["opened_query"], loop["loop"].opened),
                                (loop["closed_query"], loop["loop"].closed)):  # fmt: skip
            got = client.get(reverse("dashboards:drill-follow-ups") + "?" + query)
            assert len(got.context["rows"]) == expected, query


def test_a_bad_drill_down_is_refused(cast, client):
    client.force_login(cast.executive)
    url = reverse("dashboards:drill-issues")
    assert client.get(url).status_code == 400  # which issues?
    assert client.get(url, {"show": "everything"}).status_code == 400
    assert client.get(url, {"show": "escalated", "age": "old"}).status_code == 400
    assert client.get(url, {"show": "open", "after": "2026-11-10T12:00:00~1"}).status_code == 400
    assert client.get(url, {"show": "open", "format": "pdf"}).status_code == 400
    assert client.get(reverse("dashboards:drill-follow-ups"), {"show": "open"}).status_code == 400


def test_the_panels_say_which_filters_they_cannot_apply(cast, client, loops_world):
    client.force_login(cast.executive)
    for key in ("open-issues", "closing-the-loop"):
        url = reverse("dashboards:panel", args=[key])
        body = client.get(url, world.query(segment="consumer"), headers=HTMX).content.decode()
        assert body.count('data-testid="ignored-filter"') == 1  # only the filter that is set
        assert "does not apply the segment filter" in body
        body = client.get(url, world.query(), headers=HTMX).content.decode()
        assert 'data-testid="ignored-filter"' not in body


def _count(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url, world.query(), headers=HTMX).status_code == 200
    return len(queries)


@pytest.mark.parametrize("key", ["open-issues", "closing-the-loop"])
def test_the_panels_read_a_pinned_number_of_queries_whatever_the_rows(
    cast, client, loops_world, key
):
    """Prevents a query per issue, code red, follow-up or notice creeping in; a manager's
    scope is read once per kind of row, not once per figure."""
    url = reverse("dashboards:panel", args=[key])
    client.force_login(cast.executive)
    with time_machine.travel(NOW, tick=False):
        small = _count(client, url)
        make_world(cast)  # twice the rows
        large = _count(client, url)
        client.force_login(cast.manager)
        manager = _count(client, url)
    assert small == large == FRAGMENT_QUERIES[key]
    # A manager's scope: the filter form's teams read it (2), the issues' (1), the follow-ups' (2).
    assert manager == FRAGMENT_QUERIES[key] + {"open-issues": 3, "closing-the-loop": 5}[key]
