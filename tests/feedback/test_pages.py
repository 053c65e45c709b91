"""The side-by-side pages and the note API: thin views over the services, refusals with a
message, escaped customer words, and the home widgets for each role."""

import uuid
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from feedback.models import Session, SessionNote

pytestmark = pytest.mark.django_db


def running_session(cast) -> Session:
    return Session.objects.create(
        executive=cast.executive, rep=cast.rep, scheduled_by=cast.executive,
        scheduled_start=timezone.now(), status="running", started_at=timezone.now(),
    )  # fmt: skip


def note_body(**overrides):
    return {
        "client_id": str(uuid.uuid4()),
        "kind": "observation",
        "text": "Customer <script>alert(1)</script> read the error code",
        "noted_at": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
    } | overrides


def test_an_executive_schedules_from_the_form(client, cast):
    client.force_login(cast.executive)
    start = (timezone.localtime() + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("feedback:session-schedule"),
        {"other": cast.rep.id, "scheduled_start": start, "planned_minutes": 90, "topic": "Bills"},
    )
    session = Session.objects.get()
    assert response.url == reverse("feedback:session-detail", args=[session.id])
    assert (session.rep, session.planned_minutes, session.topic) == (cast.rep, 90, "Bills")


def test_the_form_offers_only_the_other_role(client, cast):
    client.force_login(cast.rep)
    form = client.get(reverse("feedback:session-schedule")).context["form"]
    assert list(form.fields["other"].queryset) == [cast.executive]
    past = (timezone.localtime() - timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("feedback:session-schedule"),
        {"other": cast.executive.id, "scheduled_start": past, "planned_minutes": 90},
    )
    assert response.status_code == 200
    assert "Choose a time that has not passed." in response.content.decode()
    assert not Session.objects.exists()


def test_the_note_page_escapes_notes_and_says_it_is_not_a_review(client, cast):
    session = running_session(cast)
    SessionNote.objects.create(
        session=session, author=cast.rep, text="<b>shouting</b>", client_id=uuid.uuid4(),
        noted_at=timezone.now(),
    )  # fmt: skip
    client.force_login(cast.rep)
    page = client.get(reverse("feedback:session-detail", args=[session.id])).content.decode()
    assert "&lt;b&gt;shouting&lt;/b&gt;" in page and "<b>shouting" not in page
    assert "Not a performance review." in page
    for prompt in (
        "Does that always happen?",
        "How many contacts a day are like this?",
        "Isn&#x27;t there a better way for customers to do this?",
        "What would you normally do with this input?",
    ):
        assert prompt in page
    assert "js/session-notes.js" in page and "<script>" not in page.split("</head>")[1]


def test_the_note_api_stores_a_note_once_and_answers_200_the_second_time(cast):
    session = running_session(cast)
    api = APIClient()
    api.force_login(cast.executive)
    url = reverse("api-session-note-create", args=[session.id])
    body = note_body(contact_ids=[])
    first = api.post(url, body, format="json")
    again = api.post(url, body, format="json")
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert SessionNote.objects.count() == 1


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"client_id": 12}, "client_id", "valid UUID"),
        ({"kind": "rant"}, "kind", "not a valid choice"),
        ({"text": "  "}, "text", "Write something"),
        ({"noted_at": "yesterday"}, "noted_at", "Give a date and time"),
    ],
)
def test_the_note_api_refuses_bad_input_with_a_message(cast, overrides, field, message):
    session = running_session(cast)
    api = APIClient()
    api.force_login(cast.rep)
    response = api.post(
        reverse("api-session-note-create", args=[session.id]), note_body(**overrides), format="json"
    )
    assert response.status_code == 400
    assert message in " ".join(response.json()[field])


def test_the_note_api_refuses_a_session_not_yet_started(cast):
    session = running_session(cast)
    Session.objects.filter(id=session.id).update(status="scheduled", started_at=None)
    api = APIClient()
    api.force_login(cast.rep)
    response = api.post(
        reverse("api-session-note-create", args=[session.id]), note_body(), format="json"
    )
    assert response.status_code == 409
    assert "Start the session" in str(response.json())
    Session.objects.filter(id=session.id).update(status="running")
    response = api.post(
        reverse("api-session-note-create", args=[session.id]),
        note_body(contact_ids=[987654]),
        format="json",
    )
    assert response.status_code == 409
    assert response.json()["contact_ids"] == ["No contact has the id 987654."]


def test_a_non_participant_executive_reads_but_may_not_write(cast):
    from tests.factories import UserFactory
    from voc.people.roles import Role

    session = running_session(cast)
    api = APIClient()
    api.force_login(UserFactory(role=Role.EXECUTIVE))
    response = api.post(
        reverse("api-session-note-create", args=[session.id]), note_body(), format="json"
    )
    assert response.status_code == 403
    assert "Only the executive and the rep" in response.json()["detail"]


WIDGETS = {
    "rep": {"feedback.upcoming"},
    "executive": {"feedback.upcoming", "feedback.tracker"},
    "admin": {"feedback.tracker"},
    "manager": set(),
    "outsider": set(),  # may take part, but has no session coming: nothing to show
}


@pytest.mark.parametrize("role", WIDGETS)
def test_home_widgets_by_role(client, cast, role):
    running_session(cast)
    user = getattr(cast, role)
    client.force_login(user)
    page = client.get(reverse("home")).content.decode()
    shown = {key for key in ("feedback.upcoming", "feedback.tracker") if key in page}
    assert shown == WIDGETS[role]
    assert ('data-testid="tracker"' in page) is ("feedback.tracker" in shown)
    # both participants see their running session; the outsider has none
    assert ("running now" in page) is (role in ("rep", "executive"))


def test_a_refused_action_says_why_on_the_page(client, cast):
    session = running_session(cast)
    Session.objects.filter(id=session.id).update(status="scheduled", started_at=None)
    client.force_login(cast.rep)
    response = client.post(reverse("feedback:session-end", args=[session.id]), follow=True)
    assert "This session is scheduled: it can&#x27;t be ended." in response.content.decode()
    session.refresh_from_db()
    assert session.status == "scheduled"


def test_my_sessions_lists_coming_ones_soonest_first_and_past_ones_apart(client, cast):
    now = timezone.now()
    later, sooner = (
        Session.objects.create(
            executive=cast.executive,
            rep=cast.rep,
            scheduled_by=cast.rep,
            scheduled_start=now + timedelta(days=days),
        )
        for days in (3, 1)
    )
    cancelled = Session.objects.create(
        executive=cast.executive, rep=cast.rep, scheduled_by=cast.rep,
        scheduled_start=now + timedelta(days=2), status="cancelled",
    )  # fmt: skip
    Session.objects.create(
        executive=cast.executive,
        rep=cast.teammate,
        scheduled_by=cast.executive,
        scheduled_start=now + timedelta(days=1),
    )  # fmt: skip  (not the rep's)
    client.force_login(cast.rep)
    context = client.get(reverse("feedback:session-list")).context
    assert context["upcoming"] == [sooner, later]
    assert context["past"] == [cancelled]
