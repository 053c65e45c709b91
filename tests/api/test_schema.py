"""Schemathesis against the OpenAPI schema of every API operation.

Requests go in-process through VoC's own WSGI application (``voc.wsgi.application``, the one
gunicorn serves), authenticated with personal API tokens, inside the pytest-django test
transaction. Schemathesis runs all its checks, among them: no 5xx, every status code and
content type documented, bodies that match the schema, schema-valid input accepted, invalid
input refused, and authentication enforced (it replays each request without and with a bogus
``Authorization`` header).
"""

import json

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connection, transaction
from django.test import Client
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client as WsgiClient

from contacts.apis.bulk import NDJSON_TYPES
from tests.factories import make_cast
from voc.people import services
from voc.people.models import ApiToken
from voc.wsgi import application


def _openapi() -> dict:
    """The schema exactly as /api/schema/?format=json renders it (checked below)."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


# An explicit, empty configuration: no schemathesis.toml found on disk changes what runs.
# Phone fields are checked for being diallable, which no schema pattern can say: generate
# valid North American numbers (and the API's own tests cover invalid ones).
schemathesis.openapi.format("phone", st.from_regex(r"\A\+1[2-9][0-9]{2}[2-9][0-9]{6}\Z"))


# The bulk endpoint's NDJSON body is documented as text (a string). Schemathesis has no
# serializer for its media type and skipped it ("unsupported payload media types"), and random
# text would rarely hold a row anyway. Bodies are drawn as lines instead: contact rows whose
# fields are either plausible or any JSON value, any other JSON value, text that isn't JSON,
# bytes that aren't UTF-8 and blank lines. The serializer sends bytes as they are and any
# other value (a string from the schema or an example) as its UTF-8 text.
_ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=6,
)
_PLAUSIBLE = {
    "external_id": st.text(min_size=1, max_size=12),
    "channel": st.sampled_from(["phone", "email", "chat", "fax", ""]),
    "occurred_at": st.sampled_from(["2026-11-23T14:05:00Z", "2026-02-30", "yesterday", ""]),
    "customer_ref": st.text(max_size=12),
    "customer_email": st.emails() | st.text(max_size=12),
    "customer_phone": st.sampled_from(["+12025550143", "555", ""]),
    "reason": st.sampled_from(["Billing › Double charge", "Nope › Nope", ""]),
    "tags": st.lists(st.text(max_size=8), max_size=3),
    "handle_seconds": st.integers(min_value=-5, max_value=700_000),
    "road": st.integers(min_value=0, max_value=5),
    "text": st.text(max_size=60),
    "messages": st.lists(st.fixed_dictionaries({"text": st.text(max_size=20)}), max_size=2),
    "source": st.text(max_size=8),
}
_ROW = st.fixed_dictionaries(  # mostly plausible, so that most rows reach ingestion
    {name: _PLAUSIBLE[name] for name in ("external_id", "channel")},
    optional={
        name: values | _ANY_JSON
        for name, values in _PLAUSIBLE.items()
        if name not in ("external_id", "channel")
    },
)
_ROW_LINE = _ROW.map(lambda row: json.dumps(row).encode())
_LINE = st.one_of(
    _ROW_LINE,
    _ROW_LINE,
    _ROW_LINE,
    _ANY_JSON.map(lambda value: json.dumps(value).encode()),
    st.text(max_size=20).map(lambda text: text.replace("\n", " ").encode("utf-8", "surrogatepass")),
    st.sampled_from([b"\xff\xfe{", b"", b"   ", b"\xef\xbb\xbf{}"]),
)
# At least one line that isn't blank: the schema's string can't say so, and an empty body's
# 400 is pinned by the bulk API's own tests.
schemathesis.openapi.media_type(
    "application/x-ndjson",
    st.lists(_LINE, min_size=1, max_size=5)
    .filter(lambda lines: any(line.strip() for line in lines))
    .map(lambda lines: b"\n".join(lines)),
)


@schemathesis.serializer(*NDJSON_TYPES)
def _ndjson(ctx, value) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogatepass")


schema = schemathesis.openapi.from_dict(_openapi(), config=schemathesis.Config())
schema.app = application

OPERATIONS = {
    "GET /api/v1/me/",
    "GET /api/v1/users/",
    "GET /api/v1/users/{id}/",
    "GET /api/v1/teams/",
    "GET /api/v1/departments/",
    "GET /api/v1/tokens/",
    "POST /api/v1/tokens/create/",
    "POST /api/v1/tokens/{token_id}/revoke/",
}

FUZZ = settings(
    max_examples=30,
    deadline=None,
    derandomize=True,
    database=None,
    # `world` is function-scoped on purpose: one cast per operation, shared by its examples,
    # each of which runs in a savepoint that is rolled back (see `_call`).
    # Generation speed is hypothesis's, not VoC's: on a machine busy with other work the
    # contact schema's examples can take longer than its health check allows (seen in CI).
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@pytest.fixture
def in_process_wsgi():
    """Let WSGI requests run on the test's own database connection.

    Django's handler fires ``close_old_connections`` when a request starts and ends; in a test
    transaction that closes the test's connection ("connection already closed" on the next
    query). Django's test client disconnects it around each request for the same reason.
    """
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


@pytest.fixture
def world(db, in_process_wsgi):
    cast = make_cast()
    cast.keys = {
        role: services.api_token_create(user=getattr(cast, role), name="schemathesis")[1]
        for role in ("admin", "rep", "manager", "executive")
    }
    return cast


def _call(case, key, throttle_cache):
    """One example, in a savepoint rolled back afterwards: what one example creates or revokes
    (the caller's own token included) doesn't leak into the next. The throttle's count starts
    afresh too, so token creation is tested rather than answered with 429s after 20 examples
    (``test_throttled_token_creation_conforms`` covers the 429)."""
    throttle_cache.clear()
    with transaction.atomic():
        response = case.call_and_validate(headers={"Authorization": f"Token {key}"})
        transaction.set_rollback(True)
    return response


@schema.parametrize()
@FUZZ
def test_api_as_admin(case, world, throttle_cache):
    """Every operation, as an admin: every row is in scope."""
    _call(case, world.keys["admin"], throttle_cache)


@schema.parametrize()
@FUZZ
def test_api_as_rep(case, world, throttle_cache):
    """Every operation, as a rep: only their own team is in scope."""
    _call(case, world.keys["rep"], throttle_cache)


# Managers and executives, with fewer examples each: their scopes sit between the two above.
FUZZ_FEWER = settings(FUZZ, max_examples=12)


@schema.parametrize()
@FUZZ_FEWER
def test_api_as_manager(case, world, throttle_cache):
    """Every operation, as the head of a department: its reasons and teams are in scope."""
    _call(case, world.keys["manager"], throttle_cache)


@schema.parametrize()
@FUZZ_FEWER
def test_api_as_executive(case, world, throttle_cache):
    """Every operation, as an executive: every row may be read, few may be written."""
    _call(case, world.keys["executive"], throttle_cache)


def test_every_people_operation_is_covered():
    assert OPERATIONS.issubset(operation.label for operation in _operations())


def _operations():
    return [result.ok() for result in schema.get_all_operations()]


def test_the_served_schema_is_the_one_under_test(cast):
    client = Client()
    assert client.get("/api/schema/", {"format": "json"}).status_code == 401
    client.force_login(cast.rep)
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    assert json.loads(response.content) == _openapi()


INGEST_OPERATIONS = {
    "/api/v1/contacts/create/",
    "/api/v1/contacts/bulk/",
    "/api/v1/feedback/",
    "/api/v1/feedback/bulk/",
}


def test_every_operation_documents_its_errors():
    raw = _openapi()
    for path, methods in raw["paths"].items():
        for method, operation in methods.items():
            documented = set(operation["responses"])
            assert {"401", "403"} <= documented, (method, path)
            assert any(code.startswith("2") for code in documented), (method, path)
            expected = [{"tokenAuth": []}, {"cookieAuth": []}]
            if path in INGEST_OPERATIONS:  # systems that send contacts use ingest tokens
                expected = [{"ingestAuth": []}, *expected]
            assert sorted(operation["security"], key=str) == sorted(expected, key=str), path
    create = raw["paths"]["/api/v1/tokens/create/"]["post"]["responses"]
    assert {"201", "400", "429"} <= set(create)


def test_wsgi_calls_share_the_test_transaction(world):
    """What a test creates, uncommitted, is what the application serves, and the test's
    connection and transaction survive the request."""
    assert connection.in_atomic_block
    client = WsgiClient(application)
    response = client.get("/api/v1/me/", headers={"Authorization": f"Token {world.keys['rep']}"})
    assert response.status_code == 200
    assert response.json["username"] == "rep"
    assert connection.in_atomic_block
    assert connection.connection is not None and connection.is_usable()


def _create_case(key: str, name: str):
    return schema["/api/v1/tokens/create/"]["POST"].Case(
        body={"name": name},
        media_type="application/json",
        headers={"Authorization": f"Token {key}"},
    )


def test_throttled_token_creation_conforms(world):
    """Past the hourly limit the API answers 429, as documented, with an error document."""
    for number in range(20):
        response = _create_case(world.keys["admin"], f"script {number}").call_and_validate()
        assert response.status_code == 201
        # Revoked at once, so the 20-active-tokens limit (a 400) never gets in the way.
        services.api_token_revoke(token=ApiToken.objects.get(id=response.json()["id"]))
    response = _create_case(world.keys["admin"], "one too many").call_and_validate()
    assert response.status_code == 429
    assert "throttled" in response.json()["detail"]
    assert int(response.headers["retry-after"][0]) > 0
    assert ApiToken.objects.filter(user=world.admin).count() == 21  # 20 made, plus the key


def test_token_limit_refusal_conforms(world):
    """A user with 20 active tokens gets a documented 400 with a message for `name`."""
    for number in range(services.MAX_ACTIVE_TOKENS - 1):  # the fixture made one already
        services.api_token_create(user=world.rep, name=f"script {number}")
    response = _create_case(world.keys["rep"], "one too many").call_and_validate()
    assert response.status_code == 400
    assert "revoke one first" in response.json()["name"][0]


def test_ndjson_bodies_are_generated_and_sent(world):
    """The bulk endpoint's NDJSON bodies are fuzzed, not skipped as an unsupported media type:
    a generated body goes on the wire as it is, and each of its lines is read as a row."""
    operation = schema["/api/v1/contacts/bulk/"]["POST"]
    case = find(
        operation.as_strategy(),
        lambda case: case.media_type == "application/x-ndjson" and b"external_id" in case.body,
        settings=settings(database=None, max_examples=50, phases=[Phase.generate]),
    )
    assert isinstance(case.body, bytes)
    response = case.call(headers={"Authorization": f"Token {world.keys['admin']}"})
    assert response.status_code == 200
    counts = response.json()
    lines = [line for line in case.body.split(b"\n") if line.strip()]
    assert sum(counts[name] for name in ("created", "updated", "unchanged", "rejected")) == len(
        lines
    )


NOTE_OPERATION = "/api/v1/sessions/{session_id}/notes/"


@pytest.fixture
def note_world(world):
    """A running side-by-side session of the cast's executive beside the rep, and a token for
    the executive: the note endpoint fuzzed where it stores notes, not only where it refuses."""
    from django.utils import timezone

    from feedback.models import Session

    world.session = Session.objects.create(
        executive=world.executive,
        rep=world.rep,
        scheduled_by=world.executive,
        scheduled_start=timezone.now(),
        status="running",
        started_at=timezone.now(),
    )
    world.keys["executive"] = services.api_token_create(user=world.executive, name="fuzz")[1]
    return world


@given(case=schema[NOTE_OPERATION]["POST"].as_strategy())
@FUZZ
def test_note_autosave_as_a_participant(case, note_world, throttle_cache):
    """The note endpoint on a real running session: any body is stored or refused with a
    documented 4xx and a message, never a 500."""
    case.path_parameters = {"session_id": note_world.session.id}
    _call(case, note_world.keys["executive"], throttle_cache)


def test_the_note_operation_is_covered():
    assert f"POST {NOTE_OPERATION}" in {operation.label for operation in _operations()}


FEEDBACK_OPERATIONS = {
    "GET /api/v1/feedback/",
    "POST /api/v1/feedback/",
    "POST /api/v1/feedback/bulk/",
    "GET /api/v1/feedback/{item_id}/",
}


def test_the_feedback_item_operations_are_covered():
    """The parametrized runs above fuzz them as every role (run them with -k feedback)."""
    assert {operation.label for operation in _operations()} >= FEEDBACK_OPERATIONS


# Make it right (contacts/gestures): fuzzed above like every operation.
GESTURE_OPERATIONS = {
    "GET /api/v1/contacts/{contact_id}/gestures/",
    "POST /api/v1/contacts/{contact_id}/gestures/",
    "POST /api/v1/gestures/{gesture_id}/approve/",
    "POST /api/v1/gestures/{gesture_id}/decline/",
}


def test_every_gesture_operation_is_covered():
    assert GESTURE_OPERATIONS.issubset(operation.label for operation in _operations())


# --- promote to issue (loops/promote/) ---------------------------------------------------------
PROMOTE_NEW = "/api/v1/promote/{kind}/{source_id}/new-issue/"
PROMOTE_EVIDENCE = "/api/v1/promote/{kind}/{source_id}/evidence/"


@pytest.fixture
def promote_world(note_world):
    """A note of the running session (which the executive may promote) and an open issue."""
    import uuid

    from django.utils import timezone

    from feedback.models import SessionNote
    from loops.services.issues import issue_open

    note_world.note = SessionNote.objects.create(
        session=note_world.session, author=note_world.executive, text="Checkout error code",
        client_id=uuid.uuid4(), noted_at=timezone.now(),
    )  # fmt: skip
    note_world.issue = issue_open(title="Checkout errors", by=note_world.executive)
    return note_world


@given(case=schema[PROMOTE_NEW]["POST"].as_strategy())
@FUZZ
def test_promote_to_a_new_issue_on_a_real_note(case, promote_world, throttle_cache):
    """On a note the executive may promote: any body opens an issue or is refused with a
    documented 4xx and a message, never a 500."""
    case.path_parameters = {"kind": "session_note", "source_id": promote_world.note.id}
    _call(case, promote_world.keys["executive"], throttle_cache)


@given(case=schema[PROMOTE_EVIDENCE]["POST"].as_strategy())
@FUZZ
def test_promote_as_evidence_on_a_real_note(case, promote_world, throttle_cache):
    case.path_parameters = {"kind": "session_note", "source_id": promote_world.note.id}
    _call(case, promote_world.keys["executive"], throttle_cache)


def test_promoting_as_evidence_conforms_when_added_and_when_already_there(promote_world):
    """201 when the note becomes evidence, 200 when it was already: both as documented."""
    operation = schema[PROMOTE_EVIDENCE]["POST"]
    headers = {"Authorization": f"Token {promote_world.keys['executive']}"}
    path = {"kind": "session_note", "source_id": promote_world.note.id}
    statuses = []
    for _ in range(2):
        case = operation.Case(
            path_parameters=path, body={"issue_id": promote_world.issue.id},
            media_type="application/json", headers=headers,
        )  # fmt: skip
        response = case.call_and_validate()
        statuses.append((response.status_code, response.json()["issue"]["evidence_count"]))
    assert statuses == [(201, 1), (200, 1)]
    case = schema[PROMOTE_NEW]["POST"].Case(
        path_parameters=path, body={"title": "Again"}, media_type="application/json",
        headers=headers,
    )  # fmt: skip
    response = case.call_and_validate()
    assert response.status_code == 409  # evidence on an open issue already: no duplicate
    assert f"#{promote_world.issue.id}" in response.json()["source"][0]


def test_the_promote_operations_are_covered():
    labels = {operation.label for operation in _operations()}
    assert {f"POST {PROMOTE_NEW}", f"POST {PROMOTE_EVIDENCE}"} <= labels


# --- rep flags (loops/flags/) ------------------------------------------------------------------
FLAG_SUGGESTIONS = "/api/v1/contacts/{contact_id}/flag-suggestions/"
FLAG_ME_TOO = "/api/v1/contacts/{contact_id}/flags/me-too/"
FLAG_PROPOSE = "/api/v1/contacts/{contact_id}/flags/new-issue/"


@pytest.fixture
def flag_world(world):
    """A team-A contact the rep may flag, and an open issue of department A like it."""
    from datetime import UTC, datetime

    from contacts.models import Contact
    from loops.flags.index import issues_index
    from loops.services.issues import issue_open

    world.contact = Contact.objects.create(
        source="schema", external_id="flag-1", channel="phone", team=world.team_a,
        occurred_at=datetime(2026, 11, 2, 9, 30, tzinfo=UTC), notes="Charged twice at renewal",
    )  # fmt: skip
    world.issue = issue_open(
        title="Renewal charged twice", department=world.dept_a, by=world.manager
    )
    issues_index(issue_ids=[world.issue.pk])
    return world


@pytest.mark.parametrize("path", [FLAG_SUGGESTIONS, FLAG_ME_TOO, FLAG_PROPOSE])
def test_flag_operations_on_a_real_contact(path, flag_world, throttle_cache):
    """On a contact the rep may flag: any body flags, proposes or is refused with a documented
    4xx and a message, never a 500."""
    method = "GET" if path == FLAG_SUGGESTIONS else "POST"

    @given(case=schema[path][method].as_strategy())
    @FUZZ
    def run(case):
        case.path_parameters = {"contact_id": flag_world.contact.id}
        _call(case, flag_world.keys["rep"], throttle_cache)


# --- fix notices (loops/notices/) ----------------------------------------------------------------
NOTICE_PATHS = {
    "/api/v1/issues/{issue_id}/notice-audience/": "GET",
    "/api/v1/issues/{issue_id}/notices/": "GET",
    "/api/v1/issues/{issue_id}/notices/create/": "POST",
    "/api/v1/notices/{notice_id}/": "GET",
    "/api/v1/notices/{notice_id}/edit/": "POST",
    "/api/v1/notices/{notice_id}/approve/": "POST",
    "/api/v1/notices/{notice_id}/recipients/": "GET",
}


@pytest.fixture
def notice_world(world):
    """A fixed issue of the manager's department, owned by them, with a reporter and a draft
    notice: the operations run on real rows the manager may send."""
    from contacts.models import ContactReason
    from loops.notices.services import notice_draft
    from loops.services.issues import evidence_add, issue_open, issue_transition
    from tests.factories import CustomerFactory
    from tests.loops.world import contact_of

    reason = ContactReason.objects.create(name="Schema billing", department=world.dept_a)
    issue = issue_open(title="Schema fix", reasons=[reason], owner=world.manager, by=world.manager)
    evidence_add(
        issue=issue,
        source=contact_of(world.team_a, customer=CustomerFactory(name="<b>Ada</b>"), reason=reason),
        by=world.manager,
    )
    for status in ("assigned", "in_progress", "fixed"):
        issue = issue_transition(issue=issue, to=status, by=world.manager)
    world.issue = issue
    world.notice = notice_draft(issue=issue, by=world.manager)
    return world


@pytest.mark.parametrize(("path", "method"), sorted(NOTICE_PATHS.items()))
def test_notice_operations_on_real_rows_as_their_sender(path, method, notice_world, throttle_cache):
    """Any input on the manager's own fixed issue and draft: a documented answer, never a 500."""

    ids = {"issue_id": notice_world.issue.id, "notice_id": notice_world.notice.id}
    wanted = {name: ids[name] for name in ids if "{" + name + "}" in path}

    @given(case=schema[path][method].as_strategy(path_parameters=wanted))
    @FUZZ
    def run(case):
        _call(case, notice_world.keys["manager"], throttle_cache)

    run()


def test_flag_me_too_conforms_when_new_and_when_already_there(flag_world):
    headers = {"Authorization": f"Token {flag_world.keys['rep']}"}
    path = {"contact_id": flag_world.contact.id}
    suggestions = schema[FLAG_SUGGESTIONS]["GET"].Case(path_parameters=path, headers=headers)
    response = suggestions.call_and_validate()
    assert [s["issue"]["id"] for s in response.json()] == [flag_world.issue.id]
    statuses = []
    for _ in range(2):
        case = schema[FLAG_ME_TOO]["POST"].Case(
            path_parameters=path, body={"issue_id": flag_world.issue.id},
            media_type="application/json", headers=headers,
        )  # fmt: skip
        response = case.call_and_validate()
        statuses.append((response.status_code, response.json()["evidence_added"]))
    assert statuses == [(201, True), (200, False)]
    for expected in (201, 409):
        case = schema[FLAG_PROPOSE]["POST"].Case(
            path_parameters=path, body={"title": "Proposed"}, media_type="application/json",
            headers=headers,
        )  # fmt: skip
        assert case.call_and_validate().status_code == expected


def test_the_notice_operations_are_covered():
    labels = {operation.label for operation in _operations()}
    assert {f"{method} {path}" for path, method in NOTICE_PATHS.items()} <= labels
