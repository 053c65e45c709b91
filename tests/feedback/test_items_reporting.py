"""feedback_rollup_totals: every role's totals equal counting the items it may see, and the
NPS, CSAT and CES figures from the bands."""

from datetime import UTC, date, datetime

import pytest
from django.db.models import Count, Q, Sum

from contacts.ingest.service import contacts_ingest
from contacts.models import Contact, ContactReason
from feedback.items.reporting import FeedbackFilters, feedback_rollup_totals, feedback_score_summary
from feedback.items.selectors import feedback_list_visible
from feedback.items.services import feedback_item_record, feedback_items_ingest
from tests.factories import UserFactory
from voc.core.audit import INGEST
from voc.people.roles import Role

pytestmark = pytest.mark.django_db
PERIOD = FeedbackFilters(start=date(2026, 11, 1), end=date(2026, 11, 30))


@pytest.fixture
def items(cast):
    ContactReason.objects.create(name="Invoices", department=cast.dept_a)
    ContactReason.objects.create(name="Outage", department=cast.dept_b)
    contacts_ingest(
        rows=[
            {"source": "crm", "external_id": key, "channel": "phone", "team": team.name,
             "occurred_at": "2026-11-02T10:00:00Z", "reason": reason}
            for key, team, reason in (
                ("a", cast.team_a, ""), ("b", cast.team_b, ""), ("b-inv", cast.team_b, "Invoices"),
            )
        ]
    )  # fmt: skip
    rows = []
    for n in range(30):
        contact = ("a", "b", "b-inv", "")[n % 4]
        kind, score = [("nps", n % 11), ("csat", 1 + n % 5), ("ces", 1 + n % 7), ("review", None)][
            n % 4 if n % 5 else 3
        ]
        row = {"source": "s", "external_id": str(n), "kind": kind, "score": score,
               "received_at": f"2026-11-{1 + n % 28:02d}T12:00:00Z", "verbatim": "bad awful"}  # fmt: skip
        if contact:
            row |= {"contact_source": "crm", "contact_external_id": contact}
        if n % 7 == 0:
            row["reason"] = "Outage" if n % 2 else "Invoices"
        rows.append(row)
    assert not feedback_items_ingest(rows=rows, by=INGEST).rejected
    feedback_item_record(kind="nps", score=9, source="x", by=INGEST,
                         contact=Contact.objects.get(external_id="a"),
                         received_at=datetime(2026, 11, 15, 12, tzinfo=UTC))  # fmt: skip


VIEWERS = ["rep", "teammate", "outsider", "manager", "other_manager", "executive", "admin",
           "manager_heading_nothing", "manager_of_nothing"]  # fmt: skip


def _viewer(cast, name):
    if name == "manager_heading_nothing":  # in department A, heads and leads nothing
        return UserFactory(role=Role.MANAGER, department=cast.dept_a)
    if name == "manager_of_nothing":  # no department, no team
        return UserFactory(role=Role.MANAGER)
    return getattr(cast, name)


@pytest.mark.parametrize("name", VIEWERS)
def test_totals_equal_counting_the_visible_items(cast, items, name):
    viewer = _viewer(cast, name)
    visible = feedback_list_visible(viewer=viewer).filter(
        received_at__date__gte=PERIOD.start, received_at__date__lte=PERIOD.end
    )
    expected = visible.aggregate(
        items=Count("id"), score_sum=Sum("score"), scored_items=Count("score"),
        negative_sentiment=Count("id", filter=Q(sentiment__lte=-0.05)),
    )  # fmt: skip
    totals = feedback_rollup_totals(viewer=viewer, filters=PERIOD)[0]
    assert totals["items"] == expected["items"]
    assert totals["score_sum"] == (expected["score_sum"] or 0)
    assert totals["scored_items"] == expected["scored_items"]
    by_kind = {
        row["kind"]: row["items"]
        for row in feedback_rollup_totals(viewer=viewer, filters=PERIOD, group_by=["kind"])
    }
    assert by_kind == dict(
        visible.values_list("kind").annotate(n=Count("id")).order_by().values_list("kind", "n")
    )
    if name in ("executive", "admin"):
        assert totals["items"] == 31
    if name == "manager_of_nothing":
        assert totals["items"] == 0


def test_totals_answer_in_one_query(cast, items, django_assert_num_queries):
    with django_assert_num_queries(1):
        feedback_rollup_totals(viewer=cast.admin, filters=PERIOD, group_by=["week", "band"])


def test_nps_csat_ces_figures(cast):
    answers = [("nps", s) for s in (0, 6, 7, 8, 9, 10, 10)] + [("csat", s) for s in (1, 3, 4, 5)]
    answers += [("ces", s) for s in (3, 4, 5, 7)]
    feedback_items_ingest(
        rows=[
            {"source": "s", "external_id": str(n), "kind": kind, "score": score,
             "received_at": "2026-11-10T12:00:00Z"}
            for n, (kind, score) in enumerate(answers)
        ],
        by=INGEST,
    )  # fmt: skip
    nps = feedback_score_summary(viewer=cast.admin, filters=PERIOD, kind="nps")
    assert (nps.answers, nps.negative, nps.neutral, nps.positive) == (7, 2, 2, 3)
    assert nps.nps == pytest.approx(100 * (3 - 2) / 7)
    csat = feedback_score_summary(viewer=cast.admin, filters=PERIOD, kind="csat")
    assert csat.positive_share == 0.5
    ces = feedback_score_summary(viewer=cast.admin, filters=PERIOD, kind="ces")
    assert (ces.positive_share, ces.mean) == (0.5, 19 / 4)
    empty = feedback_score_summary(
        viewer=cast.rep, filters=PERIOD, kind="nps"
    )  # no team: admins and executives only
    assert (empty.answers, empty.nps) == (0, None)
