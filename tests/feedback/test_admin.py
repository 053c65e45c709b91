"""Feedback's records in the Django admin: admins read them; nobody adds, changes or deletes
one there (their services write them and the audit trail)."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.urls import reverse

from feedback.models import (
    Forum,
    ForumTopic,
    OutreachCall,
    OutreachExercise,
    OutreachList,
    Story,
    SurveyInvitation,
)
from tests.factories import CustomerFactory
from tests.loops.world import contact_of

pytestmark = pytest.mark.django_db
AT = datetime(2026, 11, 18, 12, tzinfo=UTC)


@pytest.fixture
def rows(cast):
    customer = CustomerFactory(name="<b>Ann</b>")
    contact = contact_of(cast.team_a, customer=customer)
    outreach = OutreachList.objects.create(
        executive=cast.executive,
        program="lost",
        month=date(2026, 11, 1),
        size=5,
        refused=2,
        generated_by="job",
    )
    forum = Forum.objects.create(title="November forum", held_at=AT, created_by=cast.executive)
    return [
        outreach,
        OutreachCall.objects.create(
            outreach_list=outreach, month=outreach.month, customer=customer
        ),
        OutreachExercise.objects.create(
            executive=cast.executive,
            task=OutreachExercise.Task.choices[0][0],
            done_at=AT,
            minutes_spent=30,
            outcome=OutreachExercise.Outcome.choices[0][0],
        ),
        forum,
        ForumTopic.objects.create(
            forum=forum,
            title="Refund forms",
            raised_by=cast.rep,
            outcome=ForumTopic.Outcome.choices[0][0],
        ),
        Story.objects.create(
            thumb="up", title="<i>Kind</i>", text="Helped", contact=contact, author=cast.rep
        ),
        SurveyInvitation.objects.create(
            contact=contact,
            customer=customer,
            scale="nps",
            channel="phone",
            sent_at=AT,
            expires_at=AT + timedelta(days=14),
        ),
    ]


def _url(row, action: str, *args) -> str:
    meta = row._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_{action}", args=args)


def test_admins_read_every_record_and_cannot_change_one(client, cast, rows):
    client.force_login(cast.admin)
    for row in rows:
        changelist = client.get(_url(row, "changelist"))
        assert changelist.status_code == 200, type(row)
        assert _url(row, "add") not in changelist.content.decode(), type(row)
        page = client.get(_url(row, "change", row.pk))
        assert page.status_code == 200, type(row)
        assert 'name="_save"' not in page.content.decode(), type(row)
        assert client.get(_url(row, "add")).status_code == 403, type(row)
        assert client.post(_url(row, "delete", row.pk), {"post": "yes"}).status_code == 403
        assert type(row).objects.filter(pk=row.pk).exists()


def test_customer_text_is_escaped(client, cast, rows):
    client.force_login(cast.admin)
    story = next(row for row in rows if isinstance(row, Story))
    page = client.get(_url(story, "changelist")).content.decode()
    assert "&lt;i&gt;Kind&lt;/i&gt;" in page and "<i>Kind</i>" not in page


@pytest.mark.parametrize("username", ["rep", "manager", "executive"])
def test_other_roles_are_refused(client, cast, rows, username):
    client.force_login(getattr(cast, username))
    for row in rows:
        assert client.get(_url(row, "changelist")).status_code == 403
