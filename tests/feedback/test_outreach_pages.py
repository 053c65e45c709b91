"""The outreach pages by role, the hub's customer cards and call form, the home widget, the
monthly summary (its exact content, shared by email once and escaped), the action slot,
forums, erasure and the customer timeline."""

from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from contacts.erasure.services import customer_erase
from contacts.models import BudgetTouch
from contacts.selectors import customer_timeline
from feedback.models import Forum, ForumTopic, OutreachCall, OutreachExercise, OutreachList
from feedback.outreach import selectors
from feedback.outreach.registry import (
    OutreachAction,
    register_outreach_action,
    unregister_outreach_action,
)
from feedback.outreach.services import (
    SUMMARY_PURPOSE,
    forum_create,
    forum_topic_add,
    outreach_call_log,
    outreach_exercise_log,
    outreach_list_generate,
    outreach_summary_share,
)
from tests.factories import UserFactory
from tests.feedback.outreach_helpers import MONTH, NOW, TODAY, gained, lost, promoter
from voc.core.models import SendOnce
from voc.core.sendonce import send_once_deliver
from voc.people.roles import Role

pytestmark = pytest.mark.django_db

CARD = "4111 1111 1111 1111"


@pytest.fixture(autouse=True)
def frozen(settings):
    settings.VOC_REPORTING_TIME_ZONE = "UTC"
    settings.VOC_BASE_URL = "https://voc.example.com"
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def vp(cast):
    return UserFactory(username="vp", role=Role.EXECUTIVE, reports_to=cast.executive)


@pytest.fixture
def lists(cast, vp):
    """The CEO's lists: two lost customers and a loyal one; the VP's: one lost customer."""
    dana = lost(20, name="Dana Vo")
    outreach_list_generate(executive=vp, program="lost", today=TODAY, by=vp)  # Dana, alone
    ann = lost(3, name="Ann Lee", reason_text="Moved to a rival", phone="+15550101111")
    bob = lost(10, name="Bob Ray")
    carl = gained(date(2020, 1, 1), name="Carl Ode")
    for program in ("lost", "loyal"):
        outreach_list_generate(
            executive=cast.executive, program=program, today=TODAY, by=cast.executive
        )
    dana_call = OutreachCall.objects.get(customer=dana)
    return {"ann": ann, "bob": bob, "carl": carl, "dana": dana, "dana_call": dana_call}


def call_of(customer):
    return OutreachCall.objects.select_related("outreach_list").get(customer=customer)


def log(customer, by, *, minutes=12, outcome="reached", notes="", follow_up=""):
    return outreach_call_log(
        call=call_of(customer), called_at=NOW - timedelta(hours=1), duration_minutes=minutes,
        outcome=outcome, notes=notes, follow_up=follow_up, by=by,
    )  # fmt: skip


# --- who sees what ---------------------------------------------------------------------------


def no_department_manager():
    return UserFactory(username="floater", role=Role.MANAGER)


@pytest.mark.parametrize("who", ["rep", "outsider", "manager", "other_manager", "floater"])
def test_reps_and_managers_see_no_call_list(client, cast, lists, who):
    user = no_department_manager() if who == "floater" else getattr(cast, who)
    client.force_login(user)
    for url in (
        reverse("feedback:outreach-hub"),
        reverse("feedback:outreach-program", args=["lost"]),
        reverse("feedback:outreach-call", args=[lists["dana_call"].id]),
        reverse("feedback:outreach-summary", args=["lost", "2026-11"]),
    ):
        assert client.get(url).status_code == 403, url
    assert selectors.outreach_calls_visible(viewer=user).count() == 0
    assert selectors.outreach_lists_visible(viewer=user).count() == 0


@pytest.mark.parametrize(("who", "status"), [("rep", 200), ("outsider", 200), ("manager", 403),
                                             ("floater", 403), ("executive", 200), ("admin", 200)])  # fmt: skip
def test_reps_and_executives_see_the_forums_managers_do_not(client, cast, who, status):
    forum = Forum.objects.create(title="Forum", held_at=NOW)
    user = no_department_manager() if who == "floater" else getattr(cast, who)
    client.force_login(user)
    assert client.get(reverse("feedback:forum-list")).status_code == status
    assert client.get(reverse("feedback:forum-detail", args=[forum.id])).status_code == status


def test_an_executive_reads_their_own_the_ceo_and_admins_everyones(client, cast, vp, lists):
    dana_call = lists["dana_call"]
    ceo_call = call_of(lists["ann"])
    assert set(selectors.outreach_calls_visible(viewer=vp)) == {dana_call}
    assert set(selectors.outreach_calls_visible(viewer=cast.executive)) == set(
        OutreachCall.objects.all()
    )
    assert selectors.outreach_calls_visible(viewer=cast.admin).count() == 4
    client.force_login(vp)
    assert client.get(reverse("feedback:outreach-call", args=[ceo_call.id])).status_code == 404
    page = client.get(reverse("feedback:outreach-program", args=["lost"])).content.decode()
    assert "Dana Vo" in page and "Ann Lee" not in page
    client.force_login(cast.executive)
    page = client.get(reverse("feedback:outreach-program", args=["lost"])).content.decode()
    assert "Dana Vo" in page and "Ann Lee" in page


def test_only_the_lists_executive_logs_its_calls(cast, vp, lists):
    from django.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        log(lists["dana"], cast.executive)  # the CEO reads the VP's list, but it is the VP's call


# --- the hub ---------------------------------------------------------------------------------


def test_the_hub_shows_my_cards_with_why_and_a_form(client, cast, lists):
    promoted = promoter(10)
    OutreachList.objects.filter(executive=cast.executive, program="loyal").delete()
    BudgetTouch.objects.filter(customer=lists["carl"]).delete()  # as if never asked
    outreach_list_generate(
        executive=cast.executive, program="loyal", today=TODAY, by=cast.executive
    )
    client.force_login(cast.executive)
    page = client.get(reverse("feedback:outreach-hub")).content.decode()
    assert page.count('data-testid="call-card"') == 4  # Ann, Bob; Carl and the promoter
    assert "Ann Lee" in page and "+15550101111" in page and lists["ann"].email in page
    assert f"Lost on {TODAY - timedelta(days=3):%-d %b %Y}: Moved to a rival" in page
    assert "Customer since 1 Jan 2020" in page
    assert "Promoter: scored 10 of 10" in page
    assert page.count('data-testid="call-form"') == 4
    assert "Dana Vo" not in page  # the VP's
    assert "Your calls this month: <strong>0 of 4</strong> done." in page
    assert 'data-testid="overview"' in page  # the CEO sees every executive's progress
    assert promoted.pk in OutreachCall.objects.values_list("customer", flat=True)


def test_logging_a_call_from_the_hub_redacts_and_counts(client, cast, lists):
    client.force_login(cast.executive)
    call = call_of(lists["ann"])
    response = client.post(
        reverse("feedback:outreach-call", args=[call.id]),
        {"called_at": "2026-11-18T10:30", "duration_minutes": "14", "outcome": "won_back",
         "notes": f"Card {CARD} was charged twice", "follow_up": "Fix double charges", "next": "hub"},
    )  # fmt: skip
    assert response.status_code == 302 and response["Location"] == reverse("feedback:outreach-hub")
    call.refresh_from_db()
    assert (call.duration_minutes, call.outcome, call.logged_by) == (14, "won_back", cast.executive)
    assert CARD not in call.notes and "[card number redacted]" in call.notes
    page = client.get(reverse("home")).content.decode()
    assert "Your calls this month: <strong>1 of 3</strong> done." in page


def test_a_bad_call_form_says_why(client, cast, lists):
    client.force_login(cast.executive)
    call = call_of(lists["ann"])
    response = client.post(
        reverse("feedback:outreach-call", args=[call.id]),
        {"called_at": "2026-11-18T10:30", "duration_minutes": "0", "outcome": "reached"},
        follow=True,
    )
    assert "Minutes on the phone" in response.content.decode()
    call.refresh_from_db()
    assert call.called_at is None


def test_generate_from_the_page_once(client, cast):
    lost(2)
    client.force_login(cast.executive)
    client.post(reverse("feedback:outreach-generate"))
    client.post(reverse("feedback:outreach-generate"))
    assert OutreachList.objects.filter(executive=cast.executive).count() == 2
    assert OutreachCall.objects.count() == 1


def test_the_home_widget_says_calls_done_of_the_list(client, cast, lists):
    log(lists["ann"], cast.executive)
    log(lists["bob"], cast.executive)
    client.force_login(cast.executive)
    page = client.get(reverse("home")).content.decode()
    assert "Your calls this month: <strong>2 of 3</strong> done." in page
    client.force_login(cast.admin)  # keeps no list: no widget
    assert 'data-testid="outreach-progress"' not in client.get(reverse("home")).content.decode()


def test_the_sessions_page_and_the_tracker_link_the_hub(client, cast):
    hub = reverse("feedback:outreach-hub")
    client.force_login(cast.executive)
    assert (
        f'href="{hub}" data-testid="outreach-link"'
        in client.get(reverse("feedback:session-list")).content.decode()
    )
    assert (
        f'href="{hub}" data-testid="tracker-outreach-link"'
        in client.get(reverse("home")).content.decode()
    )
    client.force_login(cast.rep)
    assert hub not in client.get(reverse("feedback:session-list")).content.decode()


# --- the summary -----------------------------------------------------------------------------


def test_the_summary_groups_what_we_heard_and_lists_what_we_will_do(cast, vp, lists):
    log(lists["ann"], cast.executive, minutes=10, outcome="won_back", notes="Coming back",
        follow_up="Call her in January")  # fmt: skip
    log(lists["bob"], cast.executive, minutes=5, outcome="reached", notes="Prices")
    log(lists["dana"], vp, minutes=7, outcome="reached", notes="Slow app")
    summary = selectors.outreach_summary(viewer=cast.executive, program="lost", month=MONTH)
    ceo, vp_name = cast.executive.get_full_name(), vp.get_full_name()
    assert (summary.entries, summary.minutes) == (3, 22)
    assert [(outcome, [(h.who, h.what, h.notes) for h in items])
            for outcome, items in summary.heard.items()] == [
        # in the order they were called (the same minute: in list order, Dana's first)
        ("Talked with them", [(vp_name, "Dana Vo", "Slow app"), (ceo, "Bob Ray", "Prices")]),
        ("They will come back", [(ceo, "Ann Lee", "Coming back")]),
    ]  # fmt: skip
    assert [(f.what, f.owner, f.due_on, f.done) for f in summary.will_do] == [
        ("Call her in January", ceo, None, False)
    ]
    # the VP's summary holds the VP's own calls only
    assert selectors.outreach_summary(viewer=vp, program="lost", month=MONTH).entries == 1


def test_the_exercise_and_forum_summaries(cast, vp):
    outreach_exercise_log(
        task="file_claim", done_at=NOW - timedelta(days=1), minutes_spent=40, outcome="hard",
        notes="Asked for the contract number three times", follow_up="One-page claim form",
        by=vp,
    )  # fmt: skip
    summary = selectors.outreach_summary(viewer=cast.executive, program="exercise", month=MONTH)
    assert (summary.entries, summary.minutes) == (1, 40)
    assert [(o, [(h.what, h.notes) for h in items]) for o, items in summary.heard.items()] == [
        ("Done, with difficulty", [("File a claim", "Asked for the contract number three times")])
    ]
    forum = forum_create(title="November forum", held_at=NOW - timedelta(days=2), by=cast.executive)
    forum_topic_add(forum=forum, title="Refund dates", outcome="action", raised_by=cast.rep,
                    owner=cast.manager, due_on=date(2026, 12, 1), notes="Customers ask daily",
                    by=cast.executive)  # fmt: skip
    forum_topic_add(forum=forum, title="Logouts", outcome="explain", by=cast.executive)
    summary = selectors.outreach_summary(viewer=cast.executive, program="forum", month=MONTH)
    assert [(o, [h.what for h in items]) for o, items in summary.heard.items()] == [
        ("We will act on it", ["Refund dates"]),
        ("Explained; no change", ["Logouts"]),
    ]
    assert [(f.what, f.owner, f.due_on, f.done) for f in summary.will_do] == [
        ("Refund dates", cast.manager.get_full_name(), date(2026, 12, 1), False)
    ]


def test_the_summary_page_shows_it(client, cast, lists):
    log(lists["ann"], cast.executive, notes="Coming <b>back</b>", follow_up="Call in January")
    client.force_login(cast.executive)
    page = client.get(
        reverse("feedback:outreach-summary", args=["lost", "2026-11"])
    ).content.decode()
    assert "Coming &lt;b&gt;back&lt;/b&gt;" in page and "<b>back" not in page
    assert "Call in January" in page
    assert (
        client.get(reverse("feedback:outreach-summary", args=["nope", "2026-11"])).status_code
        == 404
    )
    assert (
        client.get(reverse("feedback:outreach-summary", args=["lost", "11-2026x"])).status_code
        == 404
    )


def test_sharing_emails_each_chosen_user_once_and_escapes_notes(client, cast, lists):
    log(lists["ann"], cast.executive, notes='<script>alert("x")</script> & co',
        follow_up="<i>Call back</i>")  # fmt: skip
    client.force_login(cast.executive)
    url = reverse("feedback:outreach-summary-share", args=["lost", "2026-11"])
    client.post(url, {"recipients": [cast.manager.pk, cast.rep.pk]})
    client.post(url, {"recipients": [cast.manager.pk]})  # had it already: nothing more
    rows = SendOnce.objects.filter(purpose=SUMMARY_PURPOSE).order_by("id")
    assert sorted(row.to[0] for row in rows) == sorted([cast.manager.email, cast.rep.email])
    mail.outbox.clear()
    assert send_once_deliver(email_id=rows[0].id) == "sent"
    (message,) = mail.outbox
    ((html, _),) = message.alternatives
    assert message.subject == "Lost customers: what we heard in November 2026"
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co" in html
    assert "<script>" not in html and "<i>Call back</i>" not in html
    assert '<script>alert("x")</script> & co' in message.body  # plain text is not HTML
    assert "https://voc.example.com/feedback/outreach/lost/2026-11/summary/" in message.body
    page = client.get(
        reverse("feedback:outreach-summary", args=["lost", "2026-11"])
    ).content.decode()
    assert cast.manager.email in page  # "you shared it with"


def test_sharing_again_sends_the_new_version_only_to_those_who_lack_it(client, cast, lists):
    log(lists["ann"], cast.executive, notes="Ann moved")
    client.force_login(cast.executive)
    url = reverse("feedback:outreach-summary-share", args=["lost", "2026-11"])
    summary_url = reverse("feedback:outreach-summary", args=["lost", "2026-11"])
    client.post(url, {"recipients": [cast.manager.pk]})
    client.post(url, {"recipients": [cast.manager.pk]})  # a double click: nothing more
    assert SendOnce.objects.filter(purpose=SUMMARY_PURPOSE).count() == 1
    page = client.get(summary_url).content.decode()
    assert f"You shared it with: {cast.manager.email}</p>" in page

    log(lists["bob"], cast.executive, notes="Bob is happy again")  # a new entry
    page = client.get(summary_url).content.decode()
    assert f"{cast.manager.email} (an earlier version: share again to send this one)" in page
    client.post(url, {"recipients": [cast.manager.pk, cast.rep.pk]})
    rows = SendOnce.objects.filter(purpose=SUMMARY_PURPOSE).order_by("id")
    first, *again = rows
    assert first.to == [cast.manager.email]
    assert sorted(row.to[0] for row in again) == sorted([cast.manager.email, cast.rep.email])
    assert all("Bob is happy again" in str(row.context) for row in again)
    assert "Bob is" not in str(first.context)
    client.post(url, {"recipients": [cast.manager.pk, cast.rep.pk]})
    assert SendOnce.objects.filter(purpose=SUMMARY_PURPOSE).count() == 3
    page = client.get(summary_url).content.decode()
    assert "an earlier version" not in page


def test_sharing_needs_someone(cast):
    from django.core.exceptions import PermissionDenied, ValidationError

    with pytest.raises(ValidationError):
        outreach_summary_share(program="lost", month=MONTH, recipients=[], by=cast.executive)
    with pytest.raises(PermissionDenied):
        outreach_summary_share(program="lost", month=MONTH, recipients=[cast.rep], by=cast.rep)


# --- the action slot -------------------------------------------------------------------------


def test_an_app_fills_the_action_slot_of_each_entry(client, cast, lists):
    from feedback.access import VIEW_OUTREACH

    register_outreach_action(
        OutreachAction(
            key="test.raise", label="Raise an issue", capability=VIEW_OUTREACH,
            url=lambda entry, viewer: f"/raise/{type(entry).__name__}/{entry.pk}/",
        )
    )  # fmt: skip
    try:
        call = log(lists["ann"], cast.executive)
        client.force_login(cast.executive)
        page = client.get(reverse("feedback:outreach-call", args=[call.id])).content.decode()
        assert f'href="/raise/OutreachCall/{call.pk}/"' in page
        client.force_login(cast.rep)  # no capability: no action
        forum = Forum.objects.create(title="F", held_at=NOW)
        topic = ForumTopic.objects.create(forum=forum, title="T", outcome="action")
        page = client.get(reverse("feedback:forum-detail", args=[forum.id])).content.decode()
        assert f"/raise/ForumTopic/{topic.pk}/" not in page
    finally:
        unregister_outreach_action("test.raise")


# --- forums ----------------------------------------------------------------------------------


def test_executives_hold_forums_owners_mark_follow_ups_done(client, cast):
    client.force_login(cast.executive)
    response = client.post(
        reverse("feedback:forum-create"), {"title": "Forum <b>1</b>", "held_at": "2026-11-17T15:00"}
    )
    forum = Forum.objects.get()
    assert response["Location"] == reverse("feedback:forum-detail", args=[forum.id])
    client.post(
        reverse("feedback:forum-topic-add", args=[forum.id]),
        {"title": "Refund dates", "raised_by": cast.rep.pk, "notes": f"Card {CARD}",
         "outcome": "action", "owner": cast.rep.pk, "due_on": "2026-12-01"},
    )  # fmt: skip
    topic = ForumTopic.objects.get()
    assert (topic.owner, topic.due_on, topic.raised_by) == (cast.rep, date(2026, 12, 1), cast.rep)
    assert CARD not in topic.notes
    client.force_login(cast.rep)
    page = client.get(reverse("feedback:forum-detail", args=[forum.id])).content.decode()
    assert "Forum &lt;b&gt;1&lt;/b&gt;" in page and 'data-testid="topic-form"' not in page
    assert client.post(reverse("feedback:forum-topic-add", args=[forum.id]), {}).status_code == 403
    client.force_login(cast.teammate)  # not the owner
    assert client.post(reverse("feedback:forum-topic-done", args=[topic.id])).status_code == 403
    client.force_login(cast.rep)
    client.post(reverse("feedback:forum-topic-done", args=[topic.id]))
    topic.refresh_from_db()
    assert topic.done_at == NOW


def test_a_due_date_needs_an_owner(cast):
    from django.core.exceptions import ValidationError

    forum = forum_create(title="F", held_at=NOW, by=cast.executive)
    with pytest.raises(ValidationError):
        forum_topic_add(forum=forum, title="T", outcome="action", due_on=TODAY, by=cast.executive)


def test_logging_an_exercise_from_the_page(client, cast):
    client.force_login(cast.executive)
    client.post(
        reverse("feedback:outreach-exercise-log"),
        {"task": "call_support", "done_at": "2026-11-17T09:00", "minutes_spent": "35",
         "outcome": "gave_up", "notes": "On hold for 30 minutes"},
    )  # fmt: skip
    exercise = OutreachExercise.objects.get()
    assert (exercise.executive, exercise.minutes_spent, exercise.outcome) == (
        cast.executive, 35, "gave_up",
    )  # fmt: skip
    page = client.get(reverse("feedback:outreach-program", args=["exercise"])).content.decode()
    assert "On hold for 30 minutes" in page


# --- erasure and the timeline ----------------------------------------------------------------


def test_erasure_takes_the_notes_and_the_customer_link_of_calls(cast, lists):
    log(lists["ann"], cast.executive, notes="Ann said she moved", follow_up="Write to Ann")
    call_id = call_of(lists["ann"]).id
    outreach_summary_share(
        program="lost", month=MONTH, recipients=[cast.manager], by=cast.executive
    )
    erasure = customer_erase(customer=lists["ann"], by=cast.admin)
    call = OutreachCall.objects.get(id=call_id)
    assert (call.customer, call.notes, call.follow_up, call.lost_reason, call.lost_on) == (
        None, "[erased]", "", "", None,
    )  # fmt: skip
    assert (call.duration_minutes, call.outcome) == (12, "reached")  # the tracker's hours stay
    assert erasure.counts["feedback.outreach_calls.outreach calls"] == 1
    assert SendOnce.objects.get(purpose=SUMMARY_PURPOSE).context == {}
    summary = selectors.outreach_summary(viewer=cast.executive, program="lost", month=MONTH)
    assert [(h.what, h.notes) for items in summary.heard.values() for h in items] == [
        ("Erased customer", "[erased]")
    ]


def test_calls_are_on_the_customers_timeline_for_those_who_may_read_them(client, cast, vp, lists):
    log(lists["dana"], vp, notes="Slow <i>app</i>")
    client.force_login(cast.executive)
    page = client.get(reverse("contacts:customer-detail", args=[lists["dana"].id])).content.decode()
    assert "Lost customers call by" in page and "Slow &lt;i&gt;app&lt;/i&gt;" in page
    for viewer, shown in ((vp, True), (cast.executive, True), (cast.admin, True),
                          (UserFactory(role=Role.EXECUTIVE, reports_to=cast.executive), False),
                          (cast.rep, False), (cast.manager, False)):  # fmt: skip
        entries = [e for e in customer_timeline(customer=lists["dana"], viewer=viewer)
                   if e.kind == "outreach"]  # fmt: skip
        assert len(entries) == int(shown), viewer
        if shown:
            assert entries[0].summary == "Slow <i>app</i>"
            assert entries[0].url == reverse("feedback:outreach-call", args=[lists["dana_call"].id])


def test_the_demo_seeds_outreach():
    from django.core.management import call_command

    call_command("seed_demo", customers=300, contacts=0)
    assert OutreachList.objects.filter(executive__username="ceo").count() == 2
    assert OutreachCall.objects.filter(called_at__isnull=False).exists()
    assert OutreachCall.objects.filter(outreach_list__program="loyal").exists()
    assert OutreachExercise.objects.count() == 1
    assert ForumTopic.objects.filter(owner__isnull=False, due_on__isnull=False).count() == 2
    held = list(OutreachCall.objects.values_list("customer", "month"))
    assert len(held) == len(set(held))
