"""Signed links that need no login: a survey answer, a one-click unsubscribe, an opt-out.

An app declares each purpose once, next to the view that opens it::

    SURVEY_ANSWER = LinkPurpose("feedback.survey_answer", max_age=timedelta(days=14),
                                single_use=True)

puts a token in the email (``link_token(purpose=SURVEY_ANSWER, target=contact)``), and in the
view checks it and, for a single-use purpose, spends it in the same transaction as the action::

    with transaction.atomic():
        grant = link_use(purpose=SURVEY_ANSWER, token=token, model=Contact)
        survey_answer_record(contact_id=grant.target_id, score=score, by=LINK_ACTOR)

A token is signed with the secret key and a salt of its own purpose (django.core.signing), so
it cannot be forged or altered, and a token for one purpose fails for every other. It names one
object (its model and id), so it cannot be replayed for another object. It expires ``max_age``
after it was made, to the second: a token is good at exactly ``max_age`` and refused one
second later. A single-use token's nonce is recorded when it is used (SignedLinkUse, unique),
so a second use, even a concurrent one, is refused.
"""

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from voc.core.models import SignedLinkUse


@dataclass(frozen=True)
class LinkPurpose:
    name: str  # "feedback.survey_answer"; also the signing salt
    max_age: timedelta
    single_use: bool = False


@dataclass(frozen=True)
class LinkGrant:
    """What a valid token says: this purpose, for this object."""

    purpose: str
    target_type: str
    target_id: int
    nonce: str


class LinkError(Exception):
    """A link that may not be followed; ``message`` is fit to show, ``status_code`` to answer."""

    message = "This link is not valid."
    status_code = 400

    def __init__(self, message: str | None = None):
        super().__init__(message or self.message)
        self.message = message or self.message


class LinkInvalid(LinkError):
    """Forged, altered, cut short, or made for another purpose or object."""


class LinkExpired(LinkError):
    message = "This link has expired."
    status_code = 410


class LinkUsed(LinkError):
    message = "This link has already been used."
    status_code = 410


def _signer(purpose: LinkPurpose) -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=f"voc.links:{purpose.name}")


def link_token(*, purpose: LinkPurpose, target: models.Model) -> str:
    """A URL-safe token for ``purpose`` on ``target``."""
    if target.pk is None:
        raise ValueError("A link must name a saved object.")
    payload = {
        "p": purpose.name,
        "t": target._meta.label_lower,
        "i": target.pk,
        "n": secrets.token_urlsafe(12),
    }
    return _signer(purpose).sign_object(payload)


def link_check(
    *,
    purpose: LinkPurpose,
    token: str,
    model: type[models.Model],
    target_id: int | None = None,
) -> LinkGrant:
    """The grant of a valid token for ``purpose`` on a ``model`` object (the one with
    ``target_id``, when the URL names it too), or LinkInvalid / LinkExpired. Spends nothing:
    a page may show a form from a single-use link and spend it when the form is sent."""
    try:
        payload = _signer(purpose).unsign_object(token, max_age=purpose.max_age)
    except signing.SignatureExpired as exc:
        raise LinkExpired from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise LinkInvalid from exc
    if not isinstance(payload, dict) or payload.get("p") != purpose.name:
        raise LinkInvalid
    if payload.get("t") != model._meta.label_lower or not isinstance(payload.get("i"), int):
        raise LinkInvalid
    if target_id is not None and payload["i"] != target_id:
        raise LinkInvalid
    return LinkGrant(
        purpose=purpose.name,
        target_type=payload["t"],
        target_id=payload["i"],
        nonce=str(payload.get("n", "")),
    )


def link_use(
    *,
    purpose: LinkPurpose,
    token: str,
    model: type[models.Model],
    target_id: int | None = None,
) -> LinkGrant:
    """Check the token and, for a single-use purpose, spend it (LinkUsed if it was). Call it
    inside the transaction of the action the link allows, so a failed action spends nothing."""
    grant = link_check(purpose=purpose, token=token, model=model, target_id=target_id)
    if not purpose.single_use:
        return grant
    now = timezone.now()
    try:
        with transaction.atomic():  # a savepoint: the caller's transaction survives a refusal
            SignedLinkUse.objects.create(
                purpose=grant.purpose,
                nonce=grant.nonce,
                target_type=grant.target_type,
                target_id=grant.target_id,
                used_at=now,
                # The token is refused anyway by then, so the record may go (link_uses_prune).
                expires_at=now + purpose.max_age,
            )
    except IntegrityError as exc:
        raise LinkUsed from exc
    return grant


def link_uses_prune() -> int:
    """Forget used links that have expired anyway."""
    deleted, _ = SignedLinkUse.objects.filter(expires_at__lt=timezone.now()).delete()
    return deleted
