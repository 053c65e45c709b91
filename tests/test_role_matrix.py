"""Every URL route × every role (and anonymous): allowed, refused or scoped.

A route added without an entry here fails ``test_every_route_has_an_entry``; the Django admin
and webhooks have their own tests. Expectations:

- ``OK``: 2xx; ``REDIRECT``: 3xx somewhere other than the login page;
- ``LOGIN``: anonymous pages redirect to the login page;
- ``DENIED``: 403 for a signed-in user without the capability;
- ``UNAUTH``: the API's 401 for a request without credentials;
- ``HIDDEN``: 404, a row outside the user's scope (indistinguishable from a missing one);
- ``NOT_ALLOWED``: 405, the route exists but not for this method (e.g. GET on a POST action).
"""

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from rest_framework.test import APIClient

from voc.people.services import api_token_create

OK, REDIRECT, LOGIN, DENIED, UNAUTH, HIDDEN, NOT_ALLOWED = (
    "ok",
    "redirect",
    "login",
    "denied",
    "unauth",
    "hidden",
    "not-allowed",
)
# Let in, and the form (sent empty: the matrix posts JSON) refused with a 400 on its page.
INVALID = "400"
ROLES = ("anonymous", "rep", "manager", "executive", "admin")


@dataclass
class Route:
    expect: dict[str, str]
    method: str = "get"
    kwargs: object = field(default=None)  # callable(cast, user) -> dict of URL kwargs
    data: dict | None = None


def everyone(signed_in: str, anonymous: str = LOGIN) -> dict[str, str]:
    return {"anonymous": anonymous} | dict.fromkeys(ROLES[1:], signed_in)


def admins_only(anonymous: str = LOGIN) -> dict[str, str]:
    return {"anonymous": anonymous, "rep": DENIED, "manager": DENIED, "executive": DENIED} | {
        "admin": OK
    }


DASHBOARD_ROLES = {"anonymous": LOGIN, "rep": DENIED, "manager": OK, "executive": OK, "admin": OK}


def _listening_of_the_ceo(cast, user):
    """The CEO's listening: theirs and the admins' to read; a manager reads no one's."""
    ROUTES["dashboards:drill-listening"].data = {"executive": cast.executive.id}
    return {}


def own_token(cast, user):
    token, _ = api_token_create(user=user or cast.rep, name="matrix")
    return {"token_id": token.id}


def outsider_user(cast, user):
    """A user in team B / department B: outside a rep's and a manager's scope."""
    return {"pk": cast.outsider.pk}


def outbox_message(cast, user):
    from voc.core.models import OutboxMessage

    message = OutboxMessage.objects.create(subject="Hi", from_email="a@example.com", to=["b@x"])
    return {"message_id": message.id}


def team_b_contact(cast, user):
    """A contact of team B about a department B reason: outside a rep's and a manager's scope."""
    from contacts.ingest.service import contacts_ingest
    from contacts.models import Contact, ContactReason

    ContactReason.objects.get_or_create(name="Outage", defaults={"department": cast.dept_b})
    contacts_ingest(
        rows=[
            {"source": "matrix", "external_id": "b-1", "channel": "phone", "team": cast.team_b.name,
             "reason": "Outage", "customer_ref": "MATRIX-B", "occurred_at": "2026-11-02T09:30:00Z"}
        ]
    )  # fmt: skip
    return Contact.objects.get(source="matrix", external_id="b-1")


def team_b_feedback_item(cast, user):
    """A feedback item on a team-B contact: outside a rep's and a manager's scope."""
    from feedback.items.services import feedback_item_record
    from voc.core.audit import INGEST

    contact = team_b_contact(cast, user)
    item = feedback_item_record(kind="csat", score=2, source="matrix", contact=contact, by=INGEST)
    return {"item_id": item.item.id}


def team_b_story(cast, user):
    """A story about a team-B contact, told by team B's head: outside a rep's and a manager's
    scope."""
    from feedback.stories.services import story_record

    contact = team_b_contact(cast, user)
    story = story_record(
        contact=contact, thumb="down", title="Cut off", text="Twice", by=cast.other_manager
    )
    return {"story_id": story.id}


def team_b_follow_up(cast, user):
    """A call back opened for a complaint on a team-B contact: team B's lead owns it."""
    from feedback.items.services import feedback_item_record
    from loops.followups.services import follow_ups_open
    from loops.models import FollowUp
    from voc.core.audit import INGEST

    contact = team_b_contact(cast, user)
    feedback_item_record(kind="complaint", source="matrix", contact=contact, by=INGEST)
    follow_ups_open()
    return {"follow_up_id": FollowUp.objects.get(contact=contact).id}


def own_subscription(cast, user):
    from loops.digests.services import SubscriptionData, subscription_create

    owner = user or cast.rep
    subscription = subscription_create(user=owner, data=SubscriptionData(name="Matrix"), by=owner)
    return {"subscription_id": subscription.id}


def own_digest(cast, user):
    from django.utils import timezone

    from loops.models import Digest

    owner = user or cast.rep
    now = timezone.now()
    digest = Digest.objects.create(
        user=owner, period_start=now, period_end=now, status="queued", html="<p>digest</p>"
    )
    return {"digest_id": digest.id}


def unsubscribe_token(cast, user):
    from loops.digests.links import UNSUBSCRIBE
    from loops.digests.services import SubscriptionData, subscription_create
    from voc.core.links import link_token

    subscription = subscription_create(
        user=cast.executive, data=SubscriptionData(name="Matrix"), by=cast.executive
    )
    return {"token": link_token(purpose=UNSUBSCRIBE, target=subscription)}


def contact_b(cast, user):
    return {"contact_id": team_b_contact(cast, user).id}


def customer_b(cast, user):
    return {"customer_id": team_b_contact(cast, user).customer_id}


# Editing a team-B contact: outside a team-A rep's and manager's scope, and executives browse.
EDIT_TEAM_B_CONTACT = {
    "anonymous": LOGIN,
    "rep": HIDDEN,
    "manager": HIDDEN,
    "executive": DENIED,
    "admin": REDIRECT,
}


def _opt_out(cast) -> dict:
    from contacts.budget.links import OPT_OUT_LINK_PURPOSES
    from tests.factories import CustomerFactory
    from voc.core.links import link_token

    token = link_token(purpose=OPT_OUT_LINK_PURPOSES["survey"], target=CustomerFactory())
    return {"purpose": "survey", "token": token}


def _survey_link(cast, user) -> dict:
    """A fresh survey invitation's signed token: the page is public (no login), like the
    budget's opt-out link."""
    from contacts.models import Contact
    from feedback.models import SurveyInvitation
    from feedback.surveys.links import SURVEY_LINK
    from tests.factories import CustomerFactory
    from voc.core.links import link_token

    customer = CustomerFactory()
    contact = Contact.objects.create(
        source="matrix", external_id=f"survey-{customer.pk}", customer=customer, channel="phone",
        occurred_at=timezone.now(), outcome="resolved",
    )  # fmt: skip
    invitation = SurveyInvitation.objects.create(
        contact=contact, customer=customer, scale="nps", channel="phone",
        sent_at=timezone.now(), expires_at=timezone.now() + timedelta(days=14),
    )  # fmt: skip
    return {"token": link_token(purpose=SURVEY_LINK, target=invitation)}


def session_with_teammate(status: str):
    """A side-by-side session of the executive beside the teammate: the rep takes no part, and
    the manager (who heads their department and leads their team) may not read it."""

    def make(cast, user):
        from feedback.models import Session

        start = timezone.now() + timedelta(days=1)
        session = Session.objects.create(
            executive=cast.executive,
            rep=cast.teammate,
            scheduled_by=cast.executive,
            scheduled_start=start,
            status=status,
            started_at=timezone.now() if status == "running" else None,
        )
        return {"session_id": session.id}

    return make


# Sessions: reps and executives take part; admins read; managers see nothing of them.
SESSION_PAGE = {"anonymous": LOGIN, "rep": HIDDEN, "manager": DENIED, "executive": OK, "admin": OK}
SESSION_ACTION = {
    "anonymous": LOGIN,
    "rep": HIDDEN,
    "manager": DENIED,
    "executive": REDIRECT,
    "admin": DENIED,
}


def team_b_complaint(cast, user):
    """A complaint from team B's contact about a department B topic: outside a team-A rep's and
    manager's scope."""
    from feedback.items.services import feedback_item_record

    contact = team_b_contact(cast, user)
    saved = feedback_item_record(
        kind="complaint", source="matrix", verbatim="Down again", contact=contact, by=cast.admin
    )
    return {"item_id": saved.item.id}


# Feedback items of team B: hidden from a team-A rep and manager; topics are set by managers,
# executives and admins; thank-yous are sent by managers and executives.
FEEDBACK_ITEM_PAGE = {"anonymous": LOGIN, "rep": HIDDEN, "manager": HIDDEN, "executive": OK}
FEEDBACK_ITEM_PAGE |= {"admin": OK}


# --- outreach programs ---
def vp_call(cast, user):
    """A call on the list of an executive who reports to the CEO (``cast.executive``): the CEO
    and admins read it; reps and managers see no executive's list."""
    from datetime import date

    from feedback.models import OutreachCall, OutreachList
    from tests.factories import CustomerFactory, UserFactory

    vp = UserFactory(username="vp", role="executive", reports_to=cast.executive)
    month = date(2026, 11, 1)
    outreach_list = OutreachList.objects.create(
        executive=vp, program="lost", month=month, size=5, generated_by="matrix"
    )
    call = OutreachCall.objects.create(
        outreach_list=outreach_list, month=month, customer=CustomerFactory()
    )
    return {"call_id": call.id}


def a_forum(cast, user):
    from feedback.models import Forum

    forum = Forum.objects.create(title="Matrix forum", held_at=timezone.now(), created_by=None)
    return {"forum_id": forum.id}


def rep_topic(cast, user):
    """A topic the rep follows up: the rep and executives mark it done, nobody else."""
    from feedback.models import Forum, ForumTopic

    forum = Forum.objects.create(title="Matrix forum", held_at=timezone.now(), created_by=None)
    topic = ForumTopic.objects.create(
        forum=forum, title="Refunds", outcome="action", owner=cast.rep
    )
    return {"topic_id": topic.id}


OUTREACH_PAGE = {"anonymous": LOGIN, "rep": DENIED, "manager": DENIED, "executive": OK, "admin": OK}
OUTREACH_RUN = {
    "anonymous": LOGIN,
    "rep": DENIED,
    "manager": DENIED,
    "executive": REDIRECT,
    "admin": DENIED,
}
FORUM_PAGE = {"anonymous": LOGIN, "rep": OK, "manager": DENIED, "executive": OK, "admin": OK}
SUMMARY = lambda cast, user: {"program": "lost", "month": "2026-11"}  # noqa: E731


def story_on_team_b(cast, user):
    """A story the outsider told about the team B contact: outside a rep's and a manager's
    scope; executives read it but did not tell it."""
    from feedback.stories.services import story_record

    story = story_record(
        contact=team_b_contact(cast, user),
        thumb="down",
        title="Matrix",
        text="Told",
        by=cast.outsider,
    )
    return {"story_id": story.id}


# Stories: anyone tells one about a contact they see; the wall is for executives and admins;
# the author or an admin removes one.
STORY_WALL = {"anonymous": LOGIN, "rep": DENIED, "manager": DENIED, "executive": OK, "admin": OK}
STORY_TELL_B = {"anonymous": LOGIN, "rep": HIDDEN, "manager": HIDDEN, "executive": OK, "admin": OK}
STORY_REMOVE_B = {
    "anonymous": LOGIN,
    "rep": HIDDEN,
    "manager": HIDDEN,
    "executive": DENIED,
    "admin": REDIRECT,
}


def team_b_gesture(cast, user):
    """A gesture the team-B rep gave above their allowance, waiting: outside a team-A rep's and
    manager's scope; executives and admins may decide it."""
    from decimal import Decimal

    from contacts.models import Gesture

    gesture = Gesture.objects.create(
        contact=team_b_contact(cast, user),
        kind=Gesture.Kind.REFUND,
        value=Decimal("80.00"),
        currency="USD",
        state=Gesture.State.PENDING,
        given_by=cast.outsider,
        team=cast.team_b,
        given_at=timezone.now(),
    )
    return {"gesture_id": gesture.id}


# Deciding a team-B gesture: reps never decide, a team-A manager does not see it.
DECIDE_TEAM_B_GESTURE = {
    "anonymous": LOGIN,
    "rep": DENIED,
    "manager": HIDDEN,
    "executive": REDIRECT,
    "admin": REDIRECT,
}


def fixed_issue_a(cast, user):
    """A fixed issue of department A owned by its head (``cast.manager``): verification."""
    from contacts.models import ContactReason
    from loops.services.issues import issue_open, issue_transition

    reason = ContactReason.objects.create(name="Matrix billing", department=cast.dept_a)
    issue = issue_open(title="Matrix fix", reasons=[reason], owner=cast.manager, by=cast.manager)
    for status in ("assigned", "in_progress", "fixed"):
        issue = issue_transition(issue=issue, to=status, by=cast.manager)
    return {"issue_id": issue.id}


# --- promote to issue (loops/promote/) ---
def _promote_source(cast, user):
    """A team-B complaint: outside a team-A rep's and the head of department A's scope."""
    return {"source_id": team_b_complaint(cast, user)["item_id"]}


def _promote_issue_b(cast, user):
    """An issue of department B opened by its head: outside the rep's and manager's scope."""
    from loops.services.issues import issue_open

    issue = issue_open(title="Matrix outage", department=cast.dept_b, by=cast.other_manager)
    return {"issue_id": issue.id}


def _promote_evidence_b(cast, user):
    """The team-B complaint in the URL; the body names department B's issue, made here (its id
    is known only now, and the test reads the body after the URL's kwargs)."""
    ROUTES["api-promote-evidence"].data = {"issue_id": _promote_issue_b(cast, user)["issue_id"]}
    return {"kind": "feedback", **_promote_source(cast, user)}


# --- rep flags (loops/flags/) ---
def _flag_contact_a(cast, user):
    """A team-A contact: the rep's and the head of department A's; flaggers may see it."""
    from contacts.models import Contact

    contact = Contact.objects.create(
        source="matrix", external_id="flag-a", channel="phone", team=cast.team_a,
        occurred_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC), notes="Charged twice",
    )  # fmt: skip
    return {"contact_id": contact.id}


def _flag_contact_b(cast, user):
    """A team-B contact about a department B reason: hidden from the rep and the manager."""
    return {"contact_id": team_b_contact(cast, user).id}


def _flag_me_too_b(cast, user):
    """The team-B contact in the URL; the body names an issue of no department (everyone's)."""
    from loops.services.issues import issue_open

    issue = issue_open(title="Matrix flag", by=cast.other_manager)
    ROUTES["api-flag-me-too"].data = {"issue_id": issue.id}
    return _flag_contact_b(cast, user)


def _flag_me_too_page_b(cast, user):
    from loops.services.issues import issue_open

    issue = issue_open(title="Matrix flag", by=cast.other_manager)
    ROUTES["loops:flag-me-too"].data = {"issue": issue.id}
    return _flag_contact_b(cast, user)


FLAGGERS_ONLY = {"rep": OK, "manager": OK, "executive": DENIED, "admin": DENIED}
FLAGGERS_HIDDEN = {"rep": HIDDEN, "manager": HIDDEN, "executive": DENIED, "admin": DENIED}


# --- fix notices (loops/notices/) ---
def _draft_notice_a(cast, user):
    """A draft notice on department A's fixed issue, owned by its head (``cast.manager``)."""
    from loops.notices.services import notice_draft

    issue_id = fixed_issue_a(cast, user)["issue_id"]
    from loops.models import Issue

    notice = notice_draft(issue=Issue.objects.get(pk=issue_id), by=cast.manager)
    return {"notice_id": notice.id}


def _notice_recipient_a(cast, user):
    """A recipient of that notice (waiting to be sent: resolving it is refused politely)."""
    from loops.models import NoticeRecipient
    from tests.factories import CustomerFactory

    notice_id = _draft_notice_a(cast, user)["notice_id"]
    recipient = NoticeRecipient.objects.create(
        notice_id=notice_id, customer=CustomerFactory(), reporter=True
    )
    return {"notice_id": notice_id, "recipient_id": recipient.id}


NOTICE_WRITE_PAGE = {
    "anonymous": LOGIN, "rep": DENIED, "manager": REDIRECT, "executive": DENIED, "admin": DENIED
}  # fmt: skip
NOTICE_WRITE_API = {
    "anonymous": UNAUTH, "rep": DENIED, "manager": OK, "executive": DENIED, "admin": DENIED
}  # fmt: skip
NOTICE_READ_PAGE = {"anonymous": LOGIN, "rep": HIDDEN, "manager": OK, "executive": OK, "admin": OK}
NOTICE_READ_API = {"anonymous": UNAUTH, "rep": HIDDEN, "manager": OK, "executive": OK, "admin": OK}
NOTICE_TEXT = {"subject": "Fixed", "body": "We fixed it.", "include_reason_contacts": False}


ROUTES: dict[str, Route] = {
    # pages
    "home": Route(everyone(OK)),
    "login": Route(everyone(REDIRECT, anonymous=OK)),  # signed-in users go home
    "logout": Route(everyone(LOGIN, anonymous=LOGIN), method="post"),
    "password_reset": Route(everyone(OK, anonymous=OK)),
    "password_reset_done": Route(everyone(OK, anonymous=OK)),
    "password_reset_confirm": Route(
        everyone(OK, anonymous=OK), kwargs=lambda cast, user: {"uidb64": "MQ", "token": "bad"}
    ),
    "password_reset_complete": Route(everyone(OK, anonymous=OK)),
    "password_change": Route(everyone(OK)),
    "password_change_done": Route(everyone(OK)),
    "people:directory": Route(everyone(OK)),
    "people:tokens": Route(everyone(OK)),
    "people:token-revoke": Route(everyone(REDIRECT), method="post", kwargs=own_token),
    "core:jobs": Route(admins_only()),
    "core:outbox": Route(admins_only()),
    "core:outbox-message": Route(admins_only(), kwargs=outbox_message),
    "inbound:ops": Route(admins_only()),
    "core:business-settings": Route(admins_only()),
    "core:business-setting": Route(admins_only(), kwargs=lambda cast, user: {"key": "currency"}),
    "core:business-setting-reset": Route(
        {"anonymous": LOGIN, "rep": DENIED, "manager": DENIED, "executive": DENIED}
        | {"admin": REDIRECT},
        method="post",
        kwargs=lambda cast, user: {"key": "currency"},
    ),
    # Inbound-email webhooks answer to the provider's credentials (the webhook secret, its
    # signature), never to a VoC login: without them every caller is refused alike.
    "inbound:webhook": Route(
        everyone(UNAUTH, anonymous=UNAUTH),
        method="post",
        kwargs=lambda cast, user: {"esp": "postmark"},
        data={"Subject": "matrix"},
    ),
    "healthz": Route(everyone(OK, anonymous=OK)),
    "favicon": Route(everyone(REDIRECT, anonymous=REDIRECT)),  # to the static icon
    # contacts pages: executives browse, reps, managers and admins also log and edit
    "contacts:contact-list": Route(everyone(OK)),
    "contacts:contact-export": Route(everyone(OK)),  # rows within each role's scope
    # from an email: the signed token is the authority, whoever follows it
    "budget:opt-out": Route(everyone(OK, anonymous=OK), kwargs=lambda cast, user: _opt_out(cast)),
    "contacts:contact-log": Route(
        {"anonymous": LOGIN, "rep": OK, "manager": OK, "executive": DENIED, "admin": OK}
    ),
    "contacts:contact-detail": Route(
        {"anonymous": LOGIN, "rep": HIDDEN, "manager": HIDDEN, "executive": OK, "admin": OK},
        kwargs=contact_b,
    ),
    "contacts:contact-edit": Route(
        EDIT_TEAM_B_CONTACT,
        method="post",
        kwargs=contact_b,
    ),
    # an ingested contact is corrected at its source: nobody deletes it here (see test_pages)
    "contacts:contact-delete": Route(
        {
            "anonymous": LOGIN,
            "rep": HIDDEN,
            "manager": HIDDEN,
            "executive": DENIED,
            "admin": DENIED,
        },
        method="post",
        kwargs=contact_b,
    ),
    "contacts:road-suggestion": Route(
        {"anonymous": LOGIN, "rep": OK, "manager": OK, "executive": DENIED, "admin": OK},
        method="post",
    ),
    "contacts:customer-search": Route(everyone(OK)),
    "contacts:message-search": Route(everyone(OK), data={"q": "internet"}),
    "contacts:customer-detail": Route(
        {"anonymous": LOGIN, "rep": HIDDEN, "manager": HIDDEN, "executive": OK, "admin": OK},
        kwargs=customer_b,
    ),
    # erasing a customer is irreversible: admins only (GET is the confirmation page)
    "contacts:customer-erase": Route(admins_only(), kwargs=customer_b),
    # side-by-side sessions
    "feedback:session-list": Route(
        {"anonymous": LOGIN, "rep": OK, "manager": DENIED, "executive": OK, "admin": OK}
    ),
    "feedback:session-schedule": Route(
        {"anonymous": LOGIN, "rep": OK, "manager": DENIED, "executive": OK, "admin": DENIED}
    ),
    "feedback:session-detail": Route(SESSION_PAGE, kwargs=session_with_teammate("running")),
    "feedback:session-start": Route(
        SESSION_ACTION, method="post", kwargs=session_with_teammate("scheduled")
    ),
    "feedback:session-end": Route(
        SESSION_ACTION, method="post", kwargs=session_with_teammate("running")
    ),
    "feedback:session-cancel": Route(
        SESSION_ACTION, method="post", kwargs=session_with_teammate("scheduled")
    ),
    "feedback:session-reschedule": Route(
        SESSION_ACTION, method="post", kwargs=session_with_teammate("scheduled")
    ),
    # feedback items' pages and complaints as gifts
    "feedback:item-list": Route(everyone(OK)),
    "feedback:item-log": Route(
        {"anonymous": LOGIN, "rep": OK, "manager": OK, "executive": DENIED, "admin": DENIED}
    ),
    "feedback:item-detail": Route(FEEDBACK_ITEM_PAGE, kwargs=team_b_complaint),
    "feedback:item-topic": Route(
        {
            "anonymous": LOGIN,
            "rep": DENIED,
            "manager": HIDDEN,
            "executive": REDIRECT,
            "admin": REDIRECT,
        },
        method="post",
        kwargs=team_b_complaint,
    ),
    "feedback:complaint-detail": Route(FEEDBACK_ITEM_PAGE, kwargs=team_b_complaint),
    "feedback:complaint-thank": Route(
        {
            "anonymous": LOGIN,
            "rep": DENIED,
            "manager": HIDDEN,
            "executive": REDIRECT,
            "admin": DENIED,
        },
        method="post",
        kwargs=team_b_complaint,
    ),
    # outreach programs: executives' call lists (the CEO and admins read all); forums for
    # reps and executives; managers see none of it
    "feedback:outreach-hub": Route(OUTREACH_PAGE),
    "feedback:outreach-generate": Route(OUTREACH_RUN, method="post"),
    "feedback:outreach-call": Route(OUTREACH_PAGE, kwargs=vp_call),
    "feedback:outreach-program": Route(
        OUTREACH_PAGE, kwargs=lambda cast, user: {"program": "lost"}
    ),
    "feedback:outreach-exercise-log": Route(OUTREACH_RUN, method="post"),
    "feedback:outreach-summary": Route(OUTREACH_PAGE, kwargs=SUMMARY),
    "feedback:outreach-summary-share": Route(
        {"anonymous": LOGIN, "rep": DENIED, "manager": DENIED}
        | {"executive": REDIRECT, "admin": REDIRECT},
        method="post",
        kwargs=SUMMARY,
    ),
    "feedback:forum-list": Route(FORUM_PAGE),
    "feedback:forum-create": Route(OUTREACH_RUN, method="post"),
    "feedback:forum-detail": Route(FORUM_PAGE, kwargs=a_forum),
    "feedback:forum-topic-add": Route(OUTREACH_RUN, method="post", kwargs=a_forum),
    "feedback:forum-topic-done": Route(
        {"anonymous": LOGIN, "rep": REDIRECT, "manager": DENIED}
        | {"executive": REDIRECT, "admin": DENIED},
        method="post",
        kwargs=rep_topic,
    ),
    # stories
    "feedback:story-wall": Route(STORY_WALL),
    "feedback:story-record": Route(STORY_TELL_B, kwargs=contact_b),
    "feedback:story-remove": Route(STORY_REMOVE_B, method="post", kwargs=story_on_team_b),
    # post-contact surveys: the report for managers (their scope), executives and admins; the
    # survey page from the email: the signed token is the authority, whoever follows it
    "feedback:surveys:report": Route(
        {"anonymous": LOGIN, "rep": DENIED, "manager": OK, "executive": OK, "admin": OK}
    ),
    "feedback:surveys:answer": Route(everyone(OK, anonymous=OK), kwargs=_survey_link),
    # API
    "api-me": Route(everyone(OK, anonymous=UNAUTH)),
    "api-user-list": Route(everyone(OK, anonymous=UNAUTH)),
    "api-user-detail": Route(
        {"anonymous": UNAUTH, "rep": HIDDEN, "manager": HIDDEN, "executive": OK, "admin": OK},
        kwargs=outsider_user,
    ),
    "api-team-list": Route(everyone(OK, anonymous=UNAUTH)),
    "api-department-list": Route(everyone(OK, anonymous=UNAUTH)),
    "api-token-list": Route(everyone(OK, anonymous=UNAUTH)),
    "api-token-create": Route(
        everyone(OK, anonymous=UNAUTH), method="post", data={"name": "from the matrix"}
    ),
    "api-token-revoke": Route(everyone(OK, anonymous=UNAUTH), method="post", kwargs=own_token),
    # contacts API: everyone reads within their scope; executives never write; the taxonomy and
    # bulk ingest (without an ingest token) are for admins
    "api-customer-list": Route(everyone(OK, anonymous=UNAUTH)),
    "api-customer-detail": Route(
        {"anonymous": UNAUTH, "rep": HIDDEN, "manager": HIDDEN, "executive": OK, "admin": OK},
        kwargs=customer_b,
    ),
    # an exact ref finds the team B customer for everyone (a card outside the scope)
    "api-customer-lookup": Route(everyone(OK, anonymous=UNAUTH), data={"q": "MATRIX-B"}),
    "api-customer-create": Route(
        {"anonymous": UNAUTH, "rep": OK, "manager": OK, "executive": DENIED, "admin": OK},
        method="post",
        data={"name": "Matrix Customer", "external_ref": "MATRIX-NEW"},
    ),
    "api-customer-update": Route(
        {"anonymous": UNAUTH, "rep": HIDDEN, "manager": HIDDEN, "executive": DENIED, "admin": OK},
        method="post",
        kwargs=customer_b,
        data={"segment": "enterprise"},
    ),
    "api-customer-erase": Route(
        admins_only(anonymous=UNAUTH), method="post", kwargs=customer_b, data={"note": "matrix"}
    ),
    "api-contact-list": Route(everyone(OK, anonymous=UNAUTH)),
    "api-contact-detail": Route(
        {"anonymous": UNAUTH, "rep": HIDDEN, "manager": HIDDEN, "executive": OK, "admin": OK},
        kwargs=contact_b,
    ),
    "api-contact-create": Route(
        {"anonymous": UNAUTH, "rep": OK, "manager": OK, "executive": DENIED, "admin": OK},
        method="post",
        data={"external_id": "matrix-new", "channel": "chat", "text": "Logged from the matrix"},
    ),
    "api-contact-update": Route(
        {"anonymous": UNAUTH, "rep": HIDDEN, "manager": HIDDEN, "executive": DENIED, "admin": OK},
        method="post",
        kwargs=contact_b,
        data={"road": 2},
    ),
    "api-contact-bulk": Route(
        admins_only(anonymous=UNAUTH),
        method="post",
        data=[
            {
                "source": "matrix",
                "external_id": "bulk-1",
                "channel": "email",
                "occurred_at": "2026-11-02T09:30:00Z",
            }
        ],
    ),
    "api-message-list": Route(
        {"anonymous": UNAUTH, "rep": HIDDEN, "manager": HIDDEN, "executive": OK, "admin": OK},
        kwargs=contact_b,
    ),
    "api-message-search": Route(everyone(OK, anonymous=UNAUTH), data={"q": "internet"}),
    "api-message-create": Route(
        {"anonymous": UNAUTH, "rep": HIDDEN, "manager": HIDDEN, "executive": DENIED, "admin": OK},
        method="post",
        kwargs=contact_b,
        data={"text": "A follow-up from the matrix"},
    ),
    "api-reason-list": Route(everyone(OK, anonymous=UNAUTH)),
    "api-reason-detail": Route(
        everyone(OK, anonymous=UNAUTH),
        kwargs=lambda cast, user: {"reason_id": team_b_contact(cast, user).reason_id},
    ),
    "api-reason-create": Route(
        admins_only(anonymous=UNAUTH), method="post", data={"name": "Matrix reason"}
    ),
    "api-reason-update": Route(
        admins_only(anonymous=UNAUTH),
        method="post",
        kwargs=lambda cast, user: {"reason_id": team_b_contact(cast, user).reason_id},
        data={"avoidable": True},
    ),
    "api-session-note-create": Route(
        {"anonymous": UNAUTH, "rep": HIDDEN, "manager": DENIED, "executive": OK, "admin": DENIED},
        method="post",
        kwargs=session_with_teammate("running"),
        data={
            "client_id": "6f1c2a7e-3b4d-4e5f-8a9b-0c1d2e3f4a5b",
            "kind": "quote",
            "text": "I have called three times.",
            "noted_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
    ),
    # --- feedback items API ---
    "api-feedback-item-list": Route(everyone(OK, anonymous=UNAUTH)),
    "api-feedback-item-bulk": Route(
        admins_only(anonymous=UNAUTH),
        method="post",
        data=[{"source": "matrix", "external_id": "fb-1", "kind": "nps", "score": 9}],
    ),
    "api-feedback-item-detail": Route(
        {"anonymous": UNAUTH, "rep": HIDDEN, "manager": HIDDEN, "executive": OK, "admin": OK},
        kwargs=team_b_feedback_item,
    ),
    # stories (feedback/stories): every role reads the stories in its scope
    "api-story-list": Route(
        {"anonymous": UNAUTH, "rep": OK, "manager": OK, "executive": OK, "admin": OK}
    ),
    "api-story-detail": Route(
        {"anonymous": UNAUTH, "rep": HIDDEN, "manager": HIDDEN, "executive": OK, "admin": OK},
        kwargs=team_b_story,
    ),
    # make it right (contacts/gestures): givers log contacts; managers (their scope),
    # executives and admins decide and read the report
    "contacts:gesture-record": Route(
        {**EDIT_TEAM_B_CONTACT, "admin": INVALID},
        method="post",
        kwargs=contact_b,
        data={"kind": "credit", "value": "5"},
    ),
    "contacts:gesture-approve": Route(DECIDE_TEAM_B_GESTURE, method="post", kwargs=team_b_gesture),
    "contacts:gesture-decline": Route(DECIDE_TEAM_B_GESTURE, method="post", kwargs=team_b_gesture),
    "contacts:gesture-report": Route(
        {"anonymous": LOGIN, "rep": DENIED, "manager": OK, "executive": OK, "admin": OK}
    ),
    "api-gesture-list": Route(
        {"anonymous": UNAUTH, "rep": HIDDEN, "manager": HIDDEN, "executive": OK, "admin": OK},
        kwargs=contact_b,
    ),
    "api-gesture-approve": Route(
        {"anonymous": UNAUTH, "rep": DENIED, "manager": HIDDEN, "executive": OK, "admin": OK},
        method="post",
        kwargs=team_b_gesture,
        data={"reason": "matrix"},
    ),
    "api-gesture-decline": Route(
        {"anonymous": UNAUTH, "rep": DENIED, "manager": HIDDEN, "executive": OK, "admin": OK},
        method="post",
        kwargs=team_b_gesture,
        data={"reason": "matrix"},
    ),
    # --- follow-ups (loops/followups): managers call back within their scope (a team-B call
    # back is hidden from the team-A manager); executives and admins read; reps never see them.
    "loops:follow-up-list": Route(
        {"anonymous": LOGIN, "rep": DENIED, "manager": OK, "executive": OK, "admin": OK}
    ),
    "loops:follow-up-detail": Route(
        {"anonymous": LOGIN, "rep": DENIED, "manager": HIDDEN, "executive": OK, "admin": OK},
        kwargs=team_b_follow_up,
    ),
    "api-follow-up-list": Route(
        {"anonymous": UNAUTH, "rep": DENIED, "manager": OK, "executive": OK, "admin": OK}
    ),
    "api-follow-up-detail": Route(
        {"anonymous": UNAUTH, "rep": DENIED, "manager": HIDDEN, "executive": OK, "admin": OK},
        kwargs=team_b_follow_up,
    ),
    "api-follow-up-close": Route(
        {
            "anonymous": UNAUTH,
            "rep": DENIED,
            "manager": HIDDEN,
            "executive": DENIED,
            "admin": DENIED,
        },
        method="post",
        kwargs=team_b_follow_up,
        data={"outcome": "reached"},
    ),
    # --- the bcc program (loops/digests): everyone subscribes (their own subscriptions);
    # managers and admins enrol; the unsubscribe link needs no sign-in.
    "loops:digest-list": Route(everyone(OK)),
    "loops:digest-subscribe": Route(everyone(OK)),
    "loops:digest-preview-new": Route(everyone(REDIRECT)),
    "loops:digest-enrol": Route(
        {"anonymous": LOGIN, "rep": DENIED, "manager": OK, "executive": DENIED, "admin": OK}
    ),
    "loops:digest-change": Route(everyone(OK), kwargs=own_subscription),
    "loops:digest-preview": Route(everyone(OK), kwargs=own_subscription),
    "loops:digest-leave": Route(everyone(REDIRECT), method="post", kwargs=own_subscription),
    "loops:digest-sent": Route(everyone(OK), kwargs=own_digest),
    "loops:digest-unsubscribe": Route(everyone(OK, anonymous=OK), kwargs=unsubscribe_token),
    "loops:digest-problems": Route(admins_only()),
    "loops:digest-resend": Route(
        {
            "anonymous": LOGIN,
            "rep": DENIED,
            "manager": DENIED,
            "executive": DENIED,
            "admin": REDIRECT,
        },
        method="post",
        kwargs=own_digest,
    ),
    "loops:digest-threads": Route(
        everyone(OK),
        kwargs=own_subscription,
        data={"start": "2026-01-13T08:00:00+00:00", "end": "2026-01-14T08:00:00+00:00"},
    ),
    "api-not-found": Route(everyone(HIDDEN, anonymous=HIDDEN)),
    "api-schema": Route(everyone(OK, anonymous=UNAUTH)),
    "api-docs": Route(everyone(OK, anonymous=UNAUTH)),
    # --- verification (loops/verification): everyone who sees the issue reads the check; only
    # its owner answers (the department head owns this one; executives and admins only read).
    "loops:issue-verification": Route(
        {"anonymous": LOGIN, "rep": HIDDEN, "manager": OK, "executive": OK, "admin": OK},
        kwargs=fixed_issue_a,
    ),
    "loops:issue-verification-confirm": Route(
        {
            "anonymous": LOGIN,
            "rep": DENIED,
            "manager": REDIRECT,
            "executive": DENIED,
            "admin": DENIED,
        },
        method="post",
        kwargs=fixed_issue_a,
        data={"why": "Matrix"},
    ),
    "loops:issue-verification-reopen": Route(
        {
            "anonymous": LOGIN,
            "rep": DENIED,
            "manager": REDIRECT,
            "executive": DENIED,
            "admin": DENIED,
        },
        method="post",
        kwargs=fixed_issue_a,
        data={"why": "Matrix"},
    ),
    # --- promote to issue (loops/promote/): reps, managers and executives promote what they
    # may read (a team-B complaint: not the team-A rep, not the head of department A); admins
    # read, never promote
    "loops:promote": Route(
        {"anonymous": LOGIN, "rep": HIDDEN, "manager": HIDDEN, "executive": OK, "admin": DENIED},
        kwargs=lambda cast, user: {"kind": "feedback", **_promote_source(cast, user)},
    ),
    "loops:issue-detail": Route(
        # Department B's issue: the matrix's manager heads A, its rep flagged nothing.
        {"anonymous": LOGIN, "rep": HIDDEN, "manager": HIDDEN, "executive": OK, "admin": OK},
        kwargs=_promote_issue_b,
    ),
    "loops:promote-result": Route(
        {"anonymous": LOGIN, "rep": HIDDEN, "manager": HIDDEN, "executive": OK, "admin": DENIED},
        kwargs=_promote_issue_b,
    ),
    "api-promote-new-issue": Route(
        {"anonymous": UNAUTH, "rep": HIDDEN, "manager": HIDDEN, "executive": OK, "admin": DENIED},
        method="post",
        kwargs=lambda cast, user: {"kind": "feedback", **_promote_source(cast, user)},
        data={"title": "From the matrix"},
    ),
    "api-promote-evidence": Route(
        {"anonymous": UNAUTH, "rep": HIDDEN, "manager": HIDDEN, "executive": OK, "admin": DENIED},
        method="post",
        kwargs=_promote_evidence_b,
        data=None,
    ),
    # --- rep flags (loops/flags/): reps and managers flag contacts they can see (a team-B
    # contact is hidden from the team-A rep and the head of department A); executives and
    # admins do not flag
    "loops:my-flags": Route({"anonymous": LOGIN, **FLAGGERS_ONLY}),
    "loops:flag-me-too": Route(
        {"anonymous": LOGIN, **FLAGGERS_HIDDEN}, method="post", kwargs=_flag_me_too_page_b
    ),
    "loops:flag-propose": Route(
        {"anonymous": LOGIN, **FLAGGERS_HIDDEN},
        method="post",
        kwargs=_flag_contact_b,
        data={"title": "From the matrix"},
    ),
    "api-flag-suggestions": Route({"anonymous": UNAUTH, **FLAGGERS_ONLY}, kwargs=_flag_contact_a),
    "api-flag-me-too": Route(
        {"anonymous": UNAUTH, **FLAGGERS_HIDDEN}, method="post", kwargs=_flag_me_too_b
    ),
    "api-flag-propose": Route(
        {"anonymous": UNAUTH, **FLAGGERS_ONLY},
        method="post",
        kwargs=_flag_contact_a,
        data={"title": "From the matrix"},
    ),
    "api-my-flags": Route({"anonymous": UNAUTH, **FLAGGERS_ONLY}),
    # --- fix notices (loops/notices/): the issue's owner or department head writes, approves
    # and resolves; everyone who sees the issue reads its notices; tracking answers to the
    # ESP's webhook secret only.
    "loops:notice-new": Route(
        {"anonymous": LOGIN, "rep": DENIED, "manager": OK, "executive": DENIED, "admin": DENIED},
        kwargs=fixed_issue_a,
    ),
    "loops:notice-detail": Route(NOTICE_READ_PAGE, kwargs=_draft_notice_a),
    # The matrix posts JSON, which is no form: the manager gets through to the form's 400.
    "loops:notice-edit": Route(
        NOTICE_WRITE_PAGE | {"manager": "400"}, method="post", kwargs=_draft_notice_a
    ),
    "loops:notice-approve": Route(NOTICE_WRITE_PAGE, method="post", kwargs=_draft_notice_a),
    "loops:notice-resolve": Route(
        NOTICE_WRITE_PAGE, method="post", kwargs=_notice_recipient_a, data={"delivered": "yes"}
    ),
    "loops:tracking-webhook": Route(
        everyone(UNAUTH, anonymous=UNAUTH),
        method="post",
        kwargs=lambda cast, user: {"esp": "postmark"},
        data={"RecordType": "Delivery"},
    ),
    "api-notice-audience": Route(NOTICE_WRITE_API, kwargs=fixed_issue_a),
    "api-notice-list": Route(NOTICE_READ_API, kwargs=fixed_issue_a),
    "api-notice-create": Route(
        NOTICE_WRITE_API, method="post", kwargs=fixed_issue_a, data=NOTICE_TEXT
    ),
    "api-notice-detail": Route(NOTICE_READ_API, kwargs=_draft_notice_a),
    "api-notice-edit": Route(
        NOTICE_WRITE_API, method="post", kwargs=_draft_notice_a, data=NOTICE_TEXT
    ),
    "api-notice-approve": Route(NOTICE_WRITE_API, method="post", kwargs=_draft_notice_a),
    "api-notice-recipients": Route(NOTICE_READ_API, kwargs=_draft_notice_a),
    # --- dashboards (voc/dashboards/): managers over their own scope, executives and admins
    # over everything; reps have their worklist on the home page instead
    "dashboards:executive": Route(DASHBOARD_ROLES),
    "dashboards:panel": Route(DASHBOARD_ROLES, kwargs=lambda cast, user: {"panel": "top-drivers"}),
    "dashboards:drill-contacts": Route(DASHBOARD_ROLES),
    "dashboards:drill-feedback": Route(DASHBOARD_ROLES),
    "dashboards:drill-issues": Route(DASHBOARD_ROLES, data={"show": "open"}),
    "dashboards:drill-follow-ups": Route(DASHBOARD_ROLES, data={"show": "opened"}),
    "dashboards:drill-customers": Route(DASHBOARD_ROLES, data={"kind": "lost"}),
    "dashboards:drill-threads": Route(DASHBOARD_ROLES),
    "dashboards:drill-stories": Route(DASHBOARD_ROLES),
    "dashboards:drill-gestures": Route(DASHBOARD_ROLES),
    "dashboards:drill-listening": Route(
        DASHBOARD_ROLES | {"manager": HIDDEN}, kwargs=_listening_of_the_ceo
    ),
    # --- SLA policies and loops emails (loops/sla/, loops/notifications/): admins edit the
    # policies; everyone chooses their own loops emails.
    "loops:sla-policies": Route(admins_only()),
    "loops:notifications": Route(everyone(OK)),
    # Department B's issue: the matrix's manager heads A (not escalated to them), its rep
    # flagged nothing; executives and admins see every issue.
    "api-issue-escalations": Route(
        {"anonymous": UNAUTH, "rep": HIDDEN, "manager": HIDDEN, "executive": OK, "admin": OK},
        kwargs=_promote_issue_b,
    ),
}


# --- the issue board, the issue page's actions and the issues API (loops/issues/): everyone
# who sees issues reads the board; its owner, its department head and executives run an issue
# (department B's: hidden from the head of A, run by executives); admins only read.
def _board_issue_b(cast, user):
    from loops.services.issues import issue_open

    return issue_open(
        title="Matrix board", department=cast.dept_b, owner=cast.other_manager,
        by=cast.other_manager,
    )  # fmt: skip


def _board_issue_b_with(name: str, data):
    """Department B's issue; the body (``data(cast, issue)``) names rows made here."""

    def make(cast, user):
        issue = _board_issue_b(cast, user)
        ROUTES[name].data = data(cast, issue)
        return {"issue_id": issue.id}

    return make


def _board_evidence_b(cast, user):
    from loops.services.issues import evidence_add

    issue = _board_issue_b(cast, user)
    evidence, _ = evidence_add(issue=issue, source=team_b_contact(cast, user), by=cast.executive)
    return {"issue_id": issue.id, "evidence_id": evidence.id}


def _board_issue_b_id(cast, user):
    return {"issue_id": _board_issue_b(cast, user).id}


def _second_issue_b(cast):
    from loops.services.issues import issue_open

    return issue_open(title="Matrix survivor", department=cast.dept_b, by=cast.other_manager)


# Running department B's issue: reps and admins lack the capability, the head of A does not see it.
RUN_ISSUE_B = {"anonymous": LOGIN, "rep": DENIED, "manager": HIDDEN, "executive": REDIRECT,
               "admin": DENIED}  # fmt: skip
RUN_ISSUE_B_API = RUN_ISSUE_B | {"anonymous": UNAUTH, "executive": OK}
# The matrix posts JSON, which a page's form does not read: an executive gets through the
# capability and scope checks to the form, which answers 400 (its fields are missing).
FORM_ISSUE_B = RUN_ISSUE_B | {"executive": "400"}
READ_ISSUE_B = {"anonymous": LOGIN, "rep": HIDDEN, "manager": HIDDEN, "executive": OK, "admin": OK}

ROUTES.update(
    {
        "loops:issue-board": Route(everyone(OK)),
        "loops:issue-board-export": Route(everyone(OK)),
        "loops:issue-board-bulk": Route(
            {
                "anonymous": LOGIN,
                "rep": DENIED,
                "manager": REDIRECT,
                "executive": REDIRECT,
                "admin": DENIED,
            },
            method="post",
            kwargs=lambda cast, user: {},
        ),
        "loops:issue-assign": Route(
            FORM_ISSUE_B,
            method="post",
            kwargs=_board_issue_b_id,
        ),
        "loops:issue-transition": Route(FORM_ISSUE_B, method="post", kwargs=_board_issue_b_id),
        "loops:issue-edit": Route(
            FORM_ISSUE_B,
            method="post",
            kwargs=_board_issue_b_id,
        ),
        "loops:issue-merge": Route(
            FORM_ISSUE_B,
            method="post",
            kwargs=_board_issue_b_id,
        ),
        "loops:issue-evidence-remove": Route(RUN_ISSUE_B, method="post", kwargs=_board_evidence_b),
        "loops:issue-evidence-export": Route(READ_ISSUE_B, kwargs=_board_issue_b_id),
        "api-issue-list": Route(everyone(OK, anonymous=UNAUTH)),
        "api-issue-detail": Route(READ_ISSUE_B | {"anonymous": UNAUTH}, kwargs=_board_issue_b_id),
        "api-issue-evidence-list": Route(
            READ_ISSUE_B | {"anonymous": UNAUTH}, kwargs=_board_issue_b_id
        ),
        "api-issue-create": Route(
            {"anonymous": UNAUTH, "rep": DENIED, "manager": OK, "executive": OK, "admin": DENIED},
            method="post",
            data={"title": "From the matrix"},
        ),
        "api-issue-edit": Route(
            RUN_ISSUE_B_API, method="post", kwargs=_board_issue_b_id, data={"title": "Edited"}
        ),
        "api-issue-assign": Route(
            RUN_ISSUE_B_API,
            method="post",
            kwargs=_board_issue_b_with(
                "api-issue-assign", lambda cast, issue: {"owner_id": cast.other_manager.pk}
            ),
        ),
        "api-issue-transition": Route(
            RUN_ISSUE_B_API, method="post", kwargs=_board_issue_b_id, data={"to": "triaged"}
        ),
        "api-issue-merge": Route(
            RUN_ISSUE_B_API,
            method="post",
            kwargs=_board_issue_b_with(
                "api-issue-merge", lambda cast, issue: {"survivor_id": _second_issue_b(cast).pk}
            ),
        ),
        "api-issue-evidence-add": Route(
            RUN_ISSUE_B_API,
            method="post",
            kwargs=_board_issue_b_with(
                "api-issue-evidence-add",
                lambda cast, issue: {"contact_id": team_b_contact(cast, None).pk},
            ),
        ),
        "api-issue-evidence-remove": Route(
            RUN_ISSUE_B_API, method="post", kwargs=_board_evidence_b
        ),
    }
)


# Routes with their own tests: the Django admin (tests/test_admin_access.py).
OWN_TESTS = {"admin"}


def route_names() -> set[str]:
    names: set[str] = set()

    def walk(patterns, namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                if pattern.namespace in OWN_TESTS:
                    continue
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, inner)
            elif isinstance(pattern, URLPattern) and pattern.name:
                names.add(f"{namespace}{pattern.name}")
            elif isinstance(pattern, URLPattern):
                names.add(f"{namespace}<unnamed {pattern.pattern}>")

    walk(get_resolver().url_patterns)
    return names


def test_every_route_has_an_entry():
    assert route_names() - set(ROUTES) == set(), "add the new routes to ROUTES"
    assert set(ROUTES) - route_names() == set(), "remove routes that no longer exist"


def classify(response, login_url: str) -> str:
    status = response.status_code
    if 200 <= status < 300:
        return OK
    if status in (301, 302, 303):
        return LOGIN if response["Location"].startswith(login_url) else REDIRECT
    return {401: UNAUTH, 403: DENIED, 404: HIDDEN, 405: NOT_ALLOWED}.get(status, str(status))


@pytest.mark.django_db
@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("name", sorted(ROUTES))
def test_route_access(name, role, cast):
    route = ROUTES[name]
    user = None if role == "anonymous" else getattr(cast, role)
    client = APIClient()
    if user is not None:
        client.force_login(user)
    kwargs = route.kwargs(cast, user) if route.kwargs else {}
    url = reverse(name, kwargs=kwargs)
    response = getattr(client, route.method)(url, data=route.data, format="json")
    got = classify(response, reverse("login"))
    assert got == route.expect[role], (
        f"{route.method.upper()} {url} as {role}: {response.status_code}"
    )


@pytest.mark.django_db
def test_api_user_detail_is_visible_inside_the_scope(cast):
    client = APIClient()
    client.force_login(cast.rep)
    assert (
        client.get(reverse("api-user-detail", kwargs={"pk": cast.teammate.pk})).status_code == 200
    )
    client.force_login(cast.manager)
    assert client.get(reverse("api-user-detail", kwargs={"pk": cast.rep.pk})).status_code == 200


@pytest.mark.django_db
def test_a_users_token_cannot_be_revoked_by_another(cast):
    token, _ = api_token_create(user=cast.teammate, name="theirs")
    client = APIClient()
    client.force_login(cast.rep)
    assert client.post(reverse("people:token-revoke", args=[token.id])).status_code == 404
    assert client.post(reverse("api-token-revoke", args=[token.id])).status_code == 404
    token.refresh_from_db()
    assert token.is_active


@pytest.mark.django_db
def test_inactive_users_are_refused_everywhere(cast):
    client = APIClient()
    client.force_login(cast.inactive)
    # Django logs an inactive user out on the next request: pages send them to the login page.
    assert client.get(reverse("home")).status_code == 302
    assert client.get(reverse("api-me")).status_code in (401, 403)
