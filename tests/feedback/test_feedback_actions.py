"""The action slots of feedback's pages (feedback/actions.py): what a later app registers shows
on the item page, the complaint page and beside each side-by-side note, for the viewers with
its capability, where its url() gives one."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from feedback.access import RUN_SESSIONS, VIEW_FEEDBACK_ITEMS
from feedback.actions import (
    FEEDBACK_ITEM,
    SESSION_NOTE,
    FeedbackAction,
    feedback_actions_shown,
    register_feedback_action,
    session_notes_with_actions,
    unregister_feedback_action,
)
from feedback.models import Session, SessionNote
from feedback.selectors import session_notes_visible
from tests.feedback.feedback_pages_world import make_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def registered():
    """Two actions per slot: one for everyone who reads items or runs sessions, one that says
    "not for this one" (None) for odd ids; removed afterwards."""
    keys = []

    def add(slot, key, label, capability, url, order=100):
        register_feedback_action(slot, FeedbackAction(key, label, capability, url, order))
        keys.append((slot, key))

    yield add
    for slot, key in keys:
        unregister_feedback_action(slot, key)


def _session(cast, *notes: str) -> Session:
    now = timezone.now()
    session = Session.objects.create(
        executive=cast.executive, rep=cast.rep, scheduled_by=cast.executive,
        scheduled_start=now, status=Session.Status.RUNNING, started_at=now,
    )  # fmt: skip
    for text in notes:
        SessionNote.objects.create(
            session=session, author=cast.executive, text=text, client_id=uuid.uuid4(),
            noted_at=now,
        )  # fmt: skip
    return session


def test_the_item_and_complaint_pages_show_the_registered_actions_in_order(
    client, cast, registered
):
    world = make_world(cast)
    registered(FEEDBACK_ITEM, "test.second", "Second <b>", VIEW_FEEDBACK_ITEMS,
               lambda item, viewer: f"/second/{item.pk}/?a=1&b=2", order=20)  # fmt: skip
    registered(FEEDBACK_ITEM, "test.first", "First", VIEW_FEEDBACK_ITEMS,
               lambda item, viewer: f"/first/{item.pk}/", order=10)  # fmt: skip
    client.force_login(cast.rep)
    item = world.complaint_a
    for page in ("feedback:item-detail", "feedback:complaint-detail"):
        html = client.get(reverse(page, args=[item.pk])).content.decode()
        first = html.index(f'href="/first/{item.pk}/" data-action="test.first">First</a>')
        second = html.index(
            f'href="/second/{item.pk}/?a=1&amp;b=2" data-action="test.second">Second &lt;b&gt;</a>'
        )
        assert first < second, page


def test_an_action_without_the_capability_or_a_url_is_not_shown(client, cast, registered):
    world = make_world(cast)
    registered(FEEDBACK_ITEM, "test.runners", "Runners only", RUN_SESSIONS,
               lambda item, viewer: "/runners/")  # fmt: skip
    registered(FEEDBACK_ITEM, "test.none", "Never here", VIEW_FEEDBACK_ITEMS,
               lambda item, viewer: None)  # fmt: skip
    client.force_login(cast.manager)  # reads the item; runs no sessions
    html = client.get(reverse("feedback:item-detail", args=[world.nps_a.pk])).content.decode()
    assert "/runners/" not in html and "Never here" not in html
    client.force_login(cast.rep)  # runs sessions
    shown = feedback_actions_shown(FEEDBACK_ITEM, obj=world.nps_a, viewer=cast.rep)
    assert [action.key for action in shown if action.key.startswith("test.")] == ["test.runners"]


def test_each_note_shows_its_own_actions(client, cast, registered):
    session = _session(cast, "First note", "Second note")
    notes = list(SessionNote.objects.order_by("id"))
    registered(SESSION_NOTE, "test.note", "Do it", RUN_SESSIONS,
               lambda note, viewer: f"/note/{note.pk}/" if note.pk == notes[1].pk else None)  # fmt: skip
    client.force_login(cast.executive)
    html = client.get(reverse("feedback:session-detail", args=[session.pk])).content.decode()
    assert html.count('data-action="test.note"') == 1
    assert f'href="/note/{notes[1].pk}/" data-action="test.note">Do it</a>' in html
    client.force_login(cast.admin)  # reads the session, does not run sessions
    html = client.get(reverse("feedback:session-detail", args=[session.pk])).content.decode()
    assert 'data-action="test.note"' not in html


def test_note_actions_cost_no_query_per_note(cast, registered):
    session = _session(cast, *[f"Note {n}" for n in range(12)])
    registered(SESSION_NOTE, "test.note", "Do it", RUN_SESSIONS,
               lambda note, viewer: f"/note/{note.pk}/")  # fmt: skip
    notes = session_notes_visible(viewer=cast.executive, session=session)
    with CaptureQueriesContext(connection) as queries:
        listed = session_notes_with_actions(notes, viewer=cast.executive)
    # The notes, their authors (joined) and their contacts (one prefetch): not one per note.
    assert len(queries.captured_queries) <= 3
    assert [[a.url for a in note.actions if a.key == "test.note"] for note in listed] == [
        [f"/note/{note.pk}/"] for note in listed
    ]


def test_unregistering_removes_the_action(cast):
    register_feedback_action(
        FEEDBACK_ITEM, FeedbackAction("test.gone", "Gone", VIEW_FEEDBACK_ITEMS, lambda i, v: "/x/")
    )
    unregister_feedback_action(FEEDBACK_ITEM, "test.gone")
    unregister_feedback_action(FEEDBACK_ITEM, "test.gone")  # twice: no error
    world = make_world(cast)
    keys = [a.key for a in feedback_actions_shown(FEEDBACK_ITEM, obj=world.nps_a, viewer=cast.rep)]
    assert "test.gone" not in keys
