"""The erase operation's answers against the OpenAPI schema. The schemathesis run
(tests/api/test_schema.py) meets no customer to erase (only 404s), so the success and the
409 are checked here, with the same schema and in-process WSGI calls."""

import pytest
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

from tests.api.test_schema import schema as api_schema
from tests.contacts.test_erasure import ann  # noqa: F401  (a fixture)
from voc.people.services import api_token_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_process_wsgi")]

OPERATION = "/api/v1/customers/{customer_id}/erase/"


@pytest.fixture
def in_process_wsgi():
    """WSGI requests on the test's own connection (see tests/api/test_schema.py)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def test_the_erasure_and_the_409_conform_to_the_schema(ann, cast):  # noqa: F811
    _, key = api_token_create(user=cast.admin, name="erase")
    for expected in (200, 409):
        case = api_schema[OPERATION]["POST"].Case(
            path_parameters={"customer_id": ann.id},
            body={"note": "REQ-5"},
            media_type="application/json",
            headers={"Authorization": f"Token {key}"},
        )
        assert case.call_and_validate().status_code == expected
