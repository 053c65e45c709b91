"""Signed links: scoped to one purpose and one object, expiring to the second, single-use
where asked, unforgeable and not replayable for another object or purpose."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.db import transaction
from django.test import RequestFactory, override_settings

from voc.core.links import (
    LinkExpired,
    LinkInvalid,
    LinkPurpose,
    LinkUsed,
    link_check,
    link_token,
    link_use,
    link_uses_prune,
)
from voc.core.models import JobRun, SignedLinkUse
from voc.core.views import link_error_response
from voc.people.models import User

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
ANSWER = LinkPurpose("test.survey_answer", max_age=timedelta(days=14), single_use=True)
UNSUBSCRIBE = LinkPurpose("test.unsubscribe", max_age=timedelta(days=60))


def test_a_token_grants_its_purpose_on_its_object(cast):
    token = link_token(purpose=UNSUBSCRIBE, target=cast.rep)
    grant = link_check(purpose=UNSUBSCRIBE, token=token, model=User)
    assert (grant.purpose, grant.target_type, grant.target_id) == (
        "test.unsubscribe",
        "people.user",
        cast.rep.id,
    )
    assert link_check(purpose=UNSUBSCRIBE, token=token, model=User, target_id=cast.rep.id)


def test_two_tokens_for_the_same_object_differ(cast):
    assert link_token(purpose=ANSWER, target=cast.rep) != link_token(
        purpose=ANSWER, target=cast.rep
    )


def test_a_token_is_good_at_exactly_its_age_and_refused_one_second_later(cast):
    with time_machine.travel(T0, tick=False) as clock:
        token = link_token(purpose=ANSWER, target=cast.rep)
        clock.move_to(T0 + ANSWER.max_age)
        assert link_check(purpose=ANSWER, token=token, model=User).target_id == cast.rep.id
        clock.move_to(T0 + ANSWER.max_age + timedelta(seconds=1))
        with pytest.raises(LinkExpired, match="expired"):
            link_check(purpose=ANSWER, token=token, model=User)
        with pytest.raises(LinkExpired):
            link_use(purpose=ANSWER, token=token, model=User)
    assert not SignedLinkUse.objects.exists()


def test_a_token_for_one_purpose_fails_for_another(cast):
    token = link_token(purpose=UNSUBSCRIBE, target=cast.rep)
    with pytest.raises(LinkInvalid):
        link_check(purpose=ANSWER, token=token, model=User)
    with pytest.raises(LinkInvalid):
        link_check(
            purpose=UNSUBSCRIBE, token=link_token(purpose=ANSWER, target=cast.rep), model=User
        )


def test_a_token_cannot_be_replayed_for_another_object(cast):
    token = link_token(purpose=UNSUBSCRIBE, target=cast.rep)
    with pytest.raises(LinkInvalid):
        link_check(purpose=UNSUBSCRIBE, token=token, model=User, target_id=cast.teammate.id)
    with pytest.raises(LinkInvalid):  # another model with the same id
        link_check(purpose=UNSUBSCRIBE, token=token, model=JobRun)


@pytest.mark.parametrize(
    "tamper",
    [
        lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature altered
        lambda token: token[: len(token) // 2],  # cut short
        lambda token: "",
        lambda token: "not-a-token",
    ],
)
def test_an_altered_token_is_refused(cast, tamper):
    token = link_token(purpose=UNSUBSCRIBE, target=cast.rep)
    with pytest.raises(LinkInvalid):
        link_check(purpose=UNSUBSCRIBE, token=tamper(token), model=User)


def test_a_token_signed_with_another_key_is_refused(cast):
    with override_settings(SECRET_KEY="another-secret-key-" + "x" * 40):
        forged = link_token(purpose=UNSUBSCRIBE, target=cast.rep)
    with pytest.raises(LinkInvalid):
        link_check(purpose=UNSUBSCRIBE, token=forged, model=User)


def test_a_payload_naming_another_object_needs_the_key(cast):
    """Rewriting the id inside the token breaks the signature."""
    token = link_token(purpose=UNSUBSCRIBE, target=cast.rep)
    payload = signing.TimestampSigner(salt="voc.links:test.unsubscribe").unsign_object(token)
    payload["i"] = cast.teammate.id
    body = signing.dumps(payload, salt="wrong", compress=False).split(":")[0]
    with pytest.raises(LinkInvalid):
        link_check(purpose=UNSUBSCRIBE, token=body + token[token.index(":") :], model=User)


def test_a_single_use_token_works_once(cast):
    token = link_token(purpose=ANSWER, target=cast.rep)
    with time_machine.travel(T0, tick=False):
        assert link_use(purpose=ANSWER, token=token, model=User).target_id == cast.rep.id
        with pytest.raises(LinkUsed, match="already been used"):
            link_use(purpose=ANSWER, token=token, model=User)
    use = SignedLinkUse.objects.get()
    assert (use.purpose, use.target_type, use.target_id) == (
        "test.survey_answer",
        "people.user",
        cast.rep.id,
    )
    assert use.expires_at == T0 + ANSWER.max_age
    # A fresh token for the same object is another link.
    assert link_use(purpose=ANSWER, token=link_token(purpose=ANSWER, target=cast.rep), model=User)


def test_checking_a_single_use_token_spends_nothing(cast):
    token = link_token(purpose=ANSWER, target=cast.rep)
    link_check(purpose=ANSWER, token=token, model=User)
    link_check(purpose=ANSWER, token=token, model=User)
    assert link_use(purpose=ANSWER, token=token, model=User)


def test_a_failed_action_leaves_the_link_unspent(cast):
    token = link_token(purpose=ANSWER, target=cast.rep)
    with pytest.raises(RuntimeError), transaction.atomic():
        link_use(purpose=ANSWER, token=token, model=User)
        raise RuntimeError("the survey answer could not be saved")
    assert link_use(purpose=ANSWER, token=token, model=User)


def test_a_reusable_token_can_be_used_again(cast):
    token = link_token(purpose=UNSUBSCRIBE, target=cast.rep)
    link_use(purpose=UNSUBSCRIBE, token=token, model=User)
    link_use(purpose=UNSUBSCRIBE, token=token, model=User)
    assert not SignedLinkUse.objects.exists()


def test_used_links_are_pruned_once_they_expire(cast):
    with time_machine.travel(T0, tick=False) as clock:
        link_use(purpose=ANSWER, token=link_token(purpose=ANSWER, target=cast.rep), model=User)
        clock.move_to(T0 + ANSWER.max_age)
        assert link_uses_prune() == 0
        clock.move_to(T0 + ANSWER.max_age + timedelta(seconds=1))
        assert link_uses_prune() == 1


def test_an_unsaved_object_gets_no_link():
    with pytest.raises(ValueError, match="saved"):
        link_token(purpose=ANSWER, target=User(username="nobody"))


@pytest.mark.parametrize(
    "error, status", [(LinkExpired(), 410), (LinkUsed(), 410), (LinkInvalid(), 400)]
)
def test_the_error_page_says_what_is_wrong_and_no_more(error, status):
    request = RequestFactory().get("/any/")
    request.user = AnonymousUser()
    response = link_error_response(request, error)
    assert response.status_code == status
    assert error.message in response.content.decode()
