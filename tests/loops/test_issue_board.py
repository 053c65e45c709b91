"""The board: who sees which issues, filters, sort, keyset pages, bulk actions (each row
refused with its reason, the others applied), CSV and Excel exports, the query count, the
"Issues" navigation entry and the "Issues due" home widget."""

import csv
import io
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from loops.models import Issue
from loops.selectors import BoardFilters, issue_board_page
from loops.services.issues import evidence_add, issue_assign, issue_open
from tests.factories import UserFactory
from tests.loops.world import T0, contact_of, open_issue, reason
from voc.core.navigation import nav_items_for
from voc.people.roles import Role

pytestmark = pytest.mark.django_db
BOARD = reverse("loops:issue-board")


@pytest.fixture
def world(cast):
    """Department A: three issues (one by a manager who does not head it); department B: one."""
    billing = reason("Double charge", department=cast.dept_a)
    a1 = open_issue(cast, title="<b>Charged</b> twice", reasons=[billing], severity="code_red")
    a2 = open_issue(cast, title="Renewal email late", department=cast.dept_a, severity="low")
    a3 = open_issue(
        cast, title="Refund slow", department=cast.dept_a, sponsor=cast.executive,
        severity="high",
    )  # fmt: skip
    b1 = open_issue(cast, title="Outage", department=cast.dept_b, by=cast.other_manager)
    return {"a1": a1, "a2": a2, "a3": a3, "b1": b1, "billing": billing}


def shown(response) -> list[int]:
    return [row["issue"].pk for row in response.context["rows"]]


def test_the_head_sees_their_department_executives_and_admins_see_all(client, cast, world):
    client.force_login(cast.manager)
    assert sorted(shown(client.get(BOARD))) == sorted(world[k].pk for k in ("a1", "a2", "a3"))
    client.force_login(cast.other_manager)
    assert shown(client.get(BOARD)) == [world["b1"].pk]
    for user in (cast.executive, cast.admin):
        client.force_login(user)
        assert len(shown(client.get(BOARD))) == 4


def test_a_manager_who_heads_nothing_sees_only_what_they_own_or_opened(client, cast, world):
    lone = UserFactory(username="lone", role=Role.MANAGER, department=None)
    issue_assign(issue=world["a2"], owner=lone, by=cast.manager)
    theirs = issue_open(title="Mine", department=cast.dept_b, by=lone)
    client.force_login(lone)
    assert sorted(shown(client.get(BOARD))) == sorted([world["a2"].pk, theirs.pk])


def test_a_manager_of_the_department_who_does_not_head_it_sees_it_but_runs_only_theirs(
    client, cast, world
):
    member = UserFactory(username="member", role=Role.MANAGER, department=cast.dept_a)
    issue_assign(issue=world["a2"], owner=member, by=cast.manager)
    client.force_login(member)
    assert len(shown(client.get(BOARD))) == 3
    response = client.post(
        reverse("loops:issue-board-bulk"),
        {"issue": [world["a1"].pk, world["a2"].pk], "action": "severity", "severity": "high"},
        follow=True,
    )
    assert [str(m) for m in response.context["messages"]] == [
        "Changed 1 issue.",
        f"#{world['a1'].pk} <b>Charged</b> twice: Only its owner, its department head or an "
        "executive may.",
    ]
    assert Issue.objects.get(pk=world["a2"].pk).severity == "high"
    assert Issue.objects.get(pk=world["a1"].pk).severity == "code_red"


def test_a_rep_sees_only_what_they_flagged_or_opened(client, cast, world):
    client.force_login(cast.rep)
    assert shown(client.get(BOARD)) == []
    mine = issue_open(title="Rep's", by=cast.rep)
    assert shown(client.get(BOARD)) == [mine.pk]


def test_titles_are_escaped(client, cast, world):
    client.force_login(cast.manager)
    page = client.get(BOARD).content.decode()
    assert "&lt;b&gt;Charged&lt;/b&gt; twice" in page and "<b>Charged</b>" not in page


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"severity": "code_red"}, ["a1"]),
        ({"q": "renewal"}, ["a2"]),
        ({"sponsored": "on"}, []),  # the manager sponsors nothing
        ({"department": "dept_b"}, []),  # out of scope stays out of scope
        ({"status": "triaged"}, []),
    ],
)
def test_filters(client, cast, world, query, expected):
    if query.get("department"):
        query = {"department": getattr(cast, query["department"]).pk}
    client.force_login(cast.manager)
    assert shown(client.get(BOARD, query)) == [world[k].pk for k in expected]


def test_the_executive_s_sponsored_by_me_filter(client, cast, world):
    client.force_login(cast.executive)
    assert shown(client.get(BOARD, {"sponsored": "on"})) == [world["a3"].pk]


def test_owner_me_reason_and_sla_filters(client, cast, world):
    issue_assign(issue=world["a2"], owner=cast.manager, by=cast.manager)
    client.force_login(cast.manager)
    assert shown(client.get(BOARD, {"owner": "me"})) == [world["a2"].pk]
    assert shown(client.get(BOARD, {"reason": world["billing"].pk})) == [world["a1"].pk]
    # Code red responds within 4 h and high within 24 h: due soon; low within 7 days (a2 was
    # assigned: its 90-day resolution clock runs): on time.
    assert shown(client.get(BOARD, {"sla": "due_soon"})) == [world["a1"].pk, world["a3"].pk]
    assert shown(client.get(BOARD, {"sla": "on_time"})) == [world["a2"].pk]
    Issue.objects.filter(pk=world["a1"].pk).update(
        response_due_at=timezone.now() - timedelta(minutes=1)
    )
    assert shown(client.get(BOARD, {"sla": "overdue"})) == [world["a1"].pk]


def test_the_open_filter_leaves_out_closed_and_won_t_fix(client, cast, world):
    Issue.objects.filter(pk=world["a2"].pk).update(status="wont_fix", wont_fix_reason="No")
    client.force_login(cast.manager)
    assert world["a2"].pk not in shown(client.get(BOARD))
    assert world["a2"].pk in shown(client.get(BOARD, {"status": "any"}))
    assert shown(client.get(BOARD, {"status": "wont_fix"})) == [world["a2"].pk]


def test_sorts(client, cast, world):
    now = timezone.now()
    for key, days, evidence in (("a1", 30, 1), ("a2", 10, 3), ("a3", 20, 2)):
        Issue.objects.filter(pk=world[key].pk).update(
            created_at=now - timedelta(days=days),
            last_seen_at=now - timedelta(days=days // 10),
            evidence_count=evidence,
        )
    client.force_login(cast.manager)
    order = {
        "age": ["a1", "a3", "a2"],
        "last_seen": ["a2", "a3", "a1"],
        "evidence": ["a2", "a3", "a1"],
        "severity": ["a1", "a3", "a2"],
    }
    for sort, keys in order.items():
        assert shown(client.get(BOARD, {"sort": sort})) == [world[k].pk for k in keys], sort


@pytest.mark.parametrize("sort", ["age", "last_seen", "evidence", "severity"])
def test_keyset_pages_walk_every_row_once_with_ties(cast, sort):
    now = timezone.now()
    made = [open_issue(cast, title=f"Issue {n}", department=cast.dept_a) for n in range(7)]
    # Ties on every sort key: the id breaks them.
    Issue.objects.filter(pk__in=[i.pk for i in made]).update(created_at=now, evidence_count=2)
    seen: list[int] = []
    after = ""
    for _ in range(10):
        rows, after = issue_board_page(
            viewer=cast.manager, filters=BoardFilters(sort=sort), now=now, after=after, size=3
        )
        seen += [row.pk for row in rows]
        if not after:
            break
    assert sorted(seen) == sorted(i.pk for i in made) and len(seen) == 7


def test_exactly_a_page_of_rows_has_no_next_page(cast):
    now = timezone.now()
    for n in range(3):
        open_issue(cast, title=f"Issue {n}", department=cast.dept_a)
    rows, after = issue_board_page(viewer=cast.manager, filters=BoardFilters(), now=now, size=3)
    assert (len(rows), after) == (3, "")
    open_issue(cast, title="One more", department=cast.dept_a)
    rows, after = issue_board_page(viewer=cast.manager, filters=BoardFilters(), now=now, size=3)
    assert len(rows) == 3 and after


def test_a_forged_or_foreign_cursor_starts_from_the_top(client, cast, world):
    client.force_login(cast.manager)
    for cursor in ("garbage", "W10", "WyJldmlkZW5jZSIsIDEsIDFd"):  # the last: another sort's
        response = client.get(BOARD, {"after": cursor})
        assert response.status_code == 200 and len(shown(response)) == 3


def test_the_board_s_queries_do_not_grow_with_its_rows(
    client, cast, world, django_assert_max_num_queries
):
    client.force_login(cast.manager)
    client.get(BOARD)
    owner = UserFactory(username="owner2", role=Role.MANAGER, department=cast.dept_a)
    for n in range(30):
        issue = open_issue(cast, title=f"More {n}", department=cast.dept_a)
        issue_assign(issue=issue, owner=owner, by=cast.manager)
    # session, user, the scope's departments, the rows (owner, department joined), the
    # filters' departments and owners
    with django_assert_max_num_queries(8):
        response = client.get(BOARD)
    assert len(shown(response)) == 33


# --- bulk actions ----------------------------------------------------------------------------


def bulk(client, **data):
    return client.post(reverse("loops:issue-board-bulk"), data, follow=True)


def test_bulk_assign_applies_the_legal_rows_and_names_each_refusal(client, cast, world):
    Issue.objects.filter(pk=world["a2"].pk).update(status="closed", owner=cast.manager)
    client.force_login(cast.manager)
    response = bulk(
        client,
        issue=[world["a1"].pk, world["a2"].pk, world["b1"].pk],
        action="assign",
        owner=cast.manager.pk,
    )
    messages = [str(m) for m in response.context["messages"]]
    assert "Changed 1 issue." in messages
    assert (
        f"#{world['a2'].pk} Renewal email late: The issue is closed: it needs no owner now."
        in messages
    )
    assert f"#{world['b1'].pk}: no such issue, or not one you can see." in messages
    assert Issue.objects.get(pk=world["a1"].pk).owner_id == cast.manager.pk
    assert Issue.objects.get(pk=world["b1"].pk).owner_id is None


def test_bulk_status_refuses_illegal_moves_with_the_rules_message(client, cast, world):
    issue_assign(issue=world["a3"], owner=cast.manager, by=cast.manager)
    client.force_login(cast.manager)
    response = bulk(
        client, issue=[world["a1"].pk, world["a3"].pk], action="status", status="in_progress"
    )
    messages = [str(m) for m in response.context["messages"]]
    assert "Changed 1 issue." in messages
    assert any(
        m.startswith(f"#{world['a1'].pk} ") and "An issue that is new cannot become in progress"
        in m for m in messages
    )  # fmt: skip
    assert Issue.objects.get(pk=world["a3"].pk).status == "in_progress"
    assert Issue.objects.get(pk=world["a1"].pk).status == "new"


def test_bulk_severity_and_a_row_the_user_may_not_run(client, cast, world):
    lone = UserFactory(username="lone", role=Role.MANAGER, department=cast.dept_a)
    opened_by_lone = issue_open(title="Lone's", department=cast.dept_b, by=lone)
    client.force_login(lone)
    response = bulk(client, issue=[opened_by_lone.pk], action="severity", severity="high")
    messages = [str(m) for m in response.context["messages"]]
    assert messages == [
        f"#{opened_by_lone.pk} Lone's: Only its owner, its department head or an executive may."
    ]
    client.force_login(cast.executive)
    bulk(client, issue=[world["a1"].pk, world["b1"].pk], action="severity", severity="low")
    assert set(
        Issue.objects.filter(pk__in=[world["a1"].pk, world["b1"].pk]).values_list(
            "severity", flat=True
        )
    ) == {"low"}


def test_bulk_without_a_choice_changes_nothing(client, cast, world):
    client.force_login(cast.manager)
    response = bulk(client, issue=[world["a1"].pk], action="assign")
    assert "Choose one for the issues you ticked." in [str(m) for m in response.context["messages"]]
    assert Issue.objects.get(pk=world["a1"].pk).owner_id is None


def test_reps_and_admins_cannot_bulk(client, cast, world):
    for user in (cast.rep, cast.admin):
        client.force_login(user)
        response = client.post(
            reverse("loops:issue-board-bulk"),
            {"issue": [world["a1"].pk], "action": "severity", "severity": "low"},
        )
        assert response.status_code == 403
    assert Issue.objects.get(pk=world["a1"].pk).severity == "code_red"


# --- exports ---------------------------------------------------------------------------------


def test_csv_export_is_the_filtered_board_with_formulas_neutralised(client, cast, world):
    open_issue(cast, title='=HYPERLINK("x")', department=cast.dept_a, severity="low")
    client.force_login(cast.manager)
    response = client.get(reverse("loops:issue-board-export"), {"severity": "low", "format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:4] == ["Issue", "Status", "Title", "Severity"]
    titles = sorted(row[2] for row in rows[1:])
    assert titles == ['\'=HYPERLINK("x")', "Renewal email late"]


def test_excel_export_and_a_wrong_format(client, cast, world):
    client.force_login(cast.executive)
    response = client.get(reverse("loops:issue-board-export"), {"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert sheet.max_row == 5  # the header and four issues
    assert client.get(reverse("loops:issue-board-export"), {"format": "pdf"}).status_code == 400


def test_an_issue_s_evidence_exports(client, cast, world):
    contact = contact_of(cast.team_a, subject="@SUM(A1)", at=T0)
    evidence_add(issue=world["a1"], source=contact, by=cast.manager)
    client.force_login(cast.manager)
    url = reverse("loops:issue-evidence-export", args=[world["a1"].pk])
    rows = list(csv.reader(io.StringIO(
        b"".join(client.get(url).streaming_content).decode("utf-8-sig"))))  # fmt: skip
    assert len(rows) == 2 and rows[1][2] == str(contact.pk) and rows[1][3] == "'@SUM(A1)"
    client.force_login(cast.other_manager)
    assert client.get(url).status_code == 404


# --- navigation and home ---------------------------------------------------------------------


def test_issues_is_in_the_navigation_of_everyone_who_views_issues(cast):
    for user in (cast.rep, cast.manager, cast.executive, cast.admin):
        keys = [item["key"] for item in nav_items_for(user)]
        assert "issues" in keys, user.username


def test_the_issues_due_widget_lists_the_manager_s_overdue_and_soon_due_issues(client, cast):
    now = timezone.now()
    overdue = open_issue(cast, title="Late one", owner=cast.manager)
    soon = open_issue(cast, title="Soon one", owner=cast.manager)
    later = open_issue(cast, title="Later one", owner=cast.manager)
    others = open_issue(cast, title="Not mine", owner=cast.other_manager)
    Issue.objects.filter(pk=overdue.pk).update(response_due_at=now - timedelta(hours=1))
    Issue.objects.filter(pk=soon.pk).update(response_due_at=now + timedelta(hours=47))
    Issue.objects.filter(pk=later.pk).update(response_due_at=now + timedelta(hours=49))
    Issue.objects.filter(pk=others.pk).update(response_due_at=now - timedelta(hours=1))
    client.force_login(cast.manager)
    page = client.get(reverse("home")).content.decode()
    assert "Issues due" in page and "Late one" in page and "Soon one" in page
    assert "Later one" not in page and "Not mine" not in page
    assert page.index("Late one") < page.index("Soon one")
