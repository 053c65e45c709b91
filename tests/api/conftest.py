import pytest

from voc.people import services


@pytest.fixture
def token_for():
    """A personal API token key for a user, as the API would hand it out."""

    def make(user, name="tests"):
        _token, key = services.api_token_create(user=user, name=name)
        return key

    return make
