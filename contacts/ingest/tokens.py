"""Ingest tokens: API keys for the systems that send contacts, each bound to one source.

Only a SHA-256 hash of a key is stored (like personal API tokens); the key itself is shown
once, when an admin creates the token. Rows sent with a token are stored under its source
whatever they say, so one integration can never overwrite another's contacts.
"""

import re

from django.core.exceptions import ValidationError

from contacts.models import IngestToken
from voc.people.models import User

# The source contacts created one at a time through the API are stored under. A token can't
# claim it, so an integration never collides with contacts people logged.
API_SOURCE = "api"
SOURCE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,49}")


def ingest_token_hash(key: str) -> str:
    return IngestToken.hash_key(key)


def ingest_token_check(*, name: str | None, source: str | None) -> None:
    """A ValidationError by field if a token can't have this name or source."""
    name = (name or "").strip()
    source = (source or "").strip()
    errors = {}
    if not name or "\x00" in name:
        errors["name"] = "Give the token a name, e.g. the system that uses it."
    elif len(name) > 100:
        errors["name"] = "Use at most 100 characters."
    if not SOURCE_PATTERN.fullmatch(source):
        errors["source"] = (
            "A source is 1–50 letters, digits, dots, dashes or underscores, starting with a "
            "letter or digit (e.g. genesys or zendesk-eu)."
        )
    elif source.lower() == API_SOURCE:
        errors["source"] = f"“{API_SOURCE}” is kept for contacts people log through the API."
    if errors:
        raise ValidationError(errors)


def ingest_token_create(*, name: str, source: str, by: User | None) -> tuple[IngestToken, str]:
    """Create a token and return it with its key, which is never stored nor shown again."""
    ingest_token_check(name=name, source=source)
    key, stored = IngestToken.new_key()
    token = IngestToken.objects.create(
        name=name.strip(), source=source.strip(), created_by=by, **stored
    )
    return token, key


def ingest_token_revoke(*, token: IngestToken) -> IngestToken:
    """Revoke a token; revoking it again changes nothing."""
    token.revoke()
    return token


def ingest_token_get_active(*, key: str) -> IngestToken | None:
    """The active token with this key, or None (unknown and revoked keys alike)."""
    return IngestToken.get_active(key)


def ingest_token_touch(*, token: IngestToken) -> None:
    """Record use at most once a minute, so a busy integration doesn't write on every call."""
    token.touch()
